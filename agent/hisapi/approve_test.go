package hisapi

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent/events"
)

// TestPairingApprovedFromCommandLine: on a headless machine the code the
// page shows is approved with "tiepdon pairing approve CODE", which writes
// to the token store from another process (here: another Store on the
// same file); the waiting pairing.request then gets its token, and the
// window is told the request is over (it showed it until it expired
// before). An unknown code approves nothing.
func TestPairingApprovedFromCommandLine(t *testing.T) {
	ts := startServer(t, nil)
	window := ts.bus.Subscribe(events.PairingRequested, 4)
	defer window.Close()
	c := connect(t, ts, "")
	if e := c.call("session.hello", map[string]any{"client": map[string]string{"name": "lab"}, "apiLevel": 1}, nil); e != nil {
		t.Fatal(e)
	}
	c.send(map[string]any{"jsonrpc": "2.0", "id": 99, "method": "pairing.request", "params": map[string]any{"name": "LIS", "scopes": []string{"eligibility"}}})
	var pc pairingCode
	json.Unmarshal(c.waitNote("pairing.code").Params, &pc)
	other, err := OpenStore(ts.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Approve(context.Background(), "12345"); err == nil {
		t.Error("a 5-digit code was accepted")
	}
	wrong := "000000"
	if pc.Code == wrong {
		wrong = "000001"
	}
	if err := other.Approve(context.Background(), wrong); err != nil {
		t.Fatal(err)
	}
	// The wrong code approves nothing: no token after several revocation
	// checks (50 ms apart in tests).
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if list, _ := ts.Store().List(context.Background()); len(list) != 0 {
			t.Fatalf("a token was issued for a wrong code: %+v", list)
		}
	}
	if err := other.Approve(context.Background(), pc.Code); err != nil {
		t.Fatal(err)
	}
	for {
		m, err := c.read(5 * time.Second)
		if err != nil {
			t.Fatalf("no answer after approving the code: %v", err)
		}
		if m.Method != "" {
			continue
		}
		var res pairingResult
		json.Unmarshal(m.Result, &res)
		if string(m.ID) != "99" || m.Error != nil || !strings.HasPrefix(res.Token, "tdp_") || len(res.Scopes) != 1 || res.Scopes[0] != ScopeEligibility {
			t.Fatalf("pairing answer %s %+v %+v", m.ID, m.Error, res)
		}
		break
	}
	var asked events.Pairing
	for {
		select {
		case ev := <-window.C():
			p := ev.Data.(events.Pairing)
			if !p.Ended {
				asked = p
				continue
			}
			if p.ID != asked.ID || asked.Code != pc.Code {
				t.Fatalf("the window was told request %q ended, after request %q (code %s, the page's %s)", p.ID, asked.ID, asked.Code, pc.Code)
			}
			return
		case <-time.After(5 * time.Second):
			t.Fatal("the window was never told the request approved from the command line is over")
		}
	}
}
