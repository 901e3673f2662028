//go:build !windows

package install

// ReportError writes msg to the Windows Application event log
// (eventlog_windows.go); elsewhere the callers' log files and the journal
// hold it, and this does nothing.
func ReportError(msg string) error { return nil }
