package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers"
)

// fakeChecker answers after delay with e, or fails with err.
type fakeChecker struct {
	delay time.Duration
	e     patient.Eligibility
	err   error
	calls int
	mu    sync.Mutex
	last  patient.Query
}

func (f *fakeChecker) Check(ctx context.Context, q patient.Query) (patient.Eligibility, error) {
	f.mu.Lock()
	f.calls++
	f.last = q
	e, err := f.e, f.err
	f.mu.Unlock()
	select {
	case <-time.After(f.delay):
	case <-ctx.Done():
		return patient.Eligibility{}, fmt.Errorf("%w: %v", ErrUnavailable, ctx.Err())
	}
	return e, err
}

// memStore is an in-memory Store keyed by citizen ID.
type memStore struct {
	mu     sync.Mutex
	byID   map[patient.CitizenID]patient.Eligibility
	audits []Audit
}

func newMemStore() *memStore { return &memStore{byID: map[patient.CitizenID]patient.Eligibility{}} }

func (m *memStore) Lookup(ctx context.Context, q patient.Query) (patient.Eligibility, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.byID[q.CitizenID]
	return e, ok, nil
}
func (m *memStore) Save(ctx context.Context, q patient.Query, e patient.Eligibility) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.byID[q.CitizenID] = e
	return nil
}
func (m *memStore) Record(ctx context.Context, a Audit) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.audits = append(m.audits, a)
	return nil
}

type memQueue struct {
	mu  sync.Mutex
	ids []string
}

func (q *memQueue) Enqueue(ctx context.Context, checkID string, id patient.Identity) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.ids = append(q.ids, checkID)
	return nil
}

var testID = patient.Identity{Medium: patient.MediumQRCCCD, CitizenID: "001090123456", Name: "Nguyễn Văn An",
	BirthDate: patient.Date{Year: 1990, Month: 1, Day: 1}}

func identify(p drivers.Presentation) (patient.Identity, error) {
	if string(p.Payload) != "good" {
		return patient.Identity{}, errors.New("not a CCCD or BHYT QR code")
	}
	return testID, nil
}

func newTestAgent(t *testing.T, c Checker, s Store, q Queue) (*Agent, *events.Subscription) {
	t.Helper()
	bus := events.New()
	a, err := New(Deps{Bus: bus, Identify: identify, Checker: c, Store: s, Queue: q,
		Staff: patient.Staff{Name: "Trần Thị Bình", CitizenID: "079190000001"}})
	if err != nil {
		t.Fatal(err)
	}
	sub := bus.Subscribe(events.EligibilityResult|events.EligibilityUpdated|events.ReadFailed|events.IdentityRead, 16)
	t.Cleanup(sub.Close)
	return a, sub
}

func next(t *testing.T, sub *events.Subscription, kind events.Kind) events.Event {
	t.Helper()
	for ev := range sub.C() {
		if ev.Kind == kind {
			return ev
		}
	}
	t.Fatalf("subscription closed before %v", kind)
	return events.Event{}
}

func TestLiveAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &fakeChecker{delay: 50 * time.Millisecond, e: patient.Eligibility{Verdict: patient.Eligible, Code: "000"}}
		s := newMemStore()
		a, sub := newTestAgent(t, c, s, nil)
		a.Present(drivers.Presentation{Medium: patient.MediumQRCCCD, Payload: []byte("good")})
		ev := next(t, sub, events.EligibilityResult)
		r := ev.Data.(events.Result)
		if r.Eligibility.Verdict != patient.Eligible || r.Eligibility.Source != patient.SourceLive {
			t.Fatalf("got %+v, want live eligible", r.Eligibility)
		}
		if r.Eligibility.Latency != 50*time.Millisecond {
			t.Errorf("latency = %v, want 50ms", r.Eligibility.Latency)
		}
		a.checks.Wait()
		if _, ok := s.byID[testID.CitizenID]; !ok {
			t.Error("live answer not cached")
		}
		if len(s.audits) != 1 || s.audits[0].Source != patient.SourceLive || s.audits[0].Staff.CitizenID != "079190000001" {
			t.Errorf("audit = %+v", s.audits)
		}
		if c.last.Staff.Name != "Trần Thị Bình" {
			t.Errorf("staff not sent to the gateway: %+v", c.last.Staff)
		}
		if got, ok := a.Receipt(r.CheckID); !ok || got.Eligibility.Code != "000" {
			t.Errorf("Receipt(%s) = %v, %v", r.CheckID, got, ok)
		}
	})
}

func TestHedgeShowsCacheThenUpdates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &fakeChecker{delay: 2 * time.Second, e: patient.Eligibility{Verdict: patient.NotEligible, Code: "010"}}
		s := newMemStore()
		checked := time.Now().Add(-48 * time.Hour)
		s.byID[testID.CitizenID] = patient.Eligibility{Verdict: patient.Eligible, Code: "000", CheckedAt: checked}
		a, sub := newTestAgent(t, c, s, nil)
		start := time.Now()
		a.Present(drivers.Presentation{Medium: patient.MediumQRCCCD, Payload: []byte("good")})

		first := next(t, sub, events.EligibilityResult).Data.(events.Result)
		if waited := time.Since(start); waited != 300*time.Millisecond {
			t.Errorf("cached answer after %v, want the 300ms hedge", waited)
		}
		if first.Eligibility.Source != patient.SourceCache || first.Eligibility.Age != 48*time.Hour+300*time.Millisecond {
			t.Errorf("first = %+v, want cache aged 48h0.3s", first.Eligibility)
		}
		upd := next(t, sub, events.EligibilityUpdated).Data.(events.Result)
		if upd.CheckID != first.CheckID || upd.Eligibility.Code != "010" || upd.Eligibility.Source != patient.SourceLive {
			t.Errorf("update = %+v", upd)
		}
	})
}

func TestOfflineWithoutCache(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &fakeChecker{delay: 10 * time.Millisecond, err: fmt.Errorf("dial: %w", ErrUnavailable)}
		q := &memQueue{}
		a, sub := newTestAgent(t, c, newMemStore(), q)
		a.Present(drivers.Presentation{Medium: patient.MediumQRCCCD, Payload: []byte("good")})
		r := next(t, sub, events.EligibilityResult).Data.(events.Result)
		if r.Eligibility.Verdict != patient.Unavailable || r.Eligibility.Source != patient.SourceNone {
			t.Errorf("got %+v, want unavailable", r.Eligibility)
		}
		a.checks.Wait()
		if len(q.ids) != 1 || q.ids[0] != r.CheckID {
			t.Errorf("outbox = %v, want the check queued", q.ids)
		}
	})
}

// TestAccountRefusedWithoutCache: with the facility's account refused,
// staff are told to call IT, not that the gateway is unreachable; the check
// is still queued.
func TestAccountRefusedWithoutCache(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &fakeChecker{delay: time.Millisecond, err: fmt.Errorf("gateway login: code 402: %w %w", ErrUnavailable, ErrAccountRefused)}
		q := &memQueue{}
		a, sub := newTestAgent(t, c, newMemStore(), q)
		a.Present(drivers.Presentation{Medium: patient.MediumQRCCCD, Payload: []byte("good")})
		r := next(t, sub, events.EligibilityResult).Data.(events.Result)
		e := r.Eligibility
		if e.Verdict != patient.Unavailable || !strings.Contains(e.ReasonVI, "gọi IT") || !strings.Contains(e.ReasonEN, "call IT") {
			t.Errorf("got %+v, want unavailable telling staff to call IT", e)
		}
		if !strings.Contains(e.NextVI, "Gọi IT") || !strings.Contains(e.NextEN, "Call IT") {
			t.Errorf("next step %q / %q, want it to send staff to IT", e.NextVI, e.NextEN)
		}
		a.checks.Wait()
		if len(q.ids) != 1 {
			t.Errorf("outbox = %v, want the check queued", q.ids)
		}
	})
}

func TestOfflineWithFastFailureUsesCache(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &fakeChecker{delay: time.Millisecond, err: ErrUnavailable}
		s := newMemStore()
		s.byID[testID.CitizenID] = patient.Eligibility{Verdict: patient.Eligible, Code: "000", CheckedAt: time.Now().Add(-time.Hour)}
		a, sub := newTestAgent(t, c, s, &memQueue{})
		a.Present(drivers.Presentation{Medium: patient.MediumQRCCCD, Payload: []byte("good")})
		r := next(t, sub, events.EligibilityResult).Data.(events.Result)
		if r.Eligibility.Source != patient.SourceCache || r.Eligibility.Verdict != patient.Eligible {
			t.Errorf("got %+v, want the cached verdict", r.Eligibility)
		}
		if e := r.Eligibility; !strings.Contains(e.NextVI, "kết quả lưu") || !strings.Contains(e.NextEN, "cached answer") {
			t.Errorf("next step %q / %q, want the cached answer's next step", e.NextVI, e.NextEN)
		}
	})
}

func TestBadPayload(t *testing.T) {
	a, sub := newTestAgent(t, &fakeChecker{}, newMemStore(), nil)
	a.Present(drivers.Presentation{Medium: patient.MediumQRCCCD, Payload: []byte("https://example.com")})
	f := next(t, sub, events.ReadFailed).Data.(events.Failure)
	if f.Reason == "" || f.CheckID == "" {
		t.Errorf("failure = %+v", f)
	}
}

func TestCheckNeedsIdentifier(t *testing.T) {
	a, _ := newTestAgent(t, &fakeChecker{}, newMemStore(), nil)
	if _, err := a.Check(context.Background(), patient.Identity{Name: "An"}); err == nil {
		t.Error("a check with no card number or ID must be refused")
	}
}

// TestCheckSaysWhoAsked: a check a HIS app asked for is presented as the
// HIS's, with the app's name, so the window does not call it typed.
func TestCheckSaysWhoAsked(t *testing.T) {
	a, _ := newTestAgent(t, &fakeChecker{}, newMemStore(), nil)
	sub := a.d.Bus.Subscribe(events.CardPresented, 4)
	t.Cleanup(sub.Close)
	id := patient.Identity{Medium: patient.MediumTyped, CardNumber: "DN4010123456789"}
	if _, err := a.Check(events.WithHISApp(context.Background(), "HIS Đống Đa"), id); err != nil {
		t.Fatal(err)
	}
	if p := next(t, sub, events.CardPresented).Data.(events.Presented); !p.HIS || p.App != "HIS Đống Đa" {
		t.Errorf("a HIS app's check presented as %+v", p)
	}
	if _, err := a.Check(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if p := next(t, sub, events.CardPresented).Data.(events.Presented); p.HIS || p.App != "" {
		t.Errorf("a check typed at the desk presented as %+v", p)
	}
}

func TestReceiptsBounded(t *testing.T) {
	a, _ := newTestAgent(t, &fakeChecker{}, newMemStore(), nil)
	for i := range maxReceipts + 10 {
		a.remember(events.Result{CheckID: fmt.Sprint(i)}, true)
	}
	if _, ok := a.Receipt("0"); ok {
		t.Error("oldest receipt should have been forgotten")
	}
	if _, ok := a.Receipt(fmt.Sprint(maxReceipts + 9)); !ok {
		t.Error("newest receipt missing")
	}
	if len(a.receipts) != maxReceipts {
		t.Errorf("len = %d", len(a.receipts))
	}
}

// TestOldCheckUpdateKeepsCurrent: the outbox's re-check of an earlier
// patient updates that check's receipt, not the patient at the desk now.
func TestOldCheckUpdateKeepsCurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &fakeChecker{delay: time.Millisecond, e: patient.Eligibility{Verdict: patient.Eligible, Code: "000"}}
		a, sub := newTestAgent(t, c, newMemStore(), nil)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- a.Run(ctx) }()
		a.Present(drivers.Presentation{Medium: patient.MediumQRCCCD, Payload: []byte("good"), CheckID: "early"})
		next(t, sub, events.EligibilityResult)
		a.Present(drivers.Presentation{Medium: patient.MediumQRCCCD, Payload: []byte("good"), CheckID: "now"})
		next(t, sub, events.EligibilityResult)
		// The outbox re-checks the early patient's check after an outage.
		c.mu.Lock()
		c.e = patient.Eligibility{Verdict: patient.NotEligible, Code: "070"}
		c.mu.Unlock()
		if err := a.Recheck(ctx, "early", testID, patient.Staff{}); err != nil {
			t.Fatal(err)
		}
		if r := next(t, sub, events.EligibilityUpdated).Data.(events.Result); r.CheckID != "early" || r.Current {
			t.Errorf("update for check %q current %v, want early, not current (a late answer)", r.CheckID, r.Current)
		}
		if r, ok := a.Receipt("early"); !ok || r.Eligibility.Code != "070" {
			t.Errorf("the early check's receipt: %v %+v, want the update", ok, r.Eligibility)
		}
		if cur, _ := a.Current(); cur.CheckID != "now" {
			t.Errorf("Current is check %q, want the patient at the desk (now)", cur.CheckID)
		}
		// An update to the current check does replace it.
		c.mu.Lock()
		c.e = patient.Eligibility{Verdict: patient.Eligible, Code: "001"}
		c.mu.Unlock()
		if err := a.Recheck(ctx, "now", testID, patient.Staff{}); err != nil {
			t.Fatal(err)
		}
		if cur, _ := a.Current(); cur.CheckID != "now" || cur.Eligibility.Code != "001" {
			t.Errorf("Current after its own update: %s %s", cur.CheckID, cur.Eligibility.Code)
		}
		if r := next(t, sub, events.EligibilityUpdated).Data.(events.Result); !r.Current {
			t.Error("the update for the check on screen is not current")
		}
		// Staff cleared the screen (Esc): nothing is current any more.
		a.ShowCheck("")
		if err := a.Recheck(ctx, "now", testID, patient.Staff{}); err != nil {
			t.Fatal(err)
		}
		if r := next(t, sub, events.EligibilityUpdated).Data.(events.Result); r.Current {
			t.Error("an update after the screen was cleared is current")
		}
		// Staff opened the early check again: its answers are current.
		a.ShowCheck("early")
		if err := a.Recheck(ctx, "early", testID, patient.Staff{}); err != nil {
			t.Fatal(err)
		}
		if r := next(t, sub, events.EligibilityUpdated).Data.(events.Result); r.CheckID != "early" || !r.Current {
			t.Errorf("update for the reopened check: %q current %v", r.CheckID, r.Current)
		}
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

func TestLaterIdentityRefreshesReceipt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &fakeChecker{delay: time.Millisecond, e: patient.Eligibility{Verdict: patient.Eligible, Code: "000"}}
		a, sub := newTestAgent(t, c, newMemStore(), nil)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- a.Run(ctx) }()
		early := testID
		early.Medium = patient.MediumChip
		a.Present(drivers.Presentation{Medium: patient.MediumChip, Identity: &early, CheckID: "chip-1"})
		next(t, sub, events.EligibilityResult)
		full := early
		full.Chip = &patient.ChipData{Photo: []byte{0xff, 0xd8}, PhotoType: "image/jpeg"}
		a.Present(drivers.Presentation{Medium: patient.MediumChip, Identity: &full, CheckID: "chip-1", Refines: true})
		if ev := next(t, sub, events.IdentityRead); ev.Data.(events.Identity).Identity.Chip == nil {
			t.Error("the fuller identity was not published")
		}
		r, ok := a.Receipt("chip-1")
		if !ok || r.Identity.Chip == nil || len(r.Identity.Chip.Photo) != 2 {
			t.Errorf("receipt identity not refreshed: %+v", r.Identity.Chip)
		}
		if cur, _ := a.Current(); cur.Identity.Chip == nil {
			t.Error("current result not refreshed")
		}
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

func TestCachedEligibleExpires(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		validTo patient.Date
		want    patient.Verdict
	}{
		{"valid for years", patient.Date{Year: 2027, Month: 12, Day: 31}, patient.Eligible},
		{"last day is today", patient.Date{Year: 2026, Month: 11, Day: 23}, patient.Eligible},
		{"ended yesterday", patient.Date{Year: 2026, Month: 11, Day: 22}, patient.CheckDocuments},
		{"no end date (open-ended card)", patient.Date{}, patient.Eligible},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := expireCached(patient.Eligibility{Verdict: patient.Eligible, Code: "000", ValidTo: tc.validTo}, now)
			if got.Verdict != tc.want {
				t.Errorf("verdict %s, want %s", got.Verdict, tc.want)
			}
			if tc.want == patient.CheckDocuments && (got.Code != "000" || got.ReasonVI == "") {
				t.Errorf("expired answer lost its code or reason: %+v", got)
			}
		})
	}
	// Other verdicts are never changed.
	if got := expireCached(patient.Eligibility{Verdict: patient.NotEligible, ValidTo: patient.Date{Year: 2020, Month: 1, Day: 1}}, now); got.Verdict != patient.NotEligible {
		t.Errorf("not-eligible changed to %s", got.Verdict)
	}
}

type viError struct{}

func (viError) Error() string      { return "scan is cut short" }
func (viError) Vietnamese() string { return "Mã quét bị thiếu" }

func TestFailureReasonVietnameseFirst(t *testing.T) {
	if got := failureReason(fmt.Errorf("reading: %w", viError{})); got != "Mã quét bị thiếu (reading: scan is cut short)" {
		t.Errorf("got %q", got)
	}
	if got := failureReason(errors.New("plain")); got != "plain" {
		t.Errorf("got %q", got)
	}
}

// TestNoStaffNoGatewayCall: before anyone signs in for the shift a check is
// refused with a plain instruction and the gateway is not asked; after the
// sign-in the same patient is checked.
func TestNoStaffNoGatewayCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := &fakeChecker{delay: time.Millisecond, e: patient.Eligibility{Verdict: patient.Eligible, Code: "000"}}
		a, sub := newTestAgent(t, c, newMemStore(), &memQueue{})
		a.SetStaff(patient.Staff{})
		if _, err := a.Check(t.Context(), testID); err != nil {
			t.Fatal(err)
		}
		e := next(t, sub, events.EligibilityResult).Data.(events.Result).Eligibility
		if e.Verdict != patient.StaffProblem || !strings.Contains(e.NextVI, "Đăng nhập ca") || !strings.Contains(e.NextEN, "Sign in") {
			t.Errorf("check before sign-in: %s %q / %q, want staff-problem saying to sign in", e.Verdict, e.NextVI, e.NextEN)
		}
		a.checks.Wait()
		if c.calls != 0 {
			t.Errorf("the gateway was asked %d times before anyone signed in", c.calls)
		}
		a.SetStaff(patient.Staff{Name: "Trần Thị Bình", CitizenID: "079190000001"})
		if _, err := a.Check(t.Context(), testID); err != nil {
			t.Fatal(err)
		}
		if e := next(t, sub, events.EligibilityResult).Data.(events.Result).Eligibility; e.Verdict != patient.Eligible || c.calls != 1 {
			t.Errorf("after sign-in: %s after %d gateway calls", e.Verdict, c.calls)
		}
		a.checks.Wait()
	})
}
