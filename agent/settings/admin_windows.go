package settings

import "golang.org/x/sys/windows"

// isAdmin: an elevated administrator may change settings without the IT
// PIN (a reception user normally runs unelevated).
func isAdmin() bool { return windows.GetCurrentProcessToken().IsElevated() }
