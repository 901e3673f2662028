// Package agent is tiepdon's core and the only owner of a check: sources
// report what patients present through drivers.Reporter (which the Agent
// implements), the agent turns it into an identity, asks the gateway for
// eligibility with the cache as a fallback, and finishes every answer in
// one place (seal, publish, save, audit). It is the only publisher of
// checks and device states on the event bus; the outbox asks it to
// Recheck rather than finishing checks itself.
//
// The agent knows no concrete device, gateway or window: those come in Deps.
// cmd/tiepdon wires them together.
package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/agent/words"
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
	Journal  Journal          // optional: accepted scans on disk until their check is finished
	Sources  []drivers.Source // devices; more can be fed with Present
	Staff    patient.Staff    // initial shift sign-in

	// CrossCheck, if set, compares a chip's identity with the CCCD QR of
	// the same card scanned just before it and returns an alert code and
	// message (no personal data) when they disagree (drivers/cccd).
	CrossCheck func(qr, chip patient.Identity) (code, message string, disagree bool)
	// Seal, if set, is called for every answer just before it is
	// published, and may add to its Result (a signed receipt).
	Seal func(ctx context.Context, f Finishing)
	// AskCAN makes the agent ask staff for the CAN (through the window)
	// when a chip is tapped without its QR; ProvideCAN answers.
	AskCAN bool
	// QRWindow is how long a CCCD QR scan opens its chip (default 2 min);
	// WaitForQR is how long a chip tapped first waits for its QR (default
	// 1 min; negative: no waiting).
	QRWindow, WaitForQR time.Duration

	// Hedge is how long to wait for the live answer before showing a
	// cached one (default 300 ms). Timeout bounds one live check (default 10 s).
	Hedge, Timeout time.Duration
	// RetryUnsaved is how often writes the disk refused are tried again
	// (default 2 s).
	RetryUnsaved time.Duration
	Logger       *slog.Logger
	Now          func() time.Time
}

// Agent runs the reception pipeline. Its methods are safe for concurrent use.
type Agent struct {
	d   Deps
	log *slog.Logger

	checker atomic.Pointer[checkerBox] // swappable: SetChecker
	recent  recentQR                   // QR then tap
	can     chan string                // CANs typed by staff (ProvideCAN)
	un      unsaved                    // writes the disk refused, retried

	mu       sync.Mutex
	staff    patient.Staff
	current  *events.Result
	onScreen string          // the check the reception screen shows ("" when cleared)
	quiet    map[string]bool // background checks (CheckQuietly)
	receipts map[string]events.Result
	order    []string                 // receipt IDs, oldest first
	devices  map[string]events.Device // by kind and name
	alerted  map[string]bool          // check and alert code, published once
	checks   sync.WaitGroup
	ctx      context.Context // set by Run: checks end with it
}

// checkerBox lets an interface value live in an atomic.Pointer.
type checkerBox struct{ c Checker }

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
	if d.QRWindow <= 0 {
		d.QRWindow = 2 * time.Minute
	}
	if d.WaitForQR == 0 {
		d.WaitForQR = time.Minute
	}
	if d.RetryUnsaved <= 0 {
		d.RetryUnsaved = 2 * time.Second
	}
	a := &Agent{d: d, log: d.Logger, staff: d.Staff, receipts: make(map[string]events.Result),
		devices: map[string]events.Device{}, ctx: context.Background(),
		can: make(chan string, 1)}
	a.checker.Store(&checkerBox{d.Checker})
	a.recent.now = d.Now
	return a, nil
}

// SetChecker replaces the gateway client (IT changed the gateway settings):
// checks started from now on use c; checks in flight finish with the old one.
func (a *Agent) SetChecker(c Checker) {
	if c != nil {
		a.checker.Store(&checkerBox{c})
	}
}

func (a *Agent) gateway() Checker { return a.checker.Load().c }

// Run runs every source until ctx ends, then waits for checks in flight.
func (a *Agent) Run(ctx context.Context) error {
	a.mu.Lock()
	a.ctx = ctx
	a.mu.Unlock()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { <-gctx.Done(); return nil }) // run until ctx ends, sources or not
	g.Go(func() error { a.runUnsaved(gctx); return nil })
	for _, s := range a.d.Sources {
		g.Go(func() error { return s.Run(gctx, a) })
	}
	err := g.Wait()
	a.checks.Wait()
	a.flushUnsaved(context.WithoutCancel(ctx))
	if n, _ := a.Storage(); n > 0 {
		a.log.Error("tiepdon stopped with checks the disk did not take; they are lost unless they were journaled before; free disk space in the data folder", "unsaved", n)
	}
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// Present implements drivers.Reporter: it handles one presentation
// (identify, publish, check). It returns at once; the check runs in the
// background and reports on the bus.
func (a *Agent) Present(p drivers.Presentation) {
	if p.Refines {
		a.refine(p)
		return
	}
	checkID := p.CheckID // from Begin
	if checkID == "" {
		checkID = newCheckID()
	}
	var id patient.Identity
	var err error
	switch {
	case p.Identity != nil:
		id = *p.Identity
	case a.d.Identify == nil:
		err = errors.New("no payload reader configured")
	default:
		id, err = a.d.Identify(p)
	}
	medium := p.Medium
	if err == nil && id.Medium != "" && (medium == "" || medium == patient.MediumQR) {
		medium = id.Medium // the payload reader tells a CCCD QR from a BHYT one
	} else if m := (interface{ Medium() patient.Medium })(nil); errors.As(err, &m) && medium == patient.MediumQR {
		medium = m.Medium()
	}
	a.present(events.Presented{CheckID: checkID, Medium: medium, Device: p.Device})
	if err != nil {
		a.log.Warn("A scan or card could not be read; staff are asked to scan or tap again", "check", checkID, "medium", medium, "device", p.Device, "err", err)
		a.failed(checkID, medium, p.Device, failureCode(err), err)
		return
	}
	if id.Medium == patient.MediumChip {
		a.crossCheck(checkID, id)
		a.chipAlert(checkID, id)
	}
	a.start(checkID, id)
}

// present publishes a new presentation, which the reception screen turns
// to at once: from now on it is the check on screen.
func (a *Agent) present(p events.Presented) {
	a.mu.Lock()
	a.onScreen = p.CheckID
	a.mu.Unlock()
	a.d.Bus.Publish(events.CardPresented, p)
}

// ShowCheck records which check the reception screen shows: "" when staff
// cleared it (Esc), or an earlier check staff opened again. Answers for
// any other check are published with Current false (late answers).
func (a *Agent) ShowCheck(checkID string) {
	a.mu.Lock()
	a.onScreen = checkID
	a.mu.Unlock()
}

// Begin implements drivers.Reporter: it makes the check ID a source
// reports a chip read under before the identity is ready. Check IDs are
// made here and in Present and Check only.
func (a *Agent) Begin(medium patient.Medium, device string) string { return newCheckID() }

// Progress implements drivers.Reporter.
func (a *Agent) Progress(checkID, step string, percent int) {
	a.d.Bus.Publish(events.CardProgress, events.Progress{CheckID: checkID, Step: step, Percent: percent})
}

// Failed implements drivers.Reporter.
func (a *Agent) Failed(f drivers.Failure) {
	a.failed(f.CheckID, f.Medium, f.Device, f.Code, errors.New(f.Detail))
}

func (a *Agent) failed(checkID string, medium patient.Medium, device, code string, err error) {
	a.d.Bus.Publish(events.ReadFailed, events.Failure{CheckID: checkID, Medium: medium, Device: device,
		Code: code, Reason: failureReason(err)})
}

// errNoIdentifier refuses a check with nothing to look the card up by.
var errNoIdentifier = words.Error("need a card number, social-insurance number or citizen ID",
	"cần số thẻ BHYT, mã số BHXH hoặc số CCCD")

// failureCode is the code of an unreadable presentation (drivers.Failure*),
// from the error when it carries one.
func failureCode(err error) string {
	var c interface{ FailureCode() string }
	if errors.As(err, &c) {
		return c.FailureCode()
	}
	return drivers.FailureScanUnread
}

// failureReason is the text staff see for an unreadable presentation:
// Vietnamese first when the error has it (as the payload reader's reasons
// do), then the English.
func failureReason(err error) string {
	var vi interface{ Vietnamese() string }
	if errors.As(err, &vi) {
		if v := vi.Vietnamese(); v != "" {
			return v + " (" + err.Error() + ")"
		}
	}
	return err.Error()
}

// Device implements drivers.Reporter: the agent keeps every device's state
// (Devices) and publishes changes.
func (a *Agent) Device(d drivers.Device) {
	ev := events.Device{Kind: events.DeviceKind(d.Kind), Name: d.Name, State: events.DeviceState(d.State), Detail: d.Detail}
	key := string(ev.Kind) + "\x00" + ev.Name
	a.mu.Lock()
	defer a.mu.Unlock() // the bus never blocks: events keep the table's order
	if old, ok := a.devices[key]; ok && old == ev {
		return
	}
	a.devices[key] = ev
	a.d.Bus.Publish(events.DeviceChanged, ev)
}

// Devices returns the state of every device seen so far, by kind and name.
func (a *Agent) Devices() []events.Device {
	a.mu.Lock()
	out := make([]events.Device, 0, len(a.devices))
	for _, d := range a.devices {
		out = append(out, d)
	}
	a.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// Check starts an eligibility check for id (typed at the counter, sent by
// the HIS) and returns its check ID; results come on the bus.
func (a *Agent) Check(ctx context.Context, id patient.Identity) (string, error) {
	if patient.QueryOf(id).Empty() {
		return "", errNoIdentifier
	}
	checkID := newCheckID()
	app, his := events.HISAppOf(ctx)
	a.present(events.Presented{CheckID: checkID, Medium: id.Medium, HIS: his, App: app})
	a.start(checkID, id)
	return checkID, nil
}

// CheckQuietly starts a background check for id (a HIS back-end's, with
// announce: false): it is not presented at the desk, never becomes the
// check on screen, and its answers are marked Background.
func (a *Agent) CheckQuietly(ctx context.Context, id patient.Identity) (string, error) {
	if patient.QueryOf(id).Empty() {
		return "", errNoIdentifier
	}
	checkID := newCheckID()
	a.mu.Lock()
	if a.quiet == nil || len(a.quiet) >= maxReceipts*4 {
		a.quiet = map[string]bool{} // forget old ones; their answers are long gone
	}
	a.quiet[checkID] = true
	a.mu.Unlock()
	a.start(checkID, id)
	return checkID, nil
}

// Recheck asks the gateway again about a check queued while it was
// unavailable, on behalf of staff (who queued it), and finishes the check
// with the answer (eligibility.updated). The error is the gateway's (wraps
// ErrUnavailable when trying later may help); the outbox keeps the check
// queued while it is not nil.
func (a *Agent) Recheck(ctx context.Context, checkID string, id patient.Identity, staff patient.Staff) error {
	q := patient.QueryOf(id)
	if q.Empty() {
		return errNoIdentifier
	}
	q.Staff = staff
	if q.Staff.CitizenID == "" {
		q.Staff = a.Staff()
	}
	start := a.d.Now()
	e, err := a.gateway().Check(ctx, q)
	if err != nil {
		return err
	}
	took := a.d.Now().Sub(start)
	a.finish(ctx, answer{kind: events.EligibilityUpdated, checkID: checkID, id: id, q: q, e: a.live(e, took), took: took,
		save: true, queued: true})
	return nil
}

// QueueChanged reports how many checks wait for the gateway (the outbox).
func (a *Agent) QueueChanged(pending int) {
	a.un.mu.Lock()
	a.un.queue = pending
	a.un.mu.Unlock()
	a.publishQueue()
}

func (a *Agent) start(checkID string, id patient.Identity) {
	a.mu.Lock()
	ctx := a.ctx
	a.mu.Unlock()
	if id.Medium == patient.MediumQRCCCD {
		a.recent.remember(id, a.d.Now())
	}
	if j := a.d.Journal; j != nil {
		a.persist(ctx, "journal/"+checkID, func(ctx context.Context) error { return j.Accept(ctx, checkID, id) })
	}
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
	if q.Staff.CitizenID == "" {
		// The gateway answers every check without a registered staff member
		// with an error that reads like an IT fault: refuse it here, plainly.
		// The patient stays on screen, so F5 after signing in checks again.
		a.finish(ctx, answer{kind: events.EligibilityResult, checkID: checkID, id: id, q: q, e: NoStaffAnswer(start)})
		a.finished(ctx, checkID)
		return
	}
	gw := a.gateway()
	live := make(chan liveAnswer, 1)
	go func() {
		cctx, cancel := context.WithTimeout(ctx, a.d.Timeout)
		defer cancel()
		e, err := gw.Check(cctx, q)
		live <- liveAnswer{e, err}
	}()

	hedge := time.NewTimer(a.d.Hedge)
	defer hedge.Stop()
	shown := false // a cached answer is on screen
	for {
		select {
		case ans := <-live:
			a.answered(ctx, checkID, id, q, ans, shown, a.d.Now().Sub(start))
			return
		case <-hedge.C:
			if c, ok := a.lookup(ctx, q); ok {
				a.finish(ctx, answer{kind: events.EligibilityResult, checkID: checkID, id: id, q: q, e: c, took: a.d.Now().Sub(start)})
				shown = true
			}
		}
	}
}

// live marks a gateway answer as live.
func (a *Agent) live(e patient.Eligibility, took time.Duration) patient.Eligibility {
	e.Source = patient.SourceLive
	if e.Latency == 0 {
		e.Latency = took
	}
	if e.CheckedAt.IsZero() {
		e.CheckedAt = a.d.Now()
	}
	return e
}

// answered handles the gateway's answer (or failure) for a check started
// at the counter.
func (a *Agent) answered(ctx context.Context, checkID string, id patient.Identity, q patient.Query, ans liveAnswer, shown bool, took time.Duration) {
	if ans.err == nil {
		kind := events.EligibilityResult
		if shown {
			kind = events.EligibilityUpdated
		}
		a.finish(ctx, answer{kind: kind, checkID: checkID, id: id, q: q, e: a.live(ans.e, took), took: took, save: true})
		a.finished(ctx, checkID)
		return
	}
	a.log.Warn("The gateway gave no answer for a check; the cached answer is shown and the check is re-checked later; nothing to do unless the gateway stays down", "check", checkID, "err", ans.err)
	if q := a.d.Queue; q != nil {
		a.unpersist("journal/" + checkID) // the queued check carries the scan
		a.persist(ctx, "queue/"+checkID, func(ctx context.Context) error { return q.Enqueue(ctx, checkID, id) })
	} else {
		defer a.finished(ctx, checkID)
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
			NextVI:    "Tiếp nhận tạm theo thẻ và giấy tờ tùy thân; tiepdon tự kiểm tra lại và báo ngay khi cổng trả lời.",
			NextEN:    "Admit provisionally on the card and ID; tiepdon re-checks by itself and tells you as soon as the gateway answers.",
			Source:    patient.SourceNone,
			CheckedAt: a.d.Now(),
		}
		if errors.Is(ans.err, ErrNotConfigured) {
			e.ReasonVI = "tiepdon chưa được cài tài khoản cổng BHXH: gọi IT để nhập tài khoản trong Cài đặt. Chưa có kết quả lưu; sẽ tự kiểm tra lại sau khi cài."
			e.ReasonEN = "tiepdon has no BHXH gateway account set up: call IT to enter it in Settings. Nothing is cached; tiepdon will re-check once it is set up."
			e.NextVI = "Gọi IT nhập tài khoản cổng BHXH trong Cài đặt; trong lúc chờ, tiếp nhận tạm theo thẻ và giấy tờ tùy thân."
			e.NextEN = "Call IT to enter the gateway account in Settings; meanwhile admit provisionally on the card and ID."
		}
		if errors.Is(ans.err, ErrAccountRefused) {
			e.ReasonVI = "Cổng BHXH từ chối tài khoản của cơ sở: gọi IT để sửa tài khoản hoặc mật khẩu. Chưa có kết quả lưu; sẽ tự kiểm tra lại sau khi sửa."
			e.ReasonEN = "The BHXH gateway refuses the facility's account: call IT to fix the account or password. Nothing is cached; tiepdon will re-check once it is fixed."
			e.NextVI = "Gọi IT sửa tài khoản hoặc mật khẩu cổng BHXH; trong lúc chờ, tiếp nhận tạm theo thẻ và giấy tờ tùy thân."
			e.NextEN = "Call IT to fix the gateway account or password; meanwhile admit provisionally on the card and ID."
		}
	}
	a.finish(ctx, answer{kind: events.EligibilityResult, checkID: checkID, id: id, q: q, e: e, took: took})
}

// NoStaffAnswer is the answer to a check made before anyone signed in for
// the shift: the gateway is not asked.
func NoStaffAnswer(now time.Time) patient.Eligibility {
	return patient.Eligibility{
		Verdict:   patient.StaffProblem,
		ReasonVI:  "Chưa có cán bộ đăng nhập ca: cổng BHXH cần họ tên và số CCCD của người tra cứu, nên chưa tra cứu.",
		ReasonEN:  "No staff member is signed in for the shift: the gateway needs the name and CCCD of whoever checks, so nothing was asked.",
		NextVI:    "Đăng nhập ca (Ctrl+U hoặc nút “Đăng nhập lại”), rồi bấm Kiểm tra lại (F5) cho người bệnh này.",
		NextEN:    "Sign in for the shift (Ctrl+U or “Sign in again”), then press Re-check (F5) for this patient.",
		Source:    patient.SourceNone,
		CheckedAt: now,
	}
}

// answer is one answer for a check on its way out.
type answer struct {
	kind    events.Kind // EligibilityResult or EligibilityUpdated
	checkID string
	id      patient.Identity
	q       patient.Query // with the staff who asked
	e       patient.Eligibility
	took    time.Duration
	save    bool // a live answer: cache it
	// queued: a re-check nobody waits for at the counter; it is cached and
	// audited before it is published, so what the HIS hears is on disk.
	queued bool
	result *events.Result // as published (with its receipt), set by finish
}

// Finishing is an answer on its way out of the agent, as Seal sees it.
type Finishing struct {
	Kind   events.Kind    // EligibilityResult or EligibilityUpdated
	Result *events.Result // what is published; Seal may add to it
	Staff  patient.Staff  // who asked the gateway (hoTenCb, cccdCb)
	// Asked and Answered bound the gateway's part of the check (the cache
	// lookup, for a cached answer).
	Asked, Answered time.Time
	Queued          bool // a re-check of a check queued while the gateway was away
}

// finish is the one place an answer leaves the agent, whoever asked
// (counter, HIS, outbox): seal it, remember it, publish it, cache it and
// write the audit log. At the counter the SQLite commits come after the
// publish (off the verdict's path); for a queued re-check, before it.
func (a *Agent) finish(ctx context.Context, ans answer) {
	r := events.Result{CheckID: ans.checkID, Identity: ans.id, Eligibility: ans.e}
	a.mu.Lock()
	r.Current = a.onScreen == r.CheckID
	r.Background = a.quiet[r.CheckID]
	a.mu.Unlock()
	if a.d.Seal != nil {
		now := a.d.Now()
		a.d.Seal(ctx, Finishing{Kind: ans.kind, Result: &r, Staff: ans.q.Staff, Asked: now.Add(-ans.took), Answered: now,
			Queued: ans.queued})
	}
	a.remember(r, r.Current)
	ans.result = &r
	if ans.queued {
		a.store(ctx, ans)
		a.d.Bus.Publish(ans.kind, r)
		return
	}
	a.d.Bus.Publish(ans.kind, r)
	a.store(ctx, ans)
}

// store caches a live answer and writes the audit log; what the disk
// refuses is kept in memory and written later.
func (a *Agent) store(ctx context.Context, ans answer) {
	if ans.save {
		a.persist(ctx, "save/"+ans.checkID, func(ctx context.Context) error { return a.d.Store.Save(ctx, ans.q, ans.e) })
	}
	line := Audit{
		Time: a.d.Now(), CheckID: ans.checkID, Staff: ans.q.Staff, Medium: ans.id.Medium, Source: ans.e.Source,
		Code: ans.e.Code, Verdict: ans.e.Verdict, Latency: ans.took, CitizenID: ans.id.CitizenID, Card: ans.q.CardNumber,
	}
	a.persist(ctx, "audit/"+ans.checkID+"/"+ans.kind.String(), func(ctx context.Context) error { return a.d.Store.Record(ctx, line) })
	if rs, ok := a.d.Store.(ResultStore); ok && ans.result != nil {
		r := *ans.result
		a.persist(ctx, "result/"+ans.checkID+"/"+ans.kind.String(), func(ctx context.Context) error { return rs.SaveResult(ctx, ans.kind, r) })
	}
}

// finished closes the journaled scan of an answered check.
func (a *Agent) finished(ctx context.Context, checkID string) {
	j := a.d.Journal
	if j == nil || a.unpersist("journal/"+checkID) {
		return // never written: nothing to close
	}
	if err := j.Finished(context.WithoutCancel(ctx), checkID); err != nil {
		// The row stays; after a restart the check is asked again, once.
		a.log.Warn("An answered check could not be closed in the scan journal; it will be asked again after a restart; check free disk space", "check", checkID, "err", err)
	}
}

func (a *Agent) lookup(ctx context.Context, q patient.Query) (patient.Eligibility, bool) {
	e, ok, err := a.d.Store.Lookup(ctx, q)
	if err != nil {
		a.log.Error("The cache could not be read, so no earlier answer can be shown; check the data folder and run tiepdon doctor", "err", err)
		return e, false
	}
	if ok {
		e.Source = patient.SourceCache
		e.Age = a.d.Now().Sub(e.CheckedAt)
		e = cachedNextStep(expireCached(e, a.d.Now()))
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
	e.NextVI = "Hỏi thẻ BHYT mới hoặc quẹt CCCD gắn chip; nếu không có, tiếp nhận tạm và chờ cổng trả lời."
	e.NextEN = "Ask for a newer BHYT card or a tap of the chip ID card; if there is none, admit provisionally and wait for the gateway."
	return e
}

// cachedNextStep words the next step of a cached answer: the gateway has
// not confirmed it today, so staff act on it and tiepdon says if the live
// answer differs.
func cachedNextStep(e patient.Eligibility) patient.Eligibility {
	switch e.Verdict {
	case patient.Eligible:
		e.NextVI = "Tiếp nhận BHYT theo kết quả lưu; tiepdon tự kiểm tra lại với cổng và báo ngay nếu kết quả khác."
		e.NextEN = "Admit under BHYT on the cached answer; tiepdon re-checks with the gateway and tells you at once if it differs."
	case patient.NotEligible:
		e.NextVI = "Kết quả lưu chưa được cổng xác nhận hôm nay: hỏi thẻ mới hoặc quẹt CCCD gắn chip trước khi thu phí dịch vụ."
		e.NextEN = "The cached answer is not confirmed today: ask for a newer card or a tap of the chip ID card before charging as a paying patient."
	}
	return e
}

// remember keeps r as its check's receipt. A result for the check on
// screen (current) becomes Current; another replaces Current only if
// Current is the same check.
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

// refine puts a later, fuller identity (the chip's photo) into the result
// of its check and publishes it.
func (a *Agent) refine(p drivers.Presentation) {
	if p.Identity == nil || p.CheckID == "" {
		return
	}
	id := *p.Identity
	a.chipAlert(p.CheckID, id)
	a.mu.Lock()
	if r, ok := a.receipts[p.CheckID]; ok {
		r.Identity = id
		a.receipts[p.CheckID] = r
		if a.current != nil && a.current.CheckID == p.CheckID {
			a.current = &r
		}
	}
	a.mu.Unlock()
	a.d.Bus.Publish(events.IdentityRead, events.Identity{CheckID: p.CheckID, Identity: id})
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
