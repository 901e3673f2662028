package outbox_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent"
	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/sync/bhxh"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
	"github.com/tiepdon/tiepdon/sync/cache"
	"github.com/tiepdon/tiepdon/sync/outbox"
)

var (
	quiet = slog.New(slog.DiscardHandler)
	staff = patient.Staff{Name: "Trần Thị Lễ Tân", CitizenID: "079190000001"}
)

const seed = 42

func openDB(t testing.TB, path string) *cache.DB {
	t.Helper()
	db, err := cache.Open(context.Background(), path, cache.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// rig is a simulator over HTTP, a real gateway client and a cache file.
type rig struct {
	sim *bhxhsim.Sim
	cli *bhxh.Client
	db  *cache.DB
	bus *events.Bus
	ob  *outbox.Outbox
}

func newRig(t *testing.T, dbPath string) *rig {
	t.Helper()
	sim := bhxhsim.New(bhxhsim.Options{Seed: seed, Size: 10_000})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	t.Cleanup(sim.Close)
	bus := events.New()
	cli, err := bhxh.New(bhxh.Options{URL: srv.URL, Username: "79014_BV", Password: "bhxh-sim", Bus: bus,
		Timeout: 500 * time.Millisecond, Retries: -1, FailureThreshold: 2, OpenFor: 100 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	db := openDB(t, dbPath)
	ob, err := outbox.New(outbox.Options{DB: db, Bus: bus, Staff: func() patient.Staff { return staff },
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	withAgent(t, db, cli, bus, ob)
	return &rig{sim, cli, db, bus, ob}
}

// withAgent makes the agent that ob asks to re-check, over checker, db and
// bus (nil: a bus of its own).
func withAgent(t testing.TB, db *cache.DB, checker agent.Checker, bus *events.Bus, ob *outbox.Outbox) *agent.Agent {
	t.Helper()
	if bus == nil {
		bus = events.New()
	}
	a, err := agent.New(agent.Deps{Bus: bus, Checker: checker, Store: db, Queue: ob, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ob.SetAgent(a)
	return a
}

// run starts the outbox and stops it (waiting) at cleanup.
func (r *rig) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.ob.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// collect waits for EligibilityUpdated events until every check ID in want
// has one, or the deadline passes.
func collect(t *testing.T, sub *events.Subscription, want map[string]bhxhsim.Person, d time.Duration) map[string]events.Result {
	t.Helper()
	got := map[string]events.Result{}
	timeout := time.After(d)
	for len(got) < len(want) {
		select {
		case ev := <-sub.C():
			r := ev.Data.(events.Result)
			if _, ok := want[r.CheckID]; !ok {
				t.Fatalf("update for unknown check %s", r.CheckID)
			}
			got[r.CheckID] = r
		case <-timeout:
			t.Fatalf("%d of %d queued checks answered within %s", len(got), len(want), d)
		}
	}
	return got
}

func verifyAnswers(t *testing.T, r *rig, got map[string]events.Result, want map[string]bhxhsim.Person) {
	t.Helper()
	ctx := context.Background()
	for id, p := range want {
		res := got[id]
		e := res.Eligibility
		wantVerdict := bhxh.RuleFor(p.Code).Verdict
		if p.Code == "003" || p.Code == "004" {
			wantVerdict = patient.Eligible
		}
		if e.Verdict != wantVerdict || e.Source != patient.SourceLive || res.Identity.CitizenID != p.CitizenID {
			t.Errorf("check %s (%s): verdict %s source %s, want %s live", id, p.Code, e.Verdict, e.Source, wantVerdict)
		}
		lines, err := r.db.Audit(ctx, id, "")
		if err != nil || len(lines) != 1 || lines[0].Source != patient.SourceLive || lines[0].Staff != staff || lines[0].CitizenID != p.CitizenID {
			t.Errorf("check %s: audit %+v %v", id, lines, err)
		}
		if _, ok, _ := r.db.Lookup(ctx, patient.Query{CitizenID: p.CitizenID}); !ok && e.Verdict != patient.InputMismatch {
			t.Errorf("check %s: answer not cached", id)
		}
	}
	// An answer is published before its row leaves the queue (delivery is
	// at least once), so the last removal may still be under way.
	deadline := time.Now().Add(5 * time.Second)
	for n, _ := r.ob.Pending(ctx); n != 0 && time.Now().Before(deadline); n, _ = r.ob.Pending(ctx) {
		time.Sleep(5 * time.Millisecond)
	}
	if n, _ := r.ob.Pending(ctx); n != 0 {
		t.Errorf("%d checks still queued", n)
	}
}

// TestReplayWhenGatewayReturns queues checks while the gateway is down and
// sees them answered once it is back.
func TestReplayWhenGatewayReturns(t *testing.T) {
	r := newRig(t, filepath.Join(t.TempDir(), "cache.db"))
	updates := r.bus.Subscribe(events.EligibilityUpdated, 64)
	defer updates.Close()
	counts := r.bus.Subscribe(events.OutboxChanged, 256)
	defer counts.Close()
	r.sim.SetFaults(bhxhsim.Faults{Down: true})
	r.run(t)

	want := map[string]bhxhsim.Person{}
	ctx := context.Background()
	for i, code := range []string{"000", "003", "010", "001", "130", "000"} {
		p, _ := r.sim.Example(code)
		if code == "000" && i > 0 {
			p = r.sim.Person(len(bhxhsim.Showcase) + 100) // another person
		}
		id := fmt.Sprintf("chk-%d", i)
		want[id] = p
		if err := r.ob.Enqueue(ctx, id, p.Identity()); err != nil {
			t.Fatal(err)
		}
	}
	// The outbox tries and fails while the gateway is down.
	deadline := time.Now().Add(5 * time.Second)
	for r.sim.Stats().Faulted < 3 {
		if time.Now().After(deadline) {
			t.Fatal("the outbox did not try the gateway")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case ev := <-updates.C():
		t.Fatalf("update while the gateway is down: %+v", ev)
	default:
	}
	r.sim.SetFaults(bhxhsim.Faults{})
	got := collect(t, updates, want, 10*time.Second)
	verifyAnswers(t, r, got, want)
	// OutboxChanged went up to 6 and ends at 0 (the last count follows the
	// last removal, which verifyAnswers waited for).
	peak, last := 0, -1
	for !(peak == 6 && last == 0) {
		select {
		case ev := <-counts.C():
			n := ev.Data.(events.Outbox).Pending
			peak, last = max(peak, n), n
		case <-time.After(5 * time.Second):
			t.Fatalf("outbox counts peaked at %d and stay at %d, want 6 and 0", peak, last)
		}
	}
	for len(counts.C()) > 0 {
		n := (<-counts.C()).Data.(events.Outbox).Pending
		peak, last = max(peak, n), n
	}
	if peak != 6 || last != 0 {
		t.Errorf("outbox counts peaked at %d and ended at %d, want 6 and 0", peak, last)
	}
}

// flaky is a Checker that fails a set number of times.
type flaky struct {
	mu    sync.Mutex
	fails int
	calls int
	err   error
}

func (f *flaky) Check(ctx context.Context, q patient.Query) (patient.Eligibility, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.calls <= f.fails {
		return patient.Eligibility{}, f.err
	}
	return patient.Eligibility{Verdict: patient.Eligible, Code: "000", CheckedAt: time.Now()}, nil
}

func (f *flaky) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func TestBackoffThenSuccess(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "cache.db"))
	ck := &flaky{fails: 3, err: fmt.Errorf("gateway check: %w", agent.ErrUnavailable)}
	bus := events.New()
	sub := bus.Subscribe(events.EligibilityUpdated, 4)
	defer sub.Close()
	ob, _ := outbox.New(outbox.Options{DB: db, Bus: bus, MinBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond, Logger: quiet})
	withAgent(t, db, ck, bus, ob)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- ob.Run(ctx) }()
	start := time.Now()
	if err := ob.Enqueue(ctx, "x", patient.Identity{CitizenID: "079190000009"}); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-sub.C():
		if r := ev.Data.(events.Result); r.CheckID != "x" || r.Eligibility.Verdict != patient.Eligible {
			t.Fatalf("%+v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no answer")
	}
	if n := ck.Calls(); n != 4 {
		t.Errorf("%d calls, want 3 failures and a success", n)
	}
	// 3 waits of at least 7.5, 15 and 30 ms (jitter −25 %).
	if took := time.Since(start); took < 50*time.Millisecond {
		t.Errorf("answered after %s: backoff not applied", took)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestDropsUncheckable(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "cache.db"))
	ck := &flaky{fails: 100, err: errors.New("bad query")}
	ob, _ := outbox.New(outbox.Options{DB: db, Logger: quiet})
	withAgent(t, db, ck, nil, ob)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ob.Run(ctx) }()
	if err := ob.Enqueue(ctx, "x", patient.Identity{CitizenID: "079190000009"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for n, _ := ob.Pending(ctx); n != 0; n, _ = ob.Pending(ctx) {
		if time.Now().After(deadline) {
			t.Fatal("uncheckable entry kept")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if ck.Calls() != 1 {
		t.Errorf("%d calls, want 1", ck.Calls())
	}
	if err := ob.Enqueue(context.Background(), "y", patient.Identity{Name: "Không Có Số"}); !errors.Is(err, outbox.ErrNoIdentifier) {
		t.Errorf("enqueue without identifier: %v", err)
	}
}

// TestKill9 queues checks in a child process, kills it with SIGKILL while it
// is still queuing, then reopens the database in this process and replays
// the queue against the simulator: every check the child reported queued
// must be answered.
func TestKill9(t *testing.T) {
	if os.Getenv("OUTBOX_CHILD_DB") != "" {
		t.Skip("child process only")
	}
	path := filepath.Join(t.TempDir(), "cache.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildQueues$", "-test.v")
	cmd.Env = append(os.Environ(), "OUTBOX_CHILD_DB="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	queued := map[string]bool{}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "queued "); ok {
			queued[id] = true
			if len(queued) == 40 {
				break
			}
		}
	}
	if len(queued) < 40 {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child queued only %d checks", len(queued))
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no deferred code, no Close
		t.Fatal(err)
	}
	go func() {
		for sc.Scan() { // drain, so the child never blocks on a full pipe
		}
	}()
	cmd.Wait()

	r := newRig(t, path)
	ctx := context.Background()
	n, err := r.ob.Pending(ctx)
	if err != nil || n < len(queued) {
		t.Fatalf("%d checks in the queue after kill -9 (%v), child reported %d", n, err, len(queued))
	}
	t.Logf("child reported %d queued, %d found after kill -9", len(queued), n)
	due, err := r.db.OutboxDue(ctx, time.Now().Add(time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bhxhsim.Person{}
	for _, p := range due {
		var i int
		fmt.Sscanf(p.CheckID, "kill-%d", &i)
		want[p.CheckID] = r.sim.Person(i)
	}
	for id := range queued {
		if _, ok := want[id]; !ok {
			t.Errorf("check %s reported queued but lost", id)
		}
	}
	updates := r.bus.Subscribe(events.EligibilityUpdated, 256)
	defer updates.Close()
	r.run(t)
	got := collect(t, updates, want, 20*time.Second)
	verifyAnswers(t, r, got, want)
}

// TestChildQueues is the child of TestKill9: it queues checks for people
// 24, 25, … (one by one, printing each) until it is killed.
func TestChildQueues(t *testing.T) {
	path := os.Getenv("OUTBOX_CHILD_DB")
	if path == "" {
		t.Skip("run by TestKill9 only")
	}
	db, err := cache.Open(context.Background(), path, cache.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	never := &flaky{fails: 1 << 30, err: agent.ErrUnavailable}
	ob, _ := outbox.New(outbox.Options{DB: db, Staff: func() patient.Staff { return staff }, Logger: quiet})
	withAgent(t, db, never, nil, ob)
	sim := bhxhsim.New(bhxhsim.Options{Seed: seed, Size: 10_000})
	for i := len(bhxhsim.Showcase); ; i++ {
		id := fmt.Sprintf("kill-%d", i)
		if err := ob.Enqueue(context.Background(), id, sim.Person(i).Identity()); err != nil {
			t.Fatal(err)
		}
		fmt.Println("queued", id)
	}
}

// A check that waits keeps the gateway client's description of why.
func TestReasonKept(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "cache.db"))
	ck := &flaky{fails: 1 << 30, err: fmt.Errorf("gateway check: %w", agent.ErrUnavailable)}
	ob, _ := outbox.New(outbox.Options{DB: db, MinBackoff: time.Hour, Logger: quiet,
		Reason: func(err error) string { return "described: " + err.Error() }})
	withAgent(t, db, ck, nil, ob)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ob.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if err := ob.Enqueue(ctx, "x", patient.Identity{CitizenID: "079190000009"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		due, err := db.OutboxDue(ctx, time.Now().Add(3*time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(due) == 1 && due[0].Attempts == 1 {
			if due[0].LastError != "described: gateway check: gateway unavailable" {
				t.Errorf("reason kept %q", due[0].LastError)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no attempt recorded: %+v", due)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
