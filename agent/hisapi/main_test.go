package hisapi

import (
	"net/http"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: every session's
// reader and writer, every pairing wait and the server's own loops end when
// Run returns.
func TestMain(m *testing.M) {
	if os.Getenv(envFanoutN) != "" {
		os.Exit(fanoutClientProcess()) // BenchmarkFanout's clients
	}
	code := m.Run()
	http.DefaultClient.CloseIdleConnections()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			os.Stderr.WriteString("goroutines left behind: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}
