package main

import (
	"bytes"
	"context"
	"encoding/json"

	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tiepdon/tiepdon/agent/hisapi"
	"github.com/tiepdon/tiepdon/agent/hisapi/hisapitest"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers/virtual"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
	"github.com/tiepdon/tiepdon/sync/cache"
)

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// rpcMessage is a JSON-RPC 2.0 message from the agent.
type rpcMessage struct {
	ID     *int            `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

type resultParams struct {
	CheckID     string              `json:"checkId"`
	Identity    patient.Identity    `json:"identity"`
	Eligibility patient.Eligibility `json:"eligibility"`
}

// nextResult reads messages until an eligibility.result notification.
func nextResult(t *testing.T, ws *websocket.Conn, within time.Duration) resultParams {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(within))
	for {
		var m rpcMessage
		if err := ws.ReadJSON(&m); err != nil {
			t.Fatalf("waiting for eligibility.result: %v", err)
		}
		if m.Method != "eligibility.result" {
			continue
		}
		var p resultParams
		if err := json.Unmarshal(m.Params, &p); err != nil {
			t.Fatalf("eligibility.result params: %v: %s", err, m.Params)
		}
		return p
	}
}

// TestThinPath runs the headless agent on real parts: the gateway simulator
// over HTTP, a virtual scanner on a real pty read through the serial driver,
// a SQLite cache file and a WebSocket client. A CCCD QR line goes into the
// pty; the client must get the live verdict, the cache must hold it, and
// with the simulator stopped the same scan must give the cached verdict.
func TestThinPath(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")

	// The national gateway, simulated, on its own listener.
	sim := bhxhsim.New(bhxhsim.Options{Seed: 42, Password: "s3cret"})
	simCtx, stopSim := context.WithCancel(context.Background())
	defer stopSim()
	simAddr, err := sim.Serve(simCtx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	person, ok := sim.Example("000")
	if !ok {
		t.Fatal("simulator has nobody answering 000")
	}

	// The QR scanner: a real pty pair.
	sc, err := virtual.NewScanner(virtual.ScannerOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()

	// A token for a non-browser HIS client, as IT would mint it.
	store, err := hisapi.OpenStore(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := store.Add(context.Background(), "integration test", "", []hisapi.Scope{hisapi.ScopeEligibility, hisapi.ScopeIdentity})
	store.Close()
	if err != nil {
		t.Fatal(err)
	}

	t.Setenv("TIEPDON_GATEWAY_USER", "79014_BV")
	t.Setenv("TIEPDON_GATEWAY_PASSWORD", "s3cret")
	t.Setenv("TIEPDON_STAFF_NAME", "Trần Thị Bình")
	t.Setenv("TIEPDON_STAFF_CCCD", "079190000001")
	t.Setenv("TIEPDON_CONFIG", filepath.Join(dir, "none.toml"))
	// IT's settings for the HIS API reach it: no demo page, a higher rate.
	writeFile(t, filepath.Join(dir, "none.toml"), "[his]\ndemo_page = false\nmessages_per_second = 50.0\n")
	hisAddr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- dispatch(ctx, []string{"run", "--headless", "--data-dir", dataDir, "--his-addr", hisAddr,
			"--scanner", sc.Path(), "--gateway", bhxhsim.URL(simAddr)}, &bytes.Buffer{}, &stderr)
	}()
	defer func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("agent exited %d: %s", code, stderr.String())
			}
		case <-time.After(10 * time.Second):
			t.Error("agent did not stop within 10 s of cancellation")
		}
		if strings.Contains(stderr.String(), string(person.CitizenID)) || strings.Contains(stderr.String(), string(person.Name)) {
			t.Error("the agent's log holds the patient's full citizen ID or name")
		}
	}()

	// Wait for the HIS API and the scanner to be up.
	waitFor(t, 15*time.Second, func() bool {
		resp, err := http.Get("http://" + hisAddr + "/healthz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var h struct {
			Scanners []struct{ State string } `json:"scanners"`
		}
		json.NewDecoder(resp.Body).Decode(&h)
		return len(h.Scanners) == 1 && h.Scanners[0].State == "ready"
	}, func() string { return stderr.String() })

	ws, _, err := hisapitest.Dialer(t).Dial("ws://"+hisAddr+hisapi.WebSocketPath, nil) // checks every frame against /v1/schema.json
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.WriteJSON(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "session.hello",
		"params": map[string]any{"token": token, "client": map[string]string{"name": "thin-path test"}, "apiLevel": hisapi.APILevel}})
	var hello rpcMessage
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := ws.ReadJSON(&hello); err != nil || hello.Error != nil {
		t.Fatalf("session.hello: %v %+v", err, hello.Error)
	}

	ws.WriteJSON(map[string]any{"jsonrpc": "2.0", "id": 2, "method": "system.info"})
	var info struct {
		Result struct {
			Limits struct {
				MessagesPerSecond float64 `json:"messagesPerSecond"`
			} `json:"limits"`
		} `json:"result"`
	}
	if err := ws.ReadJSON(&info); err != nil || info.Result.Limits.MessagesPerSecond != 50 {
		t.Errorf("system.info: %v, limits.messagesPerSecond %v, want 50 from his.messages_per_second", err, info.Result.Limits.MessagesPerSecond)
	}
	if resp, err := http.Get("http://" + hisAddr + "/demo"); err != nil {
		t.Error(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /demo with his.demo_page = false: %s, want 404", resp.Status)
	}

	// 1. Live: a CCCD QR on the pty → simulator → cache → WebSocket.
	if err := sc.Scan(person.CCCDQR()); err != nil {
		t.Fatal(err)
	}
	live := nextResult(t, ws, 10*time.Second)
	if live.Identity.CitizenID != person.CitizenID || live.Identity.Name != person.Name {
		t.Errorf("identity %v / %v, want the scanned person", live.Identity.CitizenID, live.Identity.Name.Initials())
	}
	if e := live.Eligibility; e.Verdict != patient.Eligible || e.Code != "000" || e.Source != patient.SourceLive {
		t.Errorf("live eligibility: verdict %s code %s source %s", e.Verdict, e.Code, e.Source)
	}
	if live.Eligibility.ValidTo != person.ValidTo || live.Eligibility.CardNumber != person.CardNumber {
		t.Errorf("card validity %v card %v, want %v %v", live.Eligibility.ValidTo, live.Eligibility.CardNumber.Masked(), person.ValidTo, person.CardNumber.Masked())
	}

	// 2. The answer is in the SQLite cache file (read with its key, as the agent would).
	// The agent publishes before it writes SQLite, so the row may trail the
	// notification by a moment.
	db, err := cache.Open(context.Background(), filepath.Join(dataDir, "cache.db"), cache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var cached patient.Eligibility
	waitFor(t, 5*time.Second, func() bool {
		var ok bool
		cached, ok, err = db.Lookup(context.Background(), patient.Query{CitizenID: person.CitizenID})
		return err != nil || ok
	}, func() string { return "the answer never reached the cache" })
	db.Close()
	if err != nil || cached.Code != "000" || cached.Verdict != patient.Eligible {
		t.Fatalf("cache lookup: err=%v code=%s verdict=%s", err, cached.Code, cached.Verdict)
	}

	// 3. Offline: stop the simulator; the same scan gives the cached verdict within 1 s.
	stopSim()
	waitFor(t, 5*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", simAddr.String(), 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err != nil
	}, func() string { return "simulator still accepting connections" })
	start := time.Now()
	if err := sc.Scan(person.CCCDQR()); err != nil {
		t.Fatal(err)
	}
	off := nextResult(t, ws, 5*time.Second)
	took := time.Since(start)
	t.Logf("offline scan answered from the cache in %v", took)
	if e := off.Eligibility; e.Source != patient.SourceCache || e.Verdict != patient.Eligible || e.Code != "000" {
		t.Errorf("offline eligibility: verdict %s code %s source %s, want the cached 000", e.Verdict, e.Code, e.Source)
	}
	if off.Eligibility.Age <= 0 || off.Eligibility.CheckedAt.IsZero() {
		t.Errorf("cached answer has no age (%v) or time (%v)", off.Eligibility.Age, off.Eligibility.CheckedAt)
	}
	if took > time.Second {
		t.Errorf("cached verdict took %v, want within 1 s", took)
	}
}

func waitFor(t *testing.T, within time.Duration, cond func() bool, why func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v: %s", within, why())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}
