package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent/hisapi"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
)

// TestStartsWithoutGatewayAccount: a desk installed without gateway
// credentials still starts (window, HIS API, cache): its gateway state is
// not-configured (/healthz, gateway.state), a scan is answered "call IT to
// set up the account" and queued, and the log says what to do.
func TestStartsWithoutGatewayAccount(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
	r := newAgentRig(t, bhxhsim.Options{Seed: 44}, "", "", hisapi.ScopeEligibility)
	stop := r.start(r.args())
	resp, err := http.Get("http://" + r.hisAddr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Status  string
		Gateway struct{ State string }
	}
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if h.Status != "offline" || h.Gateway.State != "not-configured" {
		t.Errorf("/healthz: status %q gateway %q, want offline / not-configured", h.Status, h.Gateway.State)
	}
	ws := r.hello(nil)
	p, _ := r.sim.Example("000")
	if err := r.sc.Scan(p.CCCDQR()); err != nil {
		t.Fatal(err)
	}
	res := nextResult(t, ws, 10*time.Second)
	if e := res.Eligibility; e.Verdict != patient.Unavailable || !strings.Contains(e.ReasonEN, "call IT") || !strings.Contains(e.ReasonVI, "gọi IT") {
		t.Errorf("scan without an account: %s %q, want unavailable telling staff to call IT", e.Verdict, e.ReasonEN)
	}
	if st := r.sim.Stats(); st.Checks != 0 {
		t.Errorf("the gateway was called %d times without an account", st.Checks)
	}
	if logs := stop(); !strings.Contains(logs, "No gateway account is set up") {
		t.Errorf("the log does not say what to do:\n%s", logs)
	}
}
