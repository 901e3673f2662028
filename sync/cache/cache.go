// Package cache is tiepdon's local store: the eligibility cache that answers
// when the gateway is slow or down, the audit log of every check, and the
// outbox of checks waiting for the gateway (used by sync/outbox). It is one
// SQLite file (mattn/go-sqlite3) in WAL mode, so readers never wait for the
// writer; the schema is embedded and migrated by version.
//
// Personal data (the answer, citizen ID, card number, staff) is encrypted
// at rest with AES-256-GCM under a key kept outside the database, in a 0600
// file next to it or in the OS keyring, and found by keyed hashes
// (HMAC-SHA256), so the file alone reveals neither who was checked nor the
// answers. Old rows are purged in small batches (Purge, Run).
//
// A DB implements agent.Store.
package cache

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/tiepdon/tiepdon/agent"
	"github.com/tiepdon/tiepdon/agent/patient"
)

// writerDriver is SQLite for the writer connection: it never checkpoints
// the WAL on commit (which would fsync in the middle of a Save, in the
// check's critical path); checkpointer does that in the background.
const writerDriver = "sqlite3-tiepdon-writer"

func init() {
	sql.Register(writerDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec(`PRAGMA wal_autocheckpoint = 0`, nil)
		return err
	}})
}

// checkpointEvery is how often the background checkpointer copies the WAL
// into the database when there were writes.
const checkpointEvery = 500 * time.Millisecond

//go:embed migrations/*.sql
var embedded embed.FS

// migrations is the schema history (a variable so tests can stop at an old
// version).
var migrations fs.FS = embedded

// Options configures a DB. The zero value keeps the key in a file next to
// the database and answers for 30 days.
type Options struct {
	// KeyFile holds the encryption key (created 0600 if missing).
	// Default: "<database file>.key".
	KeyFile string
	// Keyring keeps the key in the OS keyring (Windows Credential Manager,
	// Secret Service on Linux) when there is no key file yet. Without a
	// working keyring (no D-Bus session) the key goes to KeyFile instead.
	Keyring bool
	// Retention is how long answers, audit lines and queued checks are
	// kept (default 30 days).
	Retention time.Duration
	// PurgeBatch is how many rows one purge transaction deletes (default
	// 500), PurgePause the rest between two (default 2 ms), and PurgeEvery
	// how often Run purges (default 1 hour).
	PurgeBatch int
	PurgePause time.Duration
	PurgeEvery time.Duration
	Now        func() time.Time
	Logger     *slog.Logger
}

// ErrKeyMismatch is returned by Open when the key found does not open the
// database (key file replaced or keyring entry lost). The data cannot be
// read; move the database aside to start afresh.
var ErrKeyMismatch = errors.New("cache: encryption key does not match the database")

// DB is the cache, audit log and outbox. Its methods are safe for
// concurrent use.
type DB struct {
	o          Options
	w          *sql.DB // the one writer connection
	r          *sql.DB // readers
	aead       cipher.AEAD
	mac        []byte
	log        *slog.Logger
	stmtMu     sync.Mutex
	lookups    map[int]*sql.Stmt // prepared lookups by number of identifiers
	writes     atomic.Int64      // commits, for the checkpointer
	stop, done chan struct{}
	rows       atomic.Int64 // answers rows
	newest     atomic.Int64 // newest checked_at, Unix ms
	path       string
}

// Open opens (creating and migrating as needed) the cache at path.
func Open(ctx context.Context, path string, o Options) (*DB, error) {
	if o.Retention <= 0 {
		o.Retention = 30 * 24 * time.Hour
	}
	if o.PurgeBatch <= 0 {
		o.PurgeBatch = 500
	}
	if o.PurgePause <= 0 {
		o.PurgePause = 2 * time.Millisecond
	}
	if o.PurgeEvery <= 0 {
		o.PurgeEvery = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.KeyFile == "" {
		o.KeyFile = path + ".key"
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating cache directory: %w", err)
	}
	// SQLite creates the file (and its -wal and -shm, which copy its mode)
	// with the umask's mode: make it private first.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600); err == nil {
		f.Close()
	}
	db := &DB{o: o, log: o.Logger.With("component", "cache"), path: path}
	master, err := loadKey(o, path, db.log)
	if err != nil {
		return nil, err
	}
	db.aead, db.mac, err = deriveKeys(master)
	if err != nil {
		return nil, err
	}

	dsn := "file:" + url.PathEscape(filepath.ToSlash(path)) +
		"?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=10000&_foreign_keys=on"
	if db.w, err = sql.Open(writerDriver, dsn+"&_txlock=immediate"); err != nil {
		return nil, fmt.Errorf("opening cache: %w", err)
	}
	db.w.SetMaxOpenConns(1)
	db.w.SetConnMaxIdleTime(0)
	if db.r, err = sql.Open("sqlite3", dsn); err != nil {
		db.w.Close()
		return nil, fmt.Errorf("opening cache: %w", err)
	}
	db.r.SetMaxOpenConns(4)
	db.r.SetMaxIdleConns(4)
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.checkKey(ctx); err != nil {
		db.Close()
		return nil, err
	}
	var n, newest sql.NullInt64
	if err := db.r.QueryRowContext(ctx, `SELECT count(*), max(checked_at) FROM answers`).Scan(&n, &newest); err != nil {
		db.Close()
		return nil, fmt.Errorf("counting cached answers: %w", err)
	}
	db.rows.Store(n.Int64)
	db.newest.Store(newest.Int64)
	db.stop = make(chan struct{})
	db.done = make(chan struct{})
	go db.checkpointer()
	return db, nil
}

// checkpointer copies the WAL into the database file every checkpointEvery
// when there were writes (PASSIVE: it never blocks readers or the writer).
// It runs from Open to Close.
func (db *DB) checkpointer() {
	defer close(db.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	seen := db.writes.Load()
	for {
		select {
		case <-db.stop:
			return
		case <-t.C:
		}
		if w := db.writes.Load(); w != seen {
			seen = w
			if _, err := db.r.Exec(`PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
				db.log.Warn("The cache could not tidy its write-ahead log; it retries by itself; if this repeats, check free disk space", "err", err)
			}
		}
	}
}

// Close closes the database.
func (db *DB) Close() error {
	var errs []error
	if db.stop != nil {
		close(db.stop)
		<-db.done
		db.stop = nil
	}
	if db.writes.Load() > 0 && db.r != nil {
		db.r.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
	}
	db.stmtMu.Lock()
	for _, st := range db.lookups {
		errs = append(errs, st.Close())
	}
	db.lookups = nil
	db.stmtMu.Unlock()
	if db.r != nil {
		errs = append(errs, db.r.Close())
	}
	if db.w != nil {
		errs = append(errs, db.w.Close())
	}
	return errors.Join(errs...)
}

// Path returns the database file's path.
func (db *DB) Path() string { return db.path }

// migrate applies the embedded migrations newer than PRAGMA user_version,
// each in its own transaction.
func (db *DB) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	var have int
	if err := db.w.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&have); err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	if have > len(names) {
		return fmt.Errorf("cache schema version %d is newer than this tiepdon (%d): upgrade tiepdon", have, len(names))
	}
	for i, name := range names[have:] {
		v := have + i + 1
		if n, _ := strconv.Atoi(strings.SplitN(filepath.Base(name), "_", 2)[0]); n != v {
			return fmt.Errorf("migration %s out of sequence (want %04d)", name, v)
		}
		sqlText, err := fs.ReadFile(migrations, name)
		if err != nil {
			return err
		}
		tx, err := db.w.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrating cache to version %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, string(sqlText)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrating cache to version %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, v)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrating cache to version %d: %w", v, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migrating cache to version %d: %w", v, err)
		}
		db.log.Info("cache schema migrated", "version", v)
	}
	return nil
}

// checkKey stores a keyed hash of a constant on first use and compares it
// afterwards, so a wrong key is found at Open, not at the first lookup.
func (db *DB) checkKey(ctx context.Context) error {
	want := db.hash("key-check", "tiepdon")
	var got []byte
	err := db.w.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'key_check'`).Scan(&got)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = db.w.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('key_check', ?)`, want)
		return err
	case err != nil:
		return fmt.Errorf("reading key check: %w", err)
	case !hmac.Equal(got, want):
		return ErrKeyMismatch
	}
	return nil
}

// hash is the keyed hash used to find rows by identifier: 16 bytes of
// HMAC-SHA256 over kind and value.
func (db *DB) hash(kind, value string) []byte {
	m := hmac.New(sha256.New, db.mac)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)[:16]
}

// seal encrypts plain for the column named by where (bound as associated
// data, so a value cannot be moved to another column).
func (db *DB) seal(where string, plain []byte) []byte {
	nonce := make([]byte, db.aead.NonceSize(), db.aead.NonceSize()+len(plain)+db.aead.Overhead())
	rand.Read(nonce)
	return db.aead.Seal(nonce, nonce, plain, []byte(where))
}

// open decrypts what seal made.
func (db *DB) open(where string, sealed []byte) ([]byte, error) {
	n := db.aead.NonceSize()
	if len(sealed) < n {
		return nil, fmt.Errorf("decrypting %s: too short", where)
	}
	p, err := db.aead.Open(nil, sealed[:n], sealed[n:], []byte(where))
	if err != nil {
		return nil, fmt.Errorf("decrypting %s: %w", where, err)
	}
	return p, nil
}

func (db *DB) sealString(where, s string) any {
	if s == "" {
		return nil
	}
	return db.seal(where, []byte(s))
}

func (db *DB) hashOrNil(kind, s string) any {
	if s == "" {
		return nil
	}
	return db.hash(kind, s)
}

// key is one identifier an answer is filed under.
type key struct{ kind, value string }

// keysOf returns the identifiers in q and e, normalised: a 15-character card
// also files its social-insurance number (its last 10 digits).
func keysOf(q patient.Query, e *patient.Eligibility) []key {
	var out []key
	seen := map[key]bool{}
	add := func(kind, v string) {
		v = strings.ToUpper(strings.TrimSpace(v))
		if v == "" {
			return
		}
		k := key{kind, v}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	card := func(c string) {
		c = strings.ToUpper(strings.TrimSpace(c))
		switch {
		case len(c) == 10 && digits(c):
			add("sin", c)
		case len(c) == 15:
			add("card", c)
			if digits(c[5:]) {
				add("sin", c[5:])
			}
		case c != "":
			add("card", c)
		}
	}
	card(string(q.CardNumber))
	if len(q.SocialInsuranceNumber) == 10 {
		add("sin", q.SocialInsuranceNumber)
	}
	add("cid", string(q.CitizenID))
	if e != nil {
		card(string(e.CardNumber))
		if len(e.SocialInsuranceNumber) == 10 {
			add("sin", e.SocialInsuranceNumber)
		}
		if e.NewCard != nil {
			card(string(e.NewCard.CardNumber))
		}
	}
	return out
}

func digits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// cacheable says whether an answer says something about the patient that
// is worth showing later: staff sign-in problems and input mismatches are
// about the query, not the card.
func cacheable(v patient.Verdict) bool {
	switch v {
	case patient.Eligible, patient.NotEligible, patient.CheckDocuments:
		return true
	}
	return false
}

func ms(t time.Time) int64 { return t.UnixMilli() }

// Save caches a live answer under every identifier in q and e. Answers that
// are about the query rather than the card (staff problem, input mismatch,
// unavailable) are not cached.
func (db *DB) Save(ctx context.Context, q patient.Query, e patient.Eligibility) error {
	if !cacheable(e.Verdict) {
		return nil
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("caching answer: %w", err)
	}
	defer tx.Rollback()
	if err := db.saveTx(ctx, tx, q, e); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("caching answer: %w", err)
	}
	db.writes.Add(1)
	db.rows.Add(1)
	for {
		old := db.newest.Load()
		if ms(e.CheckedAt) <= old || db.newest.CompareAndSwap(old, ms(e.CheckedAt)) {
			break
		}
	}
	return nil
}

// Answer is one answer for SaveAll: the query it answered and the answer.
type Answer struct {
	Query       patient.Query
	Eligibility patient.Eligibility
}

// SaveAll caches many live answers in one transaction (the other desks'
// answers of hospital mode arrive in batches), skipping those Save would
// not cache.
func (db *DB) SaveAll(ctx context.Context, as []Answer) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("caching answers: %w", err)
	}
	defer tx.Rollback()
	var n int64
	newest := int64(0)
	for _, a := range as {
		if !cacheable(a.Eligibility.Verdict) {
			continue
		}
		if err := db.saveTx(ctx, tx, a.Query, a.Eligibility); err != nil {
			return err
		}
		n++
		newest = max(newest, ms(a.Eligibility.CheckedAt))
	}
	if n == 0 {
		return nil
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("caching answers: %w", err)
	}
	db.writes.Add(1)
	db.rows.Add(n)
	for {
		old := db.newest.Load()
		if newest <= old || db.newest.CompareAndSwap(old, newest) {
			break
		}
	}
	return nil
}

func (db *DB) saveTx(ctx context.Context, tx *sql.Tx, q patient.Query, e patient.Eligibility) error {
	if e.CheckedAt.IsZero() {
		e.CheckedAt = db.o.Now()
	}
	e.Source = patient.SourceLive
	e.Age = 0
	plain, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encoding answer: %w", err)
	}
	at := ms(e.CheckedAt)
	res, err := tx.ExecContext(ctx, `INSERT INTO answers (checked_at, code, verdict, data) VALUES (?, ?, ?, ?)`,
		at, e.Code, string(e.Verdict), db.seal("answers.data", plain))
	if err != nil {
		return fmt.Errorf("caching answer: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("caching answer: %w", err)
	}
	for _, k := range keysOf(q, &e) {
		_, err := tx.ExecContext(ctx, `INSERT INTO answer_keys (hash, answer_id, checked_at) VALUES (?, ?, ?)
			ON CONFLICT (hash) DO UPDATE SET answer_id = excluded.answer_id, checked_at = excluded.checked_at
			WHERE excluded.checked_at >= answer_keys.checked_at`, db.hash(k.kind, k.value), id, at)
		if err != nil {
			return fmt.Errorf("filing cached answer: %w", err)
		}
	}
	return nil
}

// lookupStmt returns the prepared lookup for n identifiers.
func (db *DB) lookupStmt(ctx context.Context, n int) (*sql.Stmt, error) {
	db.stmtMu.Lock()
	defer db.stmtMu.Unlock()
	if st, ok := db.lookups[n]; ok {
		return st, nil
	}
	marks := strings.TrimSuffix(strings.Repeat("?,", n), ",")
	st, err := db.r.PrepareContext(ctx, `SELECT a.data FROM answer_keys k JOIN answers a ON a.id = k.answer_id
		WHERE k.hash IN (`+marks+`) AND a.checked_at >= ?
		ORDER BY a.checked_at DESC LIMIT 1`)
	if err != nil {
		return nil, fmt.Errorf("preparing cache lookup: %w", err)
	}
	if db.lookups == nil {
		db.lookups = map[int]*sql.Stmt{}
	}
	db.lookups[n] = st
	return st, nil
}

// Lookup returns the newest cached answer (within the retention period) for
// any identifier in q, with Source "cache", its original CheckedAt and its
// Age now.
func (db *DB) Lookup(ctx context.Context, q patient.Query) (patient.Eligibility, bool, error) {
	keys := keysOf(q, nil)
	if len(keys) == 0 {
		return patient.Eligibility{}, false, nil
	}
	args := make([]any, 0, len(keys)+1)
	for _, k := range keys {
		args = append(args, db.hash(k.kind, k.value))
	}
	args = append(args, ms(db.o.Now().Add(-db.o.Retention)))
	stmt, err := db.lookupStmt(ctx, len(keys))
	if err != nil {
		return patient.Eligibility{}, false, err
	}
	var sealed []byte
	err = stmt.QueryRowContext(ctx, args...).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return patient.Eligibility{}, false, nil
	}
	if err != nil {
		return patient.Eligibility{}, false, fmt.Errorf("looking up cache: %w", err)
	}
	plain, err := db.open("answers.data", sealed)
	if err != nil {
		return patient.Eligibility{}, false, err
	}
	var e patient.Eligibility
	if err := json.Unmarshal(plain, &e); err != nil {
		return patient.Eligibility{}, false, fmt.Errorf("decoding cached answer: %w", err)
	}
	e.Source = patient.SourceCache
	e.Age = db.o.Now().Sub(e.CheckedAt)
	return e, true, nil
}

// Record appends a line to the audit log. The staff member, citizen ID and
// card number are stored encrypted, with keyed hashes to find them.
func (db *DB) Record(ctx context.Context, a agent.Audit) error {
	if a.Time.IsZero() {
		a.Time = db.o.Now()
	}
	staff := ""
	if a.Staff.CitizenID != "" || a.Staff.Name != "" {
		staff = string(a.Staff.CitizenID) + "|" + string(a.Staff.Name)
	}
	_, err := db.w.ExecContext(ctx, `INSERT INTO audit
		(at, check_id, medium, source, code, verdict, latency_ms, staff_hash, staff, citizen_hash, citizen, card_hash, card)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ms(a.Time), a.CheckID, string(a.Medium), string(a.Source), a.Code, string(a.Verdict), a.Latency.Milliseconds(),
		db.hashOrNil("cid", string(a.Staff.CitizenID)), db.sealString("audit.staff", staff),
		db.hashOrNil("cid", string(a.CitizenID)), db.sealString("audit.citizen", string(a.CitizenID)),
		db.hashOrNil("card", strings.ToUpper(string(a.Card))), db.sealString("audit.card", string(a.Card)))
	if err != nil {
		return fmt.Errorf("writing audit log: %w", err)
	}
	db.writes.Add(1)
	return nil
}

// Audit returns the audit lines of a check, or of a citizen ID if checkID
// is empty, oldest first.
func (db *DB) Audit(ctx context.Context, checkID string, id patient.CitizenID) ([]agent.Audit, error) {
	where, arg := `check_id = ?`, any(checkID)
	if checkID == "" {
		where, arg = `citizen_hash = ?`, db.hash("cid", string(id))
	}
	rows, err := db.r.QueryContext(ctx, `SELECT at, check_id, medium, source, code, verdict, latency_ms, staff, citizen, card
		FROM audit WHERE `+where+` ORDER BY at, id`, arg)
	if err != nil {
		return nil, fmt.Errorf("reading audit log: %w", err)
	}
	defer rows.Close()
	var out []agent.Audit
	for rows.Next() {
		var a agent.Audit
		var at, lat int64
		var medium, source, verdict string
		var staff, citizen, card []byte
		if err := rows.Scan(&at, &a.CheckID, &medium, &source, &a.Code, &verdict, &lat, &staff, &citizen, &card); err != nil {
			return nil, fmt.Errorf("reading audit log: %w", err)
		}
		a.Time, a.Latency = time.UnixMilli(at), time.Duration(lat)*time.Millisecond
		a.Medium, a.Source, a.Verdict = patient.Medium(medium), patient.Source(source), patient.Verdict(verdict)
		if staff != nil {
			p, err := db.open("audit.staff", staff)
			if err != nil {
				return nil, err
			}
			cid, name, _ := strings.Cut(string(p), "|")
			a.Staff = patient.Staff{CitizenID: patient.CitizenID(cid), Name: patient.Name(name)}
		}
		if citizen != nil {
			p, err := db.open("audit.citizen", citizen)
			if err != nil {
				return nil, err
			}
			a.CitizenID = patient.CitizenID(p)
		}
		if card != nil {
			p, err := db.open("audit.card", card)
			if err != nil {
				return nil, err
			}
			a.Card = patient.CardNumber(p)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Stats is what /healthz shows about the cache.
type Stats struct {
	Answers int64     `json:"answers"`         // cached answers
	Newest  time.Time `json:"newest,omitzero"` // when the newest cached answer was given
	Pending int       `json:"pending"`         // checks waiting in the outbox
}

// Stats returns the cache's size and freshness. It is cheap: the counts are
// kept in memory, the outbox count uses its index.
func (db *DB) Stats(ctx context.Context) (Stats, error) {
	s := Stats{Answers: db.rows.Load(), Newest: db.Newest()}
	if err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM outbox`).Scan(&s.Pending); err != nil {
		return s, fmt.Errorf("counting outbox: %w", err)
	}
	return s, nil
}

// Newest returns when the newest cached answer was given (zero if none),
// without touching the database.
func (db *DB) Newest() time.Time {
	if n := db.newest.Load(); n > 0 {
		return time.UnixMilli(n)
	}
	return time.Time{}
}

// Purge deletes answers (and their lookup keys), audit lines, kept answers with their receipts and queued
// checks older than the retention period, PurgeBatch rows per transaction so that the writer lock
// is held only briefly (readers never wait: WAL). It returns how many rows
// it deleted.
func (db *DB) Purge(ctx context.Context) (int, error) {
	cutoff := ms(db.o.Now().Add(-db.o.Retention))
	total := 0
	for _, stmt := range []string{
		`DELETE FROM answers WHERE id IN (SELECT id FROM answers WHERE checked_at < ? ORDER BY checked_at LIMIT ?)`,
		`DELETE FROM answer_keys WHERE hash IN (SELECT hash FROM answer_keys WHERE checked_at < ? LIMIT ?)`,
		`DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < ? ORDER BY at LIMIT ?)`,
		`DELETE FROM results WHERE id IN (SELECT id FROM results WHERE at < ? ORDER BY at LIMIT ?)`,
		`DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE enqueued_at < ? LIMIT ?)`,
	} {
		answers := strings.HasPrefix(stmt, "DELETE FROM answers ")
		for {
			if err := ctx.Err(); err != nil {
				return total, err
			}
			res, err := db.w.ExecContext(ctx, stmt, cutoff, db.o.PurgeBatch)
			if err != nil {
				return total, fmt.Errorf("purging cache: %w", err)
			}
			db.writes.Add(1)
			n, _ := res.RowsAffected()
			if !strings.Contains(stmt, "answer_keys") {
				total += int(n)
			}
			if answers {
				db.rows.Add(-n)
			}
			if n < int64(db.o.PurgeBatch) {
				break
			}
			// A breath between batches: lookups and the WAL checkpoint
			// get the CPU and the disk.
			t := time.NewTimer(db.o.PurgePause)
			select {
			case <-ctx.Done():
				t.Stop()
				return total, ctx.Err()
			case <-t.C:
			}
		}
	}
	if total > 0 {
		db.log.Info("cache purged", "rows", total, "retention", db.o.Retention)
	}
	return total, nil
}

// Run purges at once and then every PurgeEvery until ctx ends.
func (db *DB) Run(ctx context.Context) error {
	t := time.NewTicker(db.o.PurgeEvery)
	defer t.Stop()
	for {
		if _, err := db.Purge(ctx); err != nil && ctx.Err() == nil {
			db.log.Error("Old answers could not be purged from the cache as the retention setting asks; check free disk space and run tiepdon doctor", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func deriveKeys(master []byte) (cipher.AEAD, []byte, error) {
	enc := hmacSum(master, "tiepdon cache encryption v1")
	mac := hmacSum(master, "tiepdon cache lookup v1")
	block, err := aes.NewCipher(enc)
	if err != nil {
		return nil, nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, nil, err
	}
	return aead, mac, nil
}

// hmacSum derives a subkey (HKDF-Expand with one block is this HMAC).
func hmacSum(key []byte, label string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	m.Write([]byte{1})
	return m.Sum(nil)
}

var _ agent.Store = (*DB)(nil)
