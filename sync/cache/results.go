package cache

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tiepdon/tiepdon/agent/events"
)

// StoredResult is an answer as SaveResult kept it.
type StoredResult struct {
	ID     int64 // increasing: a cursor for paging
	At     time.Time
	Kind   events.Kind
	Result events.Result
}

// SaveResult keeps an answer and its receipt (encrypted; the chip photo is
// left out), so receipt.get and receipts.list work across restarts.
func (db *DB) SaveResult(ctx context.Context, kind events.Kind, r events.Result) error {
	if r.Identity.Chip != nil {
		c := *r.Identity.Chip
		c.Photo = nil
		r.Identity.Chip = &c
	}
	plain, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding answer: %w", err)
	}
	_, err = db.w.ExecContext(ctx, `INSERT INTO results (check_id, kind, at, item) VALUES (?, ?, ?, ?)`,
		r.CheckID, kind.String(), ms(db.o.Now()), db.seal("results.item", plain))
	if err != nil {
		return fmt.Errorf("keeping answer: %w", err)
	}
	db.writes.Add(1)
	return nil
}

// Result returns the newest answer kept for checkID.
func (db *DB) Result(ctx context.Context, checkID string) (StoredResult, bool, error) {
	rows, err := db.results(ctx, `WHERE check_id = ? ORDER BY id DESC LIMIT 1`, checkID)
	if err != nil || len(rows) == 0 {
		return StoredResult{}, false, err
	}
	return rows[0], true, nil
}

// Results returns up to limit answers kept at or after since and with an ID
// above after, oldest first.
func (db *DB) Results(ctx context.Context, since time.Time, after int64, limit int) ([]StoredResult, error) {
	return db.results(ctx, `WHERE at >= ? AND id > ? ORDER BY id LIMIT ?`, ms(since), after, limit)
}

func (db *DB) results(ctx context.Context, where string, args ...any) ([]StoredResult, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, kind, at, item FROM results `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("reading answers: %w", err)
	}
	defer rows.Close()
	var out []StoredResult
	for rows.Next() {
		var s StoredResult
		var kind string
		var at int64
		var sealed []byte
		if err := rows.Scan(&s.ID, &kind, &at, &sealed); err != nil {
			return nil, fmt.Errorf("reading answers: %w", err)
		}
		plain, err := db.open("results.item", sealed)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(plain, &s.Result); err != nil {
			return nil, fmt.Errorf("decoding answer: %w", err)
		}
		s.At = time.UnixMilli(at)
		s.Kind = events.EligibilityResult
		if kind == events.EligibilityUpdated.String() {
			s.Kind = events.EligibilityUpdated
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return out, nil
}
