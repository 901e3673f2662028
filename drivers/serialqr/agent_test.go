package serialqr_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent"
	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers"
	"github.com/tiepdon/tiepdon/drivers/payload"
	"github.com/tiepdon/tiepdon/drivers/serialqr"
	"github.com/tiepdon/tiepdon/drivers/virtual"
)

// checker answers every query as eligible and records what it was asked.
type checker struct {
	mu    sync.Mutex
	asked [][]string
}

func (c *checker) Check(_ context.Context, q patient.Query) (patient.Eligibility, error) {
	c.mu.Lock()
	c.asked = append(c.asked, q.Candidates())
	c.mu.Unlock()
	return patient.Eligibility{Verdict: patient.Eligible, Code: "000", Source: patient.SourceLive, CheckedAt: time.Now()}, nil
}

var quiet = slog.New(slog.DiscardHandler)

// store is an in-memory agent.Store.
type store struct{}

func (store) Lookup(context.Context, patient.Query) (patient.Eligibility, bool, error) {
	return patient.Eligibility{}, false, nil
}
func (store) Save(context.Context, patient.Query, patient.Eligibility) error { return nil }
func (store) Record(context.Context, agent.Audit) error                      { return nil }

// TestAgentReadsScanner runs the real agent on the pty scanner with
// payload.Identify: scans become identities and eligibility checks that
// ask with the card number first, unreadable scans become read.failed
// events, and the agent keeps reading after the scanner is unplugged and
// plugged back in.
func TestAgentReadsScanner(t *testing.T) {
	ptyOnly(t)
	sc, err := virtual.NewScanner(virtual.ScannerOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	bus := events.New()
	sub := bus.Subscribe(events.DeviceChanged|events.IdentityRead|events.ReadFailed|events.EligibilityResult, 256)
	defer sub.Close()
	src, err := serialqr.New(serialqr.Options{Path: sc.Path(), Retry: 5 * time.Millisecond, Settle: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	chk := &checker{}
	var identify agent.Identifier = payload.Identify
	a, err := agent.New(agent.Deps{Bus: bus, Identify: identify, Checker: chk, Store: store{},
		Sources: []drivers.Source{src}, Logger: quiet,
		Staff: patient.Staff{Name: "Trần Thị Bình", CitizenID: "079190000001"}}) // signed in for the shift
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent: %v", err)
		}
	}()

	await := func(kind events.Kind, ok func(events.Event) bool) events.Event {
		t.Helper()
		timer := time.NewTimer(wait)
		defer timer.Stop()
		for {
			select {
			case ev := <-sub.C():
				if ev.Kind == kind && (ok == nil || ok(ev)) {
					return ev
				}
			case <-timer.C:
				t.Fatalf("no %v event", kind)
			}
		}
	}
	ready := func(ev events.Event) bool { return ev.Data.(events.Device).State == events.DeviceReady }
	await(events.DeviceChanged, ready)

	sc.Scan(sample(t, "bhyt-real-2017-paper"))
	id := await(events.IdentityRead, nil).Data.(events.Identity).Identity
	if id.Medium != patient.MediumQRBHYT || id.CardNumber != "DN401AA31900313" || id.Name != "Lê Việt Hưng" {
		t.Errorf("identity %+v", id)
	}
	if r := await(events.EligibilityResult, nil).Data.(events.Result); r.Eligibility.Verdict != patient.Eligible {
		t.Errorf("result %+v", r)
	}
	chk.mu.Lock()
	if len(chk.asked) != 1 || len(chk.asked[0]) < 1 || chk.asked[0][0] != "DN401AA31900313" {
		t.Errorf("gateway asked %v, want the card number first", chk.asked)
	}
	chk.mu.Unlock()

	sc.Scan("https://example.org/not-a-card")
	f := await(events.ReadFailed, nil).Data.(events.Failure)
	// Staff read the Vietnamese first, the English after it.
	if !strings.HasPrefix(f.Reason, "Đã quét một địa chỉ web") || !strings.Contains(f.Reason, payload.ErrURL.Error()) || f.Device != sc.Path() {
		t.Errorf("failure %+v", f)
	}

	sc.Unplug()
	await(events.DeviceChanged, func(ev events.Event) bool { return ev.Data.(events.Device).State == events.DeviceMissing })
	sc.Replug()
	await(events.DeviceChanged, ready)
	sc.Scan(sample(t, "cccd-synth-2021"))
	id = await(events.IdentityRead, nil).Data.(events.Identity).Identity
	if id.Medium != patient.MediumQRCCCD || id.CitizenID != "079185000123" {
		t.Errorf("identity after replug %+v", id)
	}
}
