package hospital_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/sync/cache"
	"github.com/tiepdon/tiepdon/sync/hospital"
	"github.com/tiepdon/tiepdon/sync/hospital/pgtest"
)

var quiet = slog.New(slog.DiscardHandler)

// desk is one desk of the test hospital: its own SQLite cache (a real
// file) and its handle on the shared PostgreSQL, replicating in the
// background.
type desk struct {
	db     *cache.DB
	h      *hospital.DB
	shared hospital.Shared
	stop   context.CancelFunc
	done   chan struct{}
}

func testKeys(t testing.TB) *hospital.Keyring {
	t.Helper()
	line, err := hospital.NewKey("k2026")
	if err != nil {
		t.Fatal(err)
	}
	k, err := hospital.ParseKeys([]byte(line + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newDesk(t testing.TB, dsn string, keys *hospital.Keyring, id, name string) *desk {
	t.Helper()
	h, err := hospital.New(hospital.Options{DSN: dsn, Keys: keys, DeskID: id, Desk: name, LookupTimeout: time.Second, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return runDesk(t, h)
}

// runDesk gives h a SQLite cache file of its own and replicates it in the
// background until the test ends.
func runDesk(t testing.TB, h *hospital.DB) *desk {
	t.Helper()
	db, err := cache.Open(context.Background(), filepath.Join(t.TempDir(), "cache.db"), cache.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &desk{db: db, h: h, stop: cancel, done: make(chan struct{}),
		shared: hospital.Shared{DB: db, Hospital: h, Retention: 30 * 24 * time.Hour}}
	go func() { defer close(d.done); h.Run(ctx, db) }()
	t.Cleanup(func() { d.stop(); <-d.done; h.Close(); db.Close() })
	return d
}

var an = patient.Identity{Medium: patient.MediumQRCCCD, CitizenID: "079085001234", Name: "Nguyễn Văn An",
	BirthDate: patient.Date{Year: 1985, Month: 3, Day: 2}}

func answer(checkID string, id patient.Identity, card patient.CardNumber, at time.Time) events.Result {
	return events.Result{CheckID: checkID, Identity: id, Eligibility: patient.Eligibility{
		Verdict: patient.Eligible, Code: "000", ReasonVI: "Thẻ còn giá trị.", CardNumber: card, Holder: id.Name,
		Source: patient.SourceLive, CheckedAt: at, Latency: 400 * time.Millisecond}}
}

// waitRows waits until the store holds n verdict rows for deskID.
func waitRows(t *testing.T, conn *pgx.Conn, deskID string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var got int
		err := conn.QueryRow(context.Background(), `SELECT count(*) FROM verdicts WHERE desk_id = $1`, deskID).Scan(&got)
		if err == nil && got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("desk %s: %d verdict rows in the store (%v), want %d", deskID, got, err, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSharedCacheAcrossDesks: desk A's live answer, replicated, answers
// desk B's lookup (B's own cache has nothing) with A's name; the store holds
// no name or ID in clear; an answer about the query (a mismatch) is never
// shared.
func TestSharedCacheAcrossDesks(t *testing.T) {
	t.Parallel()
	dsn := cluster.NewDB(t)
	keys := testKeys(t)
	a := newDesk(t, dsn, keys, "desk-a", "Quầy 3")
	b := newDesk(t, dsn, keys, "desk-b", "Quầy 7")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	at := time.Now().Add(-2 * time.Hour).Truncate(time.Millisecond)
	if err := a.db.SaveResult(ctx, events.EligibilityResult, answer("c1", an, "DN4797912345678", at)); err != nil {
		t.Fatal(err)
	}
	mismatch := answer("c2", patient.Identity{Medium: patient.MediumTyped, CardNumber: "HS4790000000001"}, "HS4790000000001", at)
	mismatch.Eligibility.Verdict, mismatch.Eligibility.Code = patient.InputMismatch, "060"
	if err := a.db.SaveResult(ctx, events.EligibilityResult, mismatch); err != nil {
		t.Fatal(err)
	}
	waitRows(t, conn, "desk-a", 2)
	// Desk B asks the store only once it has connected to it.
	waitFor(t, "desk B connected", func() bool { ok, _ := b.h.Ready(); return ok })
	if _, ok, _ := b.db.Lookup(ctx, patient.Query{CitizenID: an.CitizenID}); ok {
		t.Fatal("desk B's own cache already knows the patient: the test proves nothing")
	}
	for _, q := range []patient.Query{{CitizenID: an.CitizenID}, {CardNumber: "DN4797912345678"}} {
		e, ok, err := b.shared.Lookup(ctx, q)
		if err != nil || !ok {
			t.Fatalf("desk B lookup %+v: ok %v err %v, want desk A's answer", q, ok, err)
		}
		if e.Verdict != patient.Eligible || e.CachedBy != "Quầy 3" || !e.CheckedAt.Equal(at) || e.Holder != an.Name {
			t.Errorf("desk B got %s by %q at %v holder %q", e.Verdict, e.CachedBy, e.CheckedAt, e.Holder)
		}
	}
	if _, ok, _ := b.shared.Lookup(ctx, patient.Query{CardNumber: "HS4790000000001"}); ok {
		t.Error("a mismatch (about the query, not the card) was shared")
	}
	// The database alone names no one.
	for _, table := range []string{"verdicts", "audit", "receipts", "desks"} {
		rows, err := conn.Query(ctx, `SELECT t::text FROM `+table+` t`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var row string
			rows.Scan(&row)
			for _, secret := range []string{string(an.CitizenID), "DN4797912345678", "Nguyễn", "Nguy\\u1ec5n", "HS4790000000001"} {
				if bytes.Contains([]byte(row), []byte(secret)) {
					t.Errorf("table %s holds %q in clear: %s", table, secret, row)
				}
			}
		}
		rows.Close()
	}
	var audits int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM audit WHERE desk_id = 'desk-a' AND code IN ('000', '060')`).Scan(&audits); err != nil || audits != 2 {
		t.Errorf("audit rows %d (%v), want 2", audits, err)
	}
}

// TestStoreDownMidBurst: PostgreSQL stopped in the middle of a burst of
// answers and started again: every answer reaches the store once, none
// twice, and while it is down a lookup returns at once with nothing.
func TestStoreDownMidBurst(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t)
	keys := testKeys(t)
	a := newDesk(t, c.DSN, keys, "desk-a", "Quầy 1")
	ctx := context.Background()
	save := func(from, to int) {
		for i := from; to > i; i++ {
			id := an
			id.CitizenID = patient.CitizenID(fmt.Sprintf("%012d", 79085000000+i))
			if err := a.db.SaveResult(ctx, events.EligibilityResult, answer(fmt.Sprintf("c%d", i), id, "", time.Now())); err != nil {
				t.Fatal(err)
			}
		}
	}
	save(0, 100)
	conn, err := pgx.Connect(ctx, c.DSN)
	if err != nil {
		t.Fatal(err)
	}
	waitRows(t, conn, "desk-a", 100)
	conn.Close(ctx)

	c.Stop(t)
	save(100, 250)
	// The desk notices the store is gone and stops asking it.
	deadline := time.Now().Add(20 * time.Second)
	for ok, _ := a.h.Ready(); ok; ok, _ = a.h.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("the desk still thinks the stopped store is ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	if _, ok, err := a.shared.Lookup(ctx, patient.Query{CitizenID: "079000000000"}); ok || err != nil {
		t.Errorf("lookup with the store down: ok %v err %v", ok, err)
	}
	if took := time.Since(start); took > 500*time.Millisecond {
		t.Errorf("a lookup with the store down took %v", took)
	}

	c.Start(t)
	save(250, 300)
	conn, err = pgx.Connect(ctx, c.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	waitRows(t, conn, "desk-a", 300)
	var distinct, audits int
	if err := conn.QueryRow(ctx, `SELECT count(DISTINCT seq), (SELECT count(*) FROM audit WHERE desk_id = 'desk-a') FROM verdicts WHERE desk_id = 'desk-a'`).Scan(&distinct, &audits); err != nil {
		t.Fatal(err)
	}
	if distinct != 300 || audits != 300 {
		t.Errorf("after the outage: %d distinct answers and %d audit lines, want 300 each", distinct, audits)
	}
}
