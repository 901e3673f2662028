// Package keystore keeps a desk's 32-byte secret keys (the cache key, the
// receipt signing key) in the OS key store — Windows Credential Manager, the
// Secret Service on a Linux desktop — or, where there is none (a Linux kiosk
// without a desktop session), in a file readable only by the user tiepdon
// runs as. Keys are created on first use.
package keystore

import (
	"context"
	"crypto/rand"
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

// Service is the service name tiepdon's keys are stored under.
const Service = "tiepdon"

// Timeout bounds one call to the OS key store: without a D-Bus session the
// Secret Service client can wait a long time before failing.
const Timeout = 3 * time.Second

// Key describes one key.
type Key struct {
	What    string // for log lines: "cache key", "receipt signing key"
	File    string // the private fallback file
	User    string // the entry's name in the OS key store
	Keyring bool   // try the OS key store
}

// Load returns the key: from File if it exists, else from the OS key store
// (when Keyring) if it holds one, else a new key kept in the OS key store
// or, failing that, in File (0600). where says which.
func Load(k Key, log *slog.Logger) (key []byte, where string, err error) {
	if log == nil {
		log = slog.Default()
	}
	if b, err := os.ReadFile(k.File); err == nil {
		if runtime.GOOS != "windows" {
			if fi, err := os.Stat(k.File); err == nil && fi.Mode().Perm()&0o077 != 0 {
				log.Warn("A key file was readable by other users; tiepdon made it private (0600); nothing more to do", "key", k.What, "file", k.File)
				os.Chmod(k.File, 0o600)
			}
		}
		key, err := parse(k, string(b))
		return key, "file " + k.File, err
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("reading %s: %w", k.What, err)
	}
	if k.Keyring {
		s, err := withTimeout(func() (string, error) { return keyring.Get(Service, k.User) })
		switch {
		case err == nil:
			key, err := parse(k, s)
			return key, "OS key store", err
		case errors.Is(err, keyring.ErrNotFound):
			key := newKey()
			if _, err := withTimeout(func() (string, error) { return "", keyring.Set(Service, k.User, hex.EncodeToString(key)) }); err == nil {
				log.Info("key created in the OS key store", "key", k.What)
				return key, "OS key store", nil
			} else {
				log.Warn("The OS key store refused a key, so it is kept in a private file in the data folder instead; nothing to do", "key", k.What, "err", err)
			}
		default:
			log.Warn("The OS key store is not available (on Linux it needs a desktop session), so a key is kept in a private file in the data folder instead; nothing to do", "key", k.What, "err", err)
		}
	}
	key = newKey()
	if err := os.MkdirAll(filepath.Dir(k.File), 0o700); err != nil {
		return nil, "", fmt.Errorf("creating %s: %w", k.What, err)
	}
	f, err := os.OpenFile(k.File, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) { // another process made it first: use theirs
		b, err := os.ReadFile(k.File)
		if err != nil {
			return nil, "", fmt.Errorf("reading %s: %w", k.What, err)
		}
		key, err := parse(k, string(b))
		return key, "file " + k.File, err
	}
	if err != nil {
		return nil, "", fmt.Errorf("creating %s: %w", k.What, err)
	}
	_, werr := f.WriteString(hex.EncodeToString(key) + "\n")
	if serr := f.Sync(); werr == nil {
		werr = serr
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, "", fmt.Errorf("writing %s: %w", k.What, werr)
	}
	log.Info("key created", "key", k.What, "file", k.File)
	return key, "file " + k.File, nil
}

func newKey() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}

func parse(k Key, s string) ([]byte, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != 32 {
		return nil, fmt.Errorf("%s: want 64 hex digits", k.What)
	}
	return b, nil
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
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-ctx.Done():
		return "", fmt.Errorf("OS key store: no answer in %s", Timeout)
	}
}
