package hospital_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/tiepdon/tiepdon/sync/hospital/pgtest"
)

// cluster is the package's one PostgreSQL, shared by the tests that leave
// it running (each in its own database); the tests that stop PostgreSQL
// start their own.
var cluster *pgtest.Cluster

func TestMain(m *testing.M) {
	if os.Getenv(benchLoadEnv) != "" {
		// The load of BenchmarkFiftyDesks: desks on the benchmark's
		// PostgreSQL, nothing else.
		os.Exit(m.Run())
	}
	c, stop, err := pgtest.Shared()
	if err != nil && err != pgtest.ErrNotInstalled {
		fmt.Fprintf(os.Stderr, "starting the test PostgreSQL: %v\n", err)
		os.Exit(1)
	}
	cluster = c
	code := m.Run()
	if stop != nil {
		stop()
	}
	os.Exit(code)
}
