package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/tiepdon/tiepdon/agent/config"
	"github.com/tiepdon/tiepdon/agent/events"
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

// Settings implements ui.SettingsStore.
func (w *windowActions) Settings() ui.Settings {
	s := w.s
	s.mu.Lock()
	cfg := s.cfg
	s.mu.Unlock()
	_, inRing, stored := config.PasswordStore{DataDir: cfg.DataDir}.Load(cfg.Gateway.Username)
	out := ui.Settings{
		GatewayURL: cfg.Gateway.URL, GatewayUser: cfg.Gateway.Username,
		PasswordStored: stored || cfg.Gateway.Password != "", PasswordInKeyring: inRing,
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

// SaveSettings implements ui.SettingsStore: it validates, writes the
// per-user config file, stores the password in the keyring (or a 0600
// file), and applies the gateway and language at once. Reader, scanner,
// HIS origins and retention apply at the next start.
func (w *windowActions) SaveSettings(in ui.Settings) error {
	s := w.s
	s.mu.Lock()
	cfg := s.cfg
	s.mu.Unlock()
	cfg.Gateway.URL, cfg.Gateway.Username = in.GatewayURL, in.GatewayUser
	cfg.Reader.Name, cfg.Scanner.Port = in.Reader, in.Scanner
	cfg.HIS.Origins = in.HISOrigins
	if in.RetentionDays > 0 {
		cfg.Cache.Retention.Duration = time.Duration(in.RetentionDays) * 24 * time.Hour
	}
	if in.Language != "" {
		cfg.Language = in.Language
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if s.demo {
		return fmt.Errorf("settings are not saved in demo mode")
	}
	if in.GatewayPassword != "" {
		if _, err := (config.PasswordStore{DataDir: cfg.DataDir}).Save(cfg.Gateway.Username, in.GatewayPassword); err != nil {
			return err
		}
		cfg.Gateway.Password = in.GatewayPassword
	} else if pw, _, ok := (config.PasswordStore{DataDir: cfg.DataDir}).Load(cfg.Gateway.Username); ok {
		cfg.Gateway.Password = pw
	}
	file := s.configFile
	if file == "" {
		file = config.UserConfigFile()
	}
	if err := config.SaveUser(file, cfg); err != nil {
		return fmt.Errorf("saving %s: %w", file, err)
	}
	c, err := newGatewayClient(cfg, true, s.bus, s.log)
	if err != nil {
		return err
	}
	s.agent.SetChecker(c)
	s.mu.Lock()
	s.cfg = cfg
	s.mu.Unlock()
	s.log.Info("settings saved", "file", file, "gateway", cfg.Gateway.URL)
	return nil
}
