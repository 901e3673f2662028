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

// hospitalRig starts a real PostgreSQL and writes a hospital key file; conf
// is a desk's config in hospital mode on them.
func hospitalRig(t *testing.T) (c *pgtest.Cluster, conf func(desk string) string) {
	t.Helper()
	c = pgtest.Start(t)
	line, err := hospital.NewKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "hospital.keys")
	writeFile(t, keyFile, line+"\n")
	return c, func(desk string) string {
		return fmt.Sprintf("[hospital]\ndsn = %q\nkey_file = %q\ndesk = %q\n", c.DSN, keyFile, desk)
	}
}

// TestHospitalTwoDesks runs two desks' agents on one real PostgreSQL: desk
// A ("Quầy 3") checks a patient live; desk B, whose gateway is down and
// whose own cache has never seen the patient, answers from A's answer,
// marked as kept by Quầy 3.
func TestHospitalTwoDesks(t *testing.T) {
	c, conf := hospitalRig(t)

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

// TestHospitalStoreKilledMidBurst runs a desk's agent on a real PostgreSQL
// that is killed (pg_ctl -m immediate) in the middle of a burst of scans and
// started again: the desk answers every scan live throughout, and once the
// store is back every answer and audit line reaches it exactly once.
func TestHospitalStoreKilledMidBurst(t *testing.T) {
	c, conf := hospitalRig(t)
	a := newAgentRig(t, bhxhsim.Options{}, "s3cret", conf("Quầy 5"), hisapi.ScopeEligibility)
	a.start(a.args())
	ws := a.hello(nil)
	seen := map[string]bool{}
	scan := func(from, to int) {
		for i := from; i < to; i++ {
			if err := a.sc.Scan(a.sim.Person(len(bhxhsim.Showcase) + i).CCCDQR()); err != nil {
				t.Fatal(err)
			}
			r := nextResult(t, ws, 15*time.Second)
			if r.Eligibility.Source != patient.SourceLive {
				t.Fatalf("scan %d: %s answer, want live whatever the store does", i, r.Eligibility.Source)
			}
			seen[r.CheckID] = true
		}
	}
	count := func(conn *pgx.Conn) (rows, distinct, audits int) {
		conn.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT v.seq),
			(SELECT count(DISTINCT check_id) FROM audit WHERE desk_id = v.desk_id)
			FROM verdicts v JOIN desks d USING (desk_id) WHERE d.name = 'Quầy 5' GROUP BY v.desk_id`).Scan(&rows, &distinct, &audits)
		return
	}
	scan(0, 15)
	c.Stop(t)
	scan(15, 30)
	c.Start(t)
	scan(30, 40)
	conn, err := pgx.Connect(context.Background(), c.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	waitFor(t, 60*time.Second, func() bool { _, _, n := count(conn); return n == len(seen) }, func() string {
		rows, distinct, audits := count(conn)
		return fmt.Sprintf("the store holds %d answers (%d distinct), %d audited checks; the desk answered %d", rows, distinct, audits, len(seen))
	})
	if rows, distinct, _ := count(conn); rows != distinct || rows < len(seen) {
		t.Errorf("the store holds %d answer rows, %d distinct, for %d checks: duplicates or losses", rows, distinct, len(seen))
	}
}
