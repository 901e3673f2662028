package hisapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
)

// fakeBackend stands in for the agent: Check answers as if from the cache,
// publishing the events the agent would (card.presented, identity.read,
// eligibility.result) with an identity that has a chip photo.
type fakeBackend struct {
	bus   *events.Bus
	n     atomic.Uint64
	async bool // publish from another goroutine after Check returns
	hold  bool // publish nothing: the gateway never answers
	fail  error

	mu       sync.Mutex
	current  *events.Result
	receipts map[string]events.Result
	cacheAge time.Duration
	apps     []string // whose request each check was (events.HISAppOf)
}

func newFakeBackend(bus *events.Bus) *fakeBackend {
	return &fakeBackend{bus: bus, receipts: map[string]events.Result{}, cacheAge: 90 * time.Second}
}

// testPhoto is a synthetic portrait (a grey silhouette), as a PNG.
var testPhoto = func() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 96, 128))
	for y := range 128 {
		for x := range 96 {
			c := color.RGBA{0xdd, 0xe6, 0xee, 0xff}
			dx, dy := x-48, y-48
			if dx*dx+dy*dy < 22*22 || (y > 80 && (x-48)*(x-48)+(y-130)*(y-130) < 46*46) {
				c = color.RGBA{0x78, 0x90, 0x9c, 0xff}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}()

func sampleIdentity() patient.Identity {
	return patient.Identity{
		Medium: patient.MediumChip, CitizenID: "001099012345", Name: "Nguyễn Văn An",
		BirthDate: patient.Date{Year: 1990, Month: 5, Day: 17}, Sex: patient.Male, Address: "Hà Nội",
		Chip:         &patient.ChipData{Photo: testPhoto, PhotoType: "image/png", Ethnicity: "Kinh", ReadAt: time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)},
		Authenticity: patient.Authenticity{Level: patient.IntactIssuerUnknown},
	}
}

func sampleEligibility() patient.Eligibility {
	return patient.Eligibility{
		Verdict: patient.Eligible, Code: "000", ReasonVI: "Thẻ còn giá trị sử dụng", ReasonEN: "Card valid",
		CardNumber: "DN4010123456789", Holder: "Nguyễn Văn An", ValidFrom: patient.Date{Year: 2026, Month: 1, Day: 1},
		ValidTo: patient.Date{Year: 2026, Month: 12, Day: 31}, RegisteredFacility: "01043", BenefitPercent: 80,
		Source: patient.SourceCache, CheckedAt: time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC), Age: time.Hour,
	}
}

func (f *fakeBackend) Check(ctx context.Context, id patient.Identity) (string, error) {
	if f.fail != nil {
		return "", f.fail
	}
	checkID := fmt.Sprintf("chk-%d", f.n.Add(1))
	app, his := events.HISAppOf(ctx)
	if !his {
		app = "(not marked as a HIS request)"
	}
	f.mu.Lock()
	f.apps = append(f.apps, app)
	f.mu.Unlock()
	publish := func() {
		f.bus.Publish(events.CardPresented, events.Presented{CheckID: checkID, Medium: id.Medium})
		f.bus.Publish(events.IdentityRead, events.Identity{CheckID: checkID, Identity: id})
		r := events.Result{CheckID: checkID, Identity: id, Eligibility: sampleEligibility()}
		f.mu.Lock()
		f.current = &r
		f.receipts[checkID] = r
		f.mu.Unlock()
		f.bus.Publish(events.EligibilityResult, r)
	}
	if f.hold {
		return checkID, nil
	}
	if f.async {
		go publish()
	} else {
		publish()
	}
	return checkID, nil
}

// scan simulates a chip read at the counter: the events the agent
// publishes after a virtual card is tapped.
func (f *fakeBackend) scan() string {
	checkID := fmt.Sprintf("scan-%d", f.n.Add(1))
	id := sampleIdentity()
	f.bus.Publish(events.CardPresented, events.Presented{CheckID: checkID, Medium: patient.MediumChip, Device: "Virtual Reader 00"})
	f.bus.Publish(events.CardProgress, events.Progress{CheckID: checkID, Step: "dg13", Percent: 60})
	f.bus.Publish(events.IdentityRead, events.Identity{CheckID: checkID, Identity: id})
	r := events.Result{CheckID: checkID, Identity: id, Eligibility: sampleEligibility()}
	f.mu.Lock()
	f.current = &r
	f.receipts[checkID] = r
	f.mu.Unlock()
	f.bus.Publish(events.EligibilityResult, r)
	return checkID
}

func (f *fakeBackend) Current() (events.Result, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.current == nil {
		return events.Result{}, false
	}
	return *f.current, true
}

func (f *fakeBackend) Receipt(id string) (events.Result, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.receipts[id]
	return r, ok
}

func (f *fakeBackend) CacheAge() time.Duration { return f.cacheAge }

type testServer struct {
	*Server
	bus     *events.Bus
	backend *fakeBackend
	addr    string // host:port
	ws      string // ws://…/v1/ws
	dir     string
}

const testOrigin = "https://his.example.vn"

func testLimits() Limits {
	return Limits{HelloTimeout: 2 * time.Second, PairingTimeout: 5 * time.Second, RevokeInterval: 50 * time.Millisecond}
}

func startServer(t testing.TB, mod func(*Options)) *testServer {
	t.Helper()
	bus := events.New()
	be := newFakeBackend(bus)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{
		Listener: ln, Origins: []string{testOrigin}, DataDir: t.TempDir(), Version: "test",
		Limits: testLimits(), Logger: slog.New(slog.DiscardHandler),
	}
	if mod != nil {
		mod(&opt)
	}
	s, err := New(opt, be, bus)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := s.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return within 10s of cancel")
		}
	})
	return &testServer{Server: s, bus: bus, backend: be, addr: addr.String(), ws: "ws://" + addr.String() + WebSocketPath, dir: opt.DataDir}
}

// token mints a token as IT would with "tiepdon pairing add".
func (ts *testServer) token(t testing.TB, origin string, scopes ...Scope) string {
	t.Helper()
	tok, _, err := ts.Store().Add(context.Background(), "test app", origin, scopes)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// client is a test JSON-RPC client over a real WebSocket.
type client struct {
	t     testing.TB
	c     *websocket.Conn
	next  int
	notes []msg // notifications read while waiting for a response
}

type msg struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *Error          `json:"error,omitempty"`
}

func dial(ts *testServer, origin string, hdr http.Header) (*websocket.Conn, *http.Response, error) {
	if hdr == nil {
		hdr = http.Header{}
	}
	if origin != "" {
		hdr.Set("Origin", origin)
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	return d.Dial(ts.ws, hdr)
}

func connect(t testing.TB, ts *testServer, origin string) *client {
	t.Helper()
	c, _, err := dial(ts, origin, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, c: c}
}

// helloWith connects and says hello with tok; it fails the test on error.
func helloWith(t testing.TB, ts *testServer, origin, tok string) *client {
	t.Helper()
	c := connect(t, ts, origin)
	if e := c.call("session.hello", map[string]any{"token": tok, "client": map[string]string{"name": "test"}, "apiLevel": 1}, nil); e != nil {
		t.Fatalf("session.hello: %v", e)
	}
	return c
}

func (c *client) send(v any) {
	c.t.Helper()
	c.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := c.c.WriteJSON(v); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) read(timeout time.Duration) (msg, error) {
	c.c.SetReadDeadline(time.Now().Add(timeout))
	var m msg
	_, b, err := c.c.ReadMessage()
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("bad JSON from server: %v: %s", err, b)
	}
	return m, nil
}

// call sends a request and waits for its response, keeping notifications
// that arrive meanwhile. It returns the JSON-RPC error, if any.
func (c *client) call(method string, params, result any) *Error {
	c.t.Helper()
	c.next++
	id := c.next
	req := map[string]any{"jsonrpc": "2.0", "id": id, "method": method}
	if params != nil {
		req["params"] = params
	}
	c.send(req)
	for {
		m, err := c.read(10 * time.Second)
		if err != nil {
			c.t.Fatalf("%s: reading response: %v", method, err)
		}
		if m.Method != "" {
			c.notes = append(c.notes, m)
			continue
		}
		if string(m.ID) != fmt.Sprint(id) {
			c.t.Fatalf("%s: response id %s, want %d", method, m.ID, id)
		}
		if m.Error != nil {
			return m.Error
		}
		if result != nil {
			if err := json.Unmarshal(m.Result, result); err != nil {
				c.t.Fatalf("%s: decoding result %s: %v", method, m.Result, err)
			}
		}
		return nil
	}
}

// waitNote returns the next notification named method (earlier ones are
// skipped), within 10 s.
func (c *client) waitNote(method string) msg {
	c.t.Helper()
	for i, m := range c.notes {
		if m.Method == method {
			c.notes = c.notes[i+1:]
			return m
		}
	}
	c.notes = nil
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := c.read(time.Until(deadline))
		if err != nil {
			c.t.Fatalf("waiting for %s: %v", method, err)
		}
		if m.Method == method {
			return m
		}
	}
}

// closeCode reads until the connection closes and returns the close code
// (or -1 if it ended without a close frame).
func closeCode(t testing.TB, c *websocket.Conn, within time.Duration) (int, string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(within))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Text
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("connection still open after %s", within)
		}
		return -1, err.Error()
	}
}

func wantCode(t testing.TB, e *Error, code int, reason string) {
	t.Helper()
	if e == nil {
		t.Fatalf("got success, want error %d (%s)", code, reason)
	}
	if e.Code != code || e.Data == nil || e.Data.Reason != reason {
		t.Fatalf("got error %d %+v %q, want %d (%s)", e.Code, e.Data, e.Message, code, reason)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
