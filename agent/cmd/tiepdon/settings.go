package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/tiepdon/tiepdon/agent"
	"github.com/tiepdon/tiepdon/agent/config"
	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/settings"
	"github.com/tiepdon/tiepdon/drivers/serialqr"
	"github.com/tiepdon/tiepdon/sync/bhxh"
	"github.com/tiepdon/tiepdon/ui"
)

// newGatewayClient returns a gateway client as cfg says. visits also reads
// the visit history (Lskcb2025) after an eligible answer, for the window.
func newGatewayClient(cfg config.Config, visits bool, bus *events.Bus, log *slog.Logger) (*bhxh.Client, error) {
	return bhxh.New(bhxh.Options{
		URL: cfg.Gateway.URL, Username: cfg.Gateway.Username, Password: cfg.Gateway.Password,
		MD5Upper: cfg.Gateway.MD5Case == "upper", JSON: cfg.Gateway.Encoding == "json",
		Timeout: cfg.Gateway.Timeout.Duration, Visits: visits, Bus: bus, Logger: log,
	})
}

// newSettings is the settings page's store: it applies changes to the
// running agent (a new gateway client at once).
func (s *stack) newSettings() (*settings.Store, error) {
	return settings.New(s.cfg, settings.Options{
		File: s.configFile, Demo: s.demo, Logger: s.log, Use: s.agent.SetChecker, Reload: s.reload,
		NewGateway: func(cfg config.Config) (agent.Checker, error) { return newGatewayClient(cfg, true, s.bus, s.log) },
	})
}

// Settings implements ui.SettingsStore.
func (w *windowActions) Settings() ui.Settings {
	cfg := w.s.settings.Config()
	stored, inRing := w.s.settings.Password()
	out := ui.Settings{
		GatewayURL: cfg.Gateway.URL, GatewayUser: cfg.Gateway.Username,
		PasswordStored: stored, PasswordInKeyring: inRing,
		Reader: cfg.Reader.Name, Scanner: cfg.Scanner.Port,
		HISOrigins: cfg.HIS.Origins, RetentionDays: int(cfg.Cache.Retention.Hours() / 24),
		Language: cfg.Language, Locked: cfg.LockedKeys(),
	}
	if ports, err := serialqr.List(); err == nil {
		for _, p := range ports {
			out.Scanners = append(out.Scanners, p.Path)
		}
	}
	return out
}

// SaveSettings implements ui.SettingsStore (agent/settings applies it).
func (w *windowActions) SaveSettings(in ui.Settings) error {
	return w.s.settings.Apply(changeOf(in))
}

func changeOf(in ui.Settings) settings.Change {
	return settings.Change{
		GatewayURL: in.GatewayURL, GatewayUser: in.GatewayUser, GatewayPassword: in.GatewayPassword,
		Reader: in.Reader, Scanner: in.Scanner, HISOrigins: in.HISOrigins,
		RetentionDays: in.RetentionDays, Language: in.Language,
	}
}

// PINSet implements ui.SettingsGuard.
func (w *windowActions) PINSet() bool { return w.s.settings.PINSet() }

// Admin implements ui.SettingsGuard: an OS administrator, or anyone in demo
// mode (where nothing is saved), may open the settings without the PIN.
func (w *windowActions) Admin() bool { return w.s.demo || w.s.settings.Admin() }

// Unlock implements ui.SettingsGuard.
func (w *windowActions) Unlock(pin string) (bool, time.Duration) { return w.s.settings.Unlock(pin) }

// TryGateway implements ui.GatewayTester: a changed gateway account signs in
// before it is saved.
func (w *windowActions) TryGateway(in ui.Settings) error {
	return w.s.settings.Try(context.Background(), changeOf(in), gatewayTestTimeout)
}

// gatewayTestTimeout bounds the settings page's sign-in test.
const gatewayTestTimeout = 10 * time.Second
