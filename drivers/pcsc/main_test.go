package pcsc_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every goroutine a test starts (monitors, sources, hung PC/SC calls,
// virtual card servers) must be gone when the tests end.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
