//go:build !linux

package doctor

import (
	"os"
	"testing"
)

// unprivileged runs direct, which needs a user that cannot bypass file
// permissions.
func unprivileged(t *testing.T, check, arg string, direct func() Result) Result {
	t.Helper()
	if os.Geteuid() == 0 {
		t.Fatal("this test needs a non-root user outside Linux")
	}
	return direct()
}
