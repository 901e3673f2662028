package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// machineAt points Load at a machine-wide file holding body.
func machineAt(t *testing.T, body string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "machine.toml")
	if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	old := machineFile
	machineFile = func() string { return f }
	t.Cleanup(func() { machineFile = old })
}

func userFile(t *testing.T, body string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "user.toml")
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestMachineLocks: a key the machine-wide file locks keeps its value over
// the user's file, the environment and flags; an unlocked one does not.
func TestMachineLocks(t *testing.T) {
	machineAt(t, `locked = ["gateway.url", "his.origins", "gateway.timeout"]
[gateway]
url = "https://daotaoegw.baohiemxahoi.gov.vn"
username = "79014_BV"
timeout = "20s"
[his]
origins = ["https://his.benhvien.vn"]
`)
	user := userFile(t, `[gateway]
url = "https://evil.example"
username = "mine"
timeout = "1s"
[his]
origins = ["https://other.example"]
`)
	c, err := Load(user, envOf(map[string]string{"TIEPDON_GATEWAY_URL": "https://env.example"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Gateway.URL != "https://daotaoegw.baohiemxahoi.gov.vn" || c.Gateway.Timeout.Duration.String() != "20s" ||
		!slices.Equal(c.HIS.Origins, []string{"https://his.benhvien.vn"}) {
		t.Fatalf("locked keys changed: url %q timeout %s origins %v", c.Gateway.URL, c.Gateway.Timeout, c.HIS.Origins)
	}
	if c.Gateway.Username != "mine" {
		t.Fatalf("unlocked gateway.username = %q, want the user's", c.Gateway.Username)
	}
	if want := []string{"gateway.timeout", "gateway.url", "his.origins"}; !slices.Equal(sorted(c.Ignored), want) {
		t.Fatalf("Ignored = %v, want %v", c.Ignored, want)
	}
	wantFrom := []IgnoredSetting{{"gateway.timeout", FromUserFile, user}, {"gateway.url", FromUserFile, user},
		{"his.origins", FromUserFile, user}, {"gateway.url", FromEnv, "TIEPDON_GATEWAY_URL"}}
	if !slices.Equal(c.IgnoredFrom, wantFrom) {
		t.Fatalf("IgnoredFrom = %v, want %v", c.IgnoredFrom, wantFrom)
	}
	if by, ok := c.Locked("gateway.url"); !ok || by != "machine-wide file" {
		t.Fatalf("Locked(gateway.url) = %q %v", by, ok)
	}
	if _, ok := c.Locked("gateway.username"); ok {
		t.Fatal("gateway.username reported locked")
	}
	// A flag applied after Load (tiepdon run --gateway) is put back too.
	c.Gateway.URL = "https://flag.example"
	c.EnforceLocks()
	if c.Gateway.URL != "https://daotaoegw.baohiemxahoi.gov.vn" {
		t.Fatalf("a flag overrode a locked key: %q", c.Gateway.URL)
	}
	if last := c.IgnoredFrom[len(c.IgnoredFrom)-1]; last != (IgnoredSetting{"gateway.url", FromFlag, ""}) {
		t.Fatalf("the flag's ignored value is noted as %+v", last)
	}

	// The settings page's writer leaves locked keys out of the user's file.
	out := filepath.Join(t.TempDir(), "saved.toml")
	if err := SaveUser(out, c); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	if strings.Contains(string(b), "url") || strings.Contains(string(b), "origins") || !strings.Contains(string(b), `username = "mine"`) {
		t.Fatalf("saved user file:\n%s", b)
	}
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

func TestLockErrors(t *testing.T) {
	machineAt(t, `locked = ["gateway.nope"]`)
	if _, err := Load(userFile(t, ""), envOf(nil)); err == nil || !strings.Contains(err.Error(), "gateway.nope") {
		t.Fatalf("unknown locked key: %v", err)
	}
	machineAt(t, "")
	if _, err := Load(userFile(t, `locked = ["gateway.url"]`), envOf(nil)); err == nil || !strings.Contains(err.Error(), "machine-wide") {
		t.Fatalf("locked in the user's file: %v", err)
	}
}

// TestFleetLayer: fleet settings override the machine-wide file, a user's
// file overrides an unlocked fleet setting but not a locked one, and the
// fleet's password wins and is locked.
func TestFleetLayer(t *testing.T) {
	machineAt(t, "[gateway]\nusername = \"machine\"\nurl = \"https://machine.example\"\n")
	user := userFile(t, "[gateway]\nusername = \"user\"\nurl = \"https://user.example\"\n[scanner]\nbaud = 19200\n")
	f := &Fleet{
		Values: map[string]string{"gateway.username": "79014_BV", "gateway.url": "https://egw.baohiemxahoi.gov.vn",
			"scanner.baud": "115200", "his.origins": `["https://his.benhvien.vn"]`, "facility.code": "79014"},
		Locked:          []string{"gateway.url"},
		GatewayPassword: "fleet-pw",
	}
	c, err := LoadFleet(user, envOf(map[string]string{"TIEPDON_GATEWAY_PASSWORD": "env-pw"}), f)
	if err != nil {
		t.Fatal(err)
	}
	if c.Gateway.URL != "https://egw.baohiemxahoi.gov.vn" || c.Gateway.Username != "user" || c.Scanner.Baud != 19200 ||
		c.Facility.Code != "79014" || !slices.Equal(c.HIS.Origins, []string{"https://his.benhvien.vn"}) {
		t.Fatalf("layers: %+v", c)
	}
	if c.Gateway.Password != "fleet-pw" {
		t.Fatalf("password = %q, want the fleet's", c.Gateway.Password)
	}
	if by, ok := c.Locked(PasswordKey); !ok || by != "fleet settings" {
		t.Fatalf("password lock: %q %v", by, ok)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestCheckFleetSetting(t *testing.T) {
	for _, ok := range [][2]string{
		{"gateway.url", "https://daotaoegw.baohiemxahoi.gov.vn"}, {"facility.code", "79014"},
		{"scanner.baud", "115200"}, {"his.origins", `["https://his.benhvien.vn"]`}, {"gateway.timeout", "15s"},
		{"reader.disabled", "true"},
	} {
		if err := CheckFleetSetting(ok[0], ok[1]); err != nil {
			t.Errorf("%s = %s: %v", ok[0], ok[1], err)
		}
	}
	for _, bad := range [][2]string{
		{"gateway.md5_case", "purple"}, {"scanner.baud", "fast"}, {"gateway.nope", "x"}, {"data_dir", "/tmp"},
		{"locked", "[]"}, {"gateway.timeout", "soon"}, {"facility.code", "123"},
	} {
		if err := CheckFleetSetting(bad[0], bad[1]); err == nil {
			t.Errorf("%s = %s accepted", bad[0], bad[1])
		}
	}
	if slices.Contains(FleetKeys(), "data_dir") || !slices.Contains(FleetKeys(), "gateway.url") {
		t.Fatalf("FleetKeys = %v", FleetKeys())
	}
}
