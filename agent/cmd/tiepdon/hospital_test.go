package main

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorilla/websocket"
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

// TestHospitalTwoDesks runs two desks' agents, each its own process, on one
// real PostgreSQL: desk
// A ("Quầy 3") checks a patient live; desk B, whose gateway is down and
// whose own cache has never seen the patient, answers from A's answer,
// marked as kept by Quầy 3.
func TestHospitalTwoDesks(t *testing.T) {
	c, conf := hospitalRig(t)

	a := newAgentRig(t, bhxhsim.Options{}, "s3cret", conf("Quầy 3"), hisapi.ScopeEligibility)
	a.spawn(a.args())
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
	b.spawn(args)
	wsB := b.hello(nil)
	if err := b.sc.Scan(person.CCCDQR()); err != nil {
		t.Fatal(err)
	}
	r := nextResult(t, wsB, 15*time.Second)
	if e := r.Eligibility; e.Source != patient.SourceCache || e.Verdict != patient.Eligible || e.CachedBy != "Quầy 3" {
		t.Fatalf("desk B with its gateway down: %s %s cachedBy %q, want desk A's answer kept by Quầy 3", e.Source, e.Verdict, e.CachedBy)
	}
}

// TestHospitalStoreKilledMidBurst runs two desks' agent processes on a real
// PostgreSQL that is killed (pg_ctl -m immediate) in the middle of a burst
// of scans at both and started again: the desks answer every scan live
// throughout; once the store is back every answer and audit line of each
// desk reaches it exactly once, and each desk's own cache catches up with
// what the other kept during the outage, so that with the store stopped
// again and its gateway down, desk B answers a patient desk A checked while
// the store was down.
func TestHospitalStoreKilledMidBurst(t *testing.T) {
	c, conf := hospitalRig(t)
	a := newAgentRig(t, bhxhsim.Options{}, "s3cret", conf("Quầy 5"), hisapi.ScopeEligibility)
	pa := a.spawn(a.args())
	wsA := a.hello(nil)
	b := newAgentRig(t, bhxhsim.Options{}, "s3cret", conf("Quầy 6"), hisapi.ScopeEligibility)
	b.spawn(b.args())
	wsB := b.hello(nil)
	type deskRig struct {
		r    *agentRig
		ws   *websocket.Conn
		name string
		base int // its patients: the simulator's people from here
		seen map[string]bool
	}
	desks := []*deskRig{{a, wsA, "Quầy 5", 0, map[string]bool{}}, {b, wsB, "Quầy 6", 100, map[string]bool{}}}
	scan := func(from, to int) {
		for i := from; i < to; i++ {
			for _, d := range desks {
				if err := d.r.sc.Scan(d.r.sim.Person(len(bhxhsim.Showcase) + d.base + i).CCCDQR()); err != nil {
					t.Fatal(err)
				}
			}
			for _, d := range desks {
				r := nextResult(t, d.ws, 15*time.Second)
				if r.Eligibility.Source != patient.SourceLive {
					t.Fatalf("%s, scan %d: %s answer, want live whatever the store does", d.name, i, r.Eligibility.Source)
				}
				d.seen[r.CheckID] = true
			}
		}
	}
	count := func(conn *pgx.Conn, desk string) (rows, distinct, audits int) {
		conn.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT v.seq),
			(SELECT count(DISTINCT check_id) FROM audit WHERE desk_id = v.desk_id)
			FROM verdicts v JOIN desks d USING (desk_id) WHERE d.name = $1 GROUP BY v.desk_id`, desk).Scan(&rows, &distinct, &audits)
		return
	}
	scan(0, 8)
	c.Stop(t)
	scan(8, 16)
	c.Start(t)
	scan(16, 20)
	conn, err := pgx.Connect(context.Background(), c.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, d := range desks {
		waitFor(t, 60*time.Second, func() bool { _, _, n := count(conn, d.name); return n == len(d.seen) }, func() string {
			rows, distinct, audits := count(conn, d.name)
			return fmt.Sprintf("the store holds %d answers (%d distinct), %d audited checks of %s; the desk answered %d", rows, distinct, audits, d.name, len(d.seen))
		})
		if rows, distinct, _ := count(conn, d.name); rows != distinct || rows < len(d.seen) {
			t.Errorf("the store holds %d answer rows of %s, %d distinct, for %d checks: duplicates or losses", rows, d.name, distinct, len(d.seen))
		}
	}
	// Each desk's own SQLite cache holds its 20 answers and the other's 20.
	for _, d := range desks {
		db, err := sql.Open("sqlite3", "file:"+filepath.Join(d.r.dataDir, "cache.db")+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		waitFor(t, 30*time.Second, func() bool {
			var n int
			db.QueryRow(`SELECT count(*) FROM answers`).Scan(&n)
			return n == 40
		}, func() string {
			var n int
			err := db.QueryRow(`SELECT count(*) FROM answers`).Scan(&n)
			return fmt.Sprintf("%s's own cache holds %d answers (%v), want its 20 and the other desk's 20\n%s", d.name, n, err, pa.log.String())
		})
	}
	c.Stop(t)
	b.sim.SetFaults(bhxhsim.Faults{Down: true})
	if err := b.sc.Scan(a.sim.Person(len(bhxhsim.Showcase) + 12).CCCDQR()); err != nil {
		t.Fatal(err)
	}
	r := nextResult(t, wsB, 15*time.Second)
	if e := r.Eligibility; e.Source != patient.SourceCache || e.Verdict != patient.Eligible || e.CachedBy != "Quầy 5" {
		t.Fatalf("desk B, store stopped and gateway down, a patient desk A checked during the outage: %s %s cachedBy %q, want A's answer from B's own cache", e.Source, e.Verdict, e.CachedBy)
	}
}
