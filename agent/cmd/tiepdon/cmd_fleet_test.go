package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tiepdon/tiepdon/agent/hisapi"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
	"github.com/tiepdon/tiepdon/sync/hospital"
	"github.com/tiepdon/tiepdon/sync/hospital/pgtest"
)

// spawnDesk runs a desk's agent as its own process on rig r, with the fleet
// intervals shortened.
func spawnDesk(r *agentRig, args []string) *agentProcess {
	r.t.Helper()
	return r.spawn(args, "TIEPDON_CHILD_FLEET_FAST=1")
}

// fleetCmd runs "tiepdon fleet ARGS" with stdin and returns its output.
func fleetCmd(t *testing.T, stdin string, args ...string) (string, int) {
	t.Helper()
	old := osStdin
	osStdin = func() io.Reader { return strings.NewReader(stdin) }
	defer func() { osStdin = old }()
	var out, errb bytes.Buffer
	code := dispatch(context.Background(), append([]string{"fleet"}, args...), &out, &errb)
	return out.String() + errb.String(), code
}

type fleetJSON struct {
	Desks []struct {
		Name      string
		Missing   bool
		Severity  string
		Attention []string
		Status    struct {
			Gateway  struct{ State string }
			LastScan time.Time
		}
	}
}

// TestFleetDesks: two desks' agent processes on one real PostgreSQL. Desk
// 1 has a password the gateway refuses; IT sees that in "fleet status",
// sets the right one once with "fleet set-password", and desk 1 checks
// live within seconds without a restart. The status holds no personal
// data, the password is nowhere in plain text (PostgreSQL, the desk's log,
// its support bundle), and desk 2, stopped, is listed as missing.
func TestFleetDesks(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
	c := pgtest.Start(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "hospital.keys")
	if out, code := fleetCmd(t, "", "new-key", "--id", "k1", keyFile); code != 0 || !strings.Contains(out, "Made") {
		t.Fatalf("new-key: %d %s", code, out)
	}
	// Rotation in two rounds: the new key first goes second (desks open
	// with it), then is promoted to seal.
	current := func() string {
		b, _ := os.ReadFile(keyFile)
		kr, err := hospital.ParseKeys(b)
		if err != nil || !strings.Contains(string(b), "k1 ") || !strings.Contains(string(b), "k2 ") {
			return fmt.Sprintf("bad key file (%v):\n%s", err, b)
		}
		return kr.Current()
	}
	if out, code := fleetCmd(t, "", "new-key", "--id", "k2", keyFile); code != 0 || !strings.Contains(out, "after the current key k1") {
		t.Fatalf("new-key rotation: %d %s", code, out)
	}
	if c := current(); c != "k1" {
		t.Fatalf("after new-key, the sealing key is %s, want k1", c)
	}
	if out, code := fleetCmd(t, "", "promote-key", "k2", keyFile); code != 0 {
		t.Fatalf("promote-key: %d %s", code, out)
	}
	if c := current(); c != "k2" {
		t.Fatalf("after promote-key, the sealing key is %s, want k2", c)
	}
	conf := func(desk string) string {
		return fmt.Sprintf("[hospital]\ndsn = %q\nkey_file = %q\ndesk = %q\n", c.DSN, keyFile, desk)
	}
	dsn := []string{"--dsn", c.DSN, "--key-file", keyFile}

	a := newAgentRig(t, bhxhsim.Options{}, "a-typo", conf("Quầy 1"), hisapi.ScopeEligibility)
	spawnDesk(a, a.args())
	aConfig, aData := os.Getenv("TIEPDON_CONFIG"), a.dataDir
	b := newAgentRig(t, bhxhsim.Options{}, "s3cret", conf("Quầy 2"), hisapi.ScopeEligibility)
	pb := spawnDesk(b, b.args())

	status := func(extra ...string) fleetJSON {
		out, code := fleetCmd(t, "", append(append([]string{"status", "--json"}, dsn...), extra...)...)
		var s fleetJSON
		if code != 0 || json.Unmarshal([]byte(out), &s) != nil {
			t.Fatalf("fleet status: %d %s", code, out)
		}
		return s
	}
	desk := func(s fleetJSON, name string) int {
		for i, d := range s.Desks {
			if d.Name == name {
				return i
			}
		}
		return -1
	}

	// Desk 1 checks a patient: the gateway refuses its account.
	ws := a.hello(nil)
	person, _ := a.sim.Example("000")
	if err := a.sc.Scan(person.CCCDQR()); err != nil {
		t.Fatal(err)
	}
	if r := nextResult(t, ws, 15*time.Second); r.Eligibility.Source == patient.SourceLive {
		t.Fatalf("desk 1 checked live with a wrong password")
	}
	waitFor(t, 20*time.Second, func() bool {
		s := status()
		i := desk(s, "Quầy 1")
		return len(s.Desks) == 2 && i == 0 && s.Desks[0].Status.Gateway.State == "account-refused" && s.Desks[0].Severity == "urgent"
	}, func() string { return fmt.Sprintf("fleet status never showed desk 1's refused account: %+v", status()) })
	out, _ := fleetCmd(t, "", append([]string{"status"}, dsn...)...)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[1], "URGENT") ||
		!strings.Contains(lines[1], "Quầy 1") || !strings.Contains(lines[1], "set-password") {
		t.Fatalf("fleet status:\n%s", out)
	}

	// IT sets the password once; desk 1 uses it without a restart.
	if out, code := fleetCmd(t, "s3cret\n", append([]string{"set-password"}, dsn...)...); code != 0 || !strings.Contains(out, "sealed with hospital key k2") {
		t.Fatalf("set-password: %d %s", code, out)
	}
	if out, code := fleetCmd(t, "", append([]string{"set", "gateway.md5_case", "purple"}, dsn...)...); code == 0 {
		t.Fatalf("fleet set accepted an invalid value: %s", out)
	}
	if out, code := fleetCmd(t, "", append([]string{"set", "his.origins", `["https://his.benhvien.vn"]`, "--lock"}, dsn...)...); code != 0 {
		t.Fatalf("fleet set: %d %s", code, out)
	}
	if out, _ := fleetCmd(t, "", append([]string{"settings"}, dsn...)...); !strings.Contains(out, "his.origins") || !strings.Contains(out, "sealed with hospital key k2") || strings.Contains(out, "s3cret") {
		t.Fatalf("fleet settings:\n%s", out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := a.sc.Scan(person.CCCDQR()); err != nil {
			t.Fatal(err)
		}
		r := nextResult(t, ws, 15*time.Second)
		if r.Eligibility.Source == patient.SourceLive && r.Eligibility.Verdict == patient.Eligible {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("desk 1 never checked live after set-password; last %s %s", r.Eligibility.Source, r.Eligibility.Verdict)
		}
		time.Sleep(500 * time.Millisecond) // between two scans at the counter
	}
	waitFor(t, 20*time.Second, func() bool {
		s := status()
		i := desk(s, "Quầy 1")
		return i >= 0 && s.Desks[i].Status.Gateway.State == "online" && !s.Desks[i].Status.LastScan.IsZero()
	}, func() string { return fmt.Sprintf("desk 1 never reported online: %+v", status()) })

	// What the desks report holds no personal data.
	conn, err := pgx.Connect(context.Background(), c.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var reports, dump string
	if err := conn.QueryRow(context.Background(), `SELECT string_agg(status::text, ',') FROM desk_status`).Scan(&reports); err != nil {
		t.Fatal(err)
	}
	for _, pd := range []string{string(person.CitizenID), string(person.Name), string(person.CardNumber), person.Address} {
		if pd != "" && strings.Contains(reports, pd) {
			t.Fatalf("a desk's status holds personal data %q:\n%s", pd, reports)
		}
	}
	if err := conn.QueryRow(context.Background(), `SELECT (SELECT string_agg(t::text, ',') FROM fleet_secrets t) || (SELECT string_agg(t::text, ',') FROM fleet_settings t) || $1`, reports).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(dump, "s3cret") {
		t.Fatal("the gateway password is in plain text in PostgreSQL")
	}

	// Desk 2 stops: it is listed as missing, first.
	pb.stop(t)
	waitFor(t, 20*time.Second, func() bool {
		s := status("--missing-after", "2s")
		return len(s.Desks) == 2 && s.Desks[0].Name == "Quầy 2" && s.Desks[0].Missing
	}, func() string {
		return fmt.Sprintf("the stopped desk is not missing: %+v", status("--missing-after", "2s"))
	})
	out, _ = fleetCmd(t, "", append([]string{"status", "--missing-after", "2s"}, dsn...)...)
	if lines := strings.Split(strings.TrimSpace(out), "\n"); !strings.HasPrefix(lines[1], "MISSING") || !strings.Contains(lines[1], "Quầy 2") || !strings.Contains(lines[1], "no report for") {
		t.Fatalf("fleet status after the stop:\n%s", out)
	}

	// The fleet page (tiepdon fleet serve) lists it as missing too, to
	// whoever has the token it printed, and to no one else.
	served := make(chan net.Addr, 1)
	fleetServeReady = func(a net.Addr) { served <- a }
	defer func() { fleetServeReady = func(net.Addr) {} }()
	sctx, stopServe := context.WithCancel(context.Background())
	serveOut := &lockedBuffer{}
	serveDone := make(chan int, 1)
	go func() {
		serveDone <- dispatch(sctx, append([]string{"fleet", "serve", "--addr", "127.0.0.1:0", "--missing-after", "2s",
			"--token-file", filepath.Join(dir, "page-token")}, dsn...), serveOut, serveOut)
	}()
	var pageAddr net.Addr
	select {
	case pageAddr = <-served:
	case <-time.After(20 * time.Second):
		t.Fatalf("fleet serve did not start:\n%s", serveOut.String())
	}
	token := ""
	for _, l := range strings.Split(serveOut.String(), "\n") {
		if f := strings.Fields(l); len(f) == 1 && len(f[0]) > 40 {
			token = f[0]
		}
	}
	get := func(tok string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+pageAddr.String()+"/status.json", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, _ := get(""); code != http.StatusUnauthorized {
		t.Fatalf("the fleet page without the token: %d", code)
	}
	if code, body := get(token); code != 200 || !strings.Contains(body, `"name":"Quầy 2"`) || !strings.Contains(body, `"missing":true`) {
		t.Fatalf("the fleet page with the token (%q): %d %s", token, code, body)
	}
	stopServe()
	if code := <-serveDone; code != 0 {
		t.Fatalf("fleet serve exited %d:\n%s", code, serveOut.String())
	}

	// The password is not in desk 1's log nor in its support bundle.
	if strings.Contains(logOf(t, aData), "s3cret") {
		t.Fatal("the gateway password is in desk 1's log")
	}
	t.Setenv("TIEPDON_CONFIG", aConfig)
	t.Setenv("TIEPDON_DATA_DIR", aData)
	t.Setenv("TIEPDON_GATEWAY_PASSWORD", "")
	zipFile := filepath.Join(t.TempDir(), "bundle.zip")
	var bout, berr bytes.Buffer
	if code := dispatch(context.Background(), []string{"support-bundle", "-o", zipFile}, &bout, &berr); code != 0 {
		t.Fatalf("support-bundle: %d %s", code, berr.String())
	}
	zr, err := zip.OpenReader(zipFile)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(rc)
		rc.Close()
		if bytes.Contains(body, []byte("s3cret")) {
			t.Fatalf("the gateway password is in the support bundle's %s", f.Name)
		}
	}
}

// logOf returns the desk's log files.
func logOf(t *testing.T, dataDir string) string {
	var all strings.Builder
	filepath.Walk(filepath.Join(dataDir, "logs"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			b, _ := os.ReadFile(p)
			all.Write(b)
		}
		return nil
	})
	if all.Len() == 0 {
		t.Fatal("the desk wrote no log")
	}
	return all.String()
}
