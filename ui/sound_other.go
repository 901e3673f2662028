//go:build !windows

package ui

import (
	"bytes"
	"context"
	"log/slog"
	"os/exec"
	"sync/atomic"
	"time"
)

// execBeeper plays cues by piping them to aplay (ALSA utils), which most
// Linux desktops have; a cue still playing is not interrupted, the next one
// is skipped.
type execBeeper struct {
	path string
	log  *slog.Logger
	busy atomic.Bool
}

// platformBeeper returns the aplay player, or nil (flash only) when aplay
// is not installed.
func platformBeeper(log *slog.Logger) Beeper {
	p, err := exec.LookPath("aplay")
	if err != nil {
		log.Info("ui: no sound player (aplay not found); verdicts flash only")
		return nil
	}
	return &execBeeper{path: p, log: log}
}

func (b *execBeeper) Beep(wav []byte) {
	if !b.busy.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer b.busy.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, b.path, "-q", "-")
		cmd.Stdin = bytes.NewReader(wav)
		if err := cmd.Run(); err != nil {
			b.log.Debug("ui: aplay", "err", err)
		}
	}()
}
