package outbox_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent"
	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers"
	"github.com/tiepdon/tiepdon/drivers/payload"
	"github.com/tiepdon/tiepdon/sync/bhxh"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
	"github.com/tiepdon/tiepdon/sync/cache"
	"github.com/tiepdon/tiepdon/sync/outbox"
)

// wired is the agent with every part of this issue, as cmd/tiepdon wires it.
type wired struct {
	sim *bhxhsim.Sim
	a   *agent.Agent
	bus *events.Bus
	db  *cache.DB
	ob  *outbox.Outbox
}

func wire(t *testing.T) *wired {
	t.Helper()
	return wireAt(t, filepath.Join(t.TempDir(), "cache.db"))
}

// wireAt is wire with the cache database at path.
func wireAt(t *testing.T, path string) *wired {
	t.Helper()
	sim := bhxhsim.New(bhxhsim.Options{Seed: seed, Size: 10_000})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	t.Cleanup(sim.Close)
	bus := events.New()
	cli, err := bhxh.New(bhxh.Options{URL: srv.URL, Username: "79014_BV", Password: "bhxh-sim", Bus: bus,
		Timeout: time.Second, FailureThreshold: 2, OpenFor: 50 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	db := openDB(t, path)
	w := &wired{sim: sim, bus: bus, db: db}
	w.ob, err = outbox.New(outbox.Options{DB: db, Bus: bus, Staff: func() patient.Staff { return w.a.Staff() },
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	w.a, err = agent.New(agent.Deps{Bus: bus, Identify: payload.Identify, Checker: cli, Store: db, Queue: w.ob, Journal: w.ob,
		Staff: staff, Timeout: time.Second, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	w.ob.SetAgent(w.a)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- w.ob.Run(ctx) }()
	go func() { done <- w.a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	})
	return w
}

func next(t *testing.T, sub *events.Subscription, checkID string) events.Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev := <-sub.C():
			if r, ok := ev.Data.(events.Result); ok && r.CheckID == checkID {
				return ev
			}
		case <-timeout:
			t.Fatalf("no result for %s", checkID)
		}
	}
}

// TestOfflineScanAnsweredLater: a CCCD QR scanned while the gateway is
// down, with nothing cached, shows "unavailable" at once; the check is
// queued and its answer arrives as eligibility.updated when the gateway is
// back.
func TestOfflineScanAnsweredLater(t *testing.T) {
	w := wire(t)
	sub := w.bus.Subscribe(events.EligibilityResult|events.EligibilityUpdated, 64)
	defer sub.Close()
	w.sim.SetFaults(bhxhsim.Faults{Down: true})
	p, _ := w.sim.Example("000")
	w.a.Present(drivers.Presentation{Medium: patient.MediumQRCCCD, Payload: []byte(p.CCCDQR()), CheckID: "offline-1"})
	ev := next(t, sub, "offline-1")
	r := ev.Data.(events.Result)
	if ev.Kind != events.EligibilityResult || r.Eligibility.Verdict != patient.Unavailable || r.Eligibility.Source != patient.SourceNone {
		t.Fatalf("first answer %s %+v", ev.Kind, r.Eligibility)
	}
	deadline := time.Now().Add(5 * time.Second)
	for n, _ := w.ob.Pending(context.Background()); n != 1; n, _ = w.ob.Pending(context.Background()) {
		if time.Now().After(deadline) {
			t.Fatalf("%d queued, want 1", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	w.sim.SetFaults(bhxhsim.Faults{})
	ev = next(t, sub, "offline-1")
	r = ev.Data.(events.Result)
	if ev.Kind != events.EligibilityUpdated || r.Eligibility.Verdict != patient.Eligible || r.Eligibility.Source != patient.SourceLive || r.Identity.CitizenID != p.CitizenID {
		t.Fatalf("later answer %s %+v", ev.Kind, r.Eligibility)
	}
	// The next scan of the same person is answered from the cache even
	// with the gateway down again.
	w.sim.SetFaults(bhxhsim.Faults{Down: true})
	w.a.Present(drivers.Presentation{Medium: patient.MediumQRCCCD, Payload: []byte(p.CCCDQR()), CheckID: "offline-2"})
	r = next(t, sub, "offline-2").Data.(events.Result)
	if r.Eligibility.Source != patient.SourceCache || r.Eligibility.Verdict != patient.Eligible || r.Eligibility.Age <= 0 {
		t.Fatalf("cached answer %+v", r.Eligibility)
	}
	lines, err := w.db.Audit(context.Background(), "offline-1", "")
	if err != nil || len(lines) != 2 || lines[0].Verdict != patient.Unavailable || lines[1].Verdict != patient.Eligible {
		t.Fatalf("audit %+v %v", lines, err)
	}
}

// TestHedgeWithSlowGateway: the gateway takes 600 ms; the cached verdict is
// shown after the 300 ms hedge and the live one follows as an update.
func TestHedgeWithSlowGateway(t *testing.T) {
	w := wire(t)
	sub := w.bus.Subscribe(events.EligibilityResult|events.EligibilityUpdated, 64)
	defer sub.Close()
	p, _ := w.sim.Example("000")
	w.a.Present(drivers.Presentation{Medium: patient.MediumQRCCCD, Payload: []byte(p.CCCDQR()), CheckID: "warm"})
	if r := next(t, sub, "warm").Data.(events.Result); r.Eligibility.Source != patient.SourceLive {
		t.Fatalf("warm-up %+v", r.Eligibility)
	}
	w.sim.SetFaults(bhxhsim.Faults{Latency: bhxhsim.Duration(600 * time.Millisecond)})
	start := time.Now()
	w.a.Present(drivers.Presentation{Medium: patient.MediumQRCCCD, Payload: []byte(p.CCCDQR()), CheckID: "slow"})
	first := next(t, sub, "slow")
	took := time.Since(start)
	if r := first.Data.(events.Result); first.Kind != events.EligibilityResult || r.Eligibility.Source != patient.SourceCache {
		t.Fatalf("first %s %+v", first.Kind, r.Eligibility)
	}
	if took < 300*time.Millisecond {
		t.Errorf("cached verdict after %s, before the 300 ms hedge", took)
	}
	second := next(t, sub, "slow")
	if r := second.Data.(events.Result); second.Kind != events.EligibilityUpdated || r.Eligibility.Source != patient.SourceLive {
		t.Fatalf("second %s %+v", second.Kind, r.Eligibility)
	}
}
