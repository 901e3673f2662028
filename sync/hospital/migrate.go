// Package hospital is tiepdon's optional hospital-wide store on PostgreSQL:
// desks replicate their checks, audit entries and receipts to it, share
// cached verdicts, report their health and read fleet settings. A desk's
// SQLite stays the source of truth for its own work; the hospital store is
// never on the verdict path. cmd/tiepdon wires it in when [hospital] dsn is
// set.
package hospital

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one embedded schema step.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the embedded schema steps in order.
func Migrations() []Migration {
	ents, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		panic("hospital: embedded migrations: " + err.Error())
	}
	var ms []Migration
	for _, e := range ents {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			panic("hospital: migration file without a version: " + e.Name())
		}
		b, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			panic("hospital: embedded migrations: " + err.Error())
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms
}

// migrateLock is the advisory lock that serialises migrations when many
// desks start at once.
const migrateLock = 0x7469_6570 // "tiep"

// Migrate applies the steps of ms the database lacks, each in its own
// transaction, under an advisory lock, and returns the database's schema
// version afterwards. A database newer than ms (a desk of the previous
// version during a rollout) is left as it is: steps are additive, so the
// older desk keeps working.
func Migrate(ctx context.Context, conn *pgx.Conn, ms []Migration) (int, error) {
	// A schema that already has every step needs no lock and no DDL: a
	// desk whose role may not create tables (docs/hospital.md's roles,
	// where IT migrates with the owner role) starts here.
	if v, ok := upToDate(ctx, conn, ms); ok {
		return v, nil
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrateLock); err != nil {
		return 0, fmt.Errorf("locking the schema: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrateLock)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return 0, fmt.Errorf("creating schema_migrations: %w", err)
	}
	for _, m := range ms {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return 0, fmt.Errorf("migration %s: %w", m.Name, err)
		}
		var done bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.Version).Scan(&done); err != nil {
			tx.Rollback(ctx)
			return 0, fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if !done {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				tx.Rollback(ctx)
				return 0, fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
				tx.Rollback(ctx)
				return 0, fmt.Errorf("migration %s: %w", m.Name, err)
			}
		}
		if err := tx.Commit(ctx); err != nil {
			return 0, fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	var v int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("reading the schema version: %w", err)
	}
	return v, nil
}

// upToDate reports whether the database holds every step of ms, and its
// schema version.
func upToDate(ctx context.Context, conn *pgx.Conn, ms []Migration) (int, bool) {
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return 0, false
	}
	rows, err := conn.Query(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return 0, false
	}
	have := map[int]bool{}
	top := 0
	for rows.Next() {
		var v int
		if rows.Scan(&v) != nil {
			rows.Close()
			return 0, false
		}
		have[v], top = true, max(top, v)
	}
	rows.Close()
	if rows.Err() != nil {
		return 0, false
	}
	for _, m := range ms {
		if !have[m.Version] {
			return 0, false
		}
	}
	return top, true
}
