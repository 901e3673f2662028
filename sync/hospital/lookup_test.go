package hospital_test

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/sync/hospital"
)

// TestLookupAmongAMonth: with a month of answers from 60 desks in the
// store (60,000 rows), the shared-cache lookup is index probes on
// verdict_lookups and the row by its key — never a walk through verdicts
// (version 1's query walked verdicts_checked_at backwards through every
// newer answer, hundreds of milliseconds at this size, over a desk's
// lookup timeout). The answer a desk kept a month ago, and one a desk of
// the previous schema version inserted, are found; answers that are not
// shared are not.
func TestLookupAmongAMonth(t *testing.T) {
	t.Parallel()
	dsn := cluster.NewDB(t)
	keys := testKeys(t)
	ctx := context.Background()
	a := newDesk(t, dsn, keys, "desk-a", "Quầy 3")
	b := newDesk(t, dsn, keys, "desk-b", "Quầy 7")
	waitFor(t, "both desks migrated", func() bool {
		okA, _ := a.h.Ready()
		okB, _ := b.h.Ready()
		return okA && okB
	})
	old := an
	old.CitizenID = "079085009999"
	if err := a.db.SaveResult(ctx, events.EligibilityResult, answer("c-old", old, "", time.Now().Add(-29*24*time.Hour))); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	waitRows(t, conn, "desk-a", 1)

	// A month of other answers, as desks of the previous version inserted
	// them (the trigger fills verdict_lookups): some shared, some not.
	if _, err := conn.Exec(ctx, `INSERT INTO desks (desk_id, name) SELECT 'filler-'||i, 'Quầy '||(i+10) FROM generate_series(0, 59) i`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO verdicts (desk_id, seq, lookup, key_id, checked_at, sealed, verdict, source)
		SELECT 'filler-'||(g%60), g/60+1, ARRAY[sha256(('cid'||g)::bytea), sha256(('card'||g)::bytea)], 'k2026',
			now() - (60000-g) * interval '43 seconds', '\x00', CASE WHEN g%7 = 0 THEN 'mismatch' ELSE 'eligible' END,
			CASE WHEN g%11 = 0 THEN 'cache' ELSE 'live' END
		FROM generate_series(1, 60000) g`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `ANALYZE verdicts; ANALYZE verdict_lookups`); err != nil {
		t.Fatal(err)
	}
	var shared, want int
	conn.QueryRow(ctx, `SELECT count(DISTINCT (desk_id, seq)) FROM verdict_lookups WHERE desk_id LIKE 'filler-%'`).Scan(&shared)
	conn.QueryRow(ctx, `SELECT count(*) FROM generate_series(1, 60000) g WHERE g%7 <> 0 AND g%11 <> 0`).Scan(&want)
	if shared != want {
		t.Errorf("verdict_lookups indexes %d of the filler answers, want the %d live answers about the card", shared, want)
	}

	// The plan: index probes only.
	var plan []string
	rows, err := conn.Query(ctx, "EXPLAIN "+hospital.LookupSQL, [][]byte{[]byte("x"), []byte("y")}, time.Now().Add(-30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var line string
		rows.Scan(&line)
		plan = append(plan, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(plan, "\n")
	if !strings.Contains(text, "on verdict_lookups") || regexp.MustCompile(`Seq Scan on verdict|verdicts_checked_at|Bitmap Heap Scan on verdicts `).MatchString(text) {
		t.Errorf("the lookup's plan walks the answers instead of probing the lookups:\n%s", text)
	}

	e, ok, err := b.h.Lookup(ctx, patient.Query{CitizenID: old.CitizenID}, time.Now().Add(-30*24*time.Hour))
	if err != nil || !ok || e.CachedBy != "Quầy 3" {
		t.Fatalf("desk B's lookup of an answer kept 29 days ago: %v %v cachedBy %q", ok, err, e.CachedBy)
	}
	if _, ok, _ := b.h.Lookup(ctx, patient.Query{CitizenID: old.CitizenID}, time.Now().Add(-28*24*time.Hour)); ok {
		t.Errorf("an answer older than the retention asked for was served")
	}
}

// TestSharedVerdictsInStep: the verdicts migration 0004's trigger indexes
// are the verdicts the desks share.
func TestSharedVerdictsInStep(t *testing.T) {
	var sql string
	for _, m := range hospital.Migrations() {
		if m.Version == 4 {
			sql = m.SQL
		}
	}
	in := regexp.MustCompile(`NEW\.verdict IN \(([^)]*)\)`).FindStringSubmatch(sql)
	if in == nil {
		t.Fatal("migration 0004 has no trigger condition on NEW.verdict")
	}
	var got []string
	for _, v := range strings.Split(in[1], ",") {
		got = append(got, strings.Trim(strings.TrimSpace(v), "'"))
	}
	want := append([]string(nil), hospital.SharedVerdicts...)
	sort.Strings(got)
	sort.Strings(want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("migration 0004's trigger indexes %v, the desks share %v", got, want)
	}
}
