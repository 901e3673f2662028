package chip_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every goroutine a test starts (sources, monitors, reads, the agent,
// virtual card servers) must be gone when the tests end.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
