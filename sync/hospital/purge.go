package hospital

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// purgeEvery is how often a desk asks the store to delete what its
// retention says has expired (migration 0005's tiepdon_purge).
const purgeEvery = time.Hour

// Purge asks the store to delete the answers, lookups, audit lines and
// receipts older than its retention (store_retention), a batch at a time,
// and returns how many rows went. The store's function does the deleting
// with its owner's rights and one desk at a time, so every desk may call it;
// a store of an older schema, without the function, purges nothing.
func (db *DB) Purge(ctx context.Context) (int64, error) {
	var total int64
	for {
		var n int64
		err := db.pool.QueryRow(ctx, `SELECT tiepdon_purge($1)`, purgeBatch).Scan(&n)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "42883" { // undefined_function: schema before version 5
			return total, nil
		}
		if err != nil {
			return total, fmt.Errorf("purging expired answers in the hospital store: %w", err)
		}
		total += n
		if n == 0 {
			return total, nil
		}
	}
}

// PurgeProblem is why the store refused this desk's last deletion of
// expired answers, or "".
func (db *DB) PurgeProblem() string {
	if p := db.purgeProblem.Load(); p != nil {
		return *p
	}
	return ""
}

// purgeBatch bounds the rows of each table one purge call deletes, so that
// a first purge of a long-kept store never holds a long transaction.
const purgeBatch = 5000

// maybePurge purges when the last purge is older than purgeEvery; a refusal
// is logged once per distinct reason, kept for the desk's health report
// (PurgeProblem), and never stops replication.
func (db *DB) maybePurge(ctx context.Context, last *time.Time, lastErr *string) {
	if time.Since(*last) < purgeEvery {
		return
	}
	*last = time.Now()
	n, err := db.Purge(ctx)
	if err != nil {
		if msg := err.Error(); msg != *lastErr {
			db.o.Logger.Warn("The hospital store did not let this desk delete expired answers; run the grants of docs/hospital.md again as the owner so desks may call tiepdon_purge", "err", err)
			*lastErr = msg
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "42501" { // insufficient_privilege: IT's to fix
			db.purgeProblem.Store(&pe.Message)
		}
		return
	}
	*lastErr = ""
	db.purgeProblem.Store(nil)
	if n > 0 {
		db.o.Logger.Info("deleted expired rows from the hospital store", "rows", n)
	}
}
