//go:build !windows

package install

import "errors"

// ErrNoAutostart is returned by SetAutostart where the package manager
// owns autostart (Linux: /etc/xdg/autostart/tiepdon.desktop).
var ErrNoAutostart = errors.New("autostart is set up by the package, not by tiepdon, on this OS")

// SetAutostart is a Windows-only operation; see autostart_windows.go.
func SetAutostart(enable bool, exe string) error { return ErrNoAutostart }
