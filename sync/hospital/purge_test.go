package hospital_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/sync/hospital"
)

// TestPurgeExpired: the store deletes answers (and their lookups) older
// than 30 days and audit lines and receipts older than a year, a batch at
// a time, and keeps everything younger; a desk's own answer of today stays.
func TestPurgeExpired(t *testing.T) {
	t.Parallel()
	dsn := cluster.NewDB(t)
	ctx := context.Background()
	d := newDesk(t, dsn, testKeys(t), "desk-a", "Quầy 3")
	if err := d.db.SaveResult(ctx, events.EligibilityResult, answer("c-today", an, "", time.Now())); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	waitRows(t, conn, "desk-a", 1)
	// A past desk's 12,000 answers, 100 a day over 120 days; audit lines
	// 25 a day over 480 days; a receipt for every other one.
	for _, q := range []string{
		`INSERT INTO desks (desk_id, name) VALUES ('past', 'Quầy cũ')`,
		`INSERT INTO verdicts (desk_id, seq, lookup, key_id, checked_at, sealed, verdict, source)
			SELECT 'past', g, ARRAY[sha256(('cid'||g)::bytea)], 'k', now() - (g * interval '1 day') / 100, '\x00', 'eligible', 'live'
			FROM generate_series(1, 12000) g`,
		`INSERT INTO audit (desk_id, seq, at, check_id, code, verdict, latency_ms, key_id, sealed)
			SELECT 'past', g, now() - (g * interval '4 days') / 100, 'c'||g, '000', 'eligible', 5, 'k', '\x00'
			FROM generate_series(1, 12000) g`,
		`INSERT INTO receipts (desk_id, seq, check_id, kind, key_id, sealed)
			SELECT 'past', g, 'c'||g, 'eligibility.result', 'k', '\x00' FROM generate_series(2, 12000, 2) g`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	count := func(q string) int {
		var n int
		if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	n, err := d.h.Purge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Answers: days 30.01..120 go (9,000 and their lookups); audit lines
	// older than 365 days (seq 9,126..12,000) with their receipts go.
	if got := count(`SELECT count(*) FROM verdicts WHERE desk_id = 'past'`); got < 2999 || got > 3001 {
		t.Errorf("%d answers of the past desk left, want the 3,000 of the last 30 days", got)
	}
	if got := count(`SELECT count(*) FROM verdicts WHERE desk_id = 'desk-a'`); got != 1 {
		t.Errorf("today's answer: %d rows, want 1", got)
	}
	if got := count(`SELECT count(*) FROM verdict_lookups l WHERE NOT EXISTS (SELECT 1 FROM verdicts v WHERE v.desk_id = l.desk_id AND v.seq = l.seq)`); got != 0 {
		t.Errorf("%d lookups of purged answers left", got)
	}
	if got := count(`SELECT count(*) FROM audit WHERE desk_id = 'past' AND at < now() - interval '365 days'`); got != 0 {
		t.Errorf("%d audit lines older than a year left", got)
	}
	if got := count(`SELECT count(*) FROM audit WHERE desk_id = 'past'`); got < 9120 || got > 9130 {
		t.Errorf("%d audit lines left, want the ~9,125 of the last year", got)
	}
	if got := count(`SELECT count(*) FROM receipts r WHERE NOT EXISTS (SELECT 1 FROM audit a WHERE a.desk_id = r.desk_id AND a.seq = r.seq)`); got != 0 {
		t.Errorf("%d receipts outlived their audit line", got)
	}
	if got := count(`SELECT count(*) FROM receipts WHERE desk_id = 'past'`); got < 4560 || got > 4565 {
		t.Errorf("%d receipts left, want the ~4,562 of the last year", got)
	}
	if n < 9000+2875 {
		t.Errorf("Purge reported %d rows, want at least the 11,875 expired answers and audit lines", n)
	}
	if n, err := d.h.Purge(ctx); err != nil || n != 0 {
		t.Errorf("a second purge: %d rows, %v; want nothing left to delete", n, err)
	}
}

// TestPurgeRefused: a desk whose role may not call tiepdon_purge (the
// grants not run again after a migration) keeps replicating and says why
// in PurgeProblem, which its health report carries to fleet status; once
// IT grants it, the next purge clears the problem.
func TestPurgeRefused(t *testing.T) {
	t.Parallel()
	dsn := cluster.NewDB(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := hospital.Migrate(ctx, conn, hospital.Migrations()); err != nil {
		t.Fatal(err)
	}
	role := fmt.Sprintf("desk_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6)
	for _, q := range []string{
		"CREATE ROLE " + role + " LOGIN",
		"GRANT SELECT ON ALL TABLES IN SCHEMA public TO " + role,
		"GRANT INSERT, UPDATE ON desks TO " + role,
		"GRANT INSERT ON verdicts, verdict_lookups, audit, receipts TO " + role,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			conn.Exec(ctx, "DROP OWNED BY "+role)
			conn.Exec(ctx, "DROP ROLE "+role)
			conn.Close(ctx)
		}
	})
	h, err := hospital.New(hospital.Options{DSN: strings.Replace(dsn, "user=postgres", "user="+role, 1), Keys: testKeys(t),
		DeskID: "desk-a", Desk: "Quầy 3", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	db := runDesk(t, h).db
	if err := db.SaveResult(ctx, events.EligibilityResult, answer("c1", an, "", time.Now())); err != nil {
		t.Fatal(err)
	}
	waitRows(t, conn, "desk-a", 1)
	waitFor(t, "the refused purge to be reported", func() bool { return strings.Contains(h.PurgeProblem(), "permission denied") })
	if _, err := conn.Exec(ctx, "GRANT EXECUTE ON FUNCTION tiepdon_purge(integer) TO "+role); err != nil {
		t.Fatal(err)
	}
	h.PurgeNow(ctx)
	if p := h.PurgeProblem(); p != "" {
		t.Errorf("after the grant the desk still reports %q", p)
	}
}
