// Package agent is tiepdon's core: it takes what patients present (from the
// Sources), turns it into an identity, asks the gateway for eligibility with
// the cache as a fallback, and publishes every step on the event bus.
//
// The agent knows no concrete device, gateway or window: those come in Deps
// and through the bus. cmd/tiepdon wires them together.
package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers"
	"golang.org/x/sync/errgroup"
)

// Deps is what an Agent works with.
type Deps struct {
	Bus      *events.Bus      // required
	Identify Identifier       // required if any source yields payloads
	Checker  Checker          // required: the live gateway
	Store    Store            // required: cache and audit log
	Queue    Queue            // optional: re-checks while offline
	Sources  []drivers.Source // devices; more can be fed with Present
	Staff    patient.Staff    // initial shift sign-in

	// Hedge is how long to wait for the live answer before showing a
	// cached one (default 300 ms). Timeout bounds one live check (default 10 s).
	Hedge, Timeout time.Duration
	Logger         *slog.Logger
	Now            func() time.Time
}

// Agent runs the reception pipeline. Its methods are safe for concurrent use.
type Agent struct {
	d   Deps
	log *slog.Logger

	mu       sync.Mutex
	staff    patient.Staff
	current  *events.Result
	receipts map[string]events.Result
	order    []string // receipt IDs, oldest first
	checks   sync.WaitGroup
	ctx      context.Context // set by Run: checks end with it
}

// maxReceipts bounds how many past results Receipt remembers.
const maxReceipts = 256

// New returns an agent over d.
func New(d Deps) (*Agent, error) {
	if d.Bus == nil || d.Checker == nil || d.Store == nil {
		return nil, errors.New("agent: Bus, Checker and Store are required")
	}
	if d.Hedge <= 0 {
		d.Hedge = 300 * time.Millisecond
	}
	if d.Timeout <= 0 {
		d.Timeout = 10 * time.Second
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Agent{d: d, log: d.Logger, staff: d.Staff, receipts: make(map[string]events.Result), ctx: context.Background()}, nil
}

// Run runs every source until ctx ends, then waits for checks in flight.
func (a *Agent) Run(ctx context.Context) error {
	a.mu.Lock()
	a.ctx = ctx
	a.mu.Unlock()
	g, gctx := errgroup.WithContext(ctx)
	// Updates published by others (the outbox's re-checks) are remembered
	// too, so that Receipt, and Current if it is the same check, show the
	// newest answer. An update to an earlier patient's check never becomes
	// Current: that is the patient at the desk now.
	// A chip source sends the full identity (with the photo) after the
	// verdict: it replaces the early one in the remembered result.
	sub := a.d.Bus.Subscribe(events.EligibilityUpdated|events.IdentityRead, 64)
	g.Go(func() error {
		defer sub.Close()
		for {
			select {
			case <-gctx.Done():
				return nil
			case ev := <-sub.C():
				switch d := ev.Data.(type) {
				case events.Result:
					a.remember(d, false)
				case events.Identity:
					a.refreshIdentity(d)
				}
			}
		}
	})
	for _, s := range a.d.Sources {
		g.Go(func() error { return s.Run(gctx, a.Present) })
	}
	err := g.Wait()
	a.checks.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// Present handles one presentation: identify, publish, check. It returns at
// once; the check runs in the background and reports on the bus.
func (a *Agent) Present(p drivers.Presentation) {
	checkID := p.CheckID
	if checkID == "" {
		checkID = newCheckID()
	}
	a.d.Bus.Publish(events.CardPresented, events.Presented{CheckID: checkID, Medium: p.Medium, Device: p.Device})
	var id patient.Identity
	switch {
	case p.Identity != nil:
		id = *p.Identity
	case a.d.Identify == nil:
		a.fail(checkID, p, errors.New("no payload reader configured"))
		return
	default:
		var err error
		if id, err = a.d.Identify(p); err != nil {
			a.fail(checkID, p, err)
			return
		}
	}
	a.start(checkID, id)
}

func (a *Agent) fail(checkID string, p drivers.Presentation, err error) {
	a.log.Warn("presentation not read", "check", checkID, "medium", p.Medium, "device", p.Device, "err", err)
	a.d.Bus.Publish(events.ReadFailed, events.Failure{CheckID: checkID, Medium: p.Medium, Device: p.Device, Reason: failureReason(err)})
}

// failureReason is the text staff see for an unreadable presentation:
// Vietnamese first when the error has it (as the chip reader's reasons do),
// then the English.
func failureReason(err error) string {
	var vi interface{ Vietnamese() string }
	if errors.As(err, &vi) {
		if v := vi.Vietnamese(); v != "" {
			return v + " (" + err.Error() + ")"
		}
	}
	return err.Error()
}

// Check starts an eligibility check for id (typed at the counter, sent by
// the HIS, or a re-check) and returns its check ID; results come on the bus.
func (a *Agent) Check(ctx context.Context, id patient.Identity) (string, error) {
	if patient.QueryOf(id).Empty() {
		return "", errors.New("need a card number, social-insurance number or citizen ID")
	}
	checkID := newCheckID()
	a.d.Bus.Publish(events.CardPresented, events.Presented{CheckID: checkID, Medium: id.Medium})
	a.start(checkID, id)
	return checkID, nil
}

func (a *Agent) start(checkID string, id patient.Identity) {
	a.mu.Lock()
	ctx := a.ctx
	a.mu.Unlock()
	a.d.Bus.Publish(events.IdentityRead, events.Identity{CheckID: checkID, Identity: id})
	a.checks.Add(1)
	go func() {
		defer a.checks.Done()
		a.check(ctx, checkID, id)
	}()
}

type liveAnswer struct {
	e   patient.Eligibility
	err error
}

// check asks the gateway, hedging with the cache: if the live answer is
// slower than the hedge budget and a cached one exists, the cached one is
// published at once and the live one follows as EligibilityUpdated.
func (a *Agent) check(ctx context.Context, checkID string, id patient.Identity) {
	q := patient.QueryOf(id)
	q.Staff = a.Staff()
	start := a.d.Now()
	live := make(chan liveAnswer, 1)
	go func() {
		cctx, cancel := context.WithTimeout(ctx, a.d.Timeout)
		defer cancel()
		e, err := a.d.Checker.Check(cctx, q)
		live <- liveAnswer{e, err}
	}()

	hedge := time.NewTimer(a.d.Hedge)
	defer hedge.Stop()
	shown := false // a cached answer is on screen
	for {
		select {
		case ans := <-live:
			a.finish(ctx, checkID, id, q, ans, shown, a.d.Now().Sub(start))
			return
		case <-hedge.C:
			if c, ok := a.lookup(ctx, q); ok {
				a.publish(events.EligibilityResult, checkID, id, c)
				a.audit(ctx, checkID, id, q, c, a.d.Now().Sub(start))
				shown = true
			}
		}
	}
}

func (a *Agent) finish(ctx context.Context, checkID string, id patient.Identity, q patient.Query, ans liveAnswer, shown bool, took time.Duration) {
	if ans.err == nil {
		e := ans.e
		e.Source = patient.SourceLive
		if e.Latency == 0 {
			e.Latency = took
		}
		if e.CheckedAt.IsZero() {
			e.CheckedAt = a.d.Now()
		}
		kind := events.EligibilityResult
		if shown {
			kind = events.EligibilityUpdated
		}
		a.publish(kind, checkID, id, e) // first: the SQLite commit is off the verdict's path
		if err := a.d.Store.Save(ctx, q, e); err != nil {
			a.log.Error("caching answer", "check", checkID, "err", err)
		}
		a.audit(ctx, checkID, id, q, e, took)
		return
	}
	a.log.Warn("gateway check failed", "check", checkID, "err", ans.err)
	if a.d.Queue != nil {
		if err := a.d.Queue.Enqueue(ctx, checkID, id); err != nil {
			a.log.Error("queueing re-check", "check", checkID, "err", err)
		}
	}
	if shown {
		return // the cached answer stays; the outbox will update it
	}
	e, ok := a.lookup(ctx, q)
	if !ok {
		e = patient.Eligibility{
			Verdict:   patient.Unavailable,
			ReasonVI:  "Không kết nối được cổng BHXH và chưa có kết quả lưu; sẽ tự kiểm tra lại khi cổng hoạt động.",
			ReasonEN:  "The BHXH gateway is unreachable and nothing is cached; tiepdon will re-check when it is back.",
			Source:    patient.SourceNone,
			CheckedAt: a.d.Now(),
		}
	}
	a.publish(events.EligibilityResult, checkID, id, e)
	a.audit(ctx, checkID, id, q, e, took)
}

func (a *Agent) lookup(ctx context.Context, q patient.Query) (patient.Eligibility, bool) {
	e, ok, err := a.d.Store.Lookup(ctx, q)
	if err != nil {
		a.log.Error("reading cache", "err", err)
		return e, false
	}
	if ok {
		e.Source = patient.SourceCache
		e.Age = a.d.Now().Sub(e.CheckedAt)
		e = expireCached(e, a.d.Now())
	}
	return e, ok
}

// expireCached turns a cached "eligible" whose card validity has ended since
// it was given into "check documents": the cache must not vouch for a card
// the gateway would now refuse.
func expireCached(e patient.Eligibility, now time.Time) patient.Eligibility {
	if e.Verdict != patient.Eligible || !e.ValidTo.Full() {
		return e
	}
	end := e.ValidTo.Time().AddDate(0, 0, 1) // valid through the whole last day
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if today.Before(end) {
		return e
	}
	e.Verdict = patient.CheckDocuments
	e.ReasonVI = fmt.Sprintf("Kết quả lưu: thẻ hết hạn ngày %s; cổng BHXH chưa trả lời, đề nghị kiểm tra thẻ.", e.ValidTo)
	e.ReasonEN = fmt.Sprintf("Cached answer: the card expired on %s and the gateway has not answered; check the card.", e.ValidTo)
	return e
}

func (a *Agent) publish(kind events.Kind, checkID string, id patient.Identity, e patient.Eligibility) {
	r := events.Result{CheckID: checkID, Identity: id, Eligibility: e}
	a.remember(r, kind == events.EligibilityResult)
	a.d.Bus.Publish(kind, r)
}

func (a *Agent) audit(ctx context.Context, checkID string, id patient.Identity, q patient.Query, e patient.Eligibility, took time.Duration) {
	err := a.d.Store.Record(ctx, Audit{
		Time: a.d.Now(), CheckID: checkID, Staff: q.Staff, Medium: id.Medium, Source: e.Source,
		Code: e.Code, Verdict: e.Verdict, Latency: took, CitizenID: id.CitizenID, Card: q.CardNumber,
	})
	if err != nil {
		a.log.Error("writing audit log", "check", checkID, "err", err)
	}
}

// remember keeps r as its check's receipt. A new check's first result
// (current) becomes Current; a later one replaces Current only if Current
// is the same check.
func (a *Agent) remember(r events.Result, current bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if current || (a.current != nil && a.current.CheckID == r.CheckID) {
		a.current = &r
	}
	if _, ok := a.receipts[r.CheckID]; !ok {
		a.order = append(a.order, r.CheckID)
		if len(a.order) > maxReceipts {
			delete(a.receipts, a.order[0])
			a.order = a.order[1:]
		}
	}
	a.receipts[r.CheckID] = r
}

// refreshIdentity puts a later, fuller identity into the result of its check.
func (a *Agent) refreshIdentity(d events.Identity) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r, ok := a.receipts[d.CheckID]
	if !ok {
		return
	}
	r.Identity = d.Identity
	a.receipts[d.CheckID] = r
	if a.current != nil && a.current.CheckID == d.CheckID {
		a.current = &r
	}
}

// Current returns the latest result shown at the counter.
func (a *Agent) Current() (events.Result, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.current == nil {
		return events.Result{}, false
	}
	return *a.current, true
}

// Receipt returns a recent result by check ID.
func (a *Agent) Receipt(checkID string) (events.Result, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r, ok := a.receipts[checkID]
	return r, ok
}

// Staff returns the staff member signed in for the shift.
func (a *Agent) Staff() patient.Staff {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.staff
}

// SetStaff signs a staff member in for the shift.
func (a *Agent) SetStaff(s patient.Staff) {
	a.mu.Lock()
	a.staff = s
	a.mu.Unlock()
	a.log.Info("staff signed in", "staff", s.CitizenID)
}

func newCheckID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("agent: reading random bytes: %v", err))
	}
	return hex.EncodeToString(b[:])
}
