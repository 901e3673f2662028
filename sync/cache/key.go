package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"path/filepath"

	"github.com/tiepdon/tiepdon/agent/keystore"
)

// loadKey returns the 32-byte master key: from KeyFile if it exists, else
// from the OS key store if enabled and it holds one, else a new key kept in
// the OS key store (if enabled and working) or in KeyFile (0600).
func loadKey(o Options, dbPath string, log *slog.Logger) ([]byte, error) {
	k, _, err := keystore.Load(keystore.Key{What: "cache key", File: o.KeyFile, User: keyringUser(dbPath), Keyring: o.Keyring}, log)
	return k, err
}

// keyringUser names the keyring entry after the database's absolute path,
// so two caches on one account do not share a key.
func keyringUser(dbPath string) string {
	abs, err := filepath.Abs(dbPath)
	if err != nil {
		abs = dbPath
	}
	sum := sha256.Sum256([]byte(abs))
	return "cache-key-" + hex.EncodeToString(sum[:6])
}
