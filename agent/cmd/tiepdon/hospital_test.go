package main

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tiepdon/tiepdon/agent/hisapi"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
	"github.com/tiepdon/tiepdon/sync/hospital"
	"github.com/tiepdon/tiepdon/sync/hospital/pgtest"
)

// TestHospitalTwoDesks runs two desks' agents on one real PostgreSQL: desk
// A ("Quầy 3") checks a patient live; desk B, whose gateway is down and
// whose own cache has never seen the patient, answers from A's answer,
// marked as kept by Quầy 3.
func TestHospitalTwoDesks(t *testing.T) {
	c := pgtest.Start(t)
	dir := t.TempDir()
	line, err := hospital.NewKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "hospital.keys")
	writeFile(t, keyFile, line+"\n")
	conf := func(desk string) string {
		return fmt.Sprintf("[hospital]\ndsn = %q\nkey_file = %q\ndesk = %q\n", c.DSN, keyFile, desk)
	}

	a := newAgentRig(t, bhxhsim.Options{}, "s3cret", conf("Quầy 3"), hisapi.ScopeEligibility)
	a.start(a.args())
	wsA := a.hello(nil)
	person, ok := a.sim.Example("000")
	if !ok {
		t.Fatal("the simulator has no eligible person")
	}
	if err := a.sc.Scan(person.CCCDQR()); err != nil {
		t.Fatal(err)
	}
	if r := nextResult(t, wsA, 15*time.Second); r.Eligibility.Source != patient.SourceLive || r.Eligibility.Verdict != patient.Eligible {
		t.Fatalf("desk A: %s %s, want a live eligible answer", r.Eligibility.Source, r.Eligibility.Verdict)
	}
	conn, err := pgx.Connect(context.Background(), c.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	waitFor(t, 20*time.Second, func() bool {
		var n int
		conn.QueryRow(context.Background(), `SELECT count(*) FROM verdicts v JOIN desks d USING (desk_id) WHERE d.name = 'Quầy 3'`).Scan(&n)
		return n > 0
	}, func() string { return "desk A's answer never reached PostgreSQL" })

	b := newAgentRig(t, bhxhsim.Options{}, "s3cret", conf("Quầy 7"), hisapi.ScopeEligibility)
	args := b.args()
	args[len(args)-1] = "http://" + freeAddr(t) // desk B's gateway: nobody listens
	b.start(args)
	wsB := b.hello(nil)
	if err := b.sc.Scan(person.CCCDQR()); err != nil {
		t.Fatal(err)
	}
	r := nextResult(t, wsB, 15*time.Second)
	if e := r.Eligibility; e.Source != patient.SourceCache || e.Verdict != patient.Eligible || e.CachedBy != "Quầy 3" {
		t.Fatalf("desk B with its gateway down: %s %s cachedBy %q, want desk A's answer kept by Quầy 3", e.Source, e.Verdict, e.CachedBy)
	}
}
