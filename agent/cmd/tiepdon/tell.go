//go:build !windows

package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"time"
)

// tellDesk tells the person at the desk something they must act on when
// the window cannot: a desktop notification where the desktop has one
// (notify-send), and the terminal.
func tellDesk(title, msg string, log *slog.Logger) {
	fmt.Fprintf(os.Stderr, "\n*** %s ***\n%s\n\n", title, msg)
	if p, err := exec.LookPath("notify-send"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := exec.CommandContext(ctx, p, "--urgency=critical", title, msg).Run(); err != nil {
			log.Debug("desktop notification not shown", "err", err)
		}
	}
}

// tellFatal tells the person who started tiepdon why it cannot start (the
// terminal, and a desktop notification where there is one); the service
// manager's journal keeps stderr.
func tellFatal(title, msg string) {
	tellDesk(title, msg, slog.New(slog.DiscardHandler))
}
