package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
