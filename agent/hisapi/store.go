package hisapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // the token store is a SQLite file
)

// Scope is a permission a token carries.
type Scope string

// Scopes a token can carry.
const (
	// ScopeEligibility allows eligibility.check and receipt.get, and the
	// eligibility.result and eligibility.updated notifications (the BHYT
	// answer, which names the card holder as the gateway returns it).
	ScopeEligibility Scope = "eligibility"
	// ScopeIdentity allows identity.current and the identity.read
	// notification, and adds the identity read from the card or QR to
	// eligibility results.
	ScopeIdentity Scope = "identity"
	// ScopePhoto adds the chip's face image to identity payloads. It needs
	// ScopeIdentity.
	ScopePhoto Scope = "photo"
	// ScopeHistory adds the patient's visit history from the gateway
	// (eligibility.visits: facilities, dates, diagnoses) to eligibility
	// answers. It is health data (Decree 13/2023/ND-CP, sensitive personal
	// data): give it only to apps that need it. It needs ScopeEligibility.
	ScopeHistory Scope = "history"
)

// AllScopes lists every scope, in the order they are documented.
var AllScopes = []Scope{ScopeEligibility, ScopeIdentity, ScopePhoto, ScopeHistory}

// ParseScopes reads a comma-separated scope list such as
// "eligibility,identity" and checks it.
func ParseScopes(s string) ([]Scope, error) {
	var out []Scope
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, Scope(f))
		}
	}
	return CheckScopes(out)
}

// CheckScopes validates a scope list, removes duplicates and sorts it in the
// documented order.
func CheckScopes(in []Scope) ([]Scope, error) {
	if len(in) == 0 {
		return nil, errors.New("no scope given: want one or more of eligibility, identity, photo, history")
	}
	var out []Scope
	for _, want := range AllScopes {
		if slices.Contains(in, want) {
			out = append(out, want)
		}
	}
	for _, s := range in {
		if !slices.Contains(AllScopes, s) {
			return nil, fmt.Errorf("unknown scope %q: want eligibility, identity, photo or history", s)
		}
	}
	if slices.Contains(out, ScopePhoto) && !slices.Contains(out, ScopeIdentity) {
		return nil, errors.New("scope photo needs scope identity too")
	}
	if slices.Contains(out, ScopeHistory) && !slices.Contains(out, ScopeEligibility) {
		return nil, errors.New("scope history needs scope eligibility too")
	}
	return out, nil
}

// JoinScopes writes a scope list as ParseScopes reads it: "eligibility,identity".
func JoinScopes(s []Scope) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = string(v)
	}
	return strings.Join(parts, ",")
}

// Token errors, for errors.Is.
var (
	ErrUnknownToken   = errors.New("unknown token")
	ErrTokenRevoked   = errors.New("token revoked")
	ErrOriginMismatch = errors.New("token was issued to another origin")
	ErrNoSuchToken    = errors.New("no token with that ID")
)

// TokenInfo describes an issued token. The token itself is never stored:
// only its SHA-256 hash.
type TokenInfo struct {
	ID       string     `json:"id"`     // short public identifier, for listing and revoking
	Name     string     `json:"name"`   // the app's name, as given when pairing or by IT
	Origin   string     `json:"origin"` // web origin it is bound to; "" for non-browser apps
	Scopes   []Scope    `json:"scopes"`
	Created  time.Time  `json:"created"`
	LastUsed *time.Time `json:"lastUsed,omitempty"`
	Revoked  *time.Time `json:"revoked,omitempty"`
}

// Active reports whether the token has not been revoked.
func (t TokenInfo) Active() bool { return t.Revoked == nil }

// Has reports whether the token carries scope s.
func (t TokenInfo) Has(s Scope) bool { return slices.Contains(t.Scopes, s) }

// TokenFile is the name of the token store inside the data directory.
const TokenFile = "his-tokens.db"

// tokenPrefix marks tiepdon tokens so secret scanners and people recognise them.
const tokenPrefix = "tdp_"

// Store holds the HIS API tokens in a SQLite file in the data directory.
// Several processes may use it at once (the running agent and the
// "tiepdon pairing" command); a revocation made by one is seen by the other.
type Store struct {
	db    *sql.DB
	check *sql.Conn // a fixed connection for PRAGMA data_version
	now   func() time.Time
}

// OpenStore opens (creating if needed) the token store in dir.
func OpenStore(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("opening token store: no data directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("opening token store: %w", err)
	}
	path := filepath.Join(dir, TokenFile)
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000&_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("opening token store: %w", err)
	}
	const schema = `CREATE TABLE IF NOT EXISTS tokens (
		id         TEXT PRIMARY KEY,
		hash       TEXT NOT NULL UNIQUE,
		name       TEXT NOT NULL,
		origin     TEXT NOT NULL,
		scopes     TEXT NOT NULL,
		created    INTEGER NOT NULL,
		last_used  INTEGER,
		revoked    INTEGER
	);
	CREATE TABLE IF NOT EXISTS approvals (
		code TEXT PRIMARY KEY,
		at   INTEGER NOT NULL
	)`
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("creating token store %s: %w", path, err)
	}
	os.Chmod(path, 0o600)
	c, err := db.Conn(context.Background())
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening token store: %w", err)
	}
	return &Store{db: db, check: c, now: time.Now}, nil
}

// Close closes the store.
func (s *Store) Close() error {
	s.check.Close()
	return s.db.Close()
}

func hashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Add issues a new token for an app and returns it with its description.
// The token is shown once: only its hash is kept.
func (s *Store) Add(ctx context.Context, name, origin string, scopes []Scope) (string, TokenInfo, error) {
	scopes, err := CheckScopes(scopes)
	if err != nil {
		return "", TokenInfo{}, err
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return "", TokenInfo{}, errors.New("app name must be 1 to 100 characters")
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	tok := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	info := TokenInfo{ID: randomID(4), Name: name, Origin: origin, Scopes: scopes, Created: s.now().UTC().Truncate(time.Second)}
	_, err = s.db.ExecContext(ctx, `INSERT INTO tokens (id, hash, name, origin, scopes, created) VALUES (?, ?, ?, ?, ?, ?)`,
		info.ID, hashToken(tok), info.Name, info.Origin, JoinScopes(scopes), info.Created.Unix())
	if err != nil {
		return "", TokenInfo{}, fmt.Errorf("saving token: %w", err)
	}
	return tok, info, nil
}

func scanToken(sc interface{ Scan(...any) error }) (TokenInfo, string, error) {
	var (
		t               TokenInfo
		hash, scopes    string
		created         int64
		lastUsed, revok sql.NullInt64
	)
	if err := sc.Scan(&t.ID, &hash, &t.Name, &t.Origin, &scopes, &created, &lastUsed, &revok); err != nil {
		return t, "", err
	}
	for _, f := range strings.Split(scopes, ",") {
		if f != "" {
			t.Scopes = append(t.Scopes, Scope(f))
		}
	}
	t.Created = time.Unix(created, 0).UTC()
	if lastUsed.Valid {
		v := time.Unix(lastUsed.Int64, 0).UTC()
		t.LastUsed = &v
	}
	if revok.Valid {
		v := time.Unix(revok.Int64, 0).UTC()
		t.Revoked = &v
	}
	return t, hash, nil
}

const tokenCols = `id, hash, name, origin, scopes, created, last_used, revoked`

// List returns every token, newest first, revoked ones included.
func (s *Store) List(ctx context.Context) ([]TokenInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+tokenCols+` FROM tokens ORDER BY created DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	defer rows.Close()
	var out []TokenInfo
	for rows.Next() {
		t, _, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("listing tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Get returns the token with this ID.
func (s *Store) Get(ctx context.Context, id string) (TokenInfo, error) {
	t, _, err := scanToken(s.db.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, ErrNoSuchToken
	}
	return t, err
}

// Revoke revokes the token with this ID. Sessions using it are closed by
// the running agent within its revocation check interval.
func (s *Store) Revoke(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL`, s.now().Unix(), id)
	if err != nil {
		return fmt.Errorf("revoking token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.Get(ctx, id); err != nil {
			return err
		}
		return nil // already revoked
	}
	return nil
}

// Approve records that a person at the desk approved the pairing showing
// code ("tiepdon pairing approve CODE", for headless machines); the agent
// that waits for it picks it up within its revocation check interval.
func (s *Store) Approve(ctx context.Context, code string) error {
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return errors.New("the pairing code is 6 digits")
	}
	if _, err := s.db.ExecContext(ctx, `INSERT OR REPLACE INTO approvals (code, at) VALUES (?, ?)`, code, s.now().Unix()); err != nil {
		return fmt.Errorf("recording the approval: %w", err)
	}
	return nil
}

// takeApproval reports whether code was approved within maxAge, and
// forgets the approval.
func (s *Store) takeApproval(ctx context.Context, code string, maxAge time.Duration) bool {
	res, err := s.db.ExecContext(ctx, `DELETE FROM approvals WHERE code = ? AND at >= ?`, code, s.now().Add(-maxAge).Unix())
	if err != nil {
		return false
	}
	n, _ := res.RowsAffected()
	return n > 0
}

// Authenticate finds the token tok and checks that it may be used from
// origin ("" for a non-browser client). It records the time of use.
func (s *Store) Authenticate(ctx context.Context, tok, origin string) (TokenInfo, error) {
	if !strings.HasPrefix(tok, tokenPrefix) || len(tok) > 100 {
		return TokenInfo{}, ErrUnknownToken
	}
	t, _, err := scanToken(s.db.QueryRowContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE hash = ?`, hashToken(tok)))
	if errors.Is(err, sql.ErrNoRows) {
		return TokenInfo{}, ErrUnknownToken
	}
	if err != nil {
		return TokenInfo{}, fmt.Errorf("reading token store: %w", err)
	}
	if !t.Active() {
		return t, ErrTokenRevoked
	}
	if t.Origin != origin {
		return t, ErrOriginMismatch
	}
	now := s.now().UTC().Truncate(time.Second)
	if _, err := s.db.ExecContext(ctx, `UPDATE tokens SET last_used = ? WHERE id = ?`, now.Unix(), t.ID); err == nil {
		t.LastUsed = &now
	}
	return t, nil
}

// revokedIDs returns the IDs of all revoked tokens.
func (s *Store) revokedIDs(ctx context.Context) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM tokens WHERE revoked IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// version returns SQLite's data_version for the store's fixed connection:
// it changes when another connection (or process) commits a change.
func (s *Store) version(ctx context.Context) (int64, error) {
	var v int64
	err := s.check.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v)
	return v, err
}
