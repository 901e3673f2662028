package pcsc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ebfe/scard"

	"github.com/tiepdon/tiepdon/drivers"
)

// PnPReader is the pseudo-reader whose state changes when a reader is
// plugged in or out.
const PnPReader = `\\?PnP?\Notification`

// statusTimeout bounds one SCardGetStatusChange call.
const statusTimeout = 2 * time.Second

// ServiceDevice is the Device name under which the monitor reports the
// state of the PC/SC service itself.
const ServiceDevice = "PC/SC"

// ListReaders returns the names of the readers the PC/SC service knows,
// in its order. No readers is not an error: it returns an empty list.
func ListReaders() ([]string, error) {
	sctx, err := scard.EstablishContext()
	if err != nil {
		return nil, wrap("establish context", err)
	}
	defer sctx.Release()
	return listReaders(sctx)
}

// listReaders lists the readers of an established context; no readers is
// an empty list, not an error.
func listReaders(sctx *scard.Context) ([]string, error) {
	names, err := sctx.ListReaders()
	if errors.Is(err, scard.ErrNoReadersAvailable) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap("list readers", err)
	}
	return names, nil
}

// ReadersWithCard returns the readers that hold a card right now, in the
// service's order (for `tiepdon card read` without --reader).
func ReadersWithCard() ([]string, error) {
	sctx, err := scard.EstablishContext()
	if err != nil {
		return nil, wrap("establish context", err)
	}
	defer sctx.Release()
	names, err := listReaders(sctx)
	if err != nil || len(names) == 0 {
		return nil, err
	}
	states := make([]scard.ReaderState, len(names))
	for i, n := range names {
		states[i] = scard.ReaderState{Reader: n, CurrentState: scard.StateUnaware}
	}
	if err := sctx.GetStatusChange(states, 0); err != nil && !errors.Is(err, scard.ErrTimeout) {
		return nil, wrap("status", err)
	}
	var out []string
	for _, s := range states {
		if s.EventState&scard.StatePresent != 0 && s.EventState&scard.StateMute == 0 {
			out = append(out, s.Reader)
		}
	}
	return out, nil
}

// EventKind says what happened to a reader.
type EventKind int

// Event kinds.
const (
	ReaderAdded   EventKind = iota + 1 // a reader appeared
	ReaderRemoved                      // a reader went away (or the service stopped)
	CardInserted                       // a card is now in the reader; Event.ATR holds its ATR
	CardRemoved                        // the card left the reader
	ServiceLost                        // the PC/SC service stopped answering; the monitor keeps retrying
	ServiceBack                        // the PC/SC service answers again
)

var eventNames = [...]string{"", "reader-added", "reader-removed", "card-inserted", "card-removed", "service-lost", "service-back"}

// String returns the kind's name, e.g. "card-inserted".
func (k EventKind) String() string {
	if int(k) < len(eventNames) && k > 0 {
		return eventNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is one change seen by the Monitor.
type Event struct {
	Kind   EventKind
	Reader string // empty for ServiceLost and ServiceBack
	ATR    []byte // for CardInserted
}

// ReaderStatus is a reader as the Monitor last saw it.
type ReaderStatus struct {
	Name    string
	Present bool   // a card is in the reader
	ATR     []byte // of the card present
}

// Monitor watches PC/SC readers and cards. The zero value is usable; set
// Report to have every change reported as a device state.
type Monitor struct {
	Report func(drivers.Device) // may be nil
	Log    *slog.Logger         // nil means slog.Default()
	// RetryMin and RetryMax bound the back-off between attempts to reach
	// the PC/SC service after it went away (defaults 200 ms and 3 s).
	RetryMin, RetryMax time.Duration

	mu      sync.Mutex
	readers map[string]*readerState
	polls   atomic.Uint64 // SCardGetStatusChange calls, for tests
}

type readerState struct {
	cur     scard.StateFlag
	present bool
	count   uint16 // pcsc-lite's event counter, the top 16 bits of the state
	seen    bool   // count is valid
	atr     []byte
}

// Readers returns the readers known at this moment, sorted by name.
func (m *Monitor) Readers() []ReaderStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]ReaderStatus, 0, len(m.readers))
	for name, r := range m.readers {
		out = append(out, ReaderStatus{Name: name, Present: r.present, ATR: slices.Clone(r.atr)})
	}
	slices.SortFunc(out, func(a, b ReaderStatus) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out
}

func (m *Monitor) log() *slog.Logger {
	if m.Log != nil {
		return m.Log
	}
	return slog.Default()
}

// Run watches readers until ctx ends, calling handle (from Run's own
// goroutine, so handle must not block for long) for every change and
// reporting each to Report. When the PC/SC service stops, Run reports every
// known reader removed and ServiceLost, then retries with back-off until the
// service is back. Run returns nil when ctx is cancelled.
func (m *Monitor) Run(ctx context.Context, handle func(Event)) error {
	if handle == nil {
		handle = func(Event) {}
	}
	minWait, maxWait := m.RetryMin, m.RetryMax
	if minWait <= 0 {
		minWait = 200 * time.Millisecond
	}
	if maxWait < minWait {
		maxWait = max(3*time.Second, minWait)
	}
	m.mu.Lock()
	m.readers = make(map[string]*readerState)
	m.mu.Unlock()

	wait := minWait
	lost := false
	for {
		connected, err := m.session(ctx, handle, func() {
			if lost {
				lost = false
				m.emit(handle, Event{Kind: ServiceBack})
			}
		})
		if ctx.Err() != nil {
			m.forgetAll(handle)
			return nil
		}
		if connected {
			wait = minWait
		}
		m.forgetAll(handle)
		if !lost {
			lost = true
			m.log().Warn("The smart-card service stopped answering; chip reads wait until it is back. If it lasts, restart the smart-card service (Windows: SCardSvr, Linux: pcscd)", "err", err)
			m.emit(handle, Event{Kind: ServiceLost})
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		wait = min(wait*2, maxWait)
	}
}

// session runs one PC/SC context until the service goes away or ctx ends.
// connected reports whether the context was established at all.
func (m *Monitor) session(ctx context.Context, handle func(Event), up func()) (connected bool, err error) {
	sctx, err := scard.EstablishContext()
	if err != nil {
		return false, wrap("establish context", err)
	}
	defer sctx.Release()
	stop := context.AfterFunc(ctx, func() { _ = sctx.Cancel() })
	defer stop()

	pnp := scard.ReaderState{Reader: PnPReader, CurrentState: scard.StateUnaware}
	idle := 0
	for {
		names, err := sctx.ListReaders()
		if errors.Is(err, scard.ErrNoReadersAvailable) {
			names, err = nil, nil
		}
		if err != nil {
			return true, wrap("list readers", err)
		}
		up()
		changed := m.syncReaders(names, handle)

		states := make([]scard.ReaderState, 0, len(names)+1)
		m.mu.Lock()
		for _, n := range names {
			states = append(states, scard.ReaderState{Reader: n, CurrentState: m.readers[n].cur})
		}
		m.mu.Unlock()
		states = append(states, pnp)

		if ctx.Err() != nil {
			return true, nil
		}
		// Cancel (from ctx) wakes a blocked call; the timeout only
		// covers a cancel that lands between the check above and the call.
		m.polls.Add(1)
		err = sctx.GetStatusChange(states, statusTimeout)
		if ctx.Err() != nil {
			return true, nil
		}
		switch {
		case err == nil:
		case errors.Is(err, scard.ErrTimeout), errors.Is(err, scard.ErrCancelled),
			errors.Is(err, scard.ErrUnknownReader):
			// list again and go on
		case serviceLost(err):
			return true, wrap("status change", err)
		default:
			return true, wrap("status change", err)
		}
		if err == nil {
			pnp.CurrentState = states[len(states)-1].EventState &^ scard.StateChanged
			for _, s := range states[:len(states)-1] {
				if m.update(s, handle) {
					changed = true
				}
			}
		}
		// Guard against a service that keeps answering at once with
		// nothing new: never spin.
		if changed {
			idle = 0
			continue
		}
		if idle++; idle >= 3 {
			t := time.NewTimer(100 * time.Millisecond)
			select {
			case <-ctx.Done():
				t.Stop()
				return true, nil
			case <-t.C:
			}
		}
	}
}

// syncReaders reports readers that appeared or went away since the last
// listing.
func (m *Monitor) syncReaders(names []string, handle func(Event)) bool {
	var evs []Event
	m.mu.Lock()
	for _, n := range names {
		if _, ok := m.readers[n]; !ok {
			m.readers[n] = &readerState{cur: scard.StateUnaware}
			evs = append(evs, Event{Kind: ReaderAdded, Reader: n})
		}
	}
	for n, r := range m.readers {
		if slices.Contains(names, n) {
			continue
		}
		if r.present {
			evs = append(evs, Event{Kind: CardRemoved, Reader: n})
		}
		evs = append(evs, Event{Kind: ReaderRemoved, Reader: n})
		delete(m.readers, n)
	}
	m.mu.Unlock()
	for _, ev := range evs {
		m.emit(handle, ev)
	}
	return len(evs) > 0
}

// update applies one reader's new state and reports card changes.
func (m *Monitor) update(s scard.ReaderState, handle func(Event)) bool {
	ev := s.EventState
	if ev&scard.StateChanged == 0 {
		return false
	}
	present := ev&scard.StatePresent != 0 && ev&(scard.StateUnknown|scard.StateUnavailable) == 0
	count := uint16(ev >> 16)

	var evs []Event
	m.mu.Lock()
	r, ok := m.readers[s.Reader]
	if !ok {
		m.mu.Unlock()
		return false
	}
	swapped := r.seen && r.present && present && count-r.count >= 2
	switch {
	case swapped:
		evs = append(evs, Event{Kind: CardRemoved, Reader: s.Reader}, Event{Kind: CardInserted, Reader: s.Reader, ATR: slices.Clone(s.Atr)})
	case !r.present && present:
		evs = append(evs, Event{Kind: CardInserted, Reader: s.Reader, ATR: slices.Clone(s.Atr)})
	case r.present && !present:
		evs = append(evs, Event{Kind: CardRemoved, Reader: s.Reader})
	}
	r.cur = ev &^ scard.StateChanged
	r.present, r.count, r.seen = present, count, true
	if present {
		r.atr = slices.Clone(s.Atr)
	} else {
		r.atr = nil
	}
	m.mu.Unlock()
	for _, e := range evs {
		m.emit(handle, e)
	}
	return len(evs) > 0
}

// forgetAll reports every known reader gone (the service stopped, or Run
// is ending).
func (m *Monitor) forgetAll(handle func(Event)) {
	m.syncReaders(nil, handle)
}

func (m *Monitor) emit(handle func(Event), ev Event) {
	m.log().Debug("pcsc: event", "kind", ev.Kind.String(), "reader", ev.Reader)
	if m.Report != nil {
		m.Report(DeviceOf(ev))
	}
	handle(ev)
}

// DeviceOf is the device state an Event leaves its reader (or the PC/SC
// service, ServiceDevice) in.
func DeviceOf(ev Event) drivers.Device {
	d := drivers.Device{Kind: drivers.Reader, Name: ev.Reader}
	switch ev.Kind {
	case ReaderAdded, CardRemoved:
		d.State = drivers.DeviceReady
	case CardInserted:
		d.State = drivers.DeviceCard
	case ReaderRemoved:
		d.State = drivers.DeviceMissing
	case ServiceLost:
		d.Name, d.State, d.Detail = ServiceDevice, drivers.DeviceError, "PC/SC service not running"
	case ServiceBack:
		d.Name, d.State = ServiceDevice, drivers.DeviceReady
	}
	return d
}
