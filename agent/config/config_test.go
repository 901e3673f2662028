package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultsAreValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("built-in defaults do not validate: %v", err)
	}
	if c.Gateway.Hedge.Duration != 300*time.Millisecond {
		t.Errorf("hedge = %v, want 300ms", c.Gateway.Hedge)
	}
	if c.HIS.Addr != "127.0.0.1:8733" {
		t.Errorf("his.addr = %q", c.HIS.Addr)
	}
}

func TestLoadOrder(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "c.toml")
	os.WriteFile(f, []byte("language = \"en\"\n[gateway]\nusername = \"79014_BV\"\nhedge = \"1s\"\n"), 0o600)
	c, err := Load(f, env(map[string]string{
		"TIEPDON_GATEWAY_USER":     "01929_BV",
		"TIEPDON_GATEWAY_PASSWORD": "secret",
		"TIEPDON_STAFF_CCCD":       "001090123456",
	}))
	if err != nil {
		t.Fatal(err)
	}
	// File beats defaults, environment beats file.
	if c.Language != "en" || c.Gateway.Hedge.Duration != time.Second {
		t.Errorf("file values not applied: %+v", c)
	}
	if c.Gateway.Username != "01929_BV" || c.Gateway.Password != "secret" {
		t.Errorf("env values not applied: user %q", c.Gateway.Username)
	}
	if c.Staff.CitizenID != "001090123456" {
		t.Errorf("staff = %v", c.Staff.CitizenID)
	}
	if len(c.Files) == 0 || c.Files[len(c.Files)-1] != f {
		t.Errorf("Files = %v", c.Files)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.toml"), env(nil)); err == nil {
		t.Error("an explicitly named missing file must be an error")
	}
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("[gateway]\nurll = \"x\"\n"), 0o600)
	if _, err := Load(bad, env(nil)); err == nil || !strings.Contains(err.Error(), "gateway.urll") {
		t.Errorf("unknown key: err = %v", err)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"non-loopback HIS", func(c *Config) { c.HIS.Addr = "0.0.0.0:8733" }, "loopback"},
		{"non-loopback allowed", func(c *Config) { c.HIS.Addr = "0.0.0.0:8733"; c.HIS.AllowNonLoopback = true }, ""},
		{"origin with path", func(c *Config) { c.HIS.Origins = []string{"https://his.vn/app"} }, "his.origins"},
		{"md5 case", func(c *Config) { c.Gateway.MD5Case = "mixed" }, "md5_case"},
		{"facility", func(c *Config) { c.Facility.Code = "7901" }, "facility.code"},
		{"staff id", func(c *Config) { c.Staff.CitizenID = "123" }, "TIEPDON_STAFF_CCCD"},
		{"retention", func(c *Config) { c.Cache.Retention.Duration = time.Minute }, "retention"},
		{"no HIS clients", func(c *Config) { c.HIS.MaxClients = 0 }, "his.max_clients"},
		{"more per origin than in all", func(c *Config) { c.HIS.MaxClients = 4; c.HIS.ClientsPerOrigin = 8 }, "his.clients_per_origin"},
		{"tiny frames", func(c *Config) { c.HIS.MaxMessageBytes = 512 }, "his.max_message_bytes"},
		{"zero rate", func(c *Config) { c.HIS.MessagesPerSecond = 0 }, "his.messages_per_second"},
		{"short idle", func(c *Config) { c.HIS.IdleTimeout.Duration = time.Second }, "his.idle_timeout"},
		{"long pairing", func(c *Config) { c.HIS.PairingTimeout.Duration = time.Hour }, "his.pairing_timeout"},
		{"generous limits", func(c *Config) { c.HIS.MaxClients = 2000; c.HIS.ClientsPerOrigin = 2000; c.HIS.MessagesPerSecond = 500 }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.edit(&c)
			err := c.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want mention of %q", err, tc.want)
			}
		})
	}
}

// TestDocumented keeps docs/configuration.md naming every key of the
// built-in defaults, so that IT staff find each setting there.
func TestDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if _, err := toml.Decode(Defaults, &m); err != nil {
		t.Fatal(err)
	}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok {
				walk(prefix+k+".", sub)
				continue
			}
			if !strings.Contains(string(doc), "| `"+prefix+k+"` |") {
				t.Errorf("docs/configuration.md has no row for %s%s", prefix, k)
			}
		}
	}
	walk("", m)
}

// TestPINFromMachineFileOnly: the IT PIN's hash set in a user's own file
// never replaces (or sets) the machine-wide one.
func TestPINFromMachineFileOnly(t *testing.T) {
	dir := t.TempDir()
	user := filepath.Join(dir, "user.toml")
	if err := os.WriteFile(user, []byte("[settings]\npin_hash = \"$2a$10$userchosenuserchosenuserchosenuserchosenuserchosenuse\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(user, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if c.Settings.PINHash != "" {
		t.Errorf("a user's file set the IT PIN: %q", c.Settings.PINHash)
	}
}
