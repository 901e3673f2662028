package receipt

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// KeyFile is the fallback file, in the data folder, for the desk's receipt
// key when the OS key store cannot keep it (a Linux kiosk without a desktop
// session). It is readable only by the user tiepdon runs as.
const KeyFile = "receipt-key"

const (
	keyringService = "tiepdon"
	keyringTimeout = 3 * time.Second
)

// LoadKey returns the desk's Ed25519 receipt key, creating it on first use:
// from KeyFile in dataDir if it exists, else from the OS key store (Windows
// Credential Manager, Secret Service) when useKeyring, else a new key kept
// in the OS key store or, failing that, in KeyFile. where says which.
func LoadKey(dataDir string, useKeyring bool, log *slog.Logger) (k ed25519.PrivateKey, where string, err error) {
	if log == nil {
		log = slog.Default()
	}
	file := filepath.Join(dataDir, KeyFile)
	if b, err := os.ReadFile(file); err == nil {
		k, err := parseSeed(string(b))
		return k, "file " + file, err
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("reading receipt key: %w", err)
	}
	user := keyringUser(dataDir)
	if useKeyring {
		s, err := withTimeout(func() (string, error) { return keyring.Get(keyringService, user) })
		switch {
		case err == nil:
			k, err := parseSeed(s)
			return k, "OS key store", err
		case errors.Is(err, keyring.ErrNotFound):
			seed := newSeed()
			if _, err := withTimeout(func() (string, error) { return "", keyring.Set(keyringService, user, hex.EncodeToString(seed)) }); err == nil {
				log.Info("receipt signing key created in the OS key store")
				return ed25519.NewKeyFromSeed(seed), "OS key store", nil
			}
			log.Warn("The OS key store refused the receipt key, so it is kept in a private file in the data folder instead; nothing to do", "err", err)
		default:
			log.Warn("The OS key store is not available (on Linux it needs a desktop session), so the receipt key is kept in a private file in the data folder instead; nothing to do", "err", err)
		}
	}
	seed := newSeed()
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, "", fmt.Errorf("creating receipt key: %w", err)
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) { // another process made it first
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, "", fmt.Errorf("reading receipt key: %w", err)
		}
		k, err := parseSeed(string(b))
		return k, "file " + file, err
	}
	if err != nil {
		return nil, "", fmt.Errorf("creating receipt key: %w", err)
	}
	_, werr := f.WriteString(hex.EncodeToString(seed) + "\n")
	if serr := f.Sync(); werr == nil {
		werr = serr
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, "", fmt.Errorf("writing receipt key: %w", werr)
	}
	log.Info("receipt signing key created", "file", file)
	return ed25519.NewKeyFromSeed(seed), "file " + file, nil
}

// PublicPEM encodes pub as a PEM "PUBLIC KEY" (PKIX, RFC 8410), the form
// OpenSSL, Node's crypto.createPublicKey and Java read.
func PublicPEM(pub ed25519.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// ParsePublic reads a public key as PublicPEM writes it, or as 32 bytes of
// base64 or hex.
func ParsePublic(s string) (ed25519.PublicKey, error) {
	s = strings.TrimSpace(s)
	if b, _ := pem.Decode([]byte(s)); b != nil {
		k, err := x509.ParsePKIXPublicKey(b.Bytes)
		if pub, ok := k.(ed25519.PublicKey); err == nil && ok {
			return pub, nil
		}
		return nil, errors.New("public key: not an Ed25519 PUBLIC KEY")
	}
	if k, err := hex.DecodeString(s); err == nil && len(k) == ed25519.PublicKeySize {
		return k, nil
	}
	if k, err := base64.StdEncoding.DecodeString(s); err == nil && len(k) == ed25519.PublicKeySize {
		return k, nil
	}
	return nil, errors.New("public key: want a PEM PUBLIC KEY, or 32 bytes in hex or base64")
}

func newSeed() []byte {
	b := make([]byte, ed25519.SeedSize)
	rand.Read(b)
	return b
}

func parseSeed(s string) (ed25519.PrivateKey, error) {
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != ed25519.SeedSize {
		return nil, errors.New("receipt key: want 64 hex digits")
	}
	return ed25519.NewKeyFromSeed(b), nil
}

func keyringUser(dataDir string) string {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		abs = dataDir
	}
	sum := sha256.Sum256([]byte(abs))
	return "receipt-key-" + hex.EncodeToString(sum[:6])
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
		return "", fmt.Errorf("OS key store: no answer in %s", keyringTimeout)
	}
}
