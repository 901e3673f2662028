//go:build !windows

package settings

import "os"

// isAdmin: root may change settings without the IT PIN.
func isAdmin() bool { return os.Geteuid() == 0 }
