// Package outbox re-checks eligibility for patients the gateway could not
// answer for at the counter. The agent queues such a check (Enqueue, which
// implements agent.Queue); Run retries it with jittered exponential backoff,
// at once when the gateway comes back online, and when the answer comes
// caches it, writes the audit log and publishes it as
// events.EligibilityUpdated for the same check ID.
//
// The queue lives in the cache database (sync/cache): a queued check is
// committed before Enqueue returns, so it survives a crash or kill -9. A
// check is removed only after its answer is saved and published, so a crash
// in between publishes it again after restart (at least once).
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
	"github.com/tiepdon/tiepdon/sync/bhxh"
	"github.com/tiepdon/tiepdon/sync/cache"
)

// Options configures an Outbox. DB and Checker are required.
type Options struct {
	DB      *cache.DB
	Checker agent.Checker
	Bus     *events.Bus // EligibilityUpdated, OutboxChanged; GatewayChanged wakes the queue. May be nil.
	// Staff returns who is signed in; it is stored with each queued check
	// and used for its re-check (hoTenCb, cccdCb).
	Staff func() patient.Staff
	// Backoff between attempts of one check doubles from MinBackoff
	// (default 2 s) to MaxBackoff (default 5 min), with jitter.
	MinBackoff, MaxBackoff time.Duration
	// Batch is how many due checks one round takes (default 16).
	Batch  int
	Logger *slog.Logger
	Now    func() time.Time
}

// Outbox is the queue of checks waiting for the gateway.
type Outbox struct {
	o    Options
	log  *slog.Logger
	wake chan struct{}
}

// New returns an outbox over o.DB.
func New(o Options) (*Outbox, error) {
	if o.DB == nil || o.Checker == nil {
		return nil, errors.New("outbox: DB and Checker are required")
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
	return &Outbox{o: o, log: o.Logger.With("component", "outbox"), wake: make(chan struct{}, 1)}, nil
}

// Enqueue queues a re-check of id under checkID. It returns once the check
// is committed to disk.
func (ob *Outbox) Enqueue(ctx context.Context, checkID string, id patient.Identity) error {
	if patient.QueryOf(id).Empty() {
		return fmt.Errorf("queueing check %s: %w", checkID, bhxh.ErrNoIdentifier)
	}
	if err := ob.o.DB.OutboxPut(ctx, checkID, id, ob.o.Staff()); err != nil {
		return err
	}
	ob.log.Info("check queued for the gateway", "check", checkID, "id", id.CitizenID)
	ob.changed(ctx)
	ob.poke()
	return nil
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
	if ob.o.Bus == nil {
		return
	}
	n, err := ob.o.DB.OutboxLen(ctx)
	if err != nil {
		ob.log.Error("counting outbox", "err", err)
		return
	}
	ob.o.Bus.Publish(events.OutboxChanged, events.Outbox{Pending: n})
}

// Run replays queued checks until ctx ends. It returns nil when ctx ends.
func (ob *Outbox) Run(ctx context.Context) error {
	var gw <-chan events.Event
	if ob.o.Bus != nil {
		sub := ob.o.Bus.Subscribe(events.GatewayChanged, 8)
		defer sub.Close()
		gw = sub.C()
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
			ob.log.Error("reading outbox", "err", err)
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
					ob.log.Error("waking outbox", "err", err)
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
		ob.log.Error("reading outbox", "err", err)
		return false, err
	}
	for _, p := range due {
		if err := ob.one(ctx, p); err != nil {
			return ok, err
		}
		ok = true
	}
	return ok, nil
}

func (ob *Outbox) one(ctx context.Context, p cache.Pending) error {
	q := patient.QueryOf(p.Identity)
	q.Staff = p.Staff
	if q.Staff.CitizenID == "" {
		q.Staff = ob.o.Staff()
	}
	e, err := ob.o.Checker.Check(ctx, q)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		if !errors.Is(err, agent.ErrUnavailable) {
			// Not something time will fix (no identifier): drop it.
			ob.log.Error("queued check cannot be made; dropping it", "check", p.CheckID, "err", err)
			if err := ob.o.DB.OutboxDone(ctx, p.ID); err != nil {
				return err
			}
			ob.changed(ctx)
			return nil
		}
		next := ob.o.Now().Add(ob.backoff(p.Attempts + 1))
		if derr := ob.o.DB.OutboxDefer(ctx, p.ID, next, reason(err)); derr != nil {
			ob.log.Error("deferring queued check", "check", p.CheckID, "err", derr)
		}
		ob.log.Debug("queued check still unanswered", "check", p.CheckID, "attempt", p.Attempts+1, "next", next)
		return err
	}
	e.Source = patient.SourceLive
	if e.CheckedAt.IsZero() {
		e.CheckedAt = ob.o.Now()
	}
	if err := ob.o.DB.Save(ctx, q, e); err != nil {
		ob.log.Error("caching re-check answer", "check", p.CheckID, "err", err)
	}
	if err := ob.o.DB.Record(ctx, agent.Audit{
		Time: ob.o.Now(), CheckID: p.CheckID, Staff: q.Staff, Medium: p.Identity.Medium, Source: patient.SourceLive,
		Code: e.Code, Verdict: e.Verdict, Latency: e.Latency, CitizenID: p.Identity.CitizenID, Card: q.CardNumber,
	}); err != nil {
		ob.log.Error("writing audit log", "check", p.CheckID, "err", err)
	}
	if ob.o.Bus != nil {
		ob.o.Bus.Publish(events.EligibilityUpdated, events.Result{CheckID: p.CheckID, Identity: p.Identity, Eligibility: e})
	}
	ob.log.Info("queued check answered", "check", p.CheckID, "code", e.Code, "verdict", e.Verdict,
		"waited", ob.o.Now().Sub(p.EnqueuedAt).Round(time.Second))
	if err := ob.o.DB.OutboxDone(ctx, p.ID); err != nil {
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

// reason is a short, personal-data-free description of err for the outbox
// row.
func reason(err error) string {
	var ce *bhxh.CodeError
	switch {
	case errors.As(err, &ce):
		return "gateway code " + ce.Code
	case errors.Is(err, bhxh.ErrBreakerOpen):
		return "gateway offline"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, bhxh.ErrBadResponse):
		return "answer not understood"
	}
	return "gateway unavailable"
}

var _ agent.Queue = (*Outbox)(nil)
