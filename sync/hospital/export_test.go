package hospital

import (
	"context"
	"time"
)

// SetListenPing sets how long a quiet listener waits before it pings the
// store, for a test, and returns a function that restores it.
func SetListenPing(d time.Duration) func() {
	old := listenPing.Swap(int64(d))
	return func() { listenPing.Store(old) }
}

// ListenPings counts the pings of quiet listeners.
func (db *DB) ListenPings() int64 { return db.pings.Load() }

// ListenSessions counts the listener's sessions (one per connection).
func (db *DB) ListenSessions() int64 { return db.sessions.Load() }

// NewWithMigrations returns a DB that knows the schema steps ms (a desk of
// another version).
func NewWithMigrations(o Options, ms []Migration) (*DB, error) {
	db, err := New(o)
	if err != nil {
		return nil, err
	}
	db.migrations = ms
	return db, nil
}

// SchemaVersion is the schema version the desk found after migrating.
func (db *DB) SchemaVersion() int {
	db.mu.Lock()
	defer db.mu.Unlock()
	return db.version
}

// LookupSQL is the shared-cache lookup's query.
const LookupSQL = lookupSQL

// SharedVerdicts are the verdicts the desks share.
var SharedVerdicts = sharedVerdicts

// PurgeNow runs the hourly purge at once, as Run does.
func (db *DB) PurgeNow(ctx context.Context) {
	var last time.Time
	var lastErr string
	db.maybePurge(ctx, &last, &lastErr)
}
