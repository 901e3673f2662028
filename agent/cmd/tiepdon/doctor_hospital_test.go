package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tiepdon/tiepdon/agent/config"
	"github.com/tiepdon/tiepdon/agent/doctor"
	"github.com/tiepdon/tiepdon/sync/hospital"
	"github.com/tiepdon/tiepdon/sync/hospital/pgtest"
)

// TestHospitalKeys: the hospital-keys check, with the key file and
// PostgreSQL read as tiepdon doctor reads them, on a real PostgreSQL whose
// fleet password is sealed with key k1. A key file holding k1 passes; one
// that does not parse, and one that dropped k1, fail with the fix and
// without key material; with PostgreSQL unreachable the file is still
// checked on its own.
func TestHospitalKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
	c := config.Default()
	wantDoctor(t, doctor.HospitalKeys(context.Background(), &c, doctorHospitalKeys), doctor.Skip, "hospital mode is off")

	pg := pgtest.Start(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := hospital.Migrate(ctx, conn, hospital.Migrations()); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO fleet_secrets (name, key_id, sealed) VALUES ('gateway.password', 'k1', '\x00')`); err != nil {
		t.Fatal(err)
	}
	k1, _ := hospital.NewKey("k1")
	k2, _ := hospital.NewKey("k2")
	c.Hospital.DSN, c.Hospital.KeyFile = pg.DSN, filepath.Join(t.TempDir(), "hospital.keys")
	check := func(body string) doctor.Result {
		t.Helper()
		if err := os.WriteFile(c.Hospital.KeyFile, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		r := doctor.HospitalKeys(ctx, &c, doctorHospitalKeys)
		for _, k := range []string{k1, k2} {
			if secret := strings.Fields(k)[1]; strings.Contains(r.Found.EN+r.Found.VI+r.Fix.EN, secret) {
				t.Fatalf("the finding holds key material: %+v", r)
			}
		}
		return r
	}

	wantDoctor(t, check(k2+"\n"+k1+"\n"), doctor.OK, "holds keys k2, k1; k2 seals")
	wantDoctor(t, check(k2+"\nk1 not-base64\n"), doctor.Fail, "line 2", "keeps the keys it read before", c.Hospital.KeyFile)
	r := check(k2 + "\n")
	wantDoctor(t, r, doctor.Fail, "lacks key k1", "refuses this file", c.Hospital.KeyFile)
	if !strings.Contains(r.Found.VI, "thiếu khoá k1") {
		t.Errorf("the Vietnamese finding: %s", r.Found.VI)
	}
	os.Remove(c.Hospital.KeyFile)
	wantDoctor(t, doctor.HospitalKeys(ctx, &c, doctorHospitalKeys), doctor.Fail, "cannot be used", c.Hospital.KeyFile)

	// PostgreSQL unreachable: the file alone is checked.
	c.Hospital.DSN = fmt.Sprintf("postgres://nobody@%s/none?connect_timeout=1", freeAddr(t))
	wantDoctor(t, check(k2+"\n"), doctor.OK, "PostgreSQL did not answer")
}

// wantDoctor fails t unless r has status s, its finding in both languages
// (and a fix in both for a failure), and mentions every word.
func wantDoctor(t *testing.T, r doctor.Result, s doctor.Status, words ...string) {
	t.Helper()
	if r.Status != s {
		t.Fatalf("%s: status %s, want %s (found: %s / fix: %s)", r.Check, r.Status, s, r.Found.EN, r.Fix.EN)
	}
	if r.Found.EN == "" || r.Found.VI == "" || s == doctor.Fail && (r.Fix.EN == "" || r.Fix.VI == "") {
		t.Errorf("%s: a finding or fix missing a language: %+v %+v", r.Check, r.Found, r.Fix)
	}
	for _, w := range words {
		if !strings.Contains(r.Found.EN+" "+r.Fix.EN, w) {
			t.Errorf("%s: %q does not mention %q", r.Check, r.Found.EN+" "+r.Fix.EN, w)
		}
	}
}
