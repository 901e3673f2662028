package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tiepdon/tiepdon/agent/doctor"
	"github.com/tiepdon/tiepdon/agent/hisapi"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
	"github.com/tiepdon/tiepdon/sync/hospital/pgtest"
)

// TestKeyRotationWithoutRestart: a desk's agent process on a real
// PostgreSQL follows its key file. IT rotates it with "fleet new-key" and
// "fleet promote-key" while the desk runs; the desk's next answer reaches
// PostgreSQL sealed with the new key. A broken key file then leaves the
// desk working on the keys it has, and "fleet status" says what to fix.
func TestKeyRotationWithoutRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
	c := pgtest.Start(t)
	keyFile := filepath.Join(t.TempDir(), "hospital.keys")
	if out, code := fleetCmd(t, "", "new-key", "--id", "k1", keyFile); code != 0 {
		t.Fatalf("new-key: %d %s", code, out)
	}
	conf := fmt.Sprintf("[hospital]\ndsn = %q\nkey_file = %q\ndesk = %q\n", c.DSN, keyFile, "Quầy 4")
	r := newAgentRig(t, bhxhsim.Options{}, "s3cret", conf, hisapi.ScopeEligibility)
	spawnDesk(r, r.args())
	ws := r.hello(nil)
	conn, err := pgx.Connect(context.Background(), c.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())

	next := len(bhxhsim.Showcase)
	// scan checks a new person live and returns the key ID its answer
	// carries in PostgreSQL.
	scan := func() string {
		t.Helper()
		p := r.sim.Person(next)
		next++
		if err := r.sc.Scan(p.CCCDQR()); err != nil {
			t.Fatal(err)
		}
		res := nextResult(t, ws, 15*time.Second)
		if res.Eligibility.Source != patient.SourceLive {
			t.Fatalf("the desk answered %s, want live", res.Eligibility.Source)
		}
		var keyID string
		waitFor(t, 20*time.Second, func() bool {
			return conn.QueryRow(context.Background(), `SELECT v.key_id FROM verdicts v JOIN audit a USING (desk_id, seq)
				WHERE a.check_id = $1`, res.CheckID).Scan(&keyID) == nil
		}, func() string {
			var ids string
			conn.QueryRow(context.Background(), `SELECT coalesce((SELECT string_agg(desk_id || ':' || seq || ':' || check_id, ',') FROM audit), '') || ' / ' || coalesce((SELECT string_agg(desk_id || ':' || seq || ':' || key_id, ',') FROM verdicts), '')`).Scan(&ids)
			return fmt.Sprintf("the desk's answer %s never reached PostgreSQL (audited: %s)", res.CheckID, ids)
		})
		return keyID
	}
	if k := scan(); k != "k1" {
		t.Fatalf("before the rotation the answer is sealed with %q, want k1", k)
	}

	// Both rounds of the rotation while the desk runs. The desk reads the
	// file again on its own: within 300 ms here, 20 s in use.
	if out, code := fleetCmd(t, "", "new-key", "--id", "k2", keyFile); code != 0 {
		t.Fatalf("new-key: %d %s", code, out)
	}
	if out, code := fleetCmd(t, "", "promote-key", "k2", keyFile); code != 0 {
		t.Fatalf("promote-key: %d %s", code, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for k := scan(); k != "k2"; k = scan() {
		if time.Now().After(deadline) {
			t.Fatalf("after the rotation the desk still seals with %q, want k2", k)
		}
	}

	// A broken key file: the desk keeps the keys it has, keeps answering
	// and sealing with k2, and says so in its status.
	good, _ := os.ReadFile(keyFile)
	writeFile(t, keyFile, "k3 this-is-not-a-key\n")
	var problem string
	waitFor(t, 10*time.Second, func() bool {
		var st struct {
			KeyFileError string `json:"keyFileError"`
		}
		var raw []byte
		if conn.QueryRow(context.Background(), `SELECT s.status FROM desk_status s JOIN desks d USING (desk_id) WHERE d.name = 'Quầy 4'`).Scan(&raw) != nil {
			return false
		}
		json.Unmarshal(raw, &st)
		problem = st.KeyFileError
		return problem != ""
	}, func() string { return "the desk never reported its broken key file" })
	if !strings.Contains(problem, "line 1") || !strings.Contains(problem, "keeps the keys it has") {
		t.Fatalf("the desk reports %q", problem)
	}
	if k := scan(); k != "k2" {
		t.Fatalf("with a broken key file the desk seals with %q, want k2 (the keys it had)", k)
	}
	out, _ := fleetCmd(t, "", "status", "--dsn", c.DSN)
	if !strings.Contains(out, "WARNING") || !strings.Contains(out, "hospital key file not used") || !strings.Contains(out, "line 1") {
		t.Fatalf("fleet status does not show the broken key file:\n%s", out)
	}
	// tiepdon doctor on the desk says the same, and what to do.
	t.Setenv("TIEPDON_DATA_DIR", r.dataDir)
	t.Setenv("TIEPDON_HIS_ADDR", r.hisAddr)
	t.Setenv("TIEPDON_GATEWAY_URL", bhxhsim.URL(r.simAddr))
	doctorSays := func(check string) doctor.Result {
		t.Helper()
		var out, errb bytes.Buffer
		dispatch(context.Background(), []string{"doctor", "--json"}, &out, &errb)
		var rep doctor.Report
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("doctor --json: %v\n%s\n%s", err, out.String(), errb.String())
		}
		res, _ := rep.Result(check)
		return res
	}
	if d := doctorSays("hospital-keys"); d.Status != doctor.Fail || !strings.Contains(d.Found.EN, "line 1") || !strings.Contains(d.Fix.EN, "Copy the hospital's current key file") {
		t.Fatalf("doctor's hospital-keys with a broken key file: %+v", d)
	}

	// The good file back; IT locks the gateway account and address for the
	// fleet. The doctor shows the fleet's locks (from the settings the desk
	// keeps), that this session's TIEPDON_GATEWAY_USER is ignored, and that
	// the running desk's --gateway flag is (the desk notes it).
	writeFile(t, keyFile, string(good))
	for _, set := range [][]string{{"gateway.username", "79014_BV2"}, {"gateway.url", strings.Replace(bhxhsim.URL(r.simAddr), "127.0.0.1", "localhost", 1)}} {
		if out, code := fleetCmd(t, "", "set", set[0], set[1], "--lock", "--dsn", c.DSN); code != 0 {
			t.Fatalf("fleet set: %d %s", code, out)
		}
	}
	var locks doctor.Result
	waitFor(t, 15*time.Second, func() bool {
		locks = doctorSays("locked-settings")
		return locks.Status == doctor.Warn && strings.Contains(locks.Found.EN, "gateway.url is set in a command-line flag of the tiepdon run started")
	}, func() string {
		return fmt.Sprintf("doctor never showed the fleet's locks and the ignored flag: %+v", locks)
	})
	if !strings.Contains(locks.Found.EN, "gateway.url, gateway.username (the hospital's fleet settings)") ||
		!strings.Contains(locks.Found.EN, "gateway.username is set in the environment variable TIEPDON_GATEWAY_USER") {
		t.Fatalf("doctor's locked-settings: %+v", locks)
	}
	if d := doctorSays("hospital-keys"); d.Status != doctor.OK || !strings.Contains(d.Found.EN, "k2 seals") {
		t.Fatalf("doctor's hospital-keys with the good file back: %+v", d)
	}

	// No key material in the desk's log or status.
	for _, f := range strings.Fields(string(good)) {
		if len(f) > 40 && (strings.Contains(logOf(t, r.dataDir), f) || strings.Contains(problem, f)) {
			t.Fatal("a hospital key is in the desk's log or status")
		}
	}
}
