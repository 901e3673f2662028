package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/tiepdon/tiepdon/agent/hisapi"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers/virtual"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
)

// TestDemoWithOwnScanner: a HIS developer runs the demo with their own
// scanner (--scanner): the demo's simulated gateway answers what that
// scanner reads (here a real pty standing in for it).
func TestDemoWithOwnScanner(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	sc, err := virtual.NewScanner(virtual.ScannerOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	store, err := hisapi.OpenStore(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := store.Add(context.Background(), "demo test", "", []hisapi.Scope{hisapi.ScopeEligibility})
	store.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TIEPDON_CONFIG", filepath.Join(dir, "none.toml"))
	writeFile(t, filepath.Join(dir, "none.toml"), "")
	hisAddr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- dispatch(ctx, []string{"run", "--demo", "--headless", "--data-dir", dataDir, "--his-addr", hisAddr, "--scanner", sc.Path()}, &bytes.Buffer{}, &stderr)
	}()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("demo did not stop within 10 s")
		}
	}()
	waitFor(t, 15*time.Second, func() bool {
		resp, err := http.Get("http://" + hisAddr + "/healthz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var h struct {
			Scanners []struct{ Name, State string } `json:"scanners"`
		}
		json.NewDecoder(resp.Body).Decode(&h)
		return len(h.Scanners) == 1 && h.Scanners[0].Name == sc.Path() && h.Scanners[0].State == "ready"
	}, func() string { return "the demo did not open the given scanner:\n" + stderr.String() })
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+hisAddr+hisapi.WebSocketPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	var h struct{ BootID string }
	call(t, ws, "session.hello", map[string]any{"token": token, "client": map[string]string{"name": "demo test"}, "apiLevel": hisapi.APILevel}, &h)
	person, _ := bhxhsim.New(bhxhsim.Options{Seed: 1}).Example("000") // the demo's population (--demo-seed 1)
	if err := sc.Scan(person.CCCDQR()); err != nil {
		t.Fatal(err)
	}
	res := nextResult(t, ws, 10*time.Second)
	if res.Eligibility.Code != "000" || res.Eligibility.CardNumber != person.CardNumber {
		t.Fatalf("demo answer through the developer's scanner: code %s", res.Eligibility.Code)
	}
	// Headless developer tools: tiepdon demo scan, by gateway code and by person.
	pop := bhxhsim.New(bhxhsim.Options{Seed: 1})
	for _, tc := range []struct {
		args []string
		code string
		card func() string
	}{
		{[]string{"--code", "060"}, "060", nil},
		{[]string{"--person", string(person.CitizenID)}, "000", func() string { return string(person.CardNumber) }},
	} {
		var out bytes.Buffer
		if rc := dispatch(ctx, append([]string{"demo", "scan", "--data-dir", dataDir}, tc.args...), &out, &out); rc != 0 {
			t.Fatalf("tiepdon demo scan %v: exit %d: %s", tc.args, rc, out.String())
		}
		res := nextResult(t, ws, 10*time.Second)
		if _, ok := pop.Example(tc.code); !ok {
			t.Fatalf("the demo population has nobody answering %s", tc.code)
		}
		if tc.card != nil && res.Eligibility.CardNumber != patientCard(tc.card()) {
			t.Errorf("demo scan %v: answered for another card", tc.args)
		}
		if res.Eligibility.Code != tc.code {
			t.Errorf("demo scan %v: code %s, want %s", tc.args, res.Eligibility.Code, tc.code)
		}
	}
	var out bytes.Buffer
	if rc := dispatch(ctx, []string{"demo", "scan", "--data-dir", filepath.Join(dir, "nowhere")}, &out, &out); rc == 0 || !bytes.Contains(out.Bytes(), []byte("tiepdon run --demo")) {
		t.Errorf("demo scan without a demo agent: exit %d: %s", rc, out.String())
	}
}

func patientCard(s string) patient.CardNumber { return patient.CardNumber(s) }
