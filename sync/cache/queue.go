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
// first entry; a journaled scan (JournalPut) becomes a queued check. It is
// committed before OutboxPut returns.
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
		ON CONFLICT (check_id) DO UPDATE SET journal = 0, next_at = excluded.next_at, item = excluded.item
		WHERE outbox.journal = 1`, checkID, now, now, db.seal("outbox.item", plain))
	if err != nil {
		return fmt.Errorf("queueing check: %w", err)
	}
	db.writes.Add(1)
	return nil
}

// JournalPut records an accepted scan (encrypted) before its check starts,
// so that a crash cannot lose it: the row is not a queued check (OutboxDue,
// OutboxNext, OutboxLen and OutboxWake pass it by) until JournalRecover or
// OutboxPut makes it one, and JournalDone removes it once the check is
// finished. It is committed before JournalPut returns.
func (db *DB) JournalPut(ctx context.Context, checkID string, id patient.Identity, staff patient.Staff) error {
	if id.Chip != nil {
		c := *id.Chip
		c.Photo = nil
		id.Chip = &c
	}
	plain, err := json.Marshal(pendingItem{Identity: id, Staff: staff})
	if err != nil {
		return fmt.Errorf("encoding journaled scan: %w", err)
	}
	now := ms(db.o.Now())
	_, err = db.w.ExecContext(ctx, `INSERT INTO outbox (check_id, enqueued_at, next_at, item, journal) VALUES (?, ?, ?, ?, 1)
		ON CONFLICT (check_id) DO NOTHING`, checkID, now, now, db.seal("outbox.item", plain))
	if err != nil {
		return fmt.Errorf("journaling scan: %w", err)
	}
	db.writes.Add(1)
	return nil
}

// JournalDone removes a journaled scan whose check is finished. A check
// already queued (OutboxPut) stays queued.
func (db *DB) JournalDone(ctx context.Context, checkID string) error {
	if _, err := db.w.ExecContext(ctx, `DELETE FROM outbox WHERE check_id = ? AND journal = 1`, checkID); err != nil {
		return fmt.Errorf("closing journaled scan: %w", err)
	}
	db.writes.Add(1)
	return nil
}

// JournalRecover turns every journaled scan left by an earlier run (one that
// ended before their checks finished: a crash, kill -9, power cut) into a
// queued check due now, and returns how many there were.
func (db *DB) JournalRecover(ctx context.Context) (int, error) {
	res, err := db.w.ExecContext(ctx, `UPDATE outbox SET journal = 0, next_at = ? WHERE journal = 1`, ms(db.o.Now()))
	if err != nil {
		return 0, fmt.Errorf("recovering journaled scans: %w", err)
	}
	n, _ := res.RowsAffected()
	db.writes.Add(1)
	return int(n), nil
}

// OutboxDue returns up to limit queued checks due at now, soonest first.
func (db *DB) OutboxDue(ctx context.Context, now time.Time, limit int) ([]Pending, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT id, check_id, enqueued_at, next_at, attempts, last_error, item
		FROM outbox WHERE journal = 0 AND next_at <= ? ORDER BY next_at, id LIMIT ?`, ms(now), limit)
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
	if err := db.r.QueryRowContext(ctx, `SELECT min(next_at) FROM outbox WHERE journal = 0`).Scan(&next); err != nil {
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
	_, err := db.w.ExecContext(ctx, `UPDATE outbox SET next_at = ? WHERE journal = 0 AND next_at > ?`, ms(db.o.Now()), ms(db.o.Now()))
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
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE journal = 0`).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting outbox: %w", err)
	}
	return n, nil
}
