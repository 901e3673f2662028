package doctor_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent/doctor"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
)

// TestGatewayAgainstSimulator runs the gateway checks against the project's
// gateway simulator over real HTTP: the same server `tiepdon sim` and the
// demo use, with its account rules and faults.
func TestGatewayAgainstSimulator(t *testing.T) {
	sim := bhxhsim.New(bhxhsim.Options{Size: 10, Username: "79014_BV", Password: "mat-khau", MD5Case: "upper", Encoding: "form"})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	defer sim.Close()
	client := &http.Client{Timeout: 5 * time.Second}
	run := func(p doctor.GatewayParams) map[string]doctor.Result {
		p.URL = srv.URL
		out := map[string]doctor.Result{}
		for _, r := range doctor.Gateway(context.Background(), client, p, time.Now) {
			out[r.Check] = r
		}
		return out
	}
	good := doctor.GatewayParams{Username: "79014_BV", Password: "mat-khau", MD5Case: "upper", Encoding: "form"}

	r := run(good)
	for _, c := range []string{"gateway", "gateway-account", "clock"} {
		if r[c].Status != doctor.OK {
			t.Errorf("%s: %s: %s", c, r[c].Status, r[c].Found.EN)
		}
	}
	if got := sim.Stats().Logins; got != 1 {
		t.Errorf("the simulator saw %d logins, want 1", got)
	}

	wrong := good
	wrong.Password = "sai"
	if r := run(wrong); r["gateway-account"].Status != doctor.Fail || !strings.Contains(r["gateway-account"].Found.EN, "code 402") {
		t.Errorf("wrong password: %+v", r["gateway-account"])
	}
	lower := good
	lower.MD5Case = "lower"
	if r := run(lower); r["gateway-account"].Status != doctor.Fail || !strings.Contains(r["gateway-account"].Fix.EN, "md5_case") {
		t.Errorf("MD5 case the gateway does not accept: %+v", r["gateway-account"])
	}

	sim.SetFaults(bhxhsim.Faults{Garbage: 1})
	if r := run(good); r["gateway"].Status != doctor.Fail || !strings.Contains(r["gateway"].Found.EN, "not like the BHXH gateway") {
		t.Errorf("garbage answers: %+v", r["gateway"])
	}
	sim.SetFaults(bhxhsim.Faults{Error5xx: 1})
	if r := run(good); r["gateway"].Status != doctor.Fail || !strings.Contains(r["gateway"].Found.EN, "HTTP 503") {
		t.Errorf("503 answers: %+v", r["gateway"])
	}
	sim.SetFaults(bhxhsim.Faults{Down: true})
	if r := run(good); r["gateway"].Status != doctor.Fail || r["gateway-account"].Status != doctor.Skip {
		t.Errorf("gateway down: %+v / %+v", r["gateway"], r["gateway-account"])
	}
}
