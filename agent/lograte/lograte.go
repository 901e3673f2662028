// Package lograte keeps a repeated warning from flooding the log: a
// slog.Handler wrapper that lets the first few WARN and ERROR records with
// the same message through in each period, counts the rest, and adds the
// count ("repeated") to the next one it lets through. Records below WARN
// pass untouched.
//
// The agent's main wraps its log handler with it, so that a gateway that is
// down for half an hour writes a line a minute saying how many checks it
// affected, not one line per check.
package lograte

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Options tune a Handler. The zero value lets 3 records a minute through
// per message.
type Options struct {
	Burst  int           // records let through per message and period (default 3)
	Period time.Duration // default 1 minute
	Now    func() time.Time
}

// maxKeys bounds the messages remembered; the oldest periods are forgotten
// first.
const maxKeys = 512

type counter struct {
	start      time.Time
	passed     int
	suppressed int
}

type state struct {
	o    Options
	mu   sync.Mutex
	seen map[string]*counter
}

// Handler is the wrapper. It is safe for concurrent use; handlers derived
// with WithAttrs and WithGroup share its counts.
type Handler struct {
	next slog.Handler
	st   *state
}

// New wraps next.
func New(next slog.Handler, o Options) *Handler {
	if o.Burst <= 0 {
		o.Burst = 3
	}
	if o.Period <= 0 {
		o.Period = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Handler{next: next, st: &state{o: o, seen: map[string]*counter{}}}
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle implements slog.Handler: it drops a WARN or ERROR record beyond
// the burst of its message in the current period, and adds
// repeated=N (records dropped since the last one written) to the next.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return h.next.Handle(ctx, r)
	}
	n, ok := h.st.admit(r.Level.String() + "\x00" + r.Message)
	if !ok {
		return nil
	}
	if n > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("repeated", n), slog.String("repeated_note", "the same message was left out this many times"))
	}
	return h.next.Handle(ctx, r)
}

// admit says whether a record with key may be written, and how many were
// dropped before it.
func (s *state) admit(key string) (int, bool) {
	now := s.o.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.seen[key]
	if c == nil {
		if len(s.seen) >= maxKeys {
			s.forgetOldest()
		}
		c = &counter{start: now}
		s.seen[key] = c
	}
	if now.Sub(c.start) >= s.o.Period {
		c.start, c.passed = now, 0
	}
	if c.passed >= s.o.Burst {
		c.suppressed++
		return 0, false
	}
	c.passed++
	n := c.suppressed
	c.suppressed = 0
	return n, true
}

func (s *state) forgetOldest() {
	var oldest string
	var t time.Time
	for k, c := range s.seen {
		if oldest == "" || c.start.Before(t) {
			oldest, t = k, c.start
		}
	}
	delete(s.seen, oldest)
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(as), st: h.st}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), st: h.st}
}
