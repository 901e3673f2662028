package agent

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/tiepdon/tiepdon/agent/events"
)

// Writes the data folder refuses (a full disk, a read-only or missing
// folder) are kept in memory, in order, and written again every
// RetryUnsaved until the disk takes them: a journaled scan, a queued
// re-check, an audit line, a cached answer. No check is lost while the
// agent runs; the disk state goes out with outbox.changed.

// maxUnsaved bounds the writes kept in memory (a day's checks at a busy
// desk several times over); past it the oldest are given up, loudly.
const maxUnsaved = 50_000

type unsavedWrite struct {
	key   string // "journal/ID", "queue/ID", "audit/ID", "save/ID"
	write func(context.Context) error
}

type unsaved struct {
	mu     sync.Mutex
	writes []unsavedWrite
	since  time.Time // when the disk first refused a write, zero when all are written
	queue  int       // checks in the outbox on disk, as last reported
	held   int       // queued re-checks among writes (kept so as not to count on every publish)
}

// isQueue reports whether a kept write is a queued re-check.
func isQueue(key string) bool { return strings.HasPrefix(key, "queue/") }

// drop takes writes[i] out; un.mu is held.
func (u *unsaved) drop(i int) {
	if isQueue(u.writes[i].key) {
		u.held--
	}
	u.writes = append(u.writes[:i:i], u.writes[i+1:]...)
}

// persist runs write; if the disk refuses it, the write is kept and
// retried. key names what it is, for Finished and Enqueue to find.
func (a *Agent) persist(ctx context.Context, key string, write func(context.Context) error) {
	ctx = context.WithoutCancel(ctx) // a check finishing at shut-down is still written
	err := write(ctx)
	if err == nil {
		return
	}
	a.un.mu.Lock()
	first := len(a.un.writes) == 0
	if first {
		a.un.since = a.d.Now()
	}
	if len(a.un.writes) >= maxUnsaved {
		a.log.Error("Too many checks are waiting in memory for the disk; the oldest is given up. Free disk space in the data folder now and run tiepdon doctor", "given_up", a.un.writes[0].key)
		a.un.drop(0)
	}
	a.un.writes = append(a.un.writes, unsavedWrite{key: key, write: write})
	if isQueue(key) {
		a.un.held++
	}
	n := len(a.un.writes)
	a.un.mu.Unlock()
	if first {
		a.log.Error("The data folder refused a write (is the disk full?): checks are kept in memory and written as soon as it accepts them; free disk space and run tiepdon doctor", "what", key, "err", err)
	} else {
		a.log.Debug("write kept in memory", "what", key, "unsaved", n, "err", err)
	}
	a.publishQueue()
}

// unpersist drops a kept write that is no longer needed (a journaled scan
// whose check finished before the disk took it); it reports whether one was.
func (a *Agent) unpersist(key string) bool {
	a.un.mu.Lock()
	defer a.un.mu.Unlock()
	for i, w := range a.un.writes {
		if w.key == key {
			a.un.drop(i)
			if len(a.un.writes) == 0 {
				a.un.since = time.Time{}
			}
			return true
		}
	}
	return false
}

// flushUnsaved writes the kept writes in order until the disk refuses one.
func (a *Agent) flushUnsaved(ctx context.Context) {
	a.un.mu.Lock()
	writes := append([]unsavedWrite(nil), a.un.writes...)
	a.un.mu.Unlock()
	if len(writes) == 0 {
		return
	}
	done := map[string]bool{}
	for _, w := range writes {
		if err := w.write(ctx); err != nil {
			break
		}
		done[w.key] = true
	}
	if len(done) == 0 {
		return
	}
	a.un.mu.Lock()
	kept := a.un.writes[:0]
	for _, w := range a.un.writes {
		switch {
		case !done[w.key]:
			kept = append(kept, w)
		case isQueue(w.key):
			a.un.held--
		}
	}
	a.un.writes = kept
	left := len(kept)
	if left == 0 {
		a.un.since = time.Time{}
	}
	a.un.mu.Unlock()
	if left == 0 {
		a.log.Info("the data folder takes writes again: every check kept in memory is written", "written", len(done))
	}
	a.publishQueue()
}

// runUnsaved retries the kept writes until ctx ends, and once more then.
func (a *Agent) runUnsaved(ctx context.Context) {
	every := a.d.RetryUnsaved
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.flushUnsaved(ctx)
		}
	}
}

// Storage reports the disk state: how many writes wait in memory and
// since when (zero when none).
func (a *Agent) Storage() (unsaved int, since time.Time) {
	a.un.mu.Lock()
	defer a.un.mu.Unlock()
	return len(a.un.writes), a.un.since
}

// publishQueue publishes outbox.changed: the re-checks waiting (on disk
// and in memory) and the disk state.
func (a *Agent) publishQueue() {
	a.un.mu.Lock()
	o := events.Outbox{Pending: a.un.queue + a.un.held, Unsaved: len(a.un.writes), Disk: events.DiskOK}
	if len(a.un.writes) > 0 {
		o.Disk, o.DiskSince = events.DiskRefusing, a.un.since
	}
	a.un.mu.Unlock()
	a.d.Bus.Publish(events.OutboxChanged, o)
}
