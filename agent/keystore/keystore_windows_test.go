package keystore

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/zalando/go-keyring"
)

// TestCredentialManager: on Windows a key goes to the real Credential
// Manager (no key file), and the next Load finds the same key there. The
// Windows lane runs it under Wine, whose Credential Manager keeps entries
// in the prefix's registry.
func TestCredentialManager(t *testing.T) {
	dir := t.TempDir()
	k := Key{What: "test key", File: filepath.Join(dir, "test.key"), User: "test-" + filepath.Base(dir), Keyring: true}
	t.Cleanup(func() { keyring.Delete(Service, k.User) })
	first, where, err := Load(k, nil)
	if err != nil {
		t.Fatal(err)
	}
	if where != "OS key store" {
		t.Fatalf("key kept in %q, want the Credential Manager", where)
	}
	if _, err := os.Stat(k.File); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a key file was written although the Credential Manager works: %v", err)
	}
	if s, err := keyring.Get(Service, k.User); err != nil || len(s) != 64 {
		t.Fatalf("Credential Manager entry: %d chars, %v", len(s), err)
	}
	again, _, err := Load(k, nil)
	if err != nil || string(again) != string(first) {
		t.Errorf("second Load: %v, same key %v", err, string(again) == string(first))
	}
}
