// Package events is tiepdon's in-process event bus. Devices, the gateway
// client and the agent publish; the window, each HIS WebSocket client and the
// audit log subscribe.
//
// Publishing never blocks: every subscriber has a bounded queue, and a
// subscriber that falls behind loses its oldest queued events, never the
// newest, rather than slowing a device. Each event carries a bus-wide
// sequence number, so a subscriber sees a gap in Seq (and TakeDropped names
// it) when it has lost events. The bus keeps the last HistorySize events
// (without chip photos) for Since.
package events

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/tiepdon/tiepdon/agent/patient"
)

// Kind is the type of an event. Kinds are bits so that a subscription can
// ask for several at once.
type Kind uint32

// Event kinds. Their String forms are the notification names of the HIS API.
const (
	DeviceChanged      Kind = 1 << iota // Data: Device
	CardPresented                       // Data: Presented
	CardProgress                        // Data: Progress
	IdentityRead                        // Data: Identity
	EligibilityResult                   // Data: Result (first answer for a check)
	EligibilityUpdated                  // Data: Result (a later, better answer for the same check)
	GatewayChanged                      // Data: Gateway
	OutboxChanged                       // Data: Outbox
	ClientsChanged                      // Data: Clients (HIS API connections)
	Alert                               // Data: AlertData (e.g. QR and chip disagree)
	PairingRequested                    // Data: Pairing (an HIS app asks to pair; staff approve in the window; Ended when it is over)
	ReadFailed                          // Data: Failure (a presentation that could not be read)

	All Kind = 1<<iota - 1
)

var kindNames = map[Kind]string{
	DeviceChanged:      "device.changed",
	CardPresented:      "card.presented",
	CardProgress:       "card.progress",
	IdentityRead:       "identity.read",
	EligibilityResult:  "eligibility.result",
	EligibilityUpdated: "eligibility.updated",
	GatewayChanged:     "gateway.state",
	OutboxChanged:      "outbox.changed",
	ClientsChanged:     "clients.changed",
	Alert:              "alert",
	PairingRequested:   "pairing.requested",
	ReadFailed:         "read.failed",
}

// String returns the event's notification name, e.g. "eligibility.result".
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return "unknown"
}

// Event is one thing that happened.
type Event struct {
	Seq  uint64    // bus-wide, starts at 1, no gaps at the publisher
	Time time.Time // when it was published
	Kind Kind
	Data any // one of the payload types below, by Kind
}

// Bus fans events out to subscribers. The zero value is not usable; call New.
type Bus struct {
	mu   sync.Mutex
	seq  uint64
	subs map[*Subscription]struct{}
	last map[Kind]Event
	now  func() time.Time
	hist []Event // the last HistorySize events, a ring
	next int     // where the next event goes in hist
}

// HistorySize is how many recent events the bus keeps for Since (a HIS
// client that reconnects replays them with events.since).
const HistorySize = 4096

// New returns an empty bus.
func New() *Bus {
	return &Bus{subs: make(map[*Subscription]struct{}), last: make(map[Kind]Event), now: time.Now,
		hist: make([]Event, 0, HistorySize)}
}

// Publish sends data as an event of kind k to every subscriber that asked for
// k and returns its sequence number. It never blocks: a subscriber whose
// queue is full loses its oldest queued event, never the newest, and the
// loss is counted (Dropped, TakeDropped).
func (b *Bus) Publish(k Kind, data any) uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	ev := Event{Seq: b.seq, Time: b.now(), Kind: k, Data: data}
	b.last[k] = ev
	kept := withoutPhoto(ev)
	if len(b.hist) < HistorySize {
		b.hist = append(b.hist, kept)
	} else {
		b.hist[b.next] = kept
	}
	b.next = (b.next + 1) % HistorySize
	for s := range b.subs {
		if s.mask&k == 0 {
			continue
		}
		select {
		case s.ch <- ev:
			continue
		default:
		}
		// Full: make room by dropping the oldest. Only the bus sends on
		// s.ch, under b.mu, so after one receive there is room.
		select {
		case old := <-s.ch:
			s.lost(old.Seq)
		default:
		}
		select {
		case s.ch <- ev:
		default:
			s.lost(ev.Seq)
		}
	}
	return ev.Seq
}

// Since returns the events kept after seq, oldest first, and whether they
// are all that was published after it (false when older ones have already
// left the history, or seq is ahead of the bus).
func (b *Bus) Since(seq uint64) (evs []Event, complete bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if seq > b.seq {
		return nil, false
	}
	n := len(b.hist)
	start := 0
	if n == HistorySize {
		start = b.next
	}
	oldest := b.seq + 1
	for i := range n {
		ev := b.hist[(start+i)%n]
		if i == 0 {
			oldest = ev.Seq
		}
		if ev.Seq > seq {
			evs = append(evs, ev)
		}
	}
	return evs, seq+1 >= oldest
}

// Seq returns the sequence number of the newest event (0: none yet).
func (b *Bus) Seq() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seq
}

// Last returns the most recent event of kind k, if any. It is how a new
// subscriber learns the current state (gateway state, devices) without
// waiting for the next change.
func (b *Bus) Last(k Kind) (Event, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ev, ok := b.last[k]
	return ev, ok
}

// Subscribe returns a subscription to the kinds in mask with a queue of size
// buffer (at least 1). Call Close when done.
func (b *Bus) Subscribe(mask Kind, buffer int) *Subscription {
	if buffer < 1 {
		buffer = 1
	}
	s := &Subscription{bus: b, mask: mask, ch: make(chan Event, buffer)}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

// Subscription is one subscriber's queue.
type Subscription struct {
	bus     *Bus
	mask    Kind
	ch      chan Event
	dropped atomic.Uint64
	once    sync.Once

	lmu              sync.Mutex
	lostN            uint64 // dropped since the last TakeDropped
	lostFrom, lostTo uint64 // their lowest and highest Seq
}

func (s *Subscription) lost(seq uint64) {
	s.dropped.Add(1)
	s.lmu.Lock()
	if s.lostN == 0 || seq < s.lostFrom {
		s.lostFrom = seq
	}
	if seq > s.lostTo {
		s.lostTo = seq
	}
	s.lostN++
	s.lmu.Unlock()
}

// TakeDropped returns how many events this subscriber lost since the last
// call, and the lowest and highest Seq among them; n is 0 if none. The bus
// drops the oldest queued event first, so between two deliveries the lost
// events are the ones of this subscription's kinds in [from, to].
func (s *Subscription) TakeDropped() (n, from, to uint64) {
	s.lmu.Lock()
	defer s.lmu.Unlock()
	n, from, to = s.lostN, s.lostFrom, s.lostTo
	s.lostN, s.lostFrom, s.lostTo = 0, 0, 0
	return n, from, to
}

// C returns the channel events arrive on. It is closed by Close.
func (s *Subscription) C() <-chan Event { return s.ch }

// Dropped returns how many events this subscriber has lost because its
// queue was full.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Close ends the subscription and closes its channel.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.bus.mu.Lock()
		delete(s.bus.subs, s)
		close(s.ch)
		s.bus.mu.Unlock()
	})
}

// withoutPhoto returns ev as the history keeps it: chip photos (tens of
// kilobytes each) are left out, so the history stays small.
func withoutPhoto(ev Event) Event {
	strip := func(id *patient.Identity) {
		if id.Chip != nil && len(id.Chip.Photo) > 0 {
			c := *id.Chip
			c.Photo = nil
			id.Chip = &c
		}
	}
	switch d := ev.Data.(type) {
	case Result:
		strip(&d.Identity)
		ev.Data = d
	case Identity:
		strip(&d.Identity)
		ev.Data = d
	}
	return ev
}
