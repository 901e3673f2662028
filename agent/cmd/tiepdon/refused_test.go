package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent/hisapi"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
)

// TestRefusedAccount runs the headless agent on real parts with a gateway
// password the gateway refuses, as the field soak did: three scans in a
// few seconds must make one login, not ten; the HIS and IT must see
// "account refused" (gateway.state, /healthz, /metrics), the checks must
// tell staff to call IT, and the log must say so in plain words.
func TestRefusedAccount(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
	r := newAgentRig(t, bhxhsim.Options{Seed: 43}, "a-typo", "", hisapi.ScopeEligibility, hisapi.ScopeIdentity)
	sim, sc, hisAddr := r.sim, r.sc, r.hisAddr
	stop := r.start(r.args())
	ws := r.hello(nil)

	// Three patients scanned within seconds.
	var states []string
	var results []resultParams
	for i := 0; i < 3; i++ {
		p := sim.Person(100 + i)
		if err := sc.Scan(p.CCCDQR()); err != nil {
			t.Fatal(err)
		}
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		for len(results) <= i {
			var m rpcMessage
			if err := ws.ReadJSON(&m); err != nil {
				t.Fatalf("waiting for result %d: %v\n%s", i, err, stop())
			}
			switch m.Method {
			case "gateway.state":
				var g struct{ State string }
				json.Unmarshal(m.Params, &g)
				states = append(states, g.State)
			case "eligibility.result":
				var r resultParams
				json.Unmarshal(m.Params, &r)
				results = append(results, r)
			}
		}
	}
	for _, r := range results {
		if e := r.Eligibility; e.Verdict != patient.Unavailable || !strings.Contains(e.ReasonEN, "call IT") || !strings.Contains(e.ReasonVI, "gọi IT") {
			t.Errorf("check while refused: %s %q, want unavailable telling staff to call IT", e.Verdict, e.ReasonEN)
		}
	}
	if !strings.Contains(strings.Join(states, ","), "account-refused") {
		t.Errorf("gateway.state notifications %v: no account-refused", states)
	}
	if st := sim.Stats(); st.LoginsRefused != 1 || st.Checks != 0 {
		t.Errorf("3 scans made %d refused logins and %d checks, want 1 and 0", st.LoginsRefused, st.Checks)
	}

	resp, err := http.Get("http://" + hisAddr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Status  string `json:"status"`
		Gateway struct {
			State, Reason string
		} `json:"gateway"`
	}
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if h.Status != "offline" || h.Gateway.State != "account-refused" || !strings.Contains(h.Gateway.Reason, "402") {
		t.Errorf("/healthz %+v, want offline with the gateway account refused (402)", h)
	}
	resp, err = http.Get("http://" + hisAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `tiepdon_gateway_state{state="account-refused"} 1`) {
		t.Errorf("/metrics lacks the account-refused state")
	}

	logs := stop()
	if !strings.Contains(logs, "refused the facility's account") || !strings.Contains(logs, "Ask IT") {
		t.Errorf("the log does not say in plain words that the account is refused:\n%s", logs)
	}
	if strings.Contains(logs, "a-typo") {
		t.Error("the log holds the gateway password")
	}
}
