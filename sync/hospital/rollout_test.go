package hospital_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/sync/cache"
	"github.com/tiepdon/tiepdon/sync/hospital"
)

// TestRolloutTwoVersions: during a rollout, a desk of this version keeps
// replicating and answering while a desk of the next version (this
// version's schema plus an additive step, as every step must be) migrates
// the store under it mid-burst; restarted against the newer store, the
// older desk connects without touching the schema; both desks' answers are
// all there once and serve each other.
func TestRolloutTwoVersions(t *testing.T) {
	t.Parallel()
	dsn := cluster.NewDB(t)
	keys := testKeys(t)
	ctx := context.Background()
	ms := hospital.Migrations()
	last := ms[len(ms)-1].Version
	next := append(ms[:len(ms):len(ms)], hospital.Migration{Version: last + 1, Name: fmt.Sprintf("%04d_next.sql", last+1), SQL: `
		ALTER TABLE verdicts ADD COLUMN next_field text;
		CREATE TABLE next_table (desk_id text PRIMARY KEY REFERENCES desks, note text);`})

	old := newDesk(t, dsn, keys, "desk-old", "Quầy 1")
	waitFor(t, "the older desk migrated", func() bool { ok, _ := old.h.Ready(); return ok })
	if v := old.h.SchemaVersion(); v != last {
		t.Fatalf("the older desk left the schema at %d, want %d", v, last)
	}
	save := func(d *cache.DB, from, to int) {
		for i := from; i < to; i++ {
			id := an
			id.CitizenID = patient.CitizenID(fmt.Sprintf("%012d", 79085200000+i))
			if err := d.SaveResult(ctx, events.EligibilityResult, answer(fmt.Sprintf("c%d", i), id, "", time.Now())); err != nil {
				t.Fatal(err)
			}
		}
	}
	save(old.db, 0, 50)

	// The newer desk starts mid-burst and migrates.
	newDB, err := cache.Open(ctx, filepath.Join(t.TempDir(), "cache.db"), cache.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer newDB.Close()
	nh, err := hospital.NewWithMigrations(hospital.Options{DSN: dsn, Keys: keys, DeskID: "desk-new", Desk: "Quầy 2", LookupTimeout: time.Second, Logger: quiet}, next)
	if err != nil {
		t.Fatal(err)
	}
	defer nh.Close()
	nctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); nh.Run(nctx, newDB) }()
	defer func() { stop(); <-done }()
	save(old.db, 50, 100)
	waitFor(t, "the newer desk migrated", func() bool { ok, _ := nh.Ready(); return ok })
	if v := nh.SchemaVersion(); v != last+1 {
		t.Fatalf("the newer desk's schema version is %d, want %d", v, last+1)
	}
	save(old.db, 100, 150)
	save(newDB, 1000, 1010)

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	waitRows(t, conn, "desk-old", 150)
	waitRows(t, conn, "desk-new", 10)
	if ok, err := old.h.Ready(); !ok {
		t.Fatalf("the older desk stopped replicating after the migration: %v", err)
	}
	// Each serves the other.
	for _, q := range []struct {
		s    hospital.Shared
		id   int
		name string
	}{{old.shared, 1005, "Quầy 2"}, {hospital.Shared{DB: newDB, Hospital: nh, Retention: 24 * time.Hour}, 120, "Quầy 1"}} {
		e, ok, err := q.s.Lookup(ctx, patient.Query{CitizenID: patient.CitizenID(fmt.Sprintf("%012d", 79085200000+q.id))})
		if !ok || err != nil || e.CachedBy != q.name {
			t.Errorf("lookup of person %d: ok %v err %v cachedBy %q, want %s's answer", q.id, ok, err, e.CachedBy, q.name)
		}
	}

	// The older desk restarted against the newer store: it connects and
	// leaves the schema as it is.
	again, err := hospital.New(hospital.Options{DSN: dsn, Keys: keys, DeskID: "desk-old", Desk: "Quầy 1", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	actx, astop := context.WithCancel(ctx)
	adone := make(chan struct{})
	go func() { defer close(adone); again.Run(actx, old.db) }()
	defer func() { astop(); <-adone }()
	waitFor(t, "the restarted older desk connected", func() bool { ok, _ := again.Ready(); return ok })
	if v := again.SchemaVersion(); v != last+1 {
		t.Errorf("the restarted older desk sees schema %d, want %d", v, last+1)
	}
	var distinct, n int
	if err := conn.QueryRow(ctx, `SELECT count(DISTINCT seq), count(*) FROM verdicts WHERE desk_id = 'desk-old'`).Scan(&distinct, &n); err != nil || distinct != 150 || n != 150 {
		t.Errorf("the older desk's answers: %d distinct of %d rows (%v), want 150 once each", distinct, n, err)
	}
}
