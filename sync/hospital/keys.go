package hospital

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
)

// Keyring holds the hospital keys: 32-byte secrets shared by every desk of
// the hospital (and by IT's fleet commands), never stored in PostgreSQL. The
// first key seals new data; the others still open and look up data sealed
// before a rotation.
//
// The key file has one key per line, "ID BASE64", newest first; blank lines
// and lines starting with # are ignored.
//
// Creating: IT makes the file once on its own machine (NewKey: 32 random
// bytes from the OS; the ID names the year, e.g. "k2026"). Distributing: the
// same file is copied to every desk at the path of [hospital] key_file, by
// the same means as the config file (software deployment, a GPO file copy),
// readable by the agent's user only, and kept offline in IT's safe; it is
// never put in PostgreSQL, so a copy of the database (or its backups) alone
// opens nothing and its lookups cannot be matched to an ID. Rotating, in two
// rounds so that no desk meets a row it cannot open: first add the new key
// as the second line on every desk (desks open and look up with it, still
// seal with the old one); once all desks run with it, move it to the first
// line (running desks take the file within 20 s: KeyFile). Keep the old key below
// it: rows sealed before stay readable, and lookups try every key. Remove an
// old key from the desks only after the cache retention has passed (older
// answers are no longer shared) and keep it offline for audits. A desk that
// lacks the key of a row says so in its log and skips the row.
//
// A running desk follows its key file (KeyFile) and swaps the keys of its
// Keyring in place: every method reads one set of keys, so a seal and its
// key ID, or a lookup's hashes, never mix two files.
type Keyring struct {
	set atomic.Pointer[[]hkey]
}

type hkey struct {
	id     string
	secret []byte
}

// ErrNoKey is returned when sealed data names a key the desk does not hold.
var ErrNoKey = errors.New("hospital key not held by this desk")

// NewKey returns a new key line for a key file, with a random secret.
func NewKey(id string) (string, error) {
	if id == "" || strings.ContainsAny(id, " \t\r\n#") {
		return "", fmt.Errorf("key id %q: want a word without spaces", id)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return id + " " + base64.StdEncoding.EncodeToString(b), nil
}

// ReadKeys reads and parses the hospital key file at path, and returns its
// bytes too (a KeyFile follows changes from them).
func ReadKeys(path string) (*Keyring, []byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("hospital key file: %w", err)
	}
	k, err := ParseKeys(b)
	return k, b, err
}

// ParseKeys reads a key file. Errors name the line, never the secret.
func ParseKeys(b []byte) (*Keyring, error) {
	var keys []hkey
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, enc, ok := strings.Cut(line, " ")
		if !ok {
			return nil, fmt.Errorf("hospital key file line %d: want \"ID BASE64\"", n)
		}
		secret, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
		if err != nil || len(secret) != 32 {
			return nil, fmt.Errorf("hospital key file line %d: the key is not 32 bytes of base64", n)
		}
		if seen[id] {
			return nil, fmt.Errorf("hospital key file line %d: key id %q appears twice", n, id)
		}
		seen[id] = true
		keys = append(keys, hkey{id: id, secret: secret})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the hospital key file: %w", err)
	}
	if len(keys) == 0 {
		return nil, errors.New("hospital key file holds no key")
	}
	kr := &Keyring{}
	kr.set.Store(&keys)
	return kr, nil
}

func (k *Keyring) keys() []hkey { return *k.set.Load() }

// Current is the ID of the key that seals new data.
func (k *Keyring) Current() string { return k.keys()[0].id }

// IDs lists the IDs of the keys held, the current one first.
func (k *Keyring) IDs() []string {
	var ids []string
	for _, key := range k.keys() {
		ids = append(ids, key.id)
	}
	return ids
}

// Holds reports whether the keyring holds the key named id.
func (k *Keyring) Holds(id string) bool { return slices.Contains(k.IDs(), id) }

// Replace puts next's keys in k, at once for every user of k.
func (k *Keyring) Replace(next *Keyring) { k.set.Store(next.set.Load()) }

// derive returns a sub-key of secret for one purpose, so the lookup hashes
// and the cipher never share a key (HMAC-SHA-256 as a PRF, RFC 5869 style).
func derive(secret []byte, purpose string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("tiepdon hospital " + purpose))
	return m.Sum(nil)
}

// Lookups returns the keyed hashes of one identifier (kind "cid" for a
// citizen ID, "card" for a BHYT card number) under every key held, the
// current key's first, so rows written before a rotation are still found.
func (k *Keyring) Lookups(kind, value string) [][]byte {
	var out [][]byte
	for _, key := range k.keys() {
		m := hmac.New(sha256.New, derive(key.secret, "lookup"))
		m.Write([]byte(kind + "\x00" + value))
		out = append(out, m.Sum(nil))
	}
	return out
}

// Seal encrypts plain with the current key (AES-256-GCM); aad binds it to
// its row (e.g. the table name), and the key ID goes beside it in the row.
func (k *Keyring) Seal(plain, aad []byte) (keyID string, sealed []byte, err error) {
	current := k.keys()[0]
	g, err := gcm(derive(current.secret, "seal"))
	if err != nil {
		return "", nil, err
	}
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", nil, err
	}
	return current.id, g.Seal(nonce, nonce, plain, aad), nil
}

// Open decrypts what Seal sealed with the key named keyID.
func (k *Keyring) Open(keyID string, sealed, aad []byte) ([]byte, error) {
	for _, key := range k.keys() {
		if key.id != keyID {
			continue
		}
		g, err := gcm(derive(key.secret, "seal"))
		if err != nil {
			return nil, err
		}
		if len(sealed) < g.NonceSize() {
			return nil, errors.New("sealed data too short")
		}
		return g.Open(nil, sealed[:g.NonceSize()], sealed[g.NonceSize():], aad)
	}
	return nil, fmt.Errorf("key %q: %w", keyID, ErrNoKey)
}

func gcm(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}
