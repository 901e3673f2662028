package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent/hisapi"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
	"github.com/tiepdon/tiepdon/sync/cache"
)

// TestCrashChild is the agent process that TestKillMidBurst kills (and
// that TestHISQuickStart restarts and TestFleetDesks runs as desks): the
// test binary run again with TIEPDON_CRASH_ARGS. It is not a test on its
// own. TIEPDON_CHILD_FLEET_FAST shortens the fleet intervals.
func TestCrashChild(t *testing.T) {
	raw := os.Getenv("TIEPDON_CRASH_ARGS")
	if raw == "" {
		t.Skip("the agent process of TestKillMidBurst (runs only when that test starts it)")
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("TIEPDON_CHILD_FLEET_FAST") != "" {
		fleetEvery.report, fleetEvery.poll, fleetEvery.keyFile = 300*time.Millisecond, 300*time.Millisecond, 300*time.Millisecond
	}
	// As main does: SIGTERM stops the agent cleanly (SIGKILL still kills it).
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	os.Exit(dispatch(ctx, args, os.Stdout, os.Stderr))
}

// TestKillMidBurst: a real agent process reads a burst of 500 scans a
// second from a real pty while the gateway (the simulator over HTTP) takes
// a second per answer, and is killed with SIGKILL mid-burst. Every scan it
// had accepted (announced to the HIS as identity.read, which comes after
// the scan is journaled) must, after a restart, end checked and audited.
// Input still in the pty's buffer, never read, may be dropped as stale.
func TestKillMidBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
	r := newAgentRig(t, bhxhsim.Options{Seed: 42}, "s3cret", "[his]\ndemo_page = false\n", hisapi.ScopeEligibility, hisapi.ScopeIdentity)
	sim, sc, dataDir := r.sim, r.sc, r.dataDir
	sim.SetFaults(bhxhsim.Faults{Latency: bhxhsim.Duration(time.Second)})
	var people []bhxhsim.Person
	for _, p := range sim.People() {
		if p.Code == "000" {
			people = append(people, p)
		}
	}
	args, _ := json.Marshal(r.args())
	start := func(name string) (*exec.Cmd, *lockedBuffer) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		log := &lockedBuffer{}
		cmd.Stdout, cmd.Stderr = log, log
		cmd.Env = append(os.Environ(), "TIEPDON_CRASH_ARGS="+string(args)) // and the rig's TIEPDON_* settings
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting the %s agent: %v", name, err)
		}
		r.waitReady(log.String)
		return cmd, log
	}

	first, _ := start("first")
	ws := r.hello(nil)
	var mu sync.Mutex
	accepted := map[string]bool{}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for {
			var m rpcMessage
			if err := ws.ReadJSON(&m); err != nil {
				return // the agent was killed
			}
			if m.Method == "identity.read" {
				var p struct {
					CheckID string `json:"checkId"`
				}
				json.Unmarshal(m.Params, &p)
				mu.Lock()
				accepted[p.CheckID] = true
				mu.Unlock()
			}
		}
	}()

	// 500 scans a second; SIGKILL once 150 have been accepted.
	tick := time.NewTicker(2 * time.Millisecond)
	sent := 0
	for sent < 1000 {
		<-tick.C
		if err := sc.Scan(people[sent%len(people)].CCCDQR()); err != nil {
			t.Fatal(err)
		}
		sent++
		mu.Lock()
		n := len(accepted)
		mu.Unlock()
		if n >= 150 {
			break
		}
	}
	tick.Stop()
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Wait()
	<-readDone
	ws.Close()
	mu.Lock()
	ids := make([]string, 0, len(accepted))
	for id := range accepted {
		ids = append(ids, id)
	}
	mu.Unlock()
	if len(ids) < 50 {
		t.Fatalf("only %d scans accepted before the kill (%d sent): the burst did not reach the agent", len(ids), sent)
	}

	// Were some of them still unanswered at the kill? (Otherwise the test
	// proves nothing.)
	db, err := cache.Open(context.Background(), filepath.Join(dataDir, "cache.db"), cache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	unaudited := 0
	for _, id := range ids {
		if l, err := db.Audit(context.Background(), id, ""); err != nil {
			t.Fatal(err)
		} else if len(l) == 0 {
			unaudited++
		}
	}
	db.Close()
	t.Logf("%d scans sent at 500/s, %d accepted before SIGKILL, %d of them unanswered and unaudited at the kill", sent, len(ids), unaudited)
	if unaudited == 0 {
		t.Fatal("every accepted scan was already answered at the kill: the test did not kill mid-check")
	}

	// Restart with a fast gateway: every accepted scan ends answered and audited.
	sim.SetFaults(bhxhsim.Faults{})
	second, log2 := start("second")
	defer func() {
		second.Process.Signal(syscall.SIGTERM)
		second.Wait()
	}()
	db, err = cache.Open(context.Background(), filepath.Join(dataDir, "cache.db"), cache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var missing []string
	waitFor(t, 60*time.Second, func() bool {
		missing = missing[:0]
		for _, id := range ids {
			l, err := db.Audit(context.Background(), id, "")
			if err != nil || len(l) == 0 {
				missing = append(missing, id)
			}
		}
		return len(missing) == 0
	}, func() string {
		return fmt.Sprintf("%d accepted scans never audited after the restart (e.g. %v); agent log:\n%s", len(missing), missing[:min(3, len(missing))], tail(log2.String(), 2000))
	})
	// The audit line is written before the queued re-check is removed:
	// wait for the queue to empty rather than look once.
	waitFor(t, 30*time.Second, func() bool {
		q, err := db.OutboxLen(context.Background())
		return err == nil && q == 0
	}, func() string {
		q, err := db.OutboxLen(context.Background())
		return fmt.Sprintf("%d checks still queued after the restart with the gateway up (%v); agent log:\n%s", q, err, tail(log2.String(), 2000))
	})
	if !strings.Contains(log2.String(), "re-checked now") {
		t.Errorf("the restarted agent did not say it recovered unfinished scans:\n%s", tail(log2.String(), 2000))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// lockedBuffer is a bytes.Buffer a child process writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
