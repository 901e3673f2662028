package settings

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent"
	"github.com/tiepdon/tiepdon/agent/config"
	"github.com/tiepdon/tiepdon/agent/patient"
)

// gateway is a stand-in gateway client that remembers its config.
type gateway struct{ cfg config.Config }

func (g *gateway) Check(context.Context, patient.Query) (patient.Eligibility, error) {
	return patient.Eligibility{}, agent.ErrUnavailable
}

// noRing is an OS keyring that is not there (a Linux box without D-Bus):
// passwords go to the 0600 file.
type noRing struct{}

func (noRing) Get(string, string) (string, error) { return "", errors.New("no dbus") }
func (noRing) Set(string, string, string) error   { return errors.New("no dbus") }
func (noRing) Delete(string, string) error        { return errors.New("no dbus") }

type rig struct {
	s    *Store
	file string
	used []*gateway
}

func newRig(t *testing.T, demo bool) *rig {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Gateway.URL, cfg.Gateway.Username = "https://daotaoegw.baohiemxahoi.gov.vn", "79014_BV"
	r := &rig{file: filepath.Join(t.TempDir(), "tiepdon.toml")}
	s, err := New(cfg, Options{
		File: r.file, Demo: demo, Passwords: &config.PasswordStore{Keyring: noRing{}},
		NewGateway: func(c config.Config) (agent.Checker, error) {
			if strings.Contains(c.Gateway.URL, "refuse") {
				return nil, errors.New("gateway client: bad URL")
			}
			return &gateway{c}, nil
		},
		Use:    func(c agent.Checker) { r.used = append(r.used, c.(*gateway)) },
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	r.s = s
	return r
}

func TestApply(t *testing.T) {
	r := newRig(t, false)
	c := Change{GatewayURL: "https://egw.baohiemxahoi.gov.vn", GatewayUser: "79014_BV", GatewayPassword: "s3cret",
		Scanner: "/dev/ttyACM0", HISOrigins: []string{"https://his.example.vn"}, RetentionDays: 30, Language: "en"}
	if err := r.s.Apply(c); err != nil {
		t.Fatal(err)
	}
	// The new gateway client is at work at once, with the password.
	if len(r.used) != 1 || r.used[0].cfg.Gateway.URL != c.GatewayURL || r.used[0].cfg.Gateway.Password != "s3cret" {
		t.Fatalf("gateway clients put to work: %+v", r.used)
	}
	got := r.s.Config()
	if got.Language != "en" || got.Cache.Retention.Duration != 30*24*time.Hour || got.Scanner.Port != "/dev/ttyACM0" {
		t.Errorf("running config %+v", got)
	}
	// The file holds the settings, not the password; the password is in
	// the 0600 file.
	b, err := os.ReadFile(r.file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "egw.baohiemxahoi.gov.vn") || strings.Contains(string(b), "s3cret") {
		t.Errorf("config file:\n%s", b)
	}
	if stored, inRing := r.s.Password(); !stored || inRing {
		t.Errorf("password stored %v, in keyring %v; want stored in the file", stored, inRing)
	}
	// A later change without a password keeps the stored one.
	c.GatewayPassword, c.Language = "", "vi"
	if err := r.s.Apply(c); err != nil {
		t.Fatal(err)
	}
	if len(r.used) != 2 || r.used[1].cfg.Gateway.Password != "s3cret" {
		t.Errorf("second client's password %q", r.used[1].cfg.Gateway.Password)
	}
}

func TestApplyRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		demo bool
		c    Change
		want string
	}{
		{"invalid language", false, Change{GatewayURL: "https://egw.baohiemxahoi.gov.vn", GatewayUser: "u", Language: "fr"}, "language"},
		{"gateway client refused", false, Change{GatewayURL: "https://refuse.example.vn", GatewayUser: "u"}, "bad URL"},
		{"demo mode", true, Change{GatewayURL: "https://egw.baohiemxahoi.gov.vn", GatewayUser: "u"}, "demo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.demo)
			before := r.s.Config()
			err := r.s.Apply(tc.c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Apply: %v, want an error about %s", err, tc.want)
			}
			if len(r.used) != 0 || r.s.Config().Gateway.URL != before.Gateway.URL {
				t.Error("a refused change was applied")
			}
			if _, err := os.Stat(r.file); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused change was written: %v", err)
			}
		})
	}
}
