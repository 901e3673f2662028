package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
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

// TestStartsWithUnreadablePasswordFile: a gateway.password_file the desk's
// account cannot read does not stop tiepdon: it starts needing setup (the
// gateway not configured, /healthz saying why), the log says what to fix,
// and tiepdon doctor reports the file.
func TestStartsWithUnreadablePasswordFile(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
	missing := filepath.Join(t.TempDir(), "secret", "gateway.txt")
	r := newAgentRig(t, bhxhsim.Options{Seed: 46}, "", "[gateway]\npassword_file = '"+missing+"'\n", hisapi.ScopeEligibility)
	stop := r.start(r.args())
	h := healthzOf(t, r.hisAddr)
	if h.Gateway.State != "not-configured" || !strings.Contains(h.Gateway.Reason, "password file "+missing+" cannot be read") {
		t.Errorf("/healthz gateway: %+v, want not-configured with the password file as the reason", h.Gateway)
	}
	ws := r.hello(nil)
	p, _ := r.sim.Example("000")
	if err := r.sc.Scan(p.CCCDQR()); err != nil {
		t.Fatal(err)
	}
	if res := nextResult(t, ws, 10*time.Second); res.Eligibility.Verdict != patient.Unavailable {
		t.Errorf("scan without a readable password: %s, want unavailable", res.Eligibility.Verdict)
	}
	if logs := stop(); !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "a setting must be fixed") || !strings.Contains(logs, missing) {
		t.Errorf("the log does not say what to fix:\n%s", logs)
	}
	var out, errb bytes.Buffer
	dispatch(context.Background(), []string{"doctor", "--lang", "en"}, &out, &errb)
	if !strings.Contains(out.String(), "[FAIL] config") || !strings.Contains(out.String(), "password file") {
		t.Errorf("tiepdon doctor does not report the password file:\n%s", out.String())
	}
}

// TestStartsWithInvalidUserSetting: a mistake in the user's settings file
// (an unknown key, a value out of range) does not stop tiepdon: it runs on
// the machine settings, checks work, the log names the file and the
// problem, and tiepdon doctor reports it.
func TestStartsWithInvalidUserSetting(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
	for name, conf := range map[string]string{
		"unknown key":   "langauge = 'en'\n",
		"invalid value": "[cache]\nretention = '5m'\n",
	} {
		t.Run(name, func(t *testing.T) {
			r := newAgentRig(t, bhxhsim.Options{Seed: 47}, "s3cret", conf, hisapi.ScopeEligibility)
			stop := r.start(r.args())
			if h := healthzOf(t, r.hisAddr); h.Gateway.State == "not-configured" {
				t.Errorf("/healthz gateway %+v: the account comes from the environment", h.Gateway)
			}
			ws := r.hello(nil)
			p, _ := r.sim.Example("000")
			if err := r.sc.Scan(p.CCCDQR()); err != nil {
				t.Fatal(err)
			}
			if res := nextResult(t, ws, 10*time.Second); res.Eligibility.Code != "000" {
				t.Errorf("check with a broken user file: code %q, want 000", res.Eligibility.Code)
			}
			user := filepath.Join(r.dir, "user.toml")
			if logs := stop(); !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "the settings in "+user+" are not used") {
				t.Errorf("the log does not name the file and the problem:\n%s", logs)
			}
			t.Setenv("TIEPDON_HIS_ADDR", r.hisAddr) // as the machine config would set it
			var out, errb bytes.Buffer
			dispatch(context.Background(), []string{"doctor", "--lang", "en"}, &out, &errb)
			if !strings.Contains(out.String(), "[FAIL] config") {
				t.Errorf("tiepdon doctor does not report the settings file:\n%s", out.String())
			}
			// The other checks look at the setup tiepdon runs with (here
			// its port), not at the defaults.
			if !strings.Contains(out.String(), "] his-port         "+r.hisAddr) {
				t.Errorf("tiepdon doctor did not check the running agent's port %s:\n%s", r.hisAddr, out.String())
			}
		})
	}
}

type healthzBody struct {
	Status  string
	Gateway struct{ State, Reason string }
}

func healthzOf(t *testing.T, addr string) healthzBody {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h healthzBody
	json.NewDecoder(resp.Body).Decode(&h)
	return h
}
