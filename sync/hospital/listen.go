package hospital

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
)

// Warm is the desk's own cache as the listener fills it: Save files a live
// answer under the identifiers of the query and the answer (sync/cache).
type Warm interface {
	Save(ctx context.Context, q patient.Query, e patient.Eligibility) error
}

// Listen keeps this desk's cache warm with the live answers the other
// desks keep: it LISTENs on the channel every replicated batch notifies
// (payload "desk seq", never a person), fetches the new rows of that desk
// above the last it took, opens them with the hospital key and files them
// in the desk's own cache with CachedBy set to the desk that saw them. So a
// desk whose gateway is down answers from its own cache what another desk
// checked a minute ago, even when PostgreSQL is down by then.
//
// It holds one connection of its own (LISTEN needs a session: use a
// session-pooling proxy, if any). While the store is unreachable it retries
// with backoff; on reconnect it fetches what it missed for every desk it
// knew, so a desk catches up after an outage. It returns when ctx ends.
func (db *DB) Listen(ctx context.Context, local Warm) error {
	l := &listener{db: db, local: local, marks: map[string]int64{}}
	backoff := time.Second
	var lastLogged string
	for ctx.Err() == nil {
		err := l.session(ctx)
		if ctx.Err() != nil {
			break
		}
		if err == nil {
			backoff = time.Second
			continue
		}
		if msg := err.Error(); msg != lastLogged {
			db.o.Logger.Warn("The hospital PostgreSQL store stopped telling this desk about the other desks' answers; it retries, and this desk answers from its own cache meanwhile", "err", err)
			lastLogged = msg
		}
		sleep(ctx, backoff)
		backoff = min(backoff*2, maxBackoff)
	}
	return nil
}

// Listening reports whether the desk is following the other desks' answers
// (connected, listening, caught up).
func (db *DB) Listening() bool { return db.listening.Load() }

type listener struct {
	db    *DB
	local Warm
	// marks is, for every other desk, the highest sequence taken (or known
	// to exist when the listener first connected: history is served by
	// Lookup, not copied).
	marks map[string]int64
	first bool // marks set once
}

// session is one connection's life: LISTEN, catch up, then follow.
func (l *listener) session(ctx context.Context) error {
	cfg := l.db.pool.Config().ConnConfig.Copy()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	// The tables exist once the replicator has migrated: wait for it.
	for ok, _ := l.db.Ready(); !ok; ok, _ = l.db.Ready() {
		sleep(ctx, pollEvery)
		if ctx.Err() != nil {
			return nil
		}
	}
	if _, err := conn.Exec(ctx, "LISTEN "+notifyTopic); err != nil {
		return fmt.Errorf("listening for the other desks' answers: %w", err)
	}
	if !l.first {
		rows, err := conn.Query(ctx, `SELECT desk_id, max(seq) FROM verdicts WHERE desk_id <> $1 GROUP BY desk_id`, l.db.o.DeskID)
		if err != nil {
			return fmt.Errorf("reading the other desks' marks: %w", err)
		}
		for rows.Next() {
			var d string
			var s int64
			if err := rows.Scan(&d, &s); err != nil {
				rows.Close()
				return err
			}
			l.marks[d] = s
		}
		if err := rows.Err(); err != nil {
			return err
		}
		l.first = true
	} else {
		// Back after an outage: take what every known desk kept meanwhile.
		// (A desk first heard of now is taken from its next notification.)
		for d := range l.marks {
			if err := l.fetch(ctx, conn, d); err != nil {
				return err
			}
		}
	}
	l.db.listening.Store(true)
	defer l.db.listening.Store(false)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		desk, seq, ok := parseNote(n.Payload)
		if !ok || desk == l.db.o.DeskID || seq <= l.marks[desk] {
			continue
		}
		if err := l.fetch(ctx, conn, desk); err != nil {
			return err
		}
	}
}

// parseNote reads a notification's payload: "desk-id seq".
func parseNote(p string) (string, int64, bool) {
	desk, num, ok := strings.Cut(p, " ")
	if !ok || desk == "" {
		return "", 0, false
	}
	seq, err := strconv.ParseInt(num, 10, 64)
	if err != nil || seq < 0 {
		return "", 0, false
	}
	return desk, seq, true
}

// fetch files in the desk's cache every new live answer about a card that
// desk replicated above the mark, a page at a time.
func (l *listener) fetch(ctx context.Context, conn *pgx.Conn, desk string) error {
	for {
		rows, err := conn.Query(ctx, `SELECT v.seq, v.key_id, v.sealed, coalesce(v.verdict, ''), coalesce(v.source, ''), d.name
			FROM verdicts v JOIN desks d USING (desk_id)
			WHERE v.desk_id = $1 AND v.seq > $2 ORDER BY v.seq LIMIT $3`, desk, l.marks[desk], batchSize)
		if err != nil {
			return fmt.Errorf("fetching another desk's answers: %w", err)
		}
		type row struct {
			seq                   int64
			keyID                 string
			sealed                []byte
			verdict, source, name string
		}
		var got []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.seq, &r.keyID, &r.sealed, &r.verdict, &r.source, &r.name); err != nil {
				rows.Close()
				return err
			}
			got = append(got, r)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("fetching another desk's answers: %w", err)
		}
		for _, r := range got {
			if r.source == string(patient.SourceLive) && shared(r.verdict) {
				if err := l.file(ctx, desk, r.seq, r.keyID, r.sealed, r.name); err != nil {
					// One row this desk cannot open (a key it lacks yet)
					// must not stop the others: say so and go on.
					l.db.o.Logger.Warn("An answer another desk shared could not be opened or filed in this desk's cache; check that every desk has the same hospital key file", "desk", desk, "seq", r.seq, "err", err)
				}
			}
			l.marks[desk] = r.seq
		}
		if len(got) < batchSize {
			return nil
		}
	}
}

func shared(v string) bool {
	for _, s := range sharedVerdicts {
		if v == s {
			return true
		}
	}
	return false
}

func (l *listener) file(ctx context.Context, desk string, seq int64, keyID string, sealed []byte, name string) error {
	plain, err := l.db.o.Keys.Open(keyID, sealed, aad("verdicts", desk, seq))
	if err != nil {
		return err
	}
	var a sealedAnswer
	if err := json.Unmarshal(plain, &a); err != nil {
		return fmt.Errorf("decoding a shared answer: %w", err)
	}
	if a.Kind != events.EligibilityResult.String() && a.Kind != events.EligibilityUpdated.String() {
		return nil
	}
	e := a.Result.Eligibility
	if e.CheckedAt.IsZero() {
		return errors.New("a shared answer without its time")
	}
	e.CachedBy = name
	return l.local.Save(ctx, patient.QueryOf(a.Result.Identity), e)
}
