package cache

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tiepdon/tiepdon/agent/patient"
)

// Pending is a check waiting in the outbox for the gateway.
type Pending struct {
	ID         int64
	CheckID    string
	Identity   patient.Identity
	Staff      patient.Staff // who was signed in when the check was made
	EnqueuedAt time.Time
	NextAt     time.Time
	Attempts   int
	LastError  string
}

type pendingItem struct {
	Identity patient.Identity `json:"identity"`
	Staff    patient.Staff    `json:"staff"`
}

// OutboxPut queues a check (encrypted). Queuing a check ID again keeps the
// first entry. It is committed before OutboxPut returns.
func (db *DB) OutboxPut(ctx context.Context, checkID string, id patient.Identity, staff patient.Staff) error {
	if id.Chip != nil {
		c := *id.Chip
		c.Photo = nil // the re-check does not need the photo
		id.Chip = &c
	}
	plain, err := json.Marshal(pendingItem{Identity: id, Staff: staff})
	if err != nil {
		return fmt.Errorf("encoding queued check: %w", err)
	}
	now := ms(db.o.Now())
	_, err = db.w.ExecContext(ctx, `INSERT INTO outbox (check_id, enqueued_at, next_at, item) VALUES (?, ?, ?, ?)
		ON CONFLICT (check_id) DO NOTHING`, checkID, now, now, db.seal("outbox.item", plain))
	if err != nil {
		return fmt.Errorf("queueing check: %w", err)
	}
	db.writes.Add(1)
	return nil
}

// OutboxDue returns up to limit queued checks due at now, soonest first.
func (db *DB) OutboxDue(ctx context.Context, now time.Time, limit int) ([]Pending, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, check_id, enqueued_at, next_at, attempts, last_error, item
		FROM outbox WHERE next_at <= ? ORDER BY next_at, id LIMIT ?`, ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("reading outbox: %w", err)
	}
	defer rows.Close()
	var out []Pending
	for rows.Next() {
		var p Pending
		var enq, next int64
		var sealed []byte
		if err := rows.Scan(&p.ID, &p.CheckID, &enq, &next, &p.Attempts, &p.LastError, &sealed); err != nil {
			return nil, fmt.Errorf("reading outbox: %w", err)
		}
		plain, err := db.open("outbox.item", sealed)
		if err != nil {
			return nil, err
		}
		var it pendingItem
		if err := json.Unmarshal(plain, &it); err != nil {
			return nil, fmt.Errorf("decoding queued check: %w", err)
		}
		p.Identity, p.Staff = it.Identity, it.Staff
		p.EnqueuedAt, p.NextAt = time.UnixMilli(enq), time.UnixMilli(next)
		out = append(out, p)
	}
	return out, rows.Err()
}

// OutboxNext returns when the soonest queued check is due; false if none.
func (db *DB) OutboxNext(ctx context.Context) (time.Time, bool, error) {
	var next sql.NullInt64
	if err := db.r.QueryRowContext(ctx, `SELECT min(next_at) FROM outbox`).Scan(&next); err != nil {
		return time.Time{}, false, fmt.Errorf("reading outbox: %w", err)
	}
	if !next.Valid {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(next.Int64), true, nil
}

// OutboxDefer records a failed attempt and when to try again. reason must
// hold no personal data.
func (db *DB) OutboxDefer(ctx context.Context, id int64, next time.Time, reason string) error {
	_, err := db.w.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ?`,
		ms(next), reason, id)
	if err != nil {
		return fmt.Errorf("deferring queued check: %w", err)
	}
	db.writes.Add(1)
	return nil
}

// OutboxWake makes every queued check due now (the gateway is back).
func (db *DB) OutboxWake(ctx context.Context) error {
	_, err := db.w.ExecContext(ctx, `UPDATE outbox SET next_at = ? WHERE next_at > ?`, ms(db.o.Now()), ms(db.o.Now()))
	if err != nil {
		return fmt.Errorf("waking outbox: %w", err)
	}
	db.writes.Add(1)
	return nil
}

// OutboxDone removes a queued check.
func (db *DB) OutboxDone(ctx context.Context, id int64) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM outbox WHERE id = ?`, id); err != nil {
		return fmt.Errorf("removing queued check: %w", err)
	}
	db.writes.Add(1)
	return nil
}

// OutboxLen returns how many checks are queued.
func (db *DB) OutboxLen(ctx context.Context) (int, error) {
	var n int
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM outbox`).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting outbox: %w", err)
	}
	return n, nil
}
