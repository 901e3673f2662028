package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/tiepdon/tiepdon/agent"
	"github.com/tiepdon/tiepdon/agent/config"
	"github.com/tiepdon/tiepdon/agent/settings"
)

// TestSettingsPINCommand: `tiepdon settings-pin --write` puts the PIN's
// hash (never the PIN) in the machine-wide file, and that hash unlocks the
// settings with the PIN and no other.
func TestSettingsPINCommand(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.toml")
	stdin := osStdin
	t.Cleanup(func() { osStdin = stdin })
	osStdin = func() io.Reader { return strings.NewReader("135790\n") }
	var out, errw strings.Builder
	if code := runSettingsPIN(t.Context(), []string{"--write", "--file", file}, &out, &errw); code != 0 {
		t.Fatalf("exit %d: %s", code, errw.String())
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "135790") {
		t.Fatal("the PIN itself is in the config file")
	}
	cfg := config.Default()
	if _, err := toml.Decode(string(b), &cfg); err != nil {
		t.Fatal(err)
	}
	s, err := settings.New(cfg, settings.Options{NewGateway: func(config.Config) (agent.Checker, error) { return nil, nil },
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Unlock("135790"); !ok {
		t.Error("the written hash does not unlock with the PIN")
	}
	if ok, _ := s.Unlock("135791"); ok {
		t.Error("the written hash unlocks with another PIN")
	}
	osStdin = func() io.Reader { return strings.NewReader("12\n") }
	if code := runSettingsPIN(t.Context(), nil, &out, &errw); code != 2 || !strings.Contains(errw.String(), "6 to 32") {
		t.Errorf("a 2-digit PIN: exit %d, %q", code, errw.String())
	}
}
