package virtual

import (
	"context"
	"errors"
	"time"
)

// Tap holds card in the vpcd reader at addr for hold (or until ctx ends),
// then takes it out: a patient tapping their card. Demo mode and the
// simulator use it.
func Tap(ctx context.Context, addr string, card *Card, hold time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, hold)
	defer cancel()
	err := ServeVPCD(ctx, addr, card)
	if errors.Is(err, ErrRemoved) {
		return nil
	}
	return err
}
