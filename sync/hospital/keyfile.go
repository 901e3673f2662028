package hospital

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// KeyFileEvery is how often a running desk reads its key file again: the
// same rhythm as the fleet settings, so a rotation's copy reaches a desk
// within a minute without a restart.
const KeyFileEvery = 20 * time.Second

// KeyFile follows the hospital key file of a running desk. When the file
// changes, the desk takes the new keys (Keyring.Replace: sealing uses the
// new first key, opening and lookups every key of the file) unless the new
// file cannot be used: it does not parse, or it drops a key still needed.
// Then the desk keeps the keys it has, logs a warning (without key
// material) and Problem says what IT must fix.
//
// A key is still needed while answers of the last Retention in PostgreSQL
// are sealed with it (other desks' shared answers) or the fleet's gateway
// password is. A file that only adds keys or changes their order is taken
// without asking PostgreSQL; one that drops a key waits until PostgreSQL
// answers that nothing needs it.
type KeyFile struct {
	Path string
	// Keys is the desk's keyring, changed in place.
	Keys *Keyring
	// Pool is asked what a dropped key still opens; nil refuses every
	// file that drops a key.
	Pool      *pgxpool.Pool
	Retention time.Duration
	Every     time.Duration // 0: KeyFileEvery
	Logger    *slog.Logger

	mu      sync.Mutex
	taken   []byte // the file's bytes the keys came from
	problem string
}

// NewKeyFile returns a KeyFile for keys, read from the file's bytes taken.
func NewKeyFile(path string, keys *Keyring, taken []byte) *KeyFile {
	return &KeyFile{Path: path, Keys: keys, taken: bytes.Clone(taken)}
}

// Problem is why the key file as it is now is not used, or "".
func (f *KeyFile) Problem() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.problem
}

// Check reads the key file once and takes its keys if it changed and can
// be used. It returns the problem, as Problem does.
func (f *KeyFile) Check(ctx context.Context) string {
	problem := f.check(ctx)
	f.mu.Lock()
	f.problem = problem
	f.mu.Unlock()
	return problem
}

func (f *KeyFile) check(ctx context.Context) string {
	b, err := os.ReadFile(f.Path)
	if err != nil {
		return fmt.Sprintf("the hospital key file cannot be read (%v); this desk keeps the keys it has", err)
	}
	f.mu.Lock()
	same := bytes.Equal(b, f.taken)
	f.mu.Unlock()
	if same {
		return ""
	}
	next, err := ParseKeys(b)
	if err != nil {
		return fmt.Sprintf("%s: %v; this desk keeps the keys it has", f.Path, err)
	}
	var dropped []string
	for _, id := range f.Keys.IDs() {
		if !next.Holds(id) {
			dropped = append(dropped, id)
		}
	}
	if len(dropped) > 0 {
		if f.Pool == nil {
			return fmt.Sprintf("%s drops key %s; this desk keeps the keys it has", f.Path, strings.Join(dropped, ", "))
		}
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		needed, err := NeededKeys(ctx, f.Pool, f.Retention)
		if err != nil {
			return fmt.Sprintf("%s drops key %s, and PostgreSQL cannot say whether data still needs it (%v); this desk keeps the keys it has and asks again",
				f.Path, strings.Join(dropped, ", "), err)
		}
		var still []string
		for _, id := range dropped {
			if slices.Contains(needed, id) {
				still = append(still, id)
			}
		}
		if len(still) > 0 {
			return fmt.Sprintf("%s drops key %s, which still opens answers of the last %s or the fleet's gateway password; this desk keeps the keys it has. "+
				"Keep the old key's line below the new one until the retention has passed", f.Path, strings.Join(still, ", "), days(f.Retention))
		}
	}
	before := f.Keys.Current()
	f.Keys.Replace(next)
	f.mu.Lock()
	f.taken = b
	f.mu.Unlock()
	f.log().Info("hospital key file read again", "sealing_key", next.Current(), "sealing_key_before", before, "keys", len(next.IDs()))
	return ""
}

func (f *KeyFile) log() *slog.Logger {
	if f.Logger != nil {
		return f.Logger
	}
	return slog.Default()
}

func days(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}

// Run checks the key file every Every until ctx ends. A problem is logged
// once, until it changes or is fixed.
func (f *KeyFile) Run(ctx context.Context) error {
	t := time.NewTicker(cmp.Or(f.Every, KeyFileEvery))
	defer t.Stop()
	last := ""
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		p := f.Check(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case p != "" && p != last:
			f.log().Warn("The changed hospital key file is not used, so this desk keeps sealing and opening with its current keys; copy a correct key file to the desk (tiepdon doctor shows the problem)", "problem", p)
		case p == "" && last != "":
			f.log().Info("hospital key file usable again")
		}
		last = p
	}
}

// NeededKeys lists the IDs of the keys data in PostgreSQL still needs:
// those sealing answers checked within retention (0: any answer), which
// desks share, and the fleet's sealed secrets (the gateway password).
func NeededKeys(ctx context.Context, pool *pgxpool.Pool, retention time.Duration) ([]string, error) {
	if pool == nil {
		return nil, errors.New("no PostgreSQL connection")
	}
	secs := retention.Seconds()
	if retention <= 0 {
		secs = 100 * 365 * 86400 // every answer
	}
	rows, err := pool.Query(ctx, `SELECT key_id FROM verdicts WHERE checked_at > now() - make_interval(secs => $1)
		UNION SELECT key_id FROM fleet_secrets`, secs)
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	return ids, rows.Err()
}
