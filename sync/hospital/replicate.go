package hospital

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/sync/cache"
)

// Local is the desk's own store the replicator reads: its answers, in the
// order it kept them (sync/cache).
type Local interface {
	Results(ctx context.Context, since time.Time, after int64, limit int) ([]cache.StoredResult, error)
}

// Replication pace: a batch at a time, polling the desk's SQLite (an
// indexed read of rows above the last sent) when there is nothing to send.
const (
	batchSize   = 200
	pollEvery   = 250 * time.Millisecond
	maxBackoff  = 30 * time.Second
	notifyTopic = "tiepdon_verdicts"
	stepTimeout = 15 * time.Second
)

// Run connects to the hospital store (retrying with backoff while it is
// unreachable), then copies the desk's answers to it as they are kept:
// every answer (checks), its audit line and its receipt, each row keyed by
// (desk, local sequence) so a retry never duplicates. It resumes from the
// highest sequence the store holds for the desk, so after an outage it
// catches up by itself. Once an hour it also asks the store to delete what
// has expired (Purge). It returns when ctx ends.
func (db *DB) Run(ctx context.Context, local Local) error {
	r := retrier{warn: "The hospital PostgreSQL store cannot be reached or refused a write; this desk works on its own and sends its checks when the store is back; see docs/hospital.md if it lasts"}
	after := int64(-1) // unknown until connected
	var lastPurgeErr string
	var lastPurge time.Time
	for ctx.Err() == nil {
		// A store that accepts the connection and then hangs must not hold
		// the replicator for good: every step has a deadline.
		sctx, cancel := context.WithTimeout(ctx, stepTimeout)
		err := db.step(sctx, local, &after)
		cancel()
		if err == nil || errors.Is(err, errNothing) {
			r.ok()
			// Once an hour, between batches: expired rows go.
			pctx, cancel := context.WithTimeout(ctx, time.Minute)
			db.maybePurge(pctx, &lastPurge, &lastPurgeErr)
			cancel()
		}
		if err == nil {
			continue
		}
		if errors.Is(err, errNothing) {
			sleep(ctx, pollEvery)
			continue
		}
		if ctx.Err() != nil {
			break
		}
		db.failed(err)
		after = -1
		r.failed(ctx, db.o.Logger, err)
	}
	return nil
}

// retrier paces a loop against the store: after a failure it waits, 1 s
// doubling up to maxBackoff, and logs its warning once per distinct error
// (an outage is one line, not one a second); a success starts afresh.
type retrier struct {
	warn    string
	backoff time.Duration
	last    string
}

func (r *retrier) ok() { r.backoff, r.last = 0, "" }

func (r *retrier) failed(ctx context.Context, log *slog.Logger, err error) {
	if msg := err.Error(); msg != r.last {
		log.Warn(r.warn, "err", err)
		r.last = msg
	}
	r.backoff = min(max(2*r.backoff, time.Second), maxBackoff)
	sleep(ctx, r.backoff)
}

var errNothing = errors.New("nothing to replicate")

func (db *DB) step(ctx context.Context, local Local, after *int64) error {
	if ok, _ := db.Ready(); !ok {
		if err := db.connect(ctx); err != nil {
			return err
		}
		*after = -1
	}
	if *after < 0 {
		if err := db.pool.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM verdicts WHERE desk_id = $1`, db.o.DeskID).Scan(after); err != nil {
			return fmt.Errorf("reading what the store holds: %w", err)
		}
	}
	rows, err := local.Results(ctx, time.Time{}, *after, batchSize)
	if err != nil {
		return fmt.Errorf("reading this desk's answers: %w", err)
	}
	if len(rows) == 0 {
		return errNothing
	}
	if err := db.push(ctx, rows); err != nil {
		return err
	}
	*after = rows[len(rows)-1].ID
	return nil
}

// push writes one batch in one transaction and tells the other desks.
func (db *DB) push(ctx context.Context, rows []cache.StoredResult) error {
	b := &pgx.Batch{}
	for _, s := range rows {
		if err := db.queue(b, s); err != nil {
			return err
		}
	}
	last := rows[len(rows)-1].ID
	b.Queue(`SELECT pg_notify($1, $2)`, notifyTopic, db.o.DeskID+" "+strconv.FormatInt(last, 10))
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("writing to the hospital store: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("writing to the hospital store: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("writing to the hospital store: %w", err)
	}
	return nil
}

// sealedAnswer is what a verdicts row seals: the answer as the desk kept it.
type sealedAnswer struct {
	Kind   string        `json:"kind"`
	At     time.Time     `json:"at"`
	Result events.Result `json:"result"`
}

// sealedAudit is what an audit row seals beside its clear columns.
type sealedAudit struct {
	Medium patient.Medium `json:"medium"`
	Source patient.Source `json:"source"`
}

func aad(table, desk string, seq int64) []byte {
	return []byte(table + "\x00" + desk + "\x00" + strconv.FormatInt(seq, 10))
}

func (db *DB) queue(b *pgx.Batch, s cache.StoredResult) error {
	r, desk, k := s.Result, db.o.DeskID, db.o.Keys
	plain, err := json.Marshal(sealedAnswer{Kind: s.Kind.String(), At: s.At, Result: r})
	if err != nil {
		return err
	}
	keyID, sealed, err := k.Seal(plain, aad("verdicts", desk, s.ID))
	if err != nil {
		return err
	}
	at := r.Eligibility.CheckedAt
	if at.IsZero() {
		at = s.At
	}
	b.Queue(`INSERT INTO verdicts (desk_id, seq, lookup, key_id, checked_at, sealed, verdict, source)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
		desk, s.ID, lookupsOf(k, r), keyID, at, sealed, string(r.Eligibility.Verdict), string(r.Eligibility.Source))

	plain, err = json.Marshal(sealedAudit{Medium: r.Identity.Medium, Source: r.Eligibility.Source})
	if err != nil {
		return err
	}
	keyID, sealed, err = k.Seal(plain, aad("audit", desk, s.ID))
	if err != nil {
		return err
	}
	b.Queue(`INSERT INTO audit (desk_id, seq, at, check_id, code, verdict, latency_ms, key_id, sealed)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
		desk, s.ID, s.At, r.CheckID, r.Eligibility.Code, string(r.Eligibility.Verdict),
		int(r.Eligibility.Latency/time.Millisecond), keyID, sealed)

	if r.Receipt != nil {
		plain, err = json.Marshal(r.Receipt)
		if err != nil {
			return err
		}
		keyID, sealed, err = k.Seal(plain, aad("receipts", desk, s.ID))
		if err != nil {
			return err
		}
		b.Queue(`INSERT INTO receipts (desk_id, seq, check_id, kind, key_id, sealed)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, desk, s.ID, r.CheckID, s.Kind.String(), keyID, sealed)
	}
	return nil
}

// identifiers are the keyed lookups of a person: citizen ID, BHYT card
// number and social-insurance number, as a desk may be asked by any.
func identifiers(q patient.Query) [][2]string {
	var out [][2]string
	add := func(kind, v string) {
		if v != "" {
			out = append(out, [2]string{kind, v})
		}
	}
	add("cid", string(q.CitizenID))
	add("card", string(q.CardNumber))
	add("bhxh", q.SocialInsuranceNumber)
	return out
}

// lookupsOf returns every keyed lookup an answer can be found by: the
// identifiers asked and those the gateway answered with (the card number,
// the social-insurance number, a reissued card).
func lookupsOf(k *Keyring, r events.Result) [][]byte {
	e := r.Eligibility
	q := patient.QueryOf(r.Identity)
	ids := identifiers(q)
	ids = append(ids, identifiers(patient.Query{CardNumber: e.CardNumber, SocialInsuranceNumber: e.SocialInsuranceNumber})...)
	if e.NewCard != nil {
		ids = append(ids, identifiers(patient.Query{CardNumber: e.NewCard.CardNumber})...)
	}
	seen := map[string]bool{}
	var out [][]byte
	for _, id := range ids {
		for _, h := range k.Lookups(id[0], id[1]) {
			if !seen[string(h)] {
				seen[string(h)] = true
				out = append(out, h)
			}
		}
	}
	return out
}

// sharedVerdicts are the verdicts about the card, which a desk's own cache
// keeps too (a mismatch or a staff problem is about the query, not the
// person). Migration 0004's trigger names the same three (TestSharedVerdictsInStep).
var sharedVerdicts = []string{string(patient.Eligible), string(patient.NotEligible), string(patient.CheckDocuments)}

// lookupSQL finds the newest shared answer for any of the keyed lookups $1
// kept since $2. verdict_lookups holds the lookups of the shared answers
// only (live, about the card: migration 0004's trigger): one index probe
// per identifier, then the row by its primary key, however many answers
// the store holds.
const lookupSQL = `SELECT v.desk_id, v.seq, v.key_id, v.sealed, d.name
	FROM (SELECT desk_id, seq FROM verdict_lookups WHERE lookup = ANY($1) AND checked_at >= $2
		ORDER BY checked_at DESC LIMIT 1) l
	JOIN verdicts v USING (desk_id, seq) JOIN desks d USING (desk_id)`

// Lookup returns the newest live answer any desk kept for the person q
// names, within the lookup timeout, with CachedBy set to that desk's name.
// While the store is unreachable it returns at once with nothing.
func (db *DB) Lookup(ctx context.Context, q patient.Query, since time.Time) (patient.Eligibility, bool, error) {
	if ok, _ := db.Ready(); !ok {
		return patient.Eligibility{}, false, nil
	}
	ids := identifiers(q)
	if len(ids) == 0 {
		return patient.Eligibility{}, false, nil
	}
	var keys [][]byte
	for _, id := range ids {
		keys = append(keys, db.o.Keys.Lookups(id[0], id[1])...)
	}
	ctx, cancel := context.WithTimeout(ctx, db.o.LookupTimeout)
	defer cancel()
	var (
		desk, name, keyID string
		seq               int64
		sealed            []byte
	)
	err := db.pool.QueryRow(ctx, lookupSQL, keys, since).Scan(&desk, &seq, &keyID, &sealed, &name)
	if errors.Is(err, pgx.ErrNoRows) {
		return patient.Eligibility{}, false, nil
	}
	if err != nil {
		return patient.Eligibility{}, false, fmt.Errorf("asking the hospital store: %w", err)
	}
	plain, err := db.o.Keys.Open(keyID, sealed, aad("verdicts", desk, seq))
	if err != nil {
		return patient.Eligibility{}, false, fmt.Errorf("opening a shared answer: %w", err)
	}
	var a sealedAnswer
	if err := json.Unmarshal(plain, &a); err != nil {
		return patient.Eligibility{}, false, fmt.Errorf("decoding a shared answer: %w", err)
	}
	e := a.Result.Eligibility
	e.CachedBy = name
	return e, true, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
