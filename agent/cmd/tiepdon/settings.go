package main

import (
	"log/slog"

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
		File: s.configFile, Demo: s.demo, Logger: s.log, Use: s.agent.SetChecker,
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
		Language: cfg.Language,
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
	return w.s.settings.Apply(settings.Change{
		GatewayURL: in.GatewayURL, GatewayUser: in.GatewayUser, GatewayPassword: in.GatewayPassword,
		Reader: in.Reader, Scanner: in.Scanner, HISOrigins: in.HISOrigins,
		RetentionDays: in.RetentionDays, Language: in.Language,
	})
}
