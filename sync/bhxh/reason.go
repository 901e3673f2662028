package bhxh

import (
	"context"
	"errors"
)

// Reason is a short description of a failed check's error, with no
// personal data and no token or URL: what the outbox keeps with a check
// that waits for the gateway ("gateway code 500", "gateway offline",
// "timeout", "answer not understood", "gateway unavailable").
func Reason(err error) string {
	var ce *CodeError
	switch {
	case errors.As(err, &ce):
		return "gateway code " + ce.Code
	case errors.Is(err, ErrBreakerOpen):
		return "gateway offline"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, ErrBadResponse):
		return "answer not understood"
	}
	return "gateway unavailable"
}
