package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
)

func TestCheckCommand(t *testing.T) {
	sim := bhxhsim.New(bhxhsim.Options{Seed: 7, Password: "pw"})
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	addr, err := sim.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(t.TempDir(), "empty.toml")
	writeFile(t, cfgFile, "")
	t.Setenv("TIEPDON_CONFIG", cfgFile)
	t.Setenv("TIEPDON_GATEWAY_USER", "79014_BV")
	t.Setenv("TIEPDON_GATEWAY_PASSWORD", "pw")
	t.Setenv("TIEPDON_STAFF_NAME", "Trần Thị Bình")
	t.Setenv("TIEPDON_STAFF_CCCD", "079190000001")

	run := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := dispatch(context.Background(), append([]string{"check", "--gateway", bhxhsim.URL(addr)}, args...), &out, &errb)
		return code, out.String() + errb.String()
	}
	for _, tc := range []struct {
		code string
		exit int
	}{{"000", checkEligible}, {"010", checkNotEligible}, {"001", checkNotEligible}} {
		p, ok := sim.Example(tc.code)
		if !ok {
			t.Fatalf("no person answering %s", tc.code)
		}
		exit, out := run("--card", string(p.CardNumber), "--name", string(p.Name), "--dob", p.BirthDate.String(), "--json")
		if exit != tc.exit {
			t.Errorf("code %s: exit %d, want %d\n%s", tc.code, exit, tc.exit, out)
			continue
		}
		var e patient.Eligibility
		if err := json.Unmarshal([]byte(out), &e); err != nil || e.Code != tc.code {
			t.Errorf("code %s: output %s (%v)", tc.code, out, err)
		}
	}
	p, _ := sim.Example("000")
	if exit, out := run("--id", string(p.CitizenID), "--name", string(p.Name), "--dob", p.BirthDate.String()); exit != checkEligible {
		t.Errorf("by citizen ID: exit %d\n%s", exit, out)
	}
	// With the desk's facility code, the output says whether the patient is
	// registered here, naming the gateway's facility otherwise.
	for _, fc := range []struct{ code, want string }{
		{p.Facility, "Đúng tuyến: đăng ký KCB ban đầu tại cơ sở này"},
		{"00001", "Nơi đăng ký KCB ban đầu: " + p.FacilityName + " (" + p.Facility + "), không phải cơ sở này"},
	} {
		facFile := filepath.Join(t.TempDir(), "facility.toml")
		writeFile(t, facFile, "[facility]\ncode = \""+fc.code+"\"\n")
		exit, out := run("--config", facFile, "--card", string(p.CardNumber), "--name", string(p.Name), "--dob", p.BirthDate.String())
		if exit != checkEligible || !strings.Contains(out, fc.want) || !strings.Contains(out, "Việc cần làm:") {
			t.Errorf("facility %s: exit %d, output lacks %q:\n%s", fc.code, exit, fc.want, out)
		}
	}
	if exit, _ := run("--name", "x", "--dob", "1990"); exit != checkUsage {
		t.Errorf("no card or ID: exit %d, want %d", exit, checkUsage)
	}
	stop() // the gateway goes away
	sim.Close()
	waitFor(t, 5*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", addr.String(), 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err != nil
	}, func() string { return "the simulator still accepts connections" })
	if exit, out := run("--card", string(p.CardNumber), "--name", string(p.Name), "--dob", p.BirthDate.String()); exit != checkUnavailable {
		t.Errorf("gateway down: exit %d, want %d\n%s", exit, checkUnavailable, out)
	}
}
