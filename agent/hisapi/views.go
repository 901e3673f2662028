package hisapi

import (
	"bytes"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
)

// view is how much personal data a client may see, from its scopes.
type view int

const (
	viewEligibility view = iota // identity reduced to medium and authenticity
	viewIdentity                // full identity, no photo
	viewPhoto                   // full identity and the chip photo

	// viewHistory, added to one of the above, keeps eligibility.visits
	// (health data: the history scope).
	viewHistory view = 8
)

func viewOf(t TokenInfo) view {
	v := viewEligibility
	switch {
	case t.Has(ScopePhoto) && t.Has(ScopeIdentity):
		v = viewPhoto
	case t.Has(ScopeIdentity):
		v = viewIdentity
	}
	if t.Has(ScopeHistory) {
		v |= viewHistory
	}
	return v
}

// minimalIdentity is what a client without the identity scope learns about
// the identity behind an eligibility answer.
type minimalIdentity struct {
	Medium       patient.Medium       `json:"medium"`
	Authenticity patient.Authenticity `json:"authenticity"`
}

// resultView is the wire form of a check's result (eligibility.result,
// eligibility.updated, receipt.get, identity.current, identity.read).
type resultView struct {
	CheckID     string           `json:"checkId"`
	Identity    any              `json:"identity"`
	Eligibility *eligibilityView `json:"eligibility,omitempty"`
	Photo       []byte           `json:"photo,omitempty"` // base64
	PhotoType   string           `json:"photoType,omitempty"`
	// Current (answers only) says whether the check was the one on the
	// reception screen when the answer was published; false is a late
	// answer for a patient no longer at the desk.
	Current *bool `json:"current,omitempty"`
	// Background (answers only) marks a check made with announce: false.
	Background bool `json:"background,omitempty"`
	// Receipt (answers only) is the signed proof of the answer.
	Receipt *events.Receipt `json:"receipt,omitempty"`
}

// eligibilityView is an answer on the wire: the answer as the agent keeps
// it, plus its durations in the units a web page wants. (age and latency,
// in nanoseconds, stay for clients written against them.)
type eligibilityView struct {
	*patient.Eligibility
	AgeMS      *int64   `json:"ageMs,omitempty"`      // cached answers: how old, in milliseconds
	AgeSeconds *float64 `json:"ageSeconds,omitempty"` // deprecated: the same in seconds (0.1 s steps)
	LatencyMS  *float64 `json:"latencyMs,omitempty"`  // live answers: the gateway's round trip, in milliseconds (0.1 ms steps)
}

func eligibilityViewOf(e patient.Eligibility) *eligibilityView {
	v := &eligibilityView{Eligibility: &e}
	if e.Age != 0 {
		ms := e.Age.Milliseconds()
		s := math.Round(e.Age.Seconds()*10) / 10
		v.AgeMS, v.AgeSeconds = &ms, &s
	}
	if e.Latency != 0 {
		ms := math.Round(float64(e.Latency)/float64(time.Millisecond)*10) / 10
		v.LatencyMS = &ms
	}
	return v
}

func identityView(checkID string, id patient.Identity, v view) resultView {
	v &^= viewHistory
	r := resultView{CheckID: checkID}
	if v == viewEligibility {
		r.Identity = minimalIdentity{Medium: id.Medium, Authenticity: id.Authenticity}
		return r
	}
	r.Identity = id
	if v == viewPhoto && id.Chip != nil && len(id.Chip.Photo) > 0 {
		r.Photo = id.Chip.Photo
		r.PhotoType = id.Chip.PhotoType
	}
	return r
}

func resultViewOf(res events.Result, v view, withEligibility bool) resultView {
	r := identityView(res.CheckID, res.Identity, v)
	current := res.Current
	r.Current = &current
	if withEligibility {
		e := res.Eligibility
		if v&viewHistory == 0 {
			e.Visits = nil // health data: the history scope only
		}
		r.Eligibility = eligibilityViewOf(e)
		r.Receipt = res.Receipt
		r.Background = res.Background
	}
	return r
}

// kinds the API forwards, and the scope each needs ("" = any token).
var forwarded = map[events.Kind]Scope{
	events.DeviceChanged:      "",
	events.CardPresented:      "",
	events.CardProgress:       "",
	events.ReadFailed:         "",
	events.Alert:              "",
	events.GatewayChanged:     "",
	events.IdentityRead:       ScopeIdentity,
	events.EligibilityResult:  ScopeEligibility,
	events.EligibilityUpdated: ScopeEligibility,
}

// eventNames lists the notification names a client may ask for in
// session.hello, with their kinds.
var eventNames = func() map[string]events.Kind {
	m := map[string]events.Kind{}
	for k := range forwarded {
		m[k.String()] = k
	}
	return m
}()

// maskFor returns the kinds a token may receive.
func maskFor(t TokenInfo) events.Kind {
	var m events.Kind
	for k, s := range forwarded {
		if s == "" || t.Has(s) {
			m |= k
		}
	}
	return m
}

// params returns the notification params (without seq and time) for an
// event as a client with view v sees it.
func params(ev events.Event, v view) any {
	switch d := ev.Data.(type) {
	case events.Identity:
		return identityView(d.CheckID, d.Identity, v)
	case events.Result:
		return resultViewOf(d, v, true)
	case events.Progress:
		d.Step = wireStep(d.Step)
		return d
	}
	return ev.Data
}

// wireStep names a chip read's step as card.progress documents it (pace,
// dg1, dg2, dg13, sod, verify, waiting-for-key): the reader's own steps are
// finer (the window shows them), and a client switching on the documented
// names must never meet another.
func wireStep(step string) string {
	switch step {
	case "pace", "dg1", "dg2", "dg13", "sod", "verify", "waiting-for-key":
		return step
	case "authenticating", "authenticated":
		return "pace"
	}
	// EF.COM, DG14, DG15, chip and active authentication, verifying, done.
	return "verify"
}

// encodeEvent returns the notification frame for ev as view v sees it:
// the payload's fields with "seq" and "time" added.
func encodeEvent(ev events.Event, v view) ([]byte, error) {
	p, err := marshalWire(params(ev, v))
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(len(p) + 120)
	b.WriteString(`{"jsonrpc":"2.0","method":`)
	b.WriteString(strconv.Quote(ev.Kind.String()))
	b.WriteString(`,"params":{"seq":`)
	b.WriteString(strconv.FormatUint(ev.Seq, 10))
	b.WriteString(`,"time":"`)
	b.WriteString(formatInstant(ev.Time))
	b.WriteByte('"')
	if len(p) > 2 && p[0] == '{' {
		b.WriteByte(',')
		b.Write(p[1:])
	} else {
		b.WriteString("}")
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// encCache encodes each event once per view, however many clients receive
// it: with 200 clients that is the difference between 200 JSON encodings
// per event and three.
type encCache struct {
	mu    sync.Mutex
	m     map[encKey]*encEntry
	ring  []encKey
	next  int
	count int
}

type encKey struct {
	seq  uint64
	view view
}

type encEntry struct {
	once sync.Once
	b    []byte
	pm   *websocket.PreparedMessage // the frame, built once for every connection
	err  error
}

func newEncCache(size int) *encCache {
	return &encCache{m: make(map[encKey]*encEntry, size), ring: make([]encKey, size)}
}

func (c *encCache) get(ev events.Event, v view) ([]byte, error) {
	e := c.entry(ev, v)
	return e.b, e.err
}

// prepared returns the notification frame for ev as view v sees it, ready
// to write to any connection.
func (c *encCache) prepared(ev events.Event, v view) ([]byte, *websocket.PreparedMessage, error) {
	e := c.entry(ev, v)
	return e.b, e.pm, e.err
}

func (c *encCache) entry(ev events.Event, v view) *encEntry {
	if _, personal := ev.Data.(events.Result); !personal {
		if _, personal = ev.Data.(events.Identity); !personal {
			v = viewEligibility // the same for everyone
		}
	}
	k := encKey{ev.Seq, v}
	c.mu.Lock()
	e, ok := c.m[k]
	if !ok {
		e = &encEntry{}
		if old := c.ring[c.next]; c.count == len(c.ring) {
			delete(c.m, old)
		} else {
			c.count++
		}
		c.ring[c.next] = k
		c.next = (c.next + 1) % len(c.ring)
		c.m[k] = e
	}
	c.mu.Unlock()
	e.once.Do(func() {
		e.b, e.err = encodeEvent(ev, v)
		if e.err == nil {
			e.pm, e.err = websocket.NewPreparedMessage(websocket.TextMessage, e.b)
		}
	})
	return e
}
