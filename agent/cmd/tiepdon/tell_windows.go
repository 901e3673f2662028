package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/windows"

	"github.com/tiepdon/tiepdon/agent/config"
	"github.com/tiepdon/tiepdon/agent/install"
)

// tellDesk tells the person at the desk something they must act on when
// the window cannot: a native message box (it does not need OpenGL).
func tellDesk(title, msg string, log *slog.Logger) {
	go func() {
		if err := messageBox(title, msg); err != nil {
			log.Debug("message box not shown", "err", err)
		}
	}()
}

func messageBox(title, msg string) error {
	t, _ := windows.UTF16PtrFromString(title)
	m, _ := windows.UTF16PtrFromString(msg)
	_, err := windows.MessageBox(0, m, t, windows.MB_OK|windows.MB_ICONWARNING|windows.MB_SETFOREGROUND|windows.MB_TOPMOST)
	return err
}

// fatalBoxWait is how long tellFatal keeps the process for its message
// box: long enough to read it, short enough not to leave an unattended
// start-up hanging.
const fatalBoxWait = 10 * time.Minute

// tellFatal says why tiepdon cannot start where someone will see it: the
// start-up log %ProgramData%\tiepdon\start-error.log (else the user's
// %LocalAppData%\tiepdon\logs), the Application event log (source
// tiepdon), and a message box, which it waits for.
func tellFatal(title, msg string) {
	line := strings.ReplaceAll(msg, "\n", " ")
	for _, dir := range []string{filepath.Dir(config.MachineConfigFile()), filepath.Join(config.DefaultDataDir(), "logs")} {
		if os.MkdirAll(dir, 0o755) == nil && install.AppendLog(filepath.Join(dir, "start-error.log"), time.Now(), line) == nil {
			break
		}
	}
	install.ReportError(line)
	done := make(chan struct{})
	go func() {
		messageBox(title, msg)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(fatalBoxWait):
	}
}
