package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/zalando/go-keyring"
)

// keyringService is the service name tiepdon's secrets are stored under in
// the OS keyring (Windows Credential Manager, Secret Service on Linux).
const keyringService = "tiepdon"

// secretFile is where the gateway password goes, in the data dir, when the
// machine has no usable keyring (a Linux kiosk without a D-Bus session).
const secretFile = "gateway-password"

// PasswordStore keeps the gateway password outside the config file: in the
// OS keyring where there is one, otherwise in a file readable only by the
// user tiepdon runs as.
type PasswordStore struct {
	DataDir string
	// Keyring is the OS keyring; nil uses zalando/go-keyring. Tests pass a fake.
	Keyring interface {
		Get(service, user string) (string, error)
		Set(service, user, password string) error
		Delete(service, user string) error
	}
}

type osKeyring struct{}

func (osKeyring) Get(s, u string) (string, error) { return keyring.Get(s, u) }
func (osKeyring) Set(s, u, p string) error        { return keyring.Set(s, u, p) }
func (osKeyring) Delete(s, u string) error        { return keyring.Delete(s, u) }

func (p PasswordStore) ring() interface {
	Get(service, user string) (string, error)
	Set(service, user, password string) error
	Delete(service, user string) error
} {
	if p.Keyring != nil {
		return p.Keyring
	}
	return osKeyring{}
}

func account(username string) string { return "gateway:" + username }

// Save stores the password for the gateway account username and reports
// whether it went to the OS keyring (true) or to the fallback file.
func (p PasswordStore) Save(username, password string) (inKeyring bool, err error) {
	if username == "" {
		return false, errors.New("gateway username is empty")
	}
	if err := p.ring().Set(keyringService, account(username), password); err == nil {
		os.Remove(filepath.Join(p.DataDir, secretFile)) // no stale copy
		return true, nil
	}
	if err := os.MkdirAll(p.DataDir, 0o700); err != nil {
		return false, fmt.Errorf("saving gateway password: %w", err)
	}
	f := filepath.Join(p.DataDir, secretFile)
	tmp := f + ".tmp"
	if err := os.WriteFile(tmp, []byte(username+"\n"+password+"\n"), 0o600); err != nil {
		return false, fmt.Errorf("saving gateway password: %w", err)
	}
	if err := os.Rename(tmp, f); err != nil {
		return false, fmt.Errorf("saving gateway password: %w", err)
	}
	return false, nil
}

// Load returns the stored password for username, where it is, and whether
// one was found.
func (p PasswordStore) Load(username string) (password string, inKeyring, ok bool) {
	if username == "" {
		return "", false, false
	}
	if pw, err := p.ring().Get(keyringService, account(username)); err == nil {
		return pw, true, true
	}
	b, err := os.ReadFile(filepath.Join(p.DataDir, secretFile))
	if err != nil {
		return "", false, false
	}
	user, pw, found := strings.Cut(string(b), "\n")
	if !found || user != username {
		return "", false, false
	}
	return strings.TrimSuffix(pw, "\n"), false, true
}
