package fleet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiepdon/tiepdon/sync/cache"
	"github.com/tiepdon/tiepdon/sync/hospital"
)

// guideSQL returns the SQL block of docs/hospital.md marked name.
func guideSQL(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/hospital.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- " + regexp.QuoteMeta(name) + "[^>]*-->\\s*```sql\\n(.*?)```\\s*<!-- /" + regexp.QuoteMeta(name) + " -->").FindSubmatch(b)
	if m == nil {
		t.Fatalf("docs/hospital.md has no %s block", name)
	}
	return string(m[1])
}

// noLocal is a desk with nothing to replicate yet.
type noLocal struct{}

func (noLocal) Results(context.Context, time.Time, int64, int) ([]cache.StoredResult, error) {
	return nil, nil
}

// TestRolesFromTheGuide runs the guide's role and grant statements on a
// real PostgreSQL and checks that each role can do its job and no more:
// the desk role connects (the schema already migrated by the owner),
// registers, replicates, reports and reads the fleet settings; the IT role
// reads the fleet and writes settings; neither can do the other's job or
// change the schema.
func TestRolesFromTheGuide(t *testing.T) {
	t.Parallel()
	if cluster == nil {
		t.Skip("SKIPPED: PostgreSQL is not installed; apt-get install postgresql to run the hospital-mode tests")
	}
	ctx := context.Background()
	as := func(role string) string {
		return fmt.Sprintf("host=%s port=%d user=%s dbname=tiepdon sslmode=disable", cluster.Dir, cluster.Port, role)
	}
	exec := func(dsn, sql string) {
		t.Helper()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		for _, stmt := range strings.Split(stripComments(sql), ";") {
			if s := strings.TrimSpace(stmt); s != "" {
				if _, err := conn.Exec(ctx, s); err != nil {
					t.Fatalf("%s: %v", s, err)
				}
			}
		}
	}
	// Roles are the cluster's: a second run (go test -count) starts afresh.
	exec(cluster.DSN, `DROP DATABASE IF EXISTS tiepdon; DROP ROLE IF EXISTS tiepdon_owner; DROP ROLE IF EXISTS tiepdon_desk; DROP ROLE IF EXISTS tiepdon_it`)
	exec(cluster.DSN, guideSQL(t, "roles.sql"))
	// The owner migrates, then grants.
	owner, err := pgx.Connect(ctx, as("tiepdon_owner"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hospital.Migrate(ctx, owner, hospital.Migrations()); err != nil {
		t.Fatalf("the owner's migration: %v", err)
	}
	owner.Close(ctx)
	exec(as("tiepdon_owner"), guideSQL(t, "grants.sql"))
	exec(as("tiepdon_owner"), guideSQL(t, "grants.sql")) // safe to run again

	pool := func(role string) *pgxpool.Pool {
		p, err := pgxpool.New(ctx, as(role))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		return p
	}
	desk, it := pool("tiepdon_desk"), pool("tiepdon_it")
	refused := func(p *pgxpool.Pool, who, sql string, args ...any) {
		t.Helper()
		var pe *pgconn.PgError
		if _, err := p.Exec(ctx, sql, args...); !errors.As(err, &pe) || pe.Code != "42501" { // insufficient_privilege
			t.Errorf("%s may %s: %v", who, sql, err)
		}
	}

	// A desk: the hospital store connects (migration is a no-op), and the
	// desk registers, replicates, reports and reads the fleet settings.
	k, _ := hospital.NewKey("k1")
	keys, _ := hospital.ParseKeys([]byte(k))
	hdb, err := hospital.New(hospital.Options{DSN: as("tiepdon_desk"), Keys: keys, DeskID: "d1", Desk: "Quầy 1"})
	if err != nil {
		t.Fatal(err)
	}
	defer hdb.Close()
	rctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { hdb.Run(rctx, noLocal{}); close(done) }()
	waitFor(t, "the desk role to connect", func() bool { ok, _ := hdb.Ready(); return ok })
	stop()
	<-done
	if _, err := desk.Exec(ctx, `INSERT INTO verdicts (desk_id, seq, lookup, key_id, checked_at, sealed, verdict, source) VALUES ('d1', 1, ARRAY['\x01'::bytea], 'k1', now(), '\x02', 'eligible', 'live') ON CONFLICT DO NOTHING`); err != nil {
		t.Fatalf("desk replicates: %v", err)
	}
	if _, err := desk.Exec(ctx, `INSERT INTO audit (desk_id, seq, at, check_id, code, verdict, latency_ms, key_id, sealed) VALUES ('d1', 1, now(), 'c', '000', 'eligible', 5, 'k1', '\x02') ON CONFLICT DO NOTHING`); err != nil {
		t.Fatalf("desk replicates audit: %v", err)
	}
	if _, err := desk.Exec(ctx, `INSERT INTO receipts (desk_id, seq, check_id, kind, key_id, sealed) VALUES ('d1', 1, 'c', 'k', 'k1', '\x02') ON CONFLICT DO NOTHING`); err != nil {
		t.Fatalf("desk replicates receipts: %v", err)
	}
	var n int
	if err := desk.QueryRow(ctx, `SELECT count(*) FROM verdicts v JOIN desks d USING (desk_id)`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("desk reads verdicts: %d %v", n, err)
	}
	// A shared answer's keyed lookup (filled by the insert's trigger, as
	// the desk role) is what other desks' lookups read.
	if err := desk.QueryRow(ctx, `SELECT count(*) FROM verdict_lookups WHERE lookup = '\x01'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("desk reads the shared answers' lookups: %d %v", n, err)
	}
	r := &Reporter{Pool: desk, DeskID: "d1", Collect: func() Status { return healthy("Quầy 1") }}
	for range 2 { // insert, then update
		if err := r.Report(ctx); err != nil {
			t.Fatalf("desk reports: %v", err)
		}
	}
	refused(desk, "a desk", `INSERT INTO fleet_settings (key, value) VALUES ('gateway.url', 'https://evil.example')`)
	refused(desk, "a desk", `UPDATE fleet_secrets SET sealed = '\x00'`)
	refused(desk, "a desk", `DELETE FROM verdicts`)
	refused(desk, "a desk", `UPDATE verdicts SET sealed = '\x00'`)
	refused(desk, "a desk", `CREATE TABLE x (y int)`)
	// ... but may have what has expired deleted, through tiepdon_purge.
	exec(as("tiepdon_owner"), `INSERT INTO verdicts (desk_id, seq, lookup, key_id, checked_at, sealed, verdict, source)
		VALUES ('d1', 2, ARRAY['\x02'::bytea], 'k1', now() - interval '40 days', '\x02', 'eligible', 'live')`)
	if n, err := hdb.Purge(ctx); err != nil || n != 2 { // the answer and its lookup
		t.Fatalf("a desk purges expired answers: %d rows, %v; want 2", n, err)
	}
	if err := desk.QueryRow(ctx, `SELECT count(*) FROM verdicts`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("after the purge the store holds %d answers (%v), want today's 1", n, err)
	}

	// IT: sets and reads the fleet; no patient data, no desk's job.
	if err := Set(ctx, it, "gateway.username", "79014_BV", true); err != nil {
		t.Fatalf("IT sets: %v", err)
	}
	if _, err := SetPassword(ctx, it, keys, "pw"); err != nil {
		t.Fatalf("IT sets the password: %v", err)
	}
	if ds, err := List(ctx, it, 0); err != nil || len(ds) != 1 {
		t.Fatalf("IT lists: %v %v", ds, err)
	}
	if _, err := Unset(ctx, it, "gateway.username"); err != nil {
		t.Fatalf("IT unsets: %v", err)
	}
	if s, err := Read(ctx, desk); err != nil || len(s.Secrets) != 1 {
		t.Fatalf("desk reads the fleet settings: %+v %v", s, err)
	}
	refused(it, "IT", `SELECT * FROM verdicts`)
	refused(it, "IT", `SELECT * FROM audit`)
	refused(it, "IT", `SELECT * FROM receipts`)
	refused(it, "IT", `UPDATE desk_status SET status = '{}'`)
	refused(it, "IT", `DROP TABLE verdicts`)
	refused(it, "IT", `SELECT tiepdon_purge(10)`)
}

func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
