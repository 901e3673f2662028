package fleet

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiepdon/tiepdon/agent/config"
	"github.com/tiepdon/tiepdon/sync/hospital"
)

// PasswordSecret is the fleet_secrets row of the gateway password.
const PasswordSecret = "gateway.password"

// passwordAAD binds the sealed password to its row, so a sealed value
// copied into another row does not open.
var passwordAAD = []byte("fleet_secrets:" + PasswordSecret)

// Setting is one fleet setting.
type Setting struct {
	Key       string    `json:"key"`
	Value     string    `json:"value"`
	Locked    bool      `json:"locked"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Secret is a sealed fleet secret: it opens only with the hospital key
// named by KeyID.
type Secret struct {
	Name      string    `json:"name"`
	KeyID     string    `json:"keyId"`
	Sealed    []byte    `json:"sealed"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Snapshot is everything the fleet sets, as a desk reads it (and keeps it
// in its data folder, the password still sealed, for a start while
// PostgreSQL is down).
type Snapshot struct {
	Settings []Setting `json:"settings"`
	Secrets  []Secret  `json:"secrets"`
}

// Version is the newest change in s (zero for none).
func (s Snapshot) Version() time.Time {
	var v time.Time
	for _, x := range s.Settings {
		if x.UpdatedAt.After(v) {
			v = x.UpdatedAt
		}
	}
	for _, x := range s.Secrets {
		if x.UpdatedAt.After(v) {
			v = x.UpdatedAt
		}
	}
	return v
}

// Equal reports whether s and o set the same.
func (s Snapshot) Equal(o Snapshot) bool {
	a, _ := json.Marshal(s)
	b, _ := json.Marshal(o)
	return string(a) == string(b)
}

// Layer opens s into the config layer a desk applies. keys opens the
// password; a password sealed with a key the desk does not hold is an
// error (and the rest of the layer is still returned).
func (s Snapshot) Layer(keys *hospital.Keyring) (*config.Fleet, error) {
	f := &config.Fleet{Values: map[string]string{}}
	for _, x := range s.Settings {
		f.Values[x.Key] = x.Value
		if x.Locked {
			f.Locked = append(f.Locked, x.Key)
		}
	}
	for _, x := range s.Secrets {
		if x.Name != PasswordSecret {
			continue
		}
		if keys == nil {
			return f, errors.New("the fleet's gateway password needs the hospital key file ([hospital] key_file)")
		}
		pw, err := keys.Open(x.KeyID, x.Sealed, passwordAAD)
		if err != nil {
			return f, fmt.Errorf("the fleet's gateway password does not open with this desk's hospital key file (%w): copy the current key file to the desk", err)
		}
		f.GatewayPassword = string(pw)
	}
	return f, nil
}

// Read reads the fleet settings and secrets.
func Read(ctx context.Context, pool *pgxpool.Pool) (Snapshot, error) {
	var s Snapshot
	rows, err := pool.Query(ctx, `SELECT key, value, locked, updated_at FROM fleet_settings ORDER BY key`)
	if err != nil {
		return s, fmt.Errorf("reading fleet_settings: %w", err)
	}
	for rows.Next() {
		var x Setting
		if err := rows.Scan(&x.Key, &x.Value, &x.Locked, &x.UpdatedAt); err != nil {
			rows.Close()
			return s, fmt.Errorf("reading fleet_settings: %w", err)
		}
		x.UpdatedAt = x.UpdatedAt.UTC()
		s.Settings = append(s.Settings, x)
	}
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("reading fleet_settings: %w", err)
	}
	rows, err = pool.Query(ctx, `SELECT name, key_id, sealed, updated_at FROM fleet_secrets ORDER BY name`)
	if err != nil {
		return s, fmt.Errorf("reading fleet_secrets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var x Secret
		if err := rows.Scan(&x.Name, &x.KeyID, &x.Sealed, &x.UpdatedAt); err != nil {
			return s, fmt.Errorf("reading fleet_secrets: %w", err)
		}
		x.UpdatedAt = x.UpdatedAt.UTC()
		s.Secrets = append(s.Secrets, x)
	}
	return s, rows.Err()
}

// Set sets key to value for every desk, locked or not, after checking that
// the value makes a valid config.
func Set(ctx context.Context, pool *pgxpool.Pool, key, value string, locked bool) error {
	if key == PasswordSecret {
		return errors.New("the gateway password is set with tiepdon fleet set-password, which seals it")
	}
	if err := config.CheckFleetSetting(key, value); err != nil {
		return err
	}
	_, err := pool.Exec(ctx, `INSERT INTO fleet_settings (key, value, locked, updated_at) VALUES ($1, $2, $3, now())
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, locked = EXCLUDED.locked, updated_at = now()`, key, value, locked)
	if err != nil {
		return fmt.Errorf("writing fleet_settings: %w", err)
	}
	return nil
}

// Unset removes key from the fleet settings (PasswordSecret: the fleet's
// password); desks go back to their own value. It reports whether the key
// was set.
func Unset(ctx context.Context, pool *pgxpool.Pool, key string) (bool, error) {
	q := `DELETE FROM fleet_settings WHERE key = $1`
	if key == PasswordSecret {
		q = `DELETE FROM fleet_secrets WHERE name = $1`
	}
	tag, err := pool.Exec(ctx, q, key)
	if err != nil {
		return false, fmt.Errorf("removing the fleet setting: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// SetPassword seals the gateway password with the hospital's current key
// and stores it for every desk. It returns the key's ID.
func SetPassword(ctx context.Context, pool *pgxpool.Pool, keys *hospital.Keyring, password string) (string, error) {
	if password == "" {
		return "", errors.New("the gateway password is empty")
	}
	id, sealed, err := keys.Seal([]byte(password), passwordAAD)
	if err != nil {
		return "", err
	}
	_, err = pool.Exec(ctx, `INSERT INTO fleet_secrets (name, key_id, sealed, updated_at) VALUES ($1, $2, $3, now())
		ON CONFLICT (name) DO UPDATE SET key_id = EXCLUDED.key_id, sealed = EXCLUDED.sealed, updated_at = now()`, PasswordSecret, id, sealed)
	if err != nil {
		return "", fmt.Errorf("writing fleet_secrets: %w", err)
	}
	return id, nil
}

// PollEvery is how often a desk reads the fleet settings: a change reaches
// every desk within this (and a minute is the promise).
const PollEvery = 20 * time.Second

// Watcher keeps a desk's fleet settings: it reads them every Every, keeps
// the newest in the data folder (File), and hands each change to Apply.
type Watcher struct {
	Pool *pgxpool.Pool
	Keys *hospital.Keyring
	// File keeps the last snapshot (sealed secrets stay sealed), so a desk
	// started while PostgreSQL is down applies IT's settings.
	File string
	// Apply puts a layer to work (agent/settings' ApplyFleet).
	Apply  func(*config.Fleet) error
	Every  time.Duration
	Logger *slog.Logger

	mu      sync.Mutex
	last    *Snapshot
	applied time.Time
	err     string
}

// State is the version of the fleet settings applied and why the latest
// could not be, for the desk's status.
func (w *Watcher) State() (applied time.Time, problem string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.applied, w.err
}

// Cached returns the layer kept in the data folder, or nil.
func (w *Watcher) Cached() (*config.Fleet, error) {
	b, err := os.ReadFile(w.File)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", w.File, err)
	}
	w.mu.Lock()
	w.last = &s
	w.mu.Unlock()
	return s.Layer(w.Keys)
}

// Poll reads the fleet settings once and applies them if they changed.
func (w *Watcher) Poll(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := Read(ctx, w.Pool)
	if err != nil {
		return err
	}
	w.mu.Lock()
	same := w.last != nil && w.last.Equal(s) && w.err == ""
	w.mu.Unlock()
	if same {
		return nil
	}
	layer, lerr := s.Layer(w.Keys)
	if lerr == nil {
		lerr = w.Apply(layer)
	}
	w.mu.Lock()
	w.last = &s
	if lerr != nil {
		w.err = lerr.Error()
	} else {
		w.err, w.applied = "", s.Version()
	}
	w.mu.Unlock()
	if lerr != nil {
		return fmt.Errorf("applying the fleet settings: %w", lerr)
	}
	if w.File != "" {
		b, _ := json.Marshal(s)
		if err := os.MkdirAll(filepath.Dir(w.File), 0o700); err == nil {
			tmp := w.File + ".tmp"
			if err := os.WriteFile(tmp, b, 0o600); err == nil {
				os.Rename(tmp, w.File)
			}
		}
	}
	return nil
}

// Run polls until ctx ends. Failures are logged once until it works again.
func (w *Watcher) Run(ctx context.Context) error {
	every := cmp.Or(w.Every, PollEvery)
	log := w.Logger
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var lastErr string
	for {
		err := w.Poll(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && err.Error() != lastErr:
			log.Warn("The desk could not read or apply the fleet settings, so it keeps its current ones; check PostgreSQL and the hospital key file (tiepdon fleet status shows the reason)", "err", err)
			lastErr = err.Error()
		case err == nil && lastErr != "":
			log.Info("fleet settings read again")
			lastErr = ""
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Keys lists the keys the fleet may set, for help texts.
func Keys() []string { return slices.Clone(config.FleetKeys()) }
