package hospital

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Options configure a desk's connection to the hospital store.
type Options struct {
	// DSN is a PostgreSQL connection string (postgres://… or key=value),
	// with TLS and a client certificate or a password as the hospital's
	// PostgreSQL requires (sslmode=verify-full, sslcert, sslkey, sslrootcert).
	DSN string
	// Keys seal personal fields and key the lookups (the hospital key file).
	Keys *Keyring
	// DeskID identifies the desk for good (DeskID reads or makes one);
	// Desk is its name for people ("Quầy 3").
	DeskID, Desk string
	// LookupTimeout bounds a shared-cache lookup (default 150 ms): the
	// verdict path asks only when the gateway is slow or down, and never
	// waits longer than this.
	LookupTimeout time.Duration
	Logger        *slog.Logger
}

// DB is a desk's handle on the hospital store. Nothing is asked of
// PostgreSQL until Run connects; a desk starts and works without it.
type DB struct {
	o          Options
	pool       *pgxpool.Pool
	migrations []Migration // the schema this desk knows (Migrations())

	mu      sync.Mutex
	ready   bool  // connected, migrated, desk registered
	lastErr error // why not, for status
	version int   // schema version after Migrate

	listening atomic.Bool  // Listen is following the other desks
	sessions  atomic.Int64 // listener sessions
	pings     atomic.Int64 // pings of a quiet listener

	purgeProblem atomic.Pointer[string] // why the store refused the last purge (PurgeProblem)
}

// New returns a DB for o. It parses the DSN but does not connect.
func New(o Options) (*DB, error) {
	if o.Keys == nil {
		return nil, errors.New("hospital mode needs the hospital key file ([hospital] key_file)")
	}
	if o.DeskID == "" {
		return nil, errors.New("hospital mode needs a desk ID")
	}
	if o.Desk == "" {
		o.Desk, _ = os.Hostname()
	}
	if o.LookupTimeout <= 0 {
		o.LookupTimeout = 150 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	cfg, err := pgxpool.ParseConfig(o.DSN)
	if err != nil {
		// The DSN may hold a password: say where, not what.
		return nil, errors.New("[hospital] dsn is not a PostgreSQL connection string")
	}
	cfg.ConnConfig.ConnectTimeout = 3 * time.Second
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("hospital store: %w", err)
	}
	return &DB{o: o, pool: pool}, nil
}

// Pool is the connection pool (for the fleet commands and tests).
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Keys is the hospital keyring (the fleet's sealed password opens with it).
func (db *DB) Keys() *Keyring { return db.o.Keys }

// DeskID is this desk's ID in the hospital store.
func (db *DB) DeskID() string { return db.o.DeskID }

// Desk is this desk's name for people.
func (db *DB) Desk() string { return db.o.Desk }

// Close closes the pool.
func (db *DB) Close() { db.pool.Close() }

// Ready reports whether the store is connected and migrated, and if not,
// the last reason.
func (db *DB) Ready() (bool, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.ready, db.lastErr
}

// connect migrates the schema and registers the desk; it is retried by Run
// until it works.
func (db *DB) connect(ctx context.Context) error {
	c, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	ms := db.migrations
	if ms == nil {
		ms = Migrations()
	}
	v, err := Migrate(ctx, c.Conn(), ms)
	if err != nil {
		return err
	}
	if _, err := c.Exec(ctx, `INSERT INTO desks (desk_id, name) VALUES ($1, $2)
		ON CONFLICT (desk_id) DO UPDATE SET name = excluded.name`, db.o.DeskID, db.o.Desk); err != nil {
		return fmt.Errorf("registering the desk: %w", err)
	}
	db.mu.Lock()
	db.ready, db.lastErr, db.version = true, nil, v
	db.mu.Unlock()
	return nil
}

func (db *DB) failed(err error) {
	db.mu.Lock()
	db.ready, db.lastErr = false, err
	db.mu.Unlock()
}

// ReadDeskID returns the desk's ID kept in dir (made on first use): random, so
// that two PCs with the same host name stay two desks, and kept with the
// desk's data so a reinstalled desk with a fresh cache starts afresh.
func ReadDeskID(dir string) (string, error) {
	file := filepath.Join(dir, "hospital-desk-id")
	if b, err := os.ReadFile(file); err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return id, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	id := "desk-" + hex.EncodeToString(b[:])
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	return id, os.WriteFile(file, []byte(id+"\n"), 0o600)
}
