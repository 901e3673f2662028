package main

import (
	"log/slog"

	"golang.org/x/sys/windows"
)

// tellDesk tells the person at the desk something they must act on when
// the window cannot: a native message box (it does not need OpenGL).
func tellDesk(title, msg string, log *slog.Logger) {
	t, _ := windows.UTF16PtrFromString(title)
	m, _ := windows.UTF16PtrFromString(msg)
	go func() {
		if _, err := windows.MessageBox(0, m, t, windows.MB_OK|windows.MB_ICONWARNING|windows.MB_SETFOREGROUND); err != nil {
			log.Debug("message box not shown", "err", err)
		}
	}()
}
