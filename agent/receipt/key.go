package receipt

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/tiepdon/tiepdon/agent/keystore"
)

// KeyFile is the fallback file, in the data folder, for the desk's receipt
// key when the OS key store cannot keep it (a Linux kiosk without a desktop
// session). It is readable only by the user tiepdon runs as.
const KeyFile = "receipt-key"

// LoadKey returns the desk's Ed25519 receipt key, creating it on first use:
// from KeyFile in dataDir if it exists, else from the OS key store (Windows
// Credential Manager, Secret Service) when useKeyring, else a new key kept
// in the OS key store or, failing that, in KeyFile. where says which.
func LoadKey(dataDir string, useKeyring bool, log *slog.Logger) (k ed25519.PrivateKey, where string, err error) {
	seed, where, err := keystore.Load(keystore.Key{What: "receipt signing key", File: filepath.Join(dataDir, KeyFile),
		User: keyringUser(dataDir), Keyring: useKeyring}, log)
	if err != nil {
		return nil, "", err
	}
	return ed25519.NewKeyFromSeed(seed), where, nil
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

func keyringUser(dataDir string) string {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		abs = dataDir
	}
	sum := sha256.Sum256([]byte(abs))
	return "receipt-key-" + hex.EncodeToString(sum[:6])
}
