package hisapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
)

// --- transport: bind address, Host, Origin ---

func TestNewRefusesNonLoopback(t *testing.T) {
	bus := events.New()
	for _, addr := range []string{"0.0.0.0:8733", ":8733", "192.168.1.10:8733", "his.example.vn:8733"} {
		_, err := New(Options{Addr: addr, DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)}, newFakeBackend(bus), bus)
		if !errors.Is(err, ErrNonLoopback) {
			t.Errorf("New(%q) = %v, want ErrNonLoopback", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:0", "[::1]:0"} {
		s, err := New(Options{Addr: addr, DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)}, newFakeBackend(bus), bus)
		if err != nil {
			t.Errorf("New(%q): %v", addr, err)
			continue
		}
		s.store.Close()
		s.state.Close()
	}
	s, err := New(Options{Addr: "0.0.0.0:0", AllowNonLoopback: true, DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)}, newFakeBackend(bus), bus)
	if err != nil {
		t.Fatalf("New with AllowNonLoopback: %v", err)
	}
	s.store.Close()
	s.state.Close()
}

func TestNewRefusesBadOrigins(t *testing.T) {
	bus := events.New()
	for _, o := range []string{"his.example.vn", "https://his.example.vn/app", "ftp://x", "https://", "*"} {
		_, err := New(Options{Addr: "127.0.0.1:0", Origins: []string{o}, DataDir: t.TempDir()}, newFakeBackend(bus), bus)
		if err == nil {
			t.Errorf("New accepted origin %q", o)
		}
	}
}

func TestOriginChecks(t *testing.T) {
	ts := startServer(t, nil)
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{testOrigin, true},
		{"", true},                  // non-browser client
		{"http://" + ts.addr, true}, // the agent's own demo page
		{"https://evil.example", false},
		{"https://his.example.vn.evil.example", false},
		{"http://his.example.vn", false},  // scheme differs
		{"https://HIS.example.vn", false}, // browsers send lower case; anything else is not a browser
		{"https://his.example.vn:8443", false},
		{"null", false}, // sandboxed iframe, file://
		{"http://127.0.0.1:1", false},
	} {
		c, resp, err := dial(ts, tc.origin, nil)
		if tc.ok {
			if err != nil {
				t.Errorf("origin %q refused: %v", tc.origin, err)
				continue
			}
			c.Close()
			continue
		}
		if err == nil {
			c.Close()
			t.Errorf("origin %q accepted", tc.origin)
			continue
		}
		if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q: got %v, want HTTP 403", tc.origin, resp)
		}
	}
}

func TestHostChecks(t *testing.T) {
	ts := startServer(t, nil)
	_, port, _ := net.SplitHostPort(ts.addr)
	for _, tc := range []struct {
		host string
		ok   bool
	}{
		{"127.0.0.1:" + port, true},
		{"localhost:" + port, true},
		{"LOCALHOST", true},
		{"[::1]:" + port, true},
		{"evil.example:" + port, false}, // DNS rebinding: evil.example resolved to 127.0.0.1
		{"127.0.0.1.nip.io:" + port, false},
		{"192.168.1.5:" + port, false},
	} {
		hdr := http.Header{"Host": {tc.host}}
		c, resp, err := dial(ts, "", hdr)
		if tc.ok != (err == nil) {
			t.Errorf("Host %q: WebSocket err = %v, want ok=%v", tc.host, err, tc.ok)
		}
		if err == nil {
			c.Close()
		} else if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("Host %q: got %v, want 403", tc.host, resp)
		}
		req, _ := http.NewRequest("GET", "http://"+ts.addr+"/healthz", nil)
		req.Host = tc.host
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if got := r.StatusCode == http.StatusOK; got != tc.ok {
			t.Errorf("Host %q: /healthz status %d, want ok=%v", tc.host, r.StatusCode, tc.ok)
		}
	}
}

// --- session start ---

func TestHelloTimeout(t *testing.T) {
	ts := startServer(t, func(o *Options) { o.Limits.HelloTimeout = 300 * time.Millisecond })
	c := connect(t, ts, "")
	// Other calls do not count as a hello.
	var info infoResult
	if e := c.call("system.info", nil, &info); e != nil {
		t.Fatal(e)
	}
	start := time.Now()
	code, _ := closeCode(t, c.c, 5*time.Second)
	if code != CloseHelloTimeout {
		t.Fatalf("close code %d, want %d", code, CloseHelloTimeout)
	}
	if waited := time.Since(start); waited > 3*time.Second {
		t.Errorf("closed after %s", waited)
	}
}

func TestMethodsBeforeHelloAndWithoutToken(t *testing.T) {
	ts := startServer(t, nil)
	c := connect(t, ts, testOrigin)
	wantCode(t, c.call("status", nil, nil), CodeHelloRequired, ReasonHelloRequired)
	wantCode(t, c.call("pairing.request", map[string]any{"name": "x", "scopes": []string{"eligibility"}}, nil), CodeHelloRequired, ReasonHelloRequired)
	var h helloResult
	if e := c.call("session.hello", map[string]any{"client": map[string]string{"name": "HIS"}, "apiLevel": 1}, &h); e != nil {
		t.Fatal(e)
	}
	if h.Paired || len(h.Scopes) != 0 || h.APILevel != 1 || h.SessionID == "" {
		t.Fatalf("hello without token: %+v", h)
	}
	wantCode(t, c.call("status", nil, nil), CodeUnauthorized, ReasonNoToken)
	wantCode(t, c.call("eligibility.check", map[string]any{"identity": map[string]string{"citizenId": "001099012345"}}, nil), CodeUnauthorized, ReasonNoToken)
	wantCode(t, c.call("session.hello", map[string]any{"apiLevel": 1}, nil), CodeInvalidRequest, ReasonBadRequest)
}

func TestAPILevel(t *testing.T) {
	ts := startServer(t, nil)
	tok := ts.token(t, "", ScopeEligibility)
	c := connect(t, ts, "")
	var h helloResult
	if e := c.call("session.hello", map[string]any{"token": tok, "apiLevel": 99}, &h); e != nil {
		t.Fatal(e)
	}
	if h.APILevel != APILevel {
		t.Errorf("apiLevel 99 answered with %d, want %d", h.APILevel, APILevel)
	}
	c = connect(t, ts, "")
	e := c.call("session.hello", map[string]any{"token": tok, "apiLevel": -1}, nil)
	wantCode(t, e, CodeAPILevel, ReasonAPILevel)
	if e.Data.MinAPILevel != MinAPILevel || e.Data.MaxAPILevel != APILevel {
		t.Errorf("levels in error: %+v", e.Data)
	}
}

func TestTokens(t *testing.T) {
	ts := startServer(t, nil)
	ctx := context.Background()
	browserTok := ts.token(t, testOrigin, ScopeEligibility)
	appTok := ts.token(t, "", ScopeEligibility)
	revoked, info, err := ts.Store().Add(ctx, "old", "", []Scope{ScopeEligibility})
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.Store().Revoke(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, origin, tok, reason string
	}{
		{"browser token from its origin", testOrigin, browserTok, ""},
		{"app token without origin", "", appTok, ""},
		{"bad token", "", "tdp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ReasonUnknownToken},
		{"not a token", "", "hello", ReasonUnknownToken},
		{"revoked token", "", revoked, ReasonTokenRevoked},
		{"browser token without origin", "", browserTok, ReasonOriginMismatch},
		{"app token from a browser", testOrigin, appTok, ReasonOriginMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := connect(t, ts, tc.origin)
			var h helloResult
			e := c.call("session.hello", map[string]any{"token": tc.tok, "apiLevel": 1}, &h)
			if tc.reason == "" {
				if e != nil || !h.Paired {
					t.Fatalf("hello: %v %+v", e, h)
				}
				return
			}
			wantCode(t, e, CodeUnauthorized, tc.reason)
			if strings.Contains(e.Message, tc.tok) {
				t.Error("error message echoes the token")
			}
		})
	}
}

func TestRevokeClosesLiveSession(t *testing.T) {
	ts := startServer(t, nil)
	ctx := context.Background()
	tok, info, err := ts.Store().Add(ctx, "lab", "", []Scope{ScopeEligibility})
	if err != nil {
		t.Fatal(err)
	}
	c := helloWith(t, ts, "", tok)
	// Revoke from "another process": a second store on the same file, as
	// "tiepdon pairing revoke" opens it.
	other, err := OpenStore(ts.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Revoke(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	if code, _ := closeCode(t, c.c, 5*time.Second); code != CloseTokenRevoked {
		t.Fatalf("close code %d, want %d", code, CloseTokenRevoked)
	}
	c = connect(t, ts, "")
	wantCode(t, c.call("session.hello", map[string]any{"token": tok, "apiLevel": 1}, nil), CodeUnauthorized, ReasonTokenRevoked)

	// Revoking from the window closes at once.
	tok2, info2, _ := ts.Store().Add(ctx, "lab2", "", []Scope{ScopeEligibility})
	c = helloWith(t, ts, "", tok2)
	if err := ts.Revoke(ctx, info2.ID); err != nil {
		t.Fatal(err)
	}
	if code, _ := closeCode(t, c.c, 5*time.Second); code != CloseTokenRevoked {
		t.Fatalf("close code %d, want %d", code, CloseTokenRevoked)
	}
}

// --- pairing ---

// approver plays the reception window: it answers pairing requests on the
// bus with approve, and passes each request on.
func approver(t *testing.T, bus *events.Bus, approve bool) <-chan events.Pairing {
	sub := bus.Subscribe(events.PairingRequested, 4)
	t.Cleanup(sub.Close)
	out := make(chan events.Pairing, 4)
	go func() {
		for ev := range sub.C() {
			if p := ev.Data.(events.Pairing); !p.Ended {
				out <- p
				p.Reply(approve)
			}
		}
	}()
	return out
}

func TestPairingApproved(t *testing.T) {
	ts := startServer(t, nil)
	asked := approver(t, ts.bus, true)
	c := connect(t, ts, testOrigin)
	if e := c.call("session.hello", map[string]any{"client": map[string]string{"name": "HIS"}, "apiLevel": 1}, nil); e != nil {
		t.Fatal(e)
	}
	var res pairingResult
	if e := c.call("pairing.request", map[string]any{"name": "HIS Khoa Khám", "scopes": []string{"eligibility", "identity"}}, &res); e != nil {
		t.Fatal(e)
	}
	p := <-asked
	if p.Origin != testOrigin || len(p.Code) != 6 || p.Name != "HIS Khoa Khám" || strings.Join(p.Scopes, ",") != "eligibility,identity" {
		t.Fatalf("window saw %+v", p)
	}
	note := c.waitNote("pairing.code")
	var pc pairingCode
	json.Unmarshal(note.Params, &pc)
	if pc.Code != p.Code || pc.PairingID != p.ID {
		t.Fatalf("page shows %+v, window shows %s/%s", pc, p.ID, p.Code)
	}
	if d := p.Expires.Sub(pc.ExpiresAt); d < 0 || d >= time.Millisecond { // the page gets milliseconds
		t.Errorf("the window counts down to %v, the page to %v", p.Expires, pc.ExpiresAt)
	}
	if !strings.HasPrefix(res.Token, "tdp_") || res.TokenID == "" || len(res.Scopes) != 2 {
		t.Fatalf("pairing result %+v", res)
	}
	// The session is authenticated at once…
	var st health
	if e := c.call("status", nil, &st); e != nil {
		t.Fatal(e)
	}
	// …and the token works on a new connection from the same origin only.
	helloWith(t, ts, testOrigin, res.Token)
	c2 := connect(t, ts, "")
	wantCode(t, c2.call("session.hello", map[string]any{"token": res.Token, "apiLevel": 1}, nil), CodeUnauthorized, ReasonOriginMismatch)
	// Only the hash is stored.
	list, _ := ts.Store().List(context.Background())
	if len(list) != 1 || list[0].Name != "HIS Khoa Khám" || list[0].Origin != testOrigin {
		t.Fatalf("stored %+v", list)
	}
	raw := readFile(t, ts.dir+"/"+TokenFile)
	if bytes.Contains(raw, []byte(res.Token)) || bytes.Contains(raw, []byte(strings.TrimPrefix(res.Token, "tdp_"))) {
		t.Fatal("token stored in clear")
	}
}

func TestPairingDeniedAndExpired(t *testing.T) {
	ts := startServer(t, func(o *Options) { o.Limits.PairingTimeout = 300 * time.Millisecond })
	c := connect(t, ts, "")
	c.call("session.hello", map[string]any{"client": map[string]string{"name": "lab"}, "apiLevel": 1}, nil)
	// Headless: nobody approves.
	e := c.call("pairing.request", map[string]any{"name": "LIS", "scopes": []string{"eligibility"}}, nil)
	wantCode(t, e, CodePairingExpired, ReasonPairingExpired)
	if !strings.Contains(e.Message, "tiepdon pairing add") {
		t.Errorf("expired message does not say what to do: %q", e.Message)
	}
	asked := approver(t, ts.bus, false)
	wantCode(t, c.call("pairing.request", map[string]any{"name": "LIS", "scopes": []string{"eligibility"}}, nil), CodePairingDenied, ReasonPairingDenied)
	if p := <-asked; p.Origin != "app:LIS" {
		t.Errorf("window saw origin %q for a non-browser app", p.Origin)
	}
	wantCode(t, c.call("pairing.request", map[string]any{"name": "LIS", "scopes": []string{"photo"}}, nil), CodeInvalidParams, ReasonBadParams)
	wantCode(t, c.call("pairing.request", map[string]any{"name": "LIS", "scopes": []string{"admin"}}, nil), CodeInvalidParams, ReasonBadParams)
	if n, _ := ts.Store().List(context.Background()); len(n) != 0 {
		t.Fatalf("tokens stored after refusals: %+v", n)
	}
}

// --- scopes ---

func TestScopesAndPhoto(t *testing.T) {
	ts := startServer(t, nil)
	elig := helloWith(t, ts, "", ts.token(t, "", ScopeEligibility))
	ident := helloWith(t, ts, "", ts.token(t, "", ScopeEligibility, ScopeIdentity))
	photo := helloWith(t, ts, "", ts.token(t, "", ScopeEligibility, ScopeIdentity, ScopePhoto))
	onlyID := helloWith(t, ts, "", ts.token(t, "", ScopeIdentity))

	wantCode(t, elig.call("identity.current", nil, nil), CodeForbidden, ReasonScope)
	e := onlyID.call("eligibility.check", map[string]any{"identity": map[string]string{"citizenId": "001099012345"}}, nil)
	wantCode(t, e, CodeForbidden, ReasonScope)
	if e.Data.Scope != ScopeEligibility {
		t.Errorf("scope in error: %q", e.Data.Scope)
	}
	wantCode(t, onlyID.call("receipt.get", map[string]any{"checkId": "x"}, nil), CodeForbidden, ReasonScope)

	ts.backend.scan()
	for _, tc := range []struct {
		name      string
		c         *client
		identity  bool
		photo     bool
		eligEvent bool
	}{
		{"eligibility", elig, false, false, true},
		{"identity", ident, true, false, true},
		{"photo", photo, true, true, true},
		{"identity only", onlyID, true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.identity {
				n := tc.c.waitNote("identity.read")
				checkPayload(t, n.Params, true, tc.photo)
			}
			if tc.eligEvent {
				n := tc.c.waitNote("eligibility.result")
				checkPayload(t, n.Params, tc.identity, tc.photo)
				var r resultView
				json.Unmarshal(n.Params, &r)
				if r.Eligibility == nil || r.Eligibility.Verdict != patient.Eligible {
					t.Fatalf("eligibility missing: %s", n.Params)
				}
				if a := r.Eligibility.AgeSeconds; a == nil || *a != 3600 || r.Eligibility.Age != time.Hour || r.Eligibility.LatencyMS != nil {
					t.Errorf("a cached answer an hour old: want ageSeconds 3600 and age in ns, no latencyMs: %s", n.Params)
				}
			}
			if tc.identity {
				var raw json.RawMessage
				if e := tc.c.call("identity.current", nil, &raw); e != nil {
					t.Fatal(e)
				}
				checkPayload(t, raw, true, tc.photo)
			}
		})
	}
	// status names the current check's verdict only to eligibility tokens.
	var st health
	if e := onlyID.call("status", nil, &st); e != nil || st.Current != nil {
		t.Errorf("status for an identity-only token: %v current=%+v", e, st.Current)
	}
	if e := elig.call("status", nil, &st); e != nil || st.Current == nil || st.Current.Verdict != patient.Eligible {
		t.Errorf("status for an eligibility token: %v current=%+v", e, st.Current)
	}
	// identity.read never reaches a client without the identity scope.
	for _, n := range elig.notes {
		if n.Method == "identity.read" {
			t.Fatal("identity.read sent without the identity scope")
		}
	}
}

// checkPayload checks what personal data a result payload carries.
func checkPayload(t *testing.T, raw json.RawMessage, identity, photo bool) {
	t.Helper()
	s := string(raw)
	if got := strings.Contains(s, "001099012345"); got != identity {
		t.Errorf("citizen ID present=%v, want %v: %s", got, identity, s)
	}
	if got := strings.Contains(s, `"ethnicity"`); got != identity {
		t.Errorf("chip data present=%v, want %v", got, identity)
	}
	wantPhoto := base64.StdEncoding.EncodeToString(testPhoto)
	if got := strings.Contains(s, wantPhoto); got != photo {
		t.Errorf("photo present=%v, want %v", got, photo)
	}
	if !strings.Contains(s, `"authenticity"`) || !strings.Contains(s, `"medium"`) {
		t.Errorf("medium/authenticity missing: %s", s)
	}
}

// --- methods ---

func TestMethods(t *testing.T) {
	ts := startServer(t, nil)
	ts.bus.Publish(events.GatewayChanged, events.Gateway{State: events.GatewayDegraded, Since: time.Now(), Reason: "slow"})
	ts.bus.Publish(events.DeviceChanged, events.Device{Kind: events.Reader, Name: "ACS ACR1252 00", State: events.DeviceReady})
	ts.bus.Publish(events.DeviceChanged, events.Device{Kind: events.Scanner, Name: "/dev/ttyACM0", State: events.DeviceMissing})
	ts.bus.Publish(events.OutboxChanged, events.Outbox{Pending: 3})
	c := helloWith(t, ts, "", ts.token(t, "", ScopeEligibility, ScopeIdentity))

	t.Run("system.info", func(t *testing.T) {
		var info infoResult
		if e := c.call("system.info", nil, &info); e != nil {
			t.Fatal(e)
		}
		if info.Name != "tiepdon" || info.Version != "test" || info.APILevel != APILevel || len(info.Methods) != len(methods) || info.Limits.MaxMessageBytes != DefaultLimits.MaxMessageBytes {
			t.Fatalf("%+v", info)
		}
	})
	t.Run("status", func(t *testing.T) {
		// the tracker sees device events asynchronously
		var st health
		deadline := time.Now().Add(5 * time.Second)
		for {
			if e := c.call("status", nil, &st); e != nil {
				t.Fatal(e)
			}
			if len(st.Readers)+len(st.Scanners) == 2 || time.Now().After(deadline) {
				break
			}
		}
		if st.Status != "degraded" || st.Gateway == nil || st.Gateway.State != events.GatewayDegraded ||
			len(st.Readers) != 1 || len(st.Scanners) != 1 || st.Outbox.Pending != 3 ||
			st.Cache.AgeSeconds == nil || *st.Cache.AgeSeconds != 90 || st.Clients != 1 {
			t.Fatalf("%+v", st)
		}
	})
	var checkID string
	t.Run("eligibility.check waits for the answer", func(t *testing.T) {
		for _, async := range []bool{false, true} {
			ts.backend.async = async
			var r checkResult
			e := c.call("eligibility.check", map[string]any{"identity": map[string]any{
				"citizenId": "001099012345", "name": "Nguyễn Văn An", "birthDate": "17/05/1990"}}, &r)
			if e != nil {
				t.Fatal(e)
			}
			if r.Pending || r.Result == nil || r.Result.Eligibility.Verdict != patient.Eligible || r.CheckID == "" {
				t.Fatalf("async=%v: %+v", async, r)
			}
			checkID = r.CheckID
		}
		ts.backend.async = false
		// The agent learns the check is the HIS app's, and which app's (the
		// window labels it "HIS yêu cầu").
		ts.backend.mu.Lock()
		apps := ts.backend.apps
		ts.backend.mu.Unlock()
		if len(apps) != 2 || apps[0] != "test app" || apps[1] != "test app" {
			t.Errorf("checks were asked for by %q, want the paired app's name", apps)
		}
	})
	t.Run("eligibility.check without waiting", func(t *testing.T) {
		var r checkResult
		if e := c.call("eligibility.check", map[string]any{"identity": map[string]any{"cardNumber": "DN4010123456789"}, "wait": false}, &r); e != nil {
			t.Fatal(e)
		}
		if !r.Pending || r.Result != nil {
			t.Fatalf("%+v", r)
		}
		for {
			n := c.waitNote("eligibility.result")
			var got resultView
			json.Unmarshal(n.Params, &got)
			if got.CheckID == r.CheckID {
				break
			}
		}
	})
	t.Run("eligibility.check refuses bad identities", func(t *testing.T) {
		for _, id := range []map[string]any{
			{},
			{"citizenId": "12345"},
			{"citizenId": "00109901234x"},
			{"cardNumber": "dn40"},
			{"socialInsuranceNumber": "12"},
			{"citizenId": "001099012345", "medium": "chip"},
			{"citizenId": "001099012345", "authenticity": map[string]string{"level": "verified"}},
			{"citizenId": "001099012345", "birthDate": "31/02/1990"},
			{"citizenId": "001099012345", "sex": "X"},
		} {
			e := c.call("eligibility.check", map[string]any{"identity": id}, nil)
			wantCode(t, e, CodeInvalidParams, ReasonBadParams)
			if strings.Contains(e.Message, "00109901234") {
				t.Errorf("error echoes the ID: %q", e.Message)
			}
		}
		wantCode(t, c.call("eligibility.check", []any{1}, nil), CodeInvalidParams, ReasonBadParams)
	})
	t.Run("eligibility.check when the agent fails", func(t *testing.T) {
		ts.backend.fail = errors.New("boom 001099012345")
		e := c.call("eligibility.check", map[string]any{"identity": map[string]string{"citizenId": "001099012345"}}, nil)
		ts.backend.fail = nil
		wantCode(t, e, CodeCheckFailed, ReasonCheckFailed)
		if strings.Contains(e.Message, "001099012345") {
			t.Error("backend error leaked")
		}
	})
	t.Run("receipt.get", func(t *testing.T) {
		var r resultView
		if e := c.call("receipt.get", map[string]string{"checkId": checkID}, &r); e != nil {
			t.Fatal(e)
		}
		if r.CheckID != checkID || r.Eligibility == nil {
			t.Fatalf("%+v", r)
		}
		wantCode(t, c.call("receipt.get", map[string]string{"checkId": "nope"}, nil), CodeNotFound, ReasonNotFound)
		wantCode(t, c.call("receipt.get", nil, nil), CodeInvalidParams, ReasonBadParams)
		wantCode(t, c.call("receipt.get", map[string]string{"check": checkID}, nil), CodeInvalidParams, ReasonBadParams)
	})
	t.Run("identity.current", func(t *testing.T) {
		var r resultView
		if e := c.call("identity.current", nil, &r); e != nil {
			t.Fatal(e)
		}
		if r.CheckID == "" || r.Eligibility == nil {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("unknown method", func(t *testing.T) {
		wantCode(t, c.call("system.shutdown", nil, nil), CodeMethodNotFound, ReasonUnknownMethod)
	})
	t.Run("malformed messages", func(t *testing.T) {
		for _, tc := range []struct {
			frame  string
			code   int
			reason string
		}{
			{`{"jsonrpc":"2.0","id":1,"method":`, CodeParseError, ReasonParse},
			{`[]`, CodeInvalidRequest, ReasonBadRequest},
			{`{"jsonrpc":"1.0","id":7,"method":"status"}`, CodeInvalidRequest, ReasonBadRequest},
			{`{"jsonrpc":"2.0","id":{"a":1},"method":"status"}`, CodeInvalidRequest, ReasonBadRequest},
			{`"hello"`, CodeInvalidRequest, ReasonBadRequest},
		} {
			c.c.WriteMessage(websocket.TextMessage, []byte(tc.frame))
			m, err := c.read(5 * time.Second)
			for err == nil && m.Method != "" {
				m, err = c.read(5 * time.Second)
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.frame, err)
			}
			wantCode(t, m.Error, tc.code, tc.reason)
		}
		// A notification (no id) gets no answer; the next call still works.
		c.c.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","method":"status"}`))
		var info infoResult
		if e := c.call("system.info", nil, &info); e != nil {
			t.Fatal(e)
		}
	})
}

func TestNotificationsForwarded(t *testing.T) {
	ts := startServer(t, nil)
	c := helloWith(t, ts, "", ts.token(t, "", ScopeEligibility, ScopeIdentity))
	narrow := connect(t, ts, "")
	if e := narrow.call("session.hello", map[string]any{"token": ts.token(t, "", ScopeEligibility), "apiLevel": 1, "events": []string{"eligibility.result"}}, nil); e != nil {
		t.Fatal(e)
	}
	now := time.Now()
	want := []struct {
		kind events.Kind
		data any
		key  string
	}{
		{events.DeviceChanged, events.Device{Kind: events.Reader, Name: "R1", State: events.DeviceCard}, `"state":"card"`},
		{events.CardPresented, events.Presented{CheckID: "c1", Medium: patient.MediumChip}, `"checkId":"c1"`},
		{events.CardProgress, events.Progress{CheckID: "c1", Step: "dg2", Percent: 40}, `"percent":40`},
		{events.IdentityRead, events.Identity{CheckID: "c1", Identity: sampleIdentity()}, `"citizenId":"001099012345"`},
		{events.EligibilityResult, events.Result{CheckID: "c1", Identity: sampleIdentity(), Eligibility: sampleEligibility(), Current: true}, `"current":true`},
		{events.EligibilityUpdated, events.Result{CheckID: "c0", Identity: sampleIdentity(), Eligibility: sampleEligibility()}, `"current":false`}, // a late answer
		{events.GatewayChanged, events.Gateway{State: events.GatewayOffline, Since: now}, `"state":"offline"`},
		{events.ReadFailed, events.Failure{Medium: patient.MediumChip, Reason: "card removed"}, `"reason":"card removed"`},
		{events.Alert, events.AlertData{CheckID: "c1", Code: "qr-chip-mismatch", Message: "x"}, `"code":"qr-chip-mismatch"`},
	}
	ts.bus.Publish(events.OutboxChanged, events.Outbox{Pending: 1}) // not forwarded
	var seqs []uint64
	for _, w := range want {
		seqs = append(seqs, ts.bus.Publish(w.kind, w.data))
	}
	for i, w := range want {
		m, err := c.read(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if m.Method != w.kind.String() || !strings.Contains(string(m.Params), w.key) {
			t.Fatalf("notification %d: %s %s, want %s with %s", i, m.Method, m.Params, w.kind, w.key)
		}
		var p struct {
			Seq  uint64    `json:"seq"`
			Time time.Time `json:"time"`
		}
		json.Unmarshal(m.Params, &p)
		if p.Seq != seqs[i] || p.Time.IsZero() {
			t.Errorf("%s: seq %d time %v, want seq %d", m.Method, p.Seq, p.Time, seqs[i])
		}
	}
	m, err := narrow.read(5 * time.Second)
	if err != nil || m.Method != "eligibility.result" {
		t.Fatalf("narrow client got %s %v, want only eligibility.result", m.Method, err)
	}
}

// A client that stops reading loses notifications, is told how many with
// events.dropped, and never holds up the publisher or other clients.
func TestSlowClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, func(o *Options) {
		o.Listener = smallBufListener{ln.(*net.TCPListener)}
		o.Limits.QueueSize = 8
		o.Limits.WriteTimeout = time.Minute
	})
	tok := ts.token(t, "", ScopeEligibility, ScopeIdentity)
	fast := helloWith(t, ts, "", tok)
	slow := helloWith(t, ts, "", tok)

	big := sampleIdentity()
	big.Address = strings.Repeat("Số 1 phố Tràng Tiền, Hoàn Kiếm, Hà Nội. ", 50)
	const n = 400
	for i := range n {
		start := time.Now()
		seq := ts.bus.Publish(events.IdentityRead, events.Identity{CheckID: "c", Identity: big})
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Fatalf("Publish blocked for %s", d)
		}
		// The fast client keeps up: it gets every event in order.
		m, err := fast.read(5 * time.Second)
		if err != nil {
			t.Fatalf("fast client, event %d: %v", i, err)
		}
		var p struct{ Seq uint64 }
		json.Unmarshal(m.Params, &p)
		if m.Method != "identity.read" || p.Seq != seq {
			t.Fatalf("fast client got %s seq %d, want identity.read seq %d", m.Method, p.Seq, seq)
		}
	}
	// Now the slow client reads. It lost the oldest queued notifications,
	// never the newest; each events.dropped names exactly the lost range,
	// and events.since gives those back.
	var seqs []uint64 // every identity.read published, in order
	last := ts.bus.Seq()
	for s := last - n + 1; s <= last; s++ {
		seqs = append(seqs, s)
	}
	delivered := map[uint64]bool{}
	lost := map[uint64]bool{}
	var gaps []droppedParams
	for len(delivered)+len(lost) < n {
		m, err := slow.read(5 * time.Second)
		if err != nil {
			t.Fatalf("slow client after %d events, %d dropped: %v", len(delivered), len(lost), err)
		}
		switch m.Method {
		case "identity.read":
			var p struct{ Seq uint64 }
			json.Unmarshal(m.Params, &p)
			if lost[p.Seq] || delivered[p.Seq] {
				t.Fatalf("seq %d delivered after it was reported lost, or twice", p.Seq)
			}
			delivered[p.Seq] = true
		case "events.dropped":
			var d droppedParams
			json.Unmarshal(m.Params, &d)
			if d.Dropped == 0 || d.ToSeq < d.FromSeq || d.Dropped != d.ToSeq-d.FromSeq+1 || d.BootID == "" {
				t.Fatalf("events.dropped %s: want a non-empty range whose size is dropped, and a bootId", m.Params)
			}
			for s := d.FromSeq; s <= d.ToSeq; s++ {
				if delivered[s] {
					t.Fatalf("events.dropped [%d, %d] names seq %d, which was delivered", d.FromSeq, d.ToSeq, s)
				}
				lost[s] = true
			}
			gaps = append(gaps, d)
		}
	}
	if len(lost) == 0 || len(delivered) == n {
		t.Fatalf("slow client: %d received, %d dropped; want some dropped", len(delivered), len(lost))
	}
	for _, s := range seqs {
		if !delivered[s] && !lost[s] {
			t.Fatalf("seq %d neither delivered nor reported lost", s)
		}
	}
	if !delivered[last] {
		t.Fatalf("the newest notification (seq %d) was not delivered: a slow client must lose the oldest", last)
	}
	// Replay: events.since after the first gap's afterSeq returns every lost one.
	var since struct {
		BootID   string            `json:"bootId"`
		Complete bool              `json:"complete"`
		Events   []json.RawMessage `json:"events"`
	}
	if e := slow.call("events.since", map[string]any{"bootId": gaps[0].BootID, "seq": gaps[0].AfterSeq}, &since); e != nil {
		t.Fatal(e)
	}
	replayed := map[uint64]bool{}
	for _, raw := range since.Events {
		var m struct {
			Method string
			Params struct{ Seq uint64 }
		}
		json.Unmarshal(raw, &m)
		if m.Method == "identity.read" {
			replayed[m.Params.Seq] = true
		}
	}
	for s := range lost {
		if !replayed[s] {
			t.Fatalf("events.since did not replay lost seq %d (complete %v, %d replayed)", s, since.Complete, len(replayed))
		}
	}
	if !since.Complete || since.BootID != gaps[0].BootID {
		t.Fatalf("events.since: complete %v boot %q", since.Complete, since.BootID)
	}
	t.Logf("slow client: %d received, %d lost in %d reported ranges, all replayed by events.since; newest delivered", len(delivered), len(lost), len(gaps))
}

// events.since with another boot's id says the agent restarted and gives
// what this boot holds.
func TestEventsSinceOtherBoot(t *testing.T) {
	ts := startServer(t, nil)
	c := helloWith(t, ts, "", ts.token(t, "", ScopeEligibility))
	ts.bus.Publish(events.GatewayChanged, events.Gateway{State: events.GatewayOnline})
	var res struct {
		BootID   string            `json:"bootId"`
		Complete bool              `json:"complete"`
		Gap      string            `json:"gap"`
		Events   []json.RawMessage `json:"events"`
	}
	if e := c.call("events.since", map[string]any{"bootId": "0000000000000000", "seq": 5}, &res); e != nil {
		t.Fatal(e)
	}
	if res.Complete || res.Gap != "agent-restarted" || res.BootID == "0000000000000000" || len(res.Events) == 0 {
		t.Fatalf("events.since with a stale boot id: %+v", res)
	}
}

// smallBufListener shrinks each accepted connection's send buffer so that a
// client that does not read fills it quickly.
type smallBufListener struct{ *net.TCPListener }

func (l smallBufListener) Accept() (net.Conn, error) {
	c, err := l.AcceptTCP()
	if err != nil {
		return nil, err
	}
	c.SetWriteBuffer(4096)
	return c, nil
}

// --- limits ---

func TestRateLimitAndFlood(t *testing.T) {
	ts := startServer(t, func(o *Options) {
		o.Limits.MessagesPerSecond = 5
		o.Limits.Burst = 5
		o.Limits.FloodClose = 30
	})
	c := helloWith(t, ts, "", ts.token(t, "", ScopeEligibility))
	// Fire 20 requests without waiting: the burst passes, the rest are refused.
	for i := range 20 {
		c.send(map[string]any{"jsonrpc": "2.0", "id": 100 + i, "method": "system.info"})
	}
	ok, limited := 0, 0
	for range 20 {
		m, err := c.read(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if m.Error != nil {
			wantCode(t, m.Error, CodeRateLimited, ReasonRateLimited)
			if m.Error.Data.RetryAfterMS <= 0 {
				t.Errorf("no retryAfterMs")
			}
			limited++
		} else {
			ok++
		}
	}
	if ok < 4 || ok > 8 || limited < 12 {
		t.Fatalf("%d answered, %d rate-limited; want about 5 and 15", ok, limited)
	}
	// A client that keeps flooding is disconnected.
	for i := range 60 {
		if c.c.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","id":1,"method":"system.info"}`)) != nil {
			break
		}
		_ = i
	}
	if code, _ := closeCode(t, c.c, 5*time.Second); code != websocket.ClosePolicyViolation {
		t.Fatalf("close code %d, want 1008", code)
	}
}

func TestOversizeFrame(t *testing.T) {
	ts := startServer(t, func(o *Options) { o.Limits.MaxMessageBytes = 1024 })
	c := helloWith(t, ts, "", ts.token(t, "", ScopeEligibility))
	big := `{"jsonrpc":"2.0","id":1,"method":"system.info","params":{"pad":"` + strings.Repeat("x", 2000) + `"}}`
	c.c.WriteMessage(websocket.TextMessage, []byte(big))
	if code, _ := closeCode(t, c.c, 5*time.Second); code != websocket.CloseMessageTooBig {
		t.Fatalf("close code %d, want 1009", code)
	}
}

func TestBinaryFrameRefused(t *testing.T) {
	ts := startServer(t, nil)
	c := connect(t, ts, "")
	c.c.WriteMessage(websocket.BinaryMessage, []byte(`{"jsonrpc":"2.0","id":1,"method":"system.info"}`))
	if code, _ := closeCode(t, c.c, 5*time.Second); code != websocket.CloseUnsupportedData {
		t.Fatalf("close code %d, want 1003", code)
	}
}

func TestClientsPerOrigin(t *testing.T) {
	ts := startServer(t, func(o *Options) {
		o.Limits.ClientsPerOrigin = 2
		o.Limits.HelloTimeout = time.Minute
	})
	hello := func(c *client) *Error {
		return c.call("session.hello", map[string]any{"client": map[string]string{"name": "test"}, "apiLevel": 1}, nil)
	}
	a := connect(t, ts, testOrigin)
	if e := hello(a); e != nil {
		t.Fatal(e)
	}
	if e := hello(connect(t, ts, testOrigin)); e != nil {
		t.Fatal(e)
	}
	helloWith(t, ts, "", ts.token(t, "", ScopeEligibility)) // another origin: still fine
	// The third from the origin connects (it waits in the hello line) and is
	// refused with 4429 when it says hello.
	c, _, err := dial(ts, testOrigin, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.WriteJSON(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "session.hello", "params": map[string]any{"client": map[string]string{"name": "test"}, "apiLevel": 1}})
	if code, reason := closeCode(t, c, 5*time.Second); code != CloseTooManyClients || !strings.Contains(reason, "origin") {
		t.Fatalf("close %d %q, want %d", code, reason, CloseTooManyClients)
	}
	if n := ts.originCount(testOrigin); n != 2 {
		t.Fatalf("origin holds %d slots after a refused hello, want 2", n)
	}
	// A slot frees when a client leaves.
	a.c.Close()
	waitUntil(t, 5*time.Second, func() bool { return ts.originCount(testOrigin) == 1 })
	if e := hello(connect(t, ts, testOrigin)); e != nil {
		t.Fatal(e)
	}
}

// Connections that never say hello (a stuck or hostile local process) wait
// in a line of their own per remote address, where a newcomer evicts the
// oldest: 300 of them neither fill the per-origin slots nor keep a paired
// back-end client (no Origin, like them) from connecting and signing in.
func TestHelloLessConnectionsCannotStarvePairedClients(t *testing.T) {
	ts := startServer(t, func(o *Options) { o.Limits.HelloTimeout = time.Minute })
	tok := ts.token(t, "", ScopeEligibility)
	var idle []*websocket.Conn
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	evicted := 0
	for range 300 {
		c, _, err := dial(ts, "", nil)
		if err != nil {
			t.Fatalf("hello-less connection %d refused at the handshake: %v", len(idle), err)
		}
		idle = append(idle, c)
	}
	if n := ts.originCount(""); n != 0 {
		t.Fatalf("hello-less connections hold %d origin slots, want 0", n)
	}
	waitUntil(t, 20*time.Second, func() bool { return ts.connCount() <= DefaultLimits.HelloPerRemote })
	// The oldest were told why they were closed.
	for _, c := range idle[:10] {
		if code, reason := closeCode(t, c, 5*time.Second); code != CloseHelloTimeout || !strings.Contains(reason, "hello") {
			t.Fatalf("evicted connection closed with %d %q, want %d", code, reason, CloseHelloTimeout)
		}
		evicted++
	}
	start := time.Now()
	c := helloWith(t, ts, "", tok)
	took := time.Since(start)
	var st map[string]any
	if e := c.call("status", nil, &st); e != nil {
		t.Fatalf("paired client after the flood: %v", e)
	}
	t.Logf("paired client connected and said hello in %s beside 300 hello-less connections (%d evicted checked)", took, evicted)
	if took > time.Second {
		t.Fatalf("paired client took %s to connect and sign in (goal 100 ms; 1 s bound for a loaded CI machine)", took)
	}
}

// TestHelloLessFromManyLoopbackAddresses: a local process that binds
// 127.0.0.2, 127.0.0.3, … still waits in the one loopback line, so its
// hello-less connections cannot fill MaxClients either.
func TestHelloLessFromManyLoopbackAddresses(t *testing.T) {
	ts := startServer(t, func(o *Options) {
		o.Limits.HelloTimeout = time.Minute
		o.Limits.MaxClients = 20
		o.Limits.HelloPerRemote = 4
	})
	tok := ts.token(t, "", ScopeEligibility)
	var idle []*websocket.Conn
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	for i := range 40 {
		src := net.IPv4(127, 0, 1, byte(2+i))
		d := websocket.Dialer{HandshakeTimeout: 5 * time.Second, NetDial: func(network, addr string) (net.Conn, error) {
			return (&net.Dialer{LocalAddr: &net.TCPAddr{IP: src}}).Dial(network, addr)
		}}
		c, _, err := d.Dial(ts.ws, nil)
		if err != nil {
			t.Fatalf("hello-less connection from %s refused at the handshake: %v", src, err)
		}
		idle = append(idle, c)
	}
	waitUntil(t, 20*time.Second, func() bool { return ts.connCount() <= 4 })
	c := helloWith(t, ts, "", tok)
	var st map[string]any
	if e := c.call("status", nil, &st); e != nil {
		t.Fatalf("paired client after hello-less connections from 40 loopback addresses: %v", e)
	}
}

func TestIdleTimeout(t *testing.T) {
	ts := startServer(t, func(o *Options) { o.Limits.IdleTimeout = 300 * time.Millisecond })
	c := helloWith(t, ts, "", ts.token(t, "", ScopeEligibility))
	// The client reads but answers no ping.
	c.c.SetPingHandler(func(string) error { return nil })
	if code, _ := closeCode(t, c.c, 5*time.Second); code != CloseIdle {
		t.Fatalf("close code %d, want %d", code, CloseIdle)
	}
}

func TestIdleClientAnsweringPingsStays(t *testing.T) {
	ts := startServer(t, func(o *Options) { o.Limits.IdleTimeout = 300 * time.Millisecond })
	c := helloWith(t, ts, "", ts.token(t, "", ScopeEligibility))
	// Reading answers pings; after three idle timeouts the session still works.
	go func() {
		for {
			if _, _, err := c.c.NextReader(); err != nil {
				return
			}
		}
	}()
	waitUntil(t, 10*time.Second, func() bool { return ts.pings.Load() >= 6 })
	if ts.connCount() != 1 {
		t.Fatalf("client answering pings was dropped")
	}
}

func (s *Server) connCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// originCount is how many connections hold a slot of origin's quota.
func (s *Server) originCount(origin string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.perOrigin[origin]
}

func waitUntil(t *testing.T, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", within)
		}
		time.Sleep(5 * time.Millisecond) // polling with a deadline
	}
}

// --- HTTP endpoints ---

func TestHTTPEndpoints(t *testing.T) {
	ts := startServer(t, nil)
	ts.bus.Publish(events.GatewayChanged, events.Gateway{State: events.GatewayOnline, Since: time.Now()})
	get := func(path, origin string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", "http://"+ts.addr+path, nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		return r, string(b)
	}
	r, body := get("/healthz", "")
	var h health
	if err := json.Unmarshal([]byte(body), &h); err != nil || r.StatusCode != 200 {
		t.Fatalf("/healthz %d %s", r.StatusCode, body)
	}
	if h.Version != "test" || h.Status != "ok" || h.Gateway == nil || h.Gateway.State != events.GatewayOnline || h.Cache.AgeSeconds == nil {
		t.Fatalf("/healthz %+v", h)
	}
	if r.Header.Get("Server") != "tiepdon/test" {
		t.Errorf("Server header %q", r.Header.Get("Server"))
	}
	r, _ = get("/healthz", testOrigin)
	if r.Header.Get("Access-Control-Allow-Origin") != testOrigin {
		t.Errorf("no CORS for an allowed origin")
	}
	if r, _ = get("/healthz", "https://evil.example"); r.StatusCode != 403 {
		t.Errorf("/healthz from a foreign origin: %d", r.StatusCode)
	}
	if r, _ = get("/metrics", "https://evil.example"); r.StatusCode != 403 {
		t.Errorf("/metrics from a foreign origin: %d", r.StatusCode)
	}
	// The (deprecated) Private Network Access preflight.
	req, _ := http.NewRequest("OPTIONS", "http://"+ts.addr+"/healthz", nil)
	req.Header.Set("Origin", testOrigin)
	req.Header.Set("Access-Control-Request-Private-Network", "true")
	pr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pr.Body.Close()
	if pr.Header.Get("Access-Control-Allow-Private-Network") != "true" {
		t.Errorf("PNA preflight not answered")
	}

	// Metrics reflect traffic.
	c := helloWith(t, ts, "", ts.token(t, "", ScopeEligibility))
	c.call("system.info", nil, nil)
	_, body = get("/metrics", "")
	for _, want := range []string{`tiepdon_his_connections 1`, `tiepdon_his_clients 1`, `tiepdon_his_requests_total{code="ok",method="system.info"} 1`, "go_goroutines",
		`tiepdon_gateway_state{state="online"} 1`, `tiepdon_gateway_state{state="account-refused"} 0`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// A refused gateway account is its own state in /healthz and /metrics.
	ts.bus.Publish(events.GatewayChanged, events.Gateway{State: events.GatewayAccountRefused, Since: time.Now(), Reason: "login refused (code 402)"})
	_, body = get("/healthz", "")
	h = health{}
	if err := json.Unmarshal([]byte(body), &h); err != nil || h.Status != "offline" || h.Gateway == nil ||
		h.Gateway.State != events.GatewayAccountRefused || !strings.Contains(h.Gateway.Reason, "402") {
		t.Errorf("/healthz with a refused account: %s", body)
	}
	_, body = get("/metrics", "")
	for _, want := range []string{`tiepdon_gateway_state{state="online"} 0`, `tiepdon_gateway_state{state="account-refused"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics with a refused account lacks %q", want)
		}
	}
	r, body = get("/v1/client.js", "")
	if r.StatusCode != 200 || !strings.Contains(r.Header.Get("Content-Type"), "javascript") || !strings.Contains(body, "export class TiepdonClient") || r.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("/v1/client.js: %d %s", r.StatusCode, r.Header)
	}
	r, body = get("/demo", "")
	if r.StatusCode != 200 || !strings.Contains(body, "<html") || !strings.Contains(r.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("/demo: %d", r.StatusCode)
	}
}

func TestDemoDisabled(t *testing.T) {
	ts := startServer(t, func(o *Options) { o.DisableDemo = true })
	r, err := http.Get("http://" + ts.addr + "/demo")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 404 {
		t.Errorf("/demo with DisableDemo: %d", r.StatusCode)
	}
	if _, _, err := dial(ts, "http://"+ts.addr, nil); err == nil {
		t.Error("own origin accepted with the demo disabled")
	}
}

func TestShutdownClosesClients(t *testing.T) {
	bus := events.New()
	s, err := New(Options{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)}, newFakeBackend(bus), bus)
	if err != nil {
		t.Fatal(err)
	}
	addr, _ := s.Listen()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr.String()+WebSocketPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// make sure the session is registered before cancelling
	c.WriteJSON(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "system.info"})
	c.ReadMessage()
	cancel()
	if code, _ := closeCode(t, c, 5*time.Second); code != websocket.CloseGoingAway {
		t.Errorf("close code %d, want 1001", code)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A page retrying from a refused origin in a loop is counted every time but
// logged at most about once a second, and never with personal data.
func TestRefusalsLoggedSparingly(t *testing.T) {
	var logs lockedBuf
	ts := startServer(t, func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	const n = 60
	for range n {
		if _, _, err := dial(ts, "https://evil.example", nil); err == nil {
			t.Fatal("foreign origin accepted")
		}
	}
	lines := strings.Count(logs.String(), "origin is not in his.origins")
	if lines < 1 || lines > 25 {
		t.Errorf("%d log lines for %d refusals", lines, n)
	}
	r, err := http.Get("http://" + ts.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if !strings.Contains(string(body), `tiepdon_his_refused_total{reason="origin"} 60`) {
		t.Errorf("refusals not all counted")
	}
}

// Slow calls are bounded per connection; quick ones still pass beside them.
func TestInFlightLimit(t *testing.T) {
	ts := startServer(t, func(o *Options) { o.Limits.MaxInFlight = 2 })
	ts.backend.hold = true
	c := helloWith(t, ts, "", ts.token(t, "", ScopeEligibility))
	check := map[string]any{"identity": map[string]string{"citizenId": "001099012345"}, "timeoutMs": 500}
	for i := range 3 {
		c.send(map[string]any{"jsonrpc": "2.0", "id": 10 + i, "method": "eligibility.check", "params": check})
	}
	// The third is refused at once; system.info is answered while two wait.
	c.send(map[string]any{"jsonrpc": "2.0", "id": 99, "method": "system.info"})
	got := map[string]msg{}
	var order []string
	for len(got) < 4 {
		m, err := c.read(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if m.ID != nil {
			got[string(m.ID)] = m
			order = append(order, string(m.ID))
		}
	}
	if info := got["99"]; info.Error != nil || slices.Index(order, "99") > 1 {
		t.Fatalf("system.info behind the waiting checks: order %v", order)
	}
	delete(got, "99")
	busy := 0
	for id, m := range got {
		if m.Error != nil {
			wantCode(t, m.Error, CodeBusy, ReasonBusy)
			busy++
			continue
		}
		var r checkResult
		json.Unmarshal(m.Result, &r)
		if !r.Pending || r.CheckID == "" {
			t.Errorf("check %s: %s, want pending after its timeout", id, m.Result)
		}
	}
	if busy != 1 {
		t.Fatalf("%d refused as busy, want 1", busy)
	}
	// A second pairing on the same connection waits its turn.
	c2 := connect(t, ts, "")
	c2.call("session.hello", map[string]any{"apiLevel": 1}, nil)
	c2.send(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "pairing.request", "params": map[string]any{"name": "a", "scopes": []string{"eligibility"}}})
	c2.waitNote("pairing.code")
	wantCode(t, c2.call("pairing.request", map[string]any{"name": "b", "scopes": []string{"eligibility"}}, nil), CodeBusy, ReasonPairingPending)
}

// deviceBackend is a backend that keeps the device table, as the agent does.
type deviceBackend struct {
	*fakeBackend
	devices []events.Device
}

func (b deviceBackend) Devices() []events.Device { return b.devices }

// With a backend that keeps the device table, status reports the agent's
// table (devices seen before the API started included), not its own copy.
func TestStatusFromTheAgentsDevices(t *testing.T) {
	bus := events.New()
	be := deviceBackend{newFakeBackend(bus), []events.Device{
		{Kind: events.Reader, Name: "ACS ACR1252 00", State: events.DeviceCard},
		{Kind: events.Scanner, Name: "/dev/ttyACM0", State: events.DeviceMissing},
	}}
	s, err := New(Options{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Version: "test", Limits: testLimits(),
		Logger: slog.New(slog.DiscardHandler)}, be, bus)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	h := s.health(false)
	if len(h.Readers) != 1 || h.Readers[0].State != events.DeviceCard || len(h.Scanners) != 1 || h.Status != "degraded" {
		t.Errorf("health %+v", h)
	}
}

// Decoding is strict and explains itself: names match exactly, unknown and
// repeated names are refused, documented ranges hold, and every -32602 names
// the field and the rule (never the value sent).
func TestStrictParams(t *testing.T) {
	ts := startServer(t, nil)
	c := helloWith(t, ts, "", ts.token(t, "", ScopeEligibility, ScopeIdentity))
	raw := func(params string) *Error {
		t.Helper()
		c.c.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","id":7,"method":"eligibility.check","params":`+params+`}`))
		for {
			m, err := c.read(5 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.ID) > 0 {
				return m.Error
			}
		}
	}
	for _, tc := range []struct {
		name, params string
		want         []string // in the message
	}{
		// A second spelling of a name is not the same name.
		{"case-insensitive twin", `{"identity":{"citizenId":"000000000000","citizenid":"075134040503"}}`, []string{`unknown field "identity.citizenid"`, "case-sensitive"}},
		{"repeated name", `{"identity":{"citizenId":"075134040503","citizenId":"000000000000"}}`, []string{`"identity.citizenId" is given twice`}},
		{"unknown field", `{"identity":{"citizenId":"075134040503"},"waitt":false}`, []string{`unknown field "waitt"`}},
		{"bad birth date", `{"identity":{"citizenId":"075134040503","birthDate":"1990-05-17"}}`, []string{`"identity.birthDate" must be a date as dd/MM/yyyy`}},
		{"number for a string", `{"identity":{"citizenId":75134040503}}`, []string{`"identity.citizenId" must be 12 digits`}},
		{"timeoutMs 0", `{"identity":{"citizenId":"075134040503"},"timeoutMs":0}`, []string{`"timeoutMs" must be 1 to 60000`}},
		{"timeoutMs too long", `{"identity":{"citizenId":"075134040503"},"timeoutMs":60001}`, []string{`"timeoutMs" must be 1 to 60000`}},
		{"by position", `["075134040503"]`, []string{"by name"}},
	} {
		e := raw(tc.params)
		if e == nil || e.Code != CodeInvalidParams {
			t.Errorf("%s: %+v, want -32602", tc.name, e)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(e.Message, w) {
				t.Errorf("%s: message %q lacks %q", tc.name, e.Message, w)
			}
		}
		if strings.Contains(e.Message, "075134040503") || strings.Contains(e.Message, "1990-05-17") {
			t.Errorf("%s: the message echoes the value sent: %q", tc.name, e.Message)
		}
	}
	// apiLevel is required: 0 or missing is refused, naming the field.
	for _, params := range []map[string]any{{"client": map[string]string{"name": "x"}}, {"apiLevel": 0}} {
		d := connect(t, ts, "")
		e := d.call("session.hello", params, nil)
		if e == nil || e.Code != CodeInvalidParams || !strings.Contains(e.Message, `"apiLevel" is required`) {
			t.Errorf("hello %v: %+v, want -32602 naming apiLevel", params, e)
		}
	}
}

// TestBatches: JSON-RPC 2.0 batches are answered as the specification's own
// examples (§7) show: one response per request in one array, none for
// notifications, an error per invalid member, nothing at all for a batch of
// notifications, and a single error for an empty batch or invalid JSON.
func TestBatches(t *testing.T) {
	ts := startServer(t, nil)
	c := helloWith(t, ts, "", ts.token(t, "", ScopeEligibility, ScopeIdentity))
	send := func(frame string) []map[string]json.RawMessage {
		t.Helper()
		c.c.WriteMessage(websocket.TextMessage, []byte(frame))
		for {
			c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, b, err := c.c.ReadMessage()
			if err != nil {
				t.Fatalf("%s: %v", frame, err)
			}
			b = bytes.TrimSpace(b)
			if b[0] == '{' {
				var one map[string]json.RawMessage
				json.Unmarshal(b, &one)
				if _, note := one["method"]; note {
					continue // a notification from the agent
				}
				return []map[string]json.RawMessage{one, nil} // a single object: marked by the nil
			}
			var all []map[string]json.RawMessage
			if err := json.Unmarshal(b, &all); err != nil {
				t.Fatalf("%s: answer %s: %v", frame, b, err)
			}
			return all
		}
	}
	code := func(m map[string]json.RawMessage) int {
		var e struct{ Code int }
		json.Unmarshal(m["error"], &e)
		return e.Code
	}

	// The specification's mixed batch, with this API's methods.
	got := send(`[
		{"jsonrpc":"2.0","method":"system.info","id":"1"},
		{"jsonrpc":"2.0","method":"status"},
		{"jsonrpc":"2.0","method":"status","id":"2"},
		{"foo":"boo"},
		{"jsonrpc":"2.0","method":"foo.get","params":{"name":"myself"},"id":"5"},
		{"jsonrpc":"2.0","method":"identity.current","id":"9"}
	]`)
	if len(got) != 5 || got[len(got)-1] == nil {
		t.Fatalf("mixed batch: %d responses, want 5 in an array", len(got))
	}
	byID := map[string]map[string]json.RawMessage{}
	nulls := 0
	for _, r := range got {
		if string(r["id"]) == "null" {
			nulls++
			if code(r) != CodeInvalidRequest {
				t.Errorf("invalid member answered %s", r["error"])
			}
			continue
		}
		byID[string(r["id"])] = r
	}
	if nulls != 1 || byID[`"1"`]["result"] == nil || byID[`"2"`]["result"] == nil || byID[`"9"`]["result"] == nil || code(byID[`"5"`]) != CodeMethodNotFound {
		t.Fatalf("mixed batch answered %d results, %d nulls, method-not-found %d", len(byID), nulls, code(byID[`"5"`]))
	}
	// [1] and [1,2,3]: one Invalid Request per member, id null.
	for frame, n := range map[string]int{`[1]`: 1, `[1,2,3]`: 3} {
		got := send(frame)
		if len(got) != n || got[len(got)-1] == nil {
			t.Fatalf("%s: %d responses, want %d in an array", frame, len(got), n)
		}
		for _, r := range got {
			if code(r) != CodeInvalidRequest || string(r["id"]) != "null" {
				t.Errorf("%s: %v", frame, r)
			}
		}
	}
	// Empty batch and invalid JSON: a single error object.
	for frame, want := range map[string]int{`[]`: CodeInvalidRequest, `[{"jsonrpc":"2.0","method":"status","id":"1"},{"jsonrpc":"2.0","method"]`: CodeParseError} {
		got := send(frame)
		if len(got) != 2 || got[1] != nil || code(got[0]) != want {
			t.Fatalf("%s: %v, want one error %d", frame, got, want)
		}
	}
	// A batch of notifications gets no answer: the next call's answer is
	// the next frame.
	c.c.WriteMessage(websocket.TextMessage, []byte(`[{"jsonrpc":"2.0","method":"status"},{"jsonrpc":"2.0","method":"system.info"}]`))
	got = send(`{"jsonrpc":"2.0","method":"system.info","id":"after"}`)
	if len(got) != 2 || got[1] != nil || string(got[0]["id"]) != `"after"` {
		t.Fatalf("after a batch of notifications: %v", got)
	}
	// A batch of more than 32 is refused as a whole.
	many := "[" + strings.Repeat(`{"jsonrpc":"2.0","method":"status","id":1},`, 32) + `{"jsonrpc":"2.0","method":"status","id":1}]`
	if got := send(many); len(got) != 2 || got[1] != nil || code(got[0]) != CodeInvalidRequest {
		t.Fatalf("batch of 33: %v", got)
	}
}

// TestCloseFramesArrive: every close the server decides reaches the client
// as a close frame with its code before the socket goes (never 1006), even
// when the client has sent more than the server read: 20 runs of each.
func TestCloseFramesArrive(t *testing.T) {
	ts := startServer(t, func(o *Options) {
		o.Limits.MessagesPerSecond = 5
		o.Limits.Burst = 5
		o.Limits.FloodClose = 20
		o.Limits.MaxMessageBytes = 1024
		o.Limits.HelloTimeout = 100 * time.Millisecond
	})
	tok := ts.token(t, "", ScopeEligibility)
	status := []byte(`{"jsonrpc":"2.0","id":1,"method":"system.info"}`)
	for _, tc := range []struct {
		name string
		code int
		act  func(c *websocket.Conn)
	}{
		{"flood", websocket.ClosePolicyViolation, func(c *websocket.Conn) {
			for range 300 {
				if c.WriteMessage(websocket.TextMessage, status) != nil {
					return
				}
			}
		}},
		{"too large", websocket.CloseMessageTooBig, func(c *websocket.Conn) {
			c.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte(" "), 4096))
			for range 50 {
				c.WriteMessage(websocket.TextMessage, status)
			}
		}},
		{"invalid UTF-8", websocket.CloseInvalidFramePayloadData, func(c *websocket.Conn) {
			c.WriteMessage(websocket.TextMessage, []byte("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"st\xffatus\"}"))
		}},
		{"binary", websocket.CloseUnsupportedData, func(c *websocket.Conn) {
			c.WriteMessage(websocket.BinaryMessage, status)
			for range 50 {
				c.WriteMessage(websocket.TextMessage, status)
			}
		}},
		{"no hello", CloseHelloTimeout, func(c *websocket.Conn) {}},
	} {
		for run := range 20 {
			c, _, err := dial(ts, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.name != "no hello" {
				c.WriteJSON(map[string]any{"jsonrpc": "2.0", "id": 0, "method": "session.hello", "params": map[string]any{"token": tok, "apiLevel": 1}})
			}
			tc.act(c)
			if code, reason := closeCode(t, c, 5*time.Second); code != tc.code {
				t.Fatalf("%s, run %d: close %d %q, want %d", tc.name, run+1, code, reason, tc.code)
			}
			c.Close()
		}
	}
}

// The visit history (health data) goes only to tokens with the history scope.
func TestVisitsNeedHistoryScope(t *testing.T) {
	ts := startServer(t, nil)
	plain := helloWith(t, ts, "", ts.token(t, "", ScopeEligibility))
	hist := helloWith(t, ts, "", ts.token(t, "", ScopeEligibility, ScopeHistory))
	e := sampleEligibility()
	e.Visits = []patient.Visit{{RecordID: "hs1", Facility: "01043", Diagnosis: "J06.9"}}
	ts.bus.Publish(events.EligibilityResult, events.Result{CheckID: "v1", Identity: sampleIdentity(), Eligibility: e})
	for _, tc := range []struct {
		c    *client
		want bool
	}{{plain, false}, {hist, true}} {
		m := tc.c.waitNote("eligibility.result")
		if got := strings.Contains(string(m.Params), "J06.9"); got != tc.want {
			t.Errorf("visits in the answer: %v, want %v (%s)", got, tc.want, m.Params)
		}
	}
	if _, err := CheckScopes([]Scope{ScopeHistory}); err == nil {
		t.Error("history without eligibility accepted")
	}
}
