package hisapi

import (
	"fmt"
	"net/http"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/tiepdon/tiepdon/agent/hisapi/hisapitest"
)

// TestMain checks that no test leaves a goroutine behind: every session's
// reader and writer, every pairing wait and the server's own loops end when
// Run returns.
func TestMain(m *testing.M) {
	if os.Getenv(envFanoutN) != "" {
		os.Exit(fanoutClientProcess()) // BenchmarkFanout's clients
	}
	sc, err := compileSchema()
	if err != nil {
		os.Stderr.WriteString("web/schema.json: " + err.Error() + "\n")
		os.Exit(1)
	}
	suiteSchema = sc
	sc.hook()
	code := m.Run()
	hisapitest.RemoveNodeClients()
	if n := sc.checked; code == 0 && !sc.report(os.Stderr) {
		os.Stderr.WriteString("FAIL: the server sent messages that do not follow web/schema.json (above)\n")
		code = 1
	} else if code == 0 {
		fmt.Fprintf(os.Stderr, "every one of the %d messages the server sent follows web/schema.json\n", n)
	}
	http.DefaultClient.CloseIdleConnections()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			os.Stderr.WriteString("goroutines left behind: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}
