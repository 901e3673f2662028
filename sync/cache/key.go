package cache

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// keyringService is the service name of the key in the OS keyring.
const keyringService = "tiepdon"

// keyringTimeout bounds a keyring call: without a D-Bus session the Secret
// Service client can wait a long time before failing.
const keyringTimeout = 3 * time.Second

// loadKey returns the 32-byte master key: from KeyFile if it exists, else
// from the keyring if enabled and it holds one, else a new key stored in the
// keyring (if enabled and working) or in KeyFile (0600).
func loadKey(o Options, dbPath string, log *slog.Logger) ([]byte, error) {
	if b, err := os.ReadFile(o.KeyFile); err == nil {
		if runtime.GOOS != "windows" {
			if fi, err := os.Stat(o.KeyFile); err == nil && fi.Mode().Perm()&0o077 != 0 {
				log.Warn("The cache key file was readable by other users; tiepdon made it private (0600); nothing more to do", "file", o.KeyFile)
				os.Chmod(o.KeyFile, 0o600)
			}
		}
		return parseKey(string(b))
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading cache key: %w", err)
	}
	user := keyringUser(dbPath)
	if o.Keyring {
		s, err := withTimeout(func() (string, error) { return keyring.Get(keyringService, user) })
		switch {
		case err == nil:
			return parseKey(s)
		case errors.Is(err, keyring.ErrNotFound):
			k := newKey()
			if _, err := withTimeout(func() (string, error) { return "", keyring.Set(keyringService, user, hex.EncodeToString(k)) }); err == nil {
				log.Info("cache key created in the OS keyring")
				return k, nil
			} else {
				log.Warn("The OS keyring refused the cache key, so it is kept in a private file in the data folder instead; nothing to do", "err", err)
			}
		default:
			log.Warn("The OS keyring is not available (on Linux it needs a desktop session), so the cache key is kept in a private file in the data folder instead; nothing to do", "err", err)
		}
	}
	k := newKey()
	if err := os.MkdirAll(filepath.Dir(o.KeyFile), 0o700); err != nil {
		return nil, fmt.Errorf("creating cache key directory: %w", err)
	}
	f, err := os.OpenFile(o.KeyFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Another process made it first: use theirs.
		b, err := os.ReadFile(o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("reading cache key: %w", err)
		}
		return parseKey(string(b))
	}
	if err != nil {
		return nil, fmt.Errorf("creating cache key: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(k) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing cache key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing cache key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("writing cache key: %w", err)
	}
	log.Info("cache key created", "file", o.KeyFile)
	return k, nil
}

func newKey() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}

func parseKey(s string) ([]byte, error) {
	k, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(k) != 32 {
		return nil, errors.New("cache key: want 64 hex digits")
	}
	return k, nil
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

func withTimeout(f func() (string, error)) (string, error) {
	type result struct {
		s   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := f()
		ch <- result{s, err}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), keyringTimeout)
	defer cancel()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-ctx.Done():
		return "", fmt.Errorf("OS keyring: no answer in %s", keyringTimeout)
	}
}
