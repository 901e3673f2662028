package hospital

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/sync/cache"
)

// Warm is the desk's own cache as the listener fills it: SaveAll files live
// answers under the identifiers of their queries and answers, in one
// transaction (sync/cache).
type Warm interface {
	SaveAll(ctx context.Context, as []cache.Answer) error
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
// with backoff; on reconnect it fetches what every other desk kept
// meanwhile (those it knew and those that appeared while it was away), so a
// desk catches up after an outage. When it first connects it copies the
// other desks' answers of the last warmFor. It returns when ctx ends.
func (db *DB) Listen(ctx context.Context, local Warm) error {
	l := &listener{db: db, local: local, marks: map[string]int64{}}
	r := retrier{warn: "The hospital PostgreSQL store stopped telling this desk about the other desks' answers; it retries, and this desk answers from its own cache meanwhile"}
	for ctx.Err() == nil {
		err := l.session(ctx)
		if ctx.Err() != nil {
			break
		}
		if err == nil {
			r.ok()
			continue
		}
		r.failed(ctx, db.o.Logger, err)
	}
	return nil
}

// listenPing is how long a quiet listener waits before it pings the store.
var listenPing atomic.Int64

func init() { listenPing.Store(int64(time.Minute)) }

// Listening reports whether the desk is following the other desks' answers
// (connected, listening, caught up).
func (db *DB) Listening() bool { return db.listening.Load() }

type listener struct {
	db    *DB
	local Warm
	// marks is, for every other desk, the highest sequence taken (when
	// the listener first connected: the last before the desk's answers of
	// the last warmFor; older history is served by Lookup, not copied).
	marks map[string]int64
	first bool // marks set once
}

// session is one connection's life: LISTEN, catch up, then follow.
func (l *listener) session(ctx context.Context) error {
	cfg := l.db.pool.Config().ConnConfig.Copy()
	// The listener ends its waits by deadline many times a second across
	// the hospital: a deadline on the socket, not pgx's default cancel
	// request (a new connection to the server each time).
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
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
		// Where to start: every other desk's answers of the last warmFor
		// (a desk started this morning has yesterday's patients in its
		// own cache), older ones are served by Lookup, not copied. One
		// probe of the primary key per desk, and a range of
		// verdicts_checked_at, not a pass over a month of answers.
		rows, err := conn.Query(ctx, `SELECT d.desk_id, coalesce(r.seq, m.seq) FROM desks d
			CROSS JOIN LATERAL (SELECT max(seq) AS seq FROM verdicts v WHERE v.desk_id = d.desk_id) m
			LEFT JOIN (SELECT desk_id, min(seq) - 1 AS seq FROM verdicts WHERE checked_at >= $2 GROUP BY desk_id) r USING (desk_id)
			WHERE d.desk_id <> $1 AND m.seq IS NOT NULL`, l.db.o.DeskID, time.Now().Add(-warmFor))
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
	}
	// Take what every other desk kept since its mark: at start, the last
	// warmFor; back after an outage, what it kept meanwhile — those this
	// desk knew and those that appeared while it was away (whose
	// notifications it never heard, and a quiet hospital may send no more
	// for hours).
	if err := l.fetch(ctx, conn); err != nil {
		return err
	}
	l.db.sessions.Add(1)
	l.db.listening.Store(true)
	defer l.db.listening.Store(false)
	for {
		// A quiet minute: make sure the server is still there (a dead
		// peer may never close the socket).
		wctx, cancel := context.WithTimeout(ctx, time.Duration(listenPing.Load()))
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if wctx.Err() == nil {
				return err
			}
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return fmt.Errorf("the store stopped answering: %w", err)
			}
			l.db.pings.Add(1)
			continue
		}
		if !l.fresh(n.Payload) {
			continue
		}
		// Something new: stop listening for the window, then fetch what
		// every desk kept meanwhile in one query. With 50 desks a
		// listener wakes and queries once every two seconds, and the
		// store signals it as often, not once per answer kept anywhere in
		// the hospital (the store's main cost at 100 answers a second:
		// BenchmarkFiftyDesks). Listening again before fetching loses
		// nothing: what comes after the fetch is notified, what came
		// before it is fetched. (Warming is for the day the store is
		// down: the shared lookup serves the answers of the last two
		// seconds meanwhile.)
		if _, err := conn.Exec(ctx, "UNLISTEN "+notifyTopic); err != nil {
			return fmt.Errorf("pausing the other desks' notifications: %w", err)
		}
		// A random share of the window: the first answer of the morning
		// reaches every listener at once, and without it the desks' fetches
		// would stay in step, 50 queries at the same instant.
		sleep(ctx, gatherWindow/2+rand.N(gatherWindow))
		if ctx.Err() != nil {
			return nil
		}
		if _, err := conn.Exec(ctx, "LISTEN "+notifyTopic); err != nil {
			return fmt.Errorf("listening for the other desks' answers: %w", err)
		}
		fctx, cancel := context.WithTimeout(ctx, stepTimeout)
		err = l.fetch(fctx, conn)
		cancel()
		if err != nil {
			return err
		}
	}
}

// warmFor is how far back a starting desk copies the other desks' answers
// into its own cache.
const warmFor = 24 * time.Hour

// gatherWindow is how long, on average, a listener waits after a
// notification before it fetches the rows kept meanwhile: the listeners' queries are the store's
// second cost after the answers' inserts (BenchmarkFiftyDesks,
// -hospital.statements).
const gatherWindow = 2 * time.Second

// fresh reports whether a notification announces rows this desk has not
// taken.
func (l *listener) fresh(payload string) bool {
	desk, seq, ok := parseNote(payload)
	return ok && desk != l.db.o.DeskID && seq > l.marks[desk]
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

// fetch files in the desk's cache every new live answer about a card the
// other desks replicated above their marks (a desk without a mark had no
// answer when this desk first connected: all of its are new), a page at a
// time.
func (l *listener) fetch(ctx context.Context, conn *pgx.Conn) error {
	for {
		var desks []string
		var after []int64
		for d, m := range l.marks {
			desks, after = append(desks, d), append(after, m)
		}
		rows, err := conn.Query(ctx, `SELECT v.desk_id, v.seq, v.key_id, v.sealed, coalesce(v.verdict, ''), coalesce(v.source, ''), d.name
			FROM desks d
			LEFT JOIN unnest($1::text[], $2::bigint[]) AS m(desk_id, after) USING (desk_id)
			CROSS JOIN LATERAL (SELECT * FROM verdicts v WHERE v.desk_id = d.desk_id AND v.seq > coalesce(m.after, 0)
				ORDER BY v.seq LIMIT $3) v
			WHERE d.desk_id <> $4
			ORDER BY v.desk_id, v.seq LIMIT $3`, desks, after, batchSize, l.db.o.DeskID)
		if err != nil {
			return fmt.Errorf("fetching the other desks' answers: %w", err)
		}
		type row struct {
			desk                  string
			seq                   int64
			keyID                 string
			sealed                []byte
			verdict, source, name string
		}
		var got []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.desk, &r.seq, &r.keyID, &r.sealed, &r.verdict, &r.source, &r.name); err != nil {
				rows.Close()
				return err
			}
			got = append(got, r)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("fetching the other desks' answers: %w", err)
		}
		var batch []cache.Answer
		for _, r := range got {
			if r.source == string(patient.SourceLive) && shared(r.verdict) {
				if a, ok, err := l.open(r.desk, r.seq, r.keyID, r.sealed, r.name); ok {
					batch = append(batch, a)
				} else if err != nil {
					// One row this desk cannot open (a key it lacks yet)
					// must not stop the others: say so and go on.
					l.db.o.Logger.Warn("An answer another desk shared could not be opened or filed in this desk's cache; check that every desk has the same hospital key file", "desk", r.desk, "seq", r.seq, "err", err)
				}
			}
		}
		if err := l.local.SaveAll(ctx, batch); err != nil {
			return fmt.Errorf("filing the other desks' answers: %w", err)
		}
		for _, r := range got {
			l.marks[r.desk] = r.seq
		}
		if len(got) < batchSize {
			return nil
		}
		// A full page: the marks moved past it; ask again.
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

// open opens a shared answer; ok is false for one that is not an answer
// about a card.
func (l *listener) open(desk string, seq int64, keyID string, sealed []byte, name string) (cache.Answer, bool, error) {
	plain, err := l.db.o.Keys.Open(keyID, sealed, aad("verdicts", desk, seq))
	if err != nil {
		return cache.Answer{}, false, err
	}
	var a sealedAnswer
	if err := json.Unmarshal(plain, &a); err != nil {
		return cache.Answer{}, false, fmt.Errorf("decoding a shared answer: %w", err)
	}
	if a.Kind != events.EligibilityResult.String() && a.Kind != events.EligibilityUpdated.String() {
		return cache.Answer{}, false, nil
	}
	e := a.Result.Eligibility
	if e.CheckedAt.IsZero() {
		return cache.Answer{}, false, errors.New("a shared answer without its time")
	}
	e.CachedBy = name
	return cache.Answer{Query: patient.QueryOf(a.Result.Identity), Eligibility: e}, true, nil
}
