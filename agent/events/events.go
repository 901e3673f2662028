// Package events is tiepdon's in-process event bus. Devices, the gateway
// client and the agent publish; the window, each HIS WebSocket client and the
// audit log subscribe.
//
// Publishing never blocks: every subscriber has a bounded queue, and a
// subscriber that falls behind loses events rather than slowing a device.
// Each event carries a bus-wide sequence number, so a subscriber sees a gap
// in Seq (and Subscription.Dropped counts it) when it has lost events.
package events

import (
	"sync"
	"sync/atomic"
	"time"
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
	PairingRequested                    // Data: Pairing (an HIS app asks to pair; staff approve in the window)
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
}

// New returns an empty bus.
func New() *Bus {
	return &Bus{subs: make(map[*Subscription]struct{}), last: make(map[Kind]Event), now: time.Now}
}

// Publish sends data as an event of kind k to every subscriber that asked for
// k and returns its sequence number. It never blocks.
func (b *Bus) Publish(k Kind, data any) uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	ev := Event{Seq: b.seq, Time: b.now(), Kind: k, Data: data}
	b.last[k] = ev
	for s := range b.subs {
		if s.mask&k == 0 {
			continue
		}
		select {
		case s.ch <- ev:
		default:
			s.dropped.Add(1)
		}
	}
	return ev.Seq
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
