// Package outbox keeps the checks the gateway could not answer at the
// counter and asks the agent to re-check them. The agent queues such a
// check (Enqueue, which implements agent.Queue); Run asks the agent to
// Recheck it with jittered exponential backoff, at once when the gateway
// comes back online. The agent finishes the check (caches the answer,
// writes the audit log, publishes events.EligibilityUpdated for the same
// check ID); the outbox only keeps the queue and tells the agent its size.
//
// The queue lives in the cache database (sync/cache): a queued check is
// committed before Enqueue returns, so it survives a crash or kill -9. A
// check is removed only after the agent has finished it, so a crash in
// between re-checks it again after restart (at least once).
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/tiepdon/tiepdon/agent"
	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/sync/cache"
)

// Agent is what the outbox asks of the agent core.
type Agent interface {
	// Recheck asks the gateway again and finishes the check with the
	// answer; an error wrapping agent.ErrUnavailable means "later".
	Recheck(ctx context.Context, checkID string, id patient.Identity, staff patient.Staff) error
	// QueueChanged tells how many checks wait.
	QueueChanged(pending int)
}

// Options configures an Outbox. DB is required, and Agent before Run
// (SetAgent, when the agent is made after the outbox it queues to).
type Options struct {
	DB    *cache.DB
	Agent Agent
	Bus   *events.Bus // GatewayChanged wakes the queue. May be nil.
	// Staff returns who is signed in; it is stored with each queued check
	// and used for its re-check (hoTenCb, cccdCb).
	Staff func() patient.Staff
	// Backoff between attempts of one check doubles from MinBackoff
	// (default 2 s) to MaxBackoff (default 5 min), with jitter.
	MinBackoff, MaxBackoff time.Duration
	// Reason describes a gateway error for the queued row, with no
	// personal data (bhxh.Reason); nil: "timeout" or "gateway unavailable".
	Reason func(error) string
	// Batch is how many due checks one round takes (default 16).
	Batch  int
	Logger *slog.Logger
	Now    func() time.Time
}

// ErrNoIdentifier is returned (wrapped) by Enqueue for an identity the
// gateway cannot be asked about.
var ErrNoIdentifier = errors.New("no card number, social-insurance number or citizen ID")

// Outbox is the queue of checks waiting for the gateway.
type Outbox struct {
	o    Options
	log  *slog.Logger
	wake chan struct{}
	// answered holds rows whose check was answered but that the disk
	// would not let go of (disk full): they are not asked again, and their
	// removal is retried. Only Run's goroutine uses it.
	answered map[int64]bool
}

// New returns an outbox over o.DB.
func New(o Options) (*Outbox, error) {
	if o.DB == nil {
		return nil, errors.New("outbox: DB is required")
	}
	if o.Staff == nil {
		o.Staff = func() patient.Staff { return patient.Staff{} }
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 2 * time.Second
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(5*time.Minute, o.MinBackoff)
	}
	if o.Batch <= 0 {
		o.Batch = 16
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Outbox{o: o, log: o.Logger.With("component", "outbox"), wake: make(chan struct{}, 1), answered: map[int64]bool{}}, nil
}

// SetStaff sets Options.Staff; call it before Run.
func (ob *Outbox) SetStaff(staff func() patient.Staff) { ob.o.Staff = staff }

// SetAgent sets the agent the outbox asks to re-check; call it before Run.
func (ob *Outbox) SetAgent(a Agent) { ob.o.Agent = a }

// Enqueue queues a re-check of id under checkID. It returns once the check
// is committed to disk.
func (ob *Outbox) Enqueue(ctx context.Context, checkID string, id patient.Identity) error {
	if patient.QueryOf(id).Empty() {
		return fmt.Errorf("queueing check %s: %w", checkID, ErrNoIdentifier)
	}
	if err := ob.o.DB.OutboxPut(ctx, checkID, id, ob.o.Staff()); err != nil {
		return err
	}
	ob.log.Info("check queued for the gateway", "check", checkID, "id", id.CitizenID)
	ob.changed(ctx)
	ob.poke()
	return nil
}

// Accept journals a scan before its check starts (agent.Journal): it is
// committed before Accept returns, and if tiepdon stops before the check is
// finished, the next Run re-checks it.
func (ob *Outbox) Accept(ctx context.Context, checkID string, id patient.Identity) error {
	return ob.o.DB.JournalPut(ctx, checkID, id, ob.o.Staff())
}

// Finished closes the journaled scan of an answered check (agent.Journal).
func (ob *Outbox) Finished(ctx context.Context, checkID string) error {
	return ob.o.DB.JournalDone(ctx, checkID)
}

// Pending returns how many checks are queued.
func (ob *Outbox) Pending(ctx context.Context) (int, error) { return ob.o.DB.OutboxLen(ctx) }

func (ob *Outbox) poke() {
	select {
	case ob.wake <- struct{}{}:
	default:
	}
}

func (ob *Outbox) changed(ctx context.Context) {
	if ob.o.Agent == nil {
		return
	}
	n, err := ob.o.DB.OutboxLen(ctx)
	if err != nil {
		ob.log.Error("The queued re-checks could not be counted; the status bar may be wrong; check the data folder and run tiepdon doctor", "err", err)
		return
	}
	ob.o.Agent.QueueChanged(n)
}

// Run asks the agent to re-check queued checks until ctx ends. It returns
// nil when ctx ends.
func (ob *Outbox) Run(ctx context.Context) error {
	if ob.o.Agent == nil {
		return errors.New("outbox: no Agent to re-check with")
	}
	var gw <-chan events.Event
	if ob.o.Bus != nil {
		sub := ob.o.Bus.Subscribe(events.GatewayChanged, 8)
		defer sub.Close()
		gw = sub.C()
	}
	switch n, err := ob.o.DB.JournalRecover(ctx); {
	case err != nil:
		ob.log.Error("Scans left unfinished by the last run could not be queued for a re-check; they are tried again at the next start; check the data folder and run tiepdon doctor", "err", err)
	case n > 0:
		ob.log.Warn("tiepdon stopped last time before some checks were finished; those scans are re-checked now and their answers go to the window and the HIS; nothing to do", "scans", n)
	}
	ob.changed(ctx)
	var pauseUntil time.Time // after a failure: the gateway gets a rest
	var failures int
	for {
		if ctx.Err() != nil {
			return nil
		}
		now := ob.o.Now()
		if !now.Before(pauseUntil) {
			ok, err := ob.round(ctx)
			switch {
			case ctx.Err() != nil:
				return nil
			case err != nil:
				failures++
				pauseUntil = ob.o.Now().Add(ob.backoff(failures))
			default:
				if ok {
					failures = 0
				}
			}
		}
		wait := time.Hour
		if next, ok, err := ob.o.DB.OutboxNext(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			ob.log.Error("The queued re-checks could not be read, so they wait; check the data folder and run tiepdon doctor", "err", err)
			wait = ob.o.MinBackoff
		} else if ok {
			wait = max(next.Sub(ob.o.Now()), pauseUntil.Sub(ob.o.Now()), 0)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-ob.wake:
		case ev, ok := <-gw:
			if ok && ev.Data.(events.Gateway).State == events.GatewayOnline {
				// The gateway is back: try everything now.
				pauseUntil, failures = time.Time{}, 0
				if err := ob.o.DB.OutboxWake(ctx); err != nil && ctx.Err() == nil {
					ob.log.Error("The queued re-checks could not be woken when the gateway came back; they are retried later by themselves", "err", err)
				}
			}
		case <-t.C:
		}
		t.Stop()
	}
}

// round re-checks the checks due now. It stops at the first one the
// gateway cannot answer (returning that error) so a sick gateway is not
// hammered; ok reports whether any was answered.
func (ob *Outbox) round(ctx context.Context) (ok bool, err error) {
	due, err := ob.o.DB.OutboxDue(ctx, ob.o.Now(), ob.o.Batch)
	if err != nil {
		ob.log.Error("The queued re-checks could not be read, so they wait; check the data folder and run tiepdon doctor", "err", err)
		return false, err
	}
	for _, p := range due {
		if ob.answered[p.ID] {
			if err := ob.o.DB.OutboxDone(ctx, p.ID); err != nil {
				return ok, err // the disk still refuses: try later
			}
			delete(ob.answered, p.ID)
			ob.changed(ctx)
			continue
		}
		if err := ob.one(ctx, p); err != nil {
			return ok, err
		}
		ok = true
	}
	return ok, nil
}

func (ob *Outbox) one(ctx context.Context, p cache.Pending) error {
	staff := p.Staff
	if staff.CitizenID == "" {
		staff = ob.o.Staff()
	}
	if err := ob.o.Agent.Recheck(ctx, p.CheckID, p.Identity, staff); err != nil {
		if ctx.Err() != nil {
			return err
		}
		if !errors.Is(err, agent.ErrUnavailable) {
			// Not something time will fix (no identifier): drop it.
			ob.log.Error("A queued re-check lacks what the gateway needs (no card number or ID), so it was dropped; check that patient by hand", "check", p.CheckID, "err", err)
			if err := ob.o.DB.OutboxDone(ctx, p.ID); err != nil {
				return err
			}
			ob.changed(ctx)
			return nil
		}
		next := ob.o.Now().Add(ob.backoff(p.Attempts + 1))
		if derr := ob.o.DB.OutboxDefer(ctx, p.ID, next, ob.reason(err)); derr != nil {
			ob.log.Error("A queued re-check could not be rescheduled; it is tried again later; check free disk space", "check", p.CheckID, "err", derr)
		}
		ob.log.Debug("queued check still unanswered", "check", p.CheckID, "attempt", p.Attempts+1, "next", next)
		return err
	}
	ob.log.Info("queued check answered", "check", p.CheckID,
		"waited", ob.o.Now().Sub(p.EnqueuedAt).Round(time.Second))
	if err := ob.o.DB.OutboxDone(ctx, p.ID); err != nil {
		ob.answered[p.ID] = true // never ask the gateway twice for it
		return err
	}
	ob.changed(ctx)
	return nil
}

// backoff is MinBackoff·2^(n-1), capped at MaxBackoff, with ±25 % jitter.
func (ob *Outbox) backoff(n int) time.Duration {
	d := ob.o.MinBackoff
	for i := 1; i < n && d < ob.o.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, ob.o.MaxBackoff)
	jitter := time.Duration(rand.Int64N(int64(d)/2+1)) - d/4
	return d + jitter
}

// reason is the description kept with a check that waits: the gateway
// client's own (Options.Reason), else a generic one.
func (ob *Outbox) reason(err error) string {
	if ob.o.Reason != nil {
		return ob.o.Reason(err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return "gateway unavailable"
}

var (
	_ agent.Queue   = (*Outbox)(nil)
	_ agent.Journal = (*Outbox)(nil)
)
