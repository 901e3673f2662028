package agent

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers"
)

// chipAgent is an agent over fakes whose clock the test moves.
func chipAgent(t *testing.T, d Deps) (*Agent, *events.Bus, *clock) {
	t.Helper()
	now := &clock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	d.Bus = events.New()
	d.Checker = &fakeChecker{delay: time.Millisecond, e: patient.Eligibility{Verdict: patient.Eligible, Code: "000"}}
	d.Store = newMemStore()
	d.Identify = identify
	d.Now = now.now
	if d.Staff.CitizenID == "" {
		d.Staff = patient.Staff{Name: "Trần Thị Bình", CitizenID: "079190000001"}
	}
	a, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	return a, d.Bus, now
}

// clock is a test clock the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestChipKeyQRThenTap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, _, now := chipAgent(t, Deps{QRWindow: time.Minute, WaitForQR: -1})
		defer a.checks.Wait()
		ctx := t.Context()
		if _, err := a.ChipKey(ctx, "r"); !errors.Is(err, drivers.ErrNoKey) {
			t.Errorf("nothing scanned: %v", err)
		}
		// A CCCD QR scanned at the counter opens its chip…
		a.Present(drivers.Presentation{Medium: patient.MediumQR, Payload: []byte("good")})
		k, err := a.ChipKey(ctx, "r")
		if err != nil || k.Identity == nil || k.Identity.CitizenID != testID.CitizenID {
			t.Errorf("after a QR scan: %+v %v", k, err)
		}
		// …for QRWindow only.
		now.add(2 * time.Minute)
		if _, err := a.ChipKey(ctx, "r"); !errors.Is(err, drivers.ErrNoKey) {
			t.Errorf("QR too old: %v", err)
		}
		// A chip identity is not a QR scan.
		chip := testID
		chip.Medium = patient.MediumChip
		a.Present(drivers.Presentation{Medium: patient.MediumChip, Identity: &chip})
		if _, err := a.ChipKey(ctx, "r"); !errors.Is(err, drivers.ErrNoKey) {
			t.Errorf("a chip read became the QR: %v", err)
		}
		synctest.Wait()
	})
}

// A card laid on the reader before its QR was scanned is opened by the
// scan; staff may type the CAN instead when asked; removing the card ends
// the wait.
func TestChipKeyWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, bus, _ := chipAgent(t, Deps{AskCAN: true, WaitForQR: time.Minute})
		defer a.checks.Wait()
		alerts := bus.Subscribe(events.Alert, 8)
		defer alerts.Close()
		ctx := t.Context()

		type res struct {
			k   drivers.ChipKey
			err error
		}
		wait := func(ctx context.Context) chan res {
			c := make(chan res, 1)
			go func() { k, err := a.ChipKey(ctx, "r"); c <- res{k, err} }()
			synctest.Wait()
			return c
		}
		got := wait(ctx)
		if ev := <-alerts.C(); ev.Data.(events.AlertData).Code != AlertCANRequired {
			t.Errorf("alert %+v, want the CAN prompt", ev.Data)
		}
		a.Present(drivers.Presentation{Medium: patient.MediumQR, Payload: []byte("good")})
		if r := <-got; r.err != nil || r.k.Identity == nil || r.k.Identity.CitizenID != testID.CitizenID {
			t.Errorf("QR scanned while waiting: %+v %v", r.k, r.err)
		}

		a.recent = recentQR{now: a.d.Now} // forget the scan
		got = wait(ctx)
		<-alerts.C()
		if err := a.ProvideCAN("12a456"); err == nil {
			t.Error("garbage CAN accepted")
		}
		if err := a.ProvideCAN(" 001190012345 "); err != nil {
			t.Fatal(err)
		}
		if r := <-got; r.err != nil || r.k.CAN != "012345" || r.k.Identity != nil {
			t.Errorf("typed whole ID: %+v %v", r.k, r.err)
		}

		cctx, cancel := context.WithCancel(ctx)
		got = wait(cctx)
		cancel() // the card was removed
		if r := <-got; !errors.Is(r.err, context.Canceled) {
			t.Errorf("card removed: %v", r.err)
		}
	})
	// Nobody to ask: WaitForQR bounds the wait.
	synctest.Test(t, func(t *testing.T) {
		a, _, _ := chipAgent(t, Deps{WaitForQR: 20 * time.Second})
		defer a.checks.Wait()
		if _, err := a.ChipKey(t.Context(), "r"); !errors.Is(err, drivers.ErrNoKey) {
			t.Errorf("no QR in time: %v", err)
		}
		if err := a.ProvideCAN("012345"); err == nil {
			t.Error("a CAN accepted with no window to ask")
		}
	})
}

func TestChipAlerts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var compared []patient.Identity
		a, bus, _ := chipAgent(t, Deps{CrossCheck: func(qr, chip patient.Identity) (string, string, bool) {
			compared = append(compared, qr, chip)
			return "qr-chip-mismatch", "QR code and chip disagree on: name", qr.Name != chip.Name
		}})
		defer a.checks.Wait()
		alerts := bus.Subscribe(events.Alert, 16)
		defer alerts.Close()
		a.Present(drivers.Presentation{Medium: patient.MediumQR, Payload: []byte("good")})

		// The same card's chip, with another name and a failed clone check,
		// presented early and then refined: each alert comes once.
		chip := testID
		chip.Medium, chip.Name = patient.MediumChip, "Nguyễn Văn Bình"
		chip.Authenticity = patient.Authenticity{Level: patient.Failed, Clone: patient.CloneFailed}
		checkID := a.Begin(patient.MediumChip, "reader 0")
		a.Present(drivers.Presentation{Medium: patient.MediumChip, Identity: &chip, CheckID: checkID})
		a.Present(drivers.Presentation{Medium: patient.MediumChip, Identity: &chip, CheckID: checkID, Refines: true})
		synctest.Wait()
		var codes []string
		for len(alerts.C()) > 0 {
			al := (<-alerts.C()).Data.(events.AlertData)
			if al.CheckID != checkID {
				t.Errorf("alert under check %q, want %q", al.CheckID, checkID)
			}
			codes = append(codes, al.Code)
		}
		if len(codes) != 2 || codes[0] != "qr-chip-mismatch" || codes[1] != AlertCloneSuspected {
			t.Errorf("alerts %v, want the mismatch and the clone suspicion once each", codes)
		}
		if len(compared) != 2 || compared[0].Medium != patient.MediumQRCCCD {
			t.Errorf("compared %+v", compared)
		}
		// Another citizen's chip is not compared with the QR.
		other := chip
		other.CitizenID = "079190000001"
		other.Authenticity = patient.Authenticity{Level: patient.Failed, Clone: patient.ClonePassed, Detail: "DG13 hash differs"}
		a.Present(drivers.Presentation{Medium: patient.MediumChip, Identity: &other})
		synctest.Wait()
		if len(compared) != 2 {
			t.Error("another card's chip was compared with the QR")
		}
		if al := (<-alerts.C()).Data.(events.AlertData); al.Code != AlertNotAuthentic {
			t.Errorf("alert %+v, want not authentic", al)
		}
	})
}

// Sources report through the agent: one check ID from Begin to the result,
// failures with their codes, and a device table.
func TestReporter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, bus, _ := chipAgent(t, Deps{})
		defer a.checks.Wait()
		sub := bus.Subscribe(events.All, 64)
		defer sub.Close()
		var r drivers.Reporter = a
		id := r.Begin(patient.MediumChip, "reader 0")
		r.Progress(id, "pace", 10)
		chip := testID
		chip.Medium = patient.MediumChip
		r.Present(drivers.Presentation{Medium: patient.MediumChip, Device: "reader 0", Identity: &chip, CheckID: id})
		r.Failed(drivers.Failure{Medium: patient.MediumQR, Device: "/dev/ttyACM0", Code: drivers.FailureScanNotUTF8, Detail: "scan is not UTF-8 text"})
		r.Device(drivers.Device{Kind: drivers.Scanner, Name: "/dev/ttyACM0", State: drivers.DeviceReady})
		r.Device(drivers.Device{Kind: drivers.Scanner, Name: "/dev/ttyACM0", State: drivers.DeviceReady}) // unchanged
		r.Device(drivers.Device{Kind: drivers.Reader, Name: "reader 0", State: drivers.DeviceCard})
		synctest.Wait()
		var kinds []events.Kind
		for len(sub.C()) > 0 {
			ev := <-sub.C()
			kinds = append(kinds, ev.Kind)
			switch d := ev.Data.(type) {
			case events.Progress:
				if d.CheckID != id {
					t.Errorf("progress under %q, want %q", d.CheckID, id)
				}
			case events.Presented:
				if d.CheckID != id || d.Medium != patient.MediumChip {
					t.Errorf("presented %+v", d)
				}
			case events.Result:
				if d.CheckID != id {
					t.Errorf("result under %q, want %q", d.CheckID, id)
				}
			case events.Failure:
				if d.Code != drivers.FailureScanNotUTF8 || d.Reason != "scan is not UTF-8 text" {
					t.Errorf("failure %+v", d)
				}
			}
		}
		n := 0
		for _, k := range kinds {
			if k == events.DeviceChanged {
				n++
			}
		}
		if n != 2 {
			t.Errorf("%d device events, want 2 (an unchanged state is not republished): %v", n, kinds)
		}
		devs := a.Devices()
		if len(devs) != 2 || devs[0].Kind != events.Reader || devs[0].State != events.DeviceCard || devs[1].Name != "/dev/ttyACM0" {
			t.Errorf("devices %+v", devs)
		}
	})
}

// A scan the payload reader cannot read fails with its code.
func TestScanFailureCode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, bus, _ := chipAgent(t, Deps{})
		defer a.checks.Wait()
		sub := bus.Subscribe(events.ReadFailed, 4)
		defer sub.Close()
		a.d.Identify = func(drivers.Presentation) (patient.Identity, error) { return patient.Identity{}, codedError{} }
		a.Present(drivers.Presentation{Medium: patient.MediumQR, Payload: []byte("https://example.org")})
		if f := (<-sub.C()).Data.(events.Failure); f.Code != "scan-url" || f.Medium != patient.MediumQR {
			t.Errorf("failure %+v", f)
		}
	})
}

type codedError struct{}

func (codedError) Error() string       { return "scanned a web address, not a card" }
func (codedError) FailureCode() string { return "scan-url" }

// IT changes the gateway in the window: the next check asks the new one.
func TestSetChecker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, bus, _ := chipAgent(t, Deps{})
		defer a.checks.Wait()
		sub := bus.Subscribe(events.EligibilityResult, 4)
		defer sub.Close()
		second := &fakeChecker{delay: time.Millisecond, e: patient.Eligibility{Verdict: patient.NotEligible, Code: "010"}}
		a.SetChecker(second)
		a.SetChecker(nil) // ignored
		if _, err := a.Check(t.Context(), testID); err != nil {
			t.Fatal(err)
		}
		if r := (<-sub.C()).Data.(events.Result); r.Eligibility.Code != "010" || second.calls != 1 {
			t.Errorf("result %+v from %d calls to the new gateway", r.Eligibility, second.calls)
		}
	})
}

// Every answer passes Seal once, before it is published, whoever asked:
// the counter (a cached answer, then the live one) and the outbox.
func TestSealBeforePublish(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var sealed []Finishing
		bus := events.New()
		store := newMemStore()
		store.byID[testID.CitizenID] = patient.Eligibility{Verdict: patient.Eligible, Code: "000", CheckedAt: time.Now().Add(-time.Hour)}
		c := &fakeChecker{delay: time.Second, e: patient.Eligibility{Verdict: patient.Eligible, Code: "000"}}
		a, err := New(Deps{Bus: bus, Checker: c, Store: store, Identify: identify,
			Staff: patient.Staff{Name: "Trần Thị Bình", CitizenID: "079190000001"},
			Seal: func(_ context.Context, f Finishing) {
				f.Result.Eligibility.ReasonEN = "sealed " + string(f.Result.Eligibility.Source)
				sealed = append(sealed, f)
			}})
		if err != nil {
			t.Fatal(err)
		}
		sub := bus.Subscribe(events.EligibilityResult|events.EligibilityUpdated, 8)
		defer sub.Close()
		a.Present(drivers.Presentation{Medium: patient.MediumQR, Payload: []byte("good")})
		for _, want := range []string{"sealed cache", "sealed live"} {
			if r := (<-sub.C()).Data.(events.Result); r.Eligibility.ReasonEN != want {
				t.Errorf("published %q, want %q", r.Eligibility.ReasonEN, want)
			}
		}
		a.checks.Wait()
		if err := a.Recheck(t.Context(), "queued-1", testID, patient.Staff{}); err != nil {
			t.Fatal(err)
		}
		if r := (<-sub.C()).Data.(events.Result); r.CheckID != "queued-1" || r.Eligibility.ReasonEN != "sealed live" {
			t.Errorf("re-check published %+v", r)
		}
		if len(sealed) != 3 || sealed[0].Kind != events.EligibilityResult || sealed[1].Kind != events.EligibilityUpdated ||
			!sealed[2].Queued || sealed[1].Answered.Sub(sealed[1].Asked) != time.Second ||
			sealed[2].Staff.CitizenID != "079190000001" {
			t.Errorf("sealed %+v", sealed)
		}
	})
}
