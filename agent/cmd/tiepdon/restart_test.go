package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tiepdon/tiepdon/agent/hisapi"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
)

// TestReceiptsSurviveRestart runs the headless agent on real parts (the
// simulator over HTTP, a pty scanner, SQLite, a WebSocket client), scans a
// patient, then restarts the agent on the same data folder: the HIS learns
// the agent restarted (a new bootId; events.since says so), and the answer,
// with the same signed receipt, is still there (receipt.get, receipts.list);
// tiepdon receipt verify checks it offline with the exported public key.
func TestReceiptsSurviveRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
	r := newAgentRig(t, bhxhsim.Options{Seed: 42}, "s3cret", "[facility]\ncode = \"79014\"\n[his]\ndemo_page = false\n",
		hisapi.ScopeEligibility, hisapi.ScopeIdentity)
	sim, sc, dataDir, dir := r.sim, r.sc, r.dataDir, r.dir
	person, _ := sim.Example("000")
	type hello struct {
		BootID  string `json:"bootId"`
		LastSeq uint64 `json:"lastSeq"`
	}
	connect := func() (*websocket.Conn, hello) {
		var h hello
		ws := r.hello(&h)
		if h.BootID == "" {
			t.Fatal("session.hello gave no bootId")
		}
		return ws, h
	}
	type answer struct {
		CheckID string          `json:"checkId"`
		Receipt json.RawMessage `json:"receipt"`
	}

	stop := r.start(r.args())
	ws, h1 := connect()
	if err := sc.Scan(person.CCCDQR()); err != nil {
		t.Fatal(err)
	}
	res := nextResult(t, ws, 10*time.Second)
	var first answer
	call(t, ws, "receipt.get", map[string]any{"checkId": res.CheckID}, &first)
	if len(first.Receipt) == 0 {
		t.Fatal("the answer carries no receipt")
	}
	ws.Close()
	stop()

	r.start(r.args())
	ws, h2 := connect()
	defer ws.Close()
	if h2.BootID == h1.BootID {
		t.Fatalf("bootId %s did not change across a restart", h1.BootID)
	}
	var since struct {
		Complete bool   `json:"complete"`
		Gap      string `json:"gap"`
	}
	call(t, ws, "events.since", map[string]any{"bootId": h1.BootID, "seq": h1.LastSeq}, &since)
	if since.Complete || since.Gap != "agent-restarted" {
		t.Fatalf("events.since across a restart: %+v, want the agent-restarted gap", since)
	}
	var again answer
	call(t, ws, "receipt.get", map[string]any{"checkId": res.CheckID}, &again)
	if string(again.Receipt) != string(first.Receipt) {
		t.Fatalf("receipt after restart %s, want %s", again.Receipt, first.Receipt)
	}
	var list struct {
		Results []answer `json:"results"`
	}
	call(t, ws, "receipts.list", map[string]any{"since": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, &list)
	found := false
	for _, r := range list.Results {
		found = found || (r.CheckID == res.CheckID && string(r.Receipt) == string(first.Receipt))
	}
	if !found {
		t.Fatalf("receipts.list after restart has no answer for %s (%d listed)", res.CheckID, len(list.Results))
	}

	// A back-end's background check (announce: false) is answered, marked
	// background, and never becomes the patient at the counter.
	if err := sc.Scan(person.CCCDQR()); err != nil {
		t.Fatal(err)
	}
	atDesk := nextResult(t, ws, 10*time.Second)
	other, _ := sim.Example("000")
	var bg struct {
		CheckID string `json:"checkId"`
		Result  struct {
			Current    bool            `json:"current"`
			Background bool            `json:"background"`
			Receipt    json.RawMessage `json:"receipt"`
		} `json:"result"`
	}
	call(t, ws, "eligibility.check", map[string]any{"identity": map[string]any{"cardNumber": string(other.CardNumber), "name": string(other.Name), "birthDate": other.BirthDate.String()}, "announce": false, "timeoutMs": 10000}, &bg)
	if !bg.Result.Background || bg.Result.Current || len(bg.Result.Receipt) == 0 {
		t.Fatalf("background check: %+v, want background, not current, with a receipt", bg.Result)
	}
	var cur struct {
		CheckID string `json:"checkId"`
	}
	call(t, ws, "identity.current", nil, &cur)
	if cur.CheckID != atDesk.CheckID {
		t.Fatalf("identity.current is %q after a background check, want the patient at the desk %q", cur.CheckID, atDesk.CheckID)
	}

	// Offline: export the desk's public key, verify the receipt with it,
	// and see a tampered one refused.
	var pem, out, errb bytes.Buffer
	if code := dispatch(context.Background(), []string{"receipt", "public-key", "--data-dir", dataDir}, &pem, &errb); code != 0 {
		t.Fatalf("receipt public-key: %d %s", code, errb.String())
	}
	writeFile(t, filepath.Join(dir, "desk.pem"), pem.String())
	writeFile(t, filepath.Join(dir, "answer.json"), `{"receipt":`+string(first.Receipt)+`}`)
	if code := dispatch(context.Background(), []string{"receipt", "verify", "--key", filepath.Join(dir, "desk.pem"), filepath.Join(dir, "answer.json")}, &out, &errb); code != 0 || !strings.Contains(out.String(), "valid") {
		t.Fatalf("receipt verify: %d %s %s", code, out.String(), errb.String())
	}
	var rc map[string]string
	json.Unmarshal(first.Receipt, &rc)
	rc["sig"] = strings.Repeat("A", 86) + "=="
	bad, _ := json.Marshal(rc)
	writeFile(t, filepath.Join(dir, "bad.json"), string(bad))
	errb.Reset()
	if code := dispatch(context.Background(), []string{"receipt", "verify", "--key", filepath.Join(dir, "desk.pem"), filepath.Join(dir, "bad.json")}, &out, &errb); code == 0 || !strings.Contains(errb.String(), "NOT VALID") {
		t.Fatalf("a forged receipt verified: %d %s", code, errb.String())
	}
	if b, err := os.ReadFile(filepath.Join(dataDir, "receipt-key")); err == nil && strings.Contains(pem.String(), strings.TrimSpace(string(b))) {
		t.Fatal("the public key export holds the private key")
	}
}

// call makes one JSON-RPC call and decodes its result, skipping notifications.
func call(t *testing.T, ws *websocket.Conn, method string, params, result any) {
	t.Helper()
	ws.WriteJSON(map[string]any{"jsonrpc": "2.0", "id": 99, "method": method, "params": params})
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var m rpcMessage
		if err := ws.ReadJSON(&m); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if m.ID == nil {
			continue
		}
		if m.Error != nil {
			t.Fatalf("%s: %d %s", method, m.Error.Code, m.Error.Message)
		}
		if err := json.Unmarshal(m.Result, result); err != nil {
			t.Fatalf("%s result: %v", method, err)
		}
		return
	}
}
