package install

import (
	"golang.org/x/sys/windows/svc/eventlog"
)

// EventSource is the source tiepdon's entries carry in the Windows
// Application event log (Event Viewer → Windows Logs → Application), where
// IT staff and remote monitoring tools look for what went wrong.
const EventSource = "tiepdon"

// ReportError writes msg as an Error entry (event ID 1) of the Application
// log, registering the source first if needed (with EventCreate.exe's
// messages, so that Event Viewer shows the text as it is). The source is
// registered in HKLM, which needs an administrator or SYSTEM, as the MSI's
// actions are; for others the entry is still written, and Event Viewer
// shows it with a note that the source is unknown.
func ReportError(msg string) error {
	eventlog.InstallAsEventCreate(EventSource, eventlog.Error|eventlog.Warning|eventlog.Info) // already there: an error, ignored
	l, err := eventlog.Open(EventSource)
	if err != nil {
		return err
	}
	defer l.Close()
	return l.Error(1, msg)
}
