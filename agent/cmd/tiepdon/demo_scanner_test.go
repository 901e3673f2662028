package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent/hisapi"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
)

// TestDemoWithOwnScanner: a HIS developer runs the demo with their own
// scanner (--scanner): the demo's simulated gateway answers what that
// scanner reads (here a real pty standing in for it).
func TestDemoWithOwnScanner(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
	r := newAgentRig(t, bhxhsim.Options{Seed: 1}, "s3cret", "", hisapi.ScopeEligibility)
	sc, dataDir, dir := r.sc, r.dataDir, r.dir
	ctx := context.Background()
	r.start([]string{"run", "--demo", "--headless", "--data-dir", dataDir, "--his-addr", r.hisAddr, "--scanner", sc.Path()})
	resp, err := http.Get("http://" + r.hisAddr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		Scanners []struct{ Name string } `json:"scanners"`
	}
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if len(h.Scanners) != 1 || h.Scanners[0].Name != sc.Path() {
		t.Fatalf("the demo reads %+v, want only the given scanner %s", h.Scanners, sc.Path())
	}
	ws := r.hello(nil)
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
