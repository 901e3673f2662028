package settings

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/tiepdon/tiepdon/agent/config"
)

// TestApplyFleet: the fleet's settings and password reach the running
// config and a new gateway client at once, without writing the user's
// file; a locked key and the fleet's password are refused on the page.
func TestApplyFleet(t *testing.T) {
	r := newRig(t, false)
	user := r.file
	if err := os.WriteFile(user, []byte("[gateway]\nurl = \"https://user.example\"\nusername = \"user_BV\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.s.o.Reload = func(f *config.Fleet) (config.Config, error) {
		c, err := config.LoadFleet(user, func(string) string { return "" }, f)
		c.DataDir = r.s.Config().DataDir
		return c, err
	}
	f := &config.Fleet{Values: map[string]string{"gateway.url": "https://egw.baohiemxahoi.gov.vn", "gateway.username": "79014_BV"},
		Locked: []string{"gateway.url"}, GatewayPassword: "fleet-pw"}
	if err := r.s.ApplyFleet(f); err != nil {
		t.Fatal(err)
	}
	if len(r.used) != 1 {
		t.Fatalf("gateway clients put to work: %d", len(r.used))
	}
	g := r.used[0].cfg.Gateway
	// The locked URL is the fleet's; the unlocked username is the user's.
	if g.URL != "https://egw.baohiemxahoi.gov.vn" || g.Username != "user_BV" || g.Password != "fleet-pw" {
		t.Fatalf("gateway config %+v", g)
	}
	b, _ := os.ReadFile(user)
	if strings.Contains(string(b), "egw.baohiemxahoi") || strings.Contains(string(b), "fleet-pw") {
		t.Fatalf("the user's file was written:\n%s", b)
	}
	// The same layer again: no new client.
	if err := r.s.ApplyFleet(f); err != nil || len(r.used) != 1 {
		t.Fatalf("re-applied: %d clients, %v", len(r.used), err)
	}
	cfg := r.s.Config()
	for _, c := range []Change{
		{GatewayURL: "https://other.example", GatewayUser: cfg.Gateway.Username, HISOrigins: cfg.HIS.Origins, Scanner: cfg.Scanner.Port},
		{GatewayURL: cfg.Gateway.URL, GatewayUser: cfg.Gateway.Username, GatewayPassword: "mine", HISOrigins: cfg.HIS.Origins, Scanner: cfg.Scanner.Port},
	} {
		if err := r.s.Apply(c); !errors.Is(err, config.ErrLocked) {
			t.Fatalf("a change to a locked key: %v", err)
		}
	}
	// An unlocked change on the page still saves, and keeps the fleet's password.
	if err := r.s.Apply(Change{GatewayURL: cfg.Gateway.URL, GatewayUser: "79014_BV", HISOrigins: cfg.HIS.Origins, Scanner: cfg.Scanner.Port}); err != nil {
		t.Fatal(err)
	}
	if last := r.used[len(r.used)-1].cfg.Gateway; last.Password != "fleet-pw" || last.Username != "79014_BV" {
		t.Fatalf("after the page's change: %+v", last)
	}
	// An invalid fleet layer changes nothing.
	if err := r.s.ApplyFleet(&config.Fleet{Values: map[string]string{"gateway.md5_case": "purple"}}); err == nil {
		t.Fatal("an invalid fleet layer was applied")
	}
	if r.s.Config().Gateway.Password != "fleet-pw" {
		t.Fatal("a failed fleet apply changed the running config")
	}
}
