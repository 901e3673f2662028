// Package settings applies the settings IT changes while the agent runs
// (the window's settings page): it validates them, writes the per-user
// config file, keeps the gateway password in the OS keyring (else a 0600
// file), and swaps the gateway client without a restart. Reader, scanner,
// HIS origins and retention take effect at the next start.
//
// cmd/tiepdon wires it to the window; it holds the running config, so the
// window reads the settings back from here.
package settings

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/tiepdon/tiepdon/agent"
	"github.com/tiepdon/tiepdon/agent/config"
	"github.com/tiepdon/tiepdon/agent/words"
)

// ErrDemo is returned by Apply in demo mode, where nothing is saved.
var ErrDemo = words.Error("settings are not saved in demo mode", "chế độ trình diễn không lưu cài đặt")

// Options configure a Store.
type Options struct {
	// File is the per-user config file written by Apply ("":
	// config.UserConfigFile()).
	File string
	// Demo refuses to save (demo mode runs on a simulator).
	Demo bool
	// Passwords stores the gateway password (default: the OS keyring, else
	// a 0600 file in the data dir).
	Passwords *config.PasswordStore
	// NewGateway makes a gateway client for a config (required).
	NewGateway func(config.Config) (agent.Checker, error)
	// Use puts a new gateway client to work (the agent's SetChecker).
	Use    func(agent.Checker)
	Logger *slog.Logger
	// Admin reports an OS administrator (default: root, or an elevated
	// Windows administrator); Now is the clock of the PIN lockout.
	Admin func() bool
	Now   func() time.Time
	// Reload reads the config files, environment and flags again with a
	// fleet settings layer (hospital mode; ApplyFleet needs it).
	Reload func(*config.Fleet) (config.Config, error)
}

// Change is what the settings page can change. An empty GatewayPassword
// keeps the stored one; a zero RetentionDays or empty Language keeps the
// current value.
type Change struct {
	GatewayURL, GatewayUser, GatewayPassword string
	Reader, Scanner                          string
	HISOrigins                               []string
	RetentionDays                            int
	Language                                 string
}

// Store holds the running config and applies changes to it. Its methods
// are safe for concurrent use.
type Store struct {
	o Options

	mu  sync.Mutex
	cfg config.Config
	// Wrong IT PINs (guard.go).
	pinFails, lockouts int
	lockedUntil        time.Time
}

// New returns a Store over the running config cfg.
func New(cfg config.Config, o Options) (*Store, error) {
	if o.NewGateway == nil {
		return nil, errors.New("settings: NewGateway is required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Store{o: o, cfg: cfg}, nil
}

// Config returns the running config.
func (s *Store) Config() config.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

func (s *Store) passwords(cfg config.Config) config.PasswordStore {
	if s.o.Passwords != nil {
		p := *s.o.Passwords
		if p.DataDir == "" {
			p.DataDir = cfg.DataDir
		}
		return p
	}
	return config.PasswordStore{DataDir: cfg.DataDir}
}

// Password reports whether a gateway password is stored (or configured),
// and whether it lives in the OS keyring.
func (s *Store) Password() (stored, inKeyring bool) {
	cfg := s.Config()
	_, inKeyring, stored = s.passwords(cfg).Load(cfg.Gateway.Username)
	return stored || cfg.Gateway.Password != "", inKeyring
}

// ErrGatewayTest wraps the reason a changed gateway account failed its
// sign-in test (Try).
var ErrGatewayTest = words.Error("the gateway refused or could not be reached with these settings",
	"cổng BHXH từ chối hoặc không kết nối được với cài đặt này")

// Try tests the gateway part of c without saving anything: a client for
// the changed settings signs in, within timeout. Settings that do not touch
// the gateway pass at once.
func (s *Store) Try(ctx context.Context, c Change, timeout time.Duration) error {
	cur := s.Config()
	if c.GatewayURL == cur.Gateway.URL && c.GatewayUser == cur.Gateway.Username && c.GatewayPassword == "" {
		return nil
	}
	cfg, err := s.changed(c)
	if err != nil {
		return err
	}
	gw, err := s.o.NewGateway(cfg)
	if err != nil {
		return err
	}
	t, ok := gw.(interface{ TrySignIn(context.Context) error })
	if !ok {
		return nil // nothing to test against (a client without sign-in)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := t.TrySignIn(ctx); err != nil {
		return fmt.Errorf("%w: %w", ErrGatewayTest, err)
	}
	return nil
}

// changed returns the running config with c applied and validated, and the
// gateway password filled in (the new one, else the stored one).
func (s *Store) changed(c Change) (config.Config, error) {
	cfg := s.Config()
	// A locked key is IT's (machine-wide file or fleet settings): the page
	// shows it read-only, and a change to it is refused here too.
	for key, changes := range map[string]bool{
		"gateway.url": c.GatewayURL != cfg.Gateway.URL, "gateway.username": c.GatewayUser != cfg.Gateway.Username,
		config.PasswordKey: c.GatewayPassword != "", "reader.name": c.Reader != cfg.Reader.Name,
		"scanner.port": c.Scanner != cfg.Scanner.Port, "his.origins": !slices.Equal(c.HISOrigins, cfg.HIS.Origins),
		"cache.retention": c.RetentionDays > 0 && time.Duration(c.RetentionDays)*24*time.Hour != cfg.Cache.Retention.Duration,
		"language":        c.Language != "" && c.Language != cfg.Language,
	} {
		if by, locked := cfg.Locked(key); changes && locked {
			return cfg, fmt.Errorf("%s is %w (%s)", key, config.ErrLocked, by)
		}
	}
	cfg.Gateway.URL, cfg.Gateway.Username = c.GatewayURL, c.GatewayUser
	cfg.Reader.Name, cfg.Scanner.Port = c.Reader, c.Scanner
	cfg.HIS.Origins = c.HISOrigins
	if c.RetentionDays > 0 {
		cfg.Cache.Retention.Duration = time.Duration(c.RetentionDays) * 24 * time.Hour
	}
	if c.Language != "" {
		cfg.Language = c.Language
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	if _, locked := cfg.Locked(config.PasswordKey); locked {
		// The fleet's password stays.
	} else if c.GatewayPassword != "" {
		cfg.Gateway.Password = c.GatewayPassword
	} else if p, _, ok := s.passwords(cfg).Load(cfg.Gateway.Username); ok {
		cfg.Gateway.Password = p
	}
	return cfg, nil
}

// Apply validates c, writes it to the config file, stores the password,
// and puts a gateway client for the new settings to work at once. On any
// error nothing is applied.
func (s *Store) Apply(c Change) error {
	cfg, err := s.changed(c)
	if err != nil {
		return err
	}
	if s.o.Demo {
		return ErrDemo
	}
	if c.GatewayPassword != "" {
		if _, err := s.passwords(cfg).Save(cfg.Gateway.Username, c.GatewayPassword); err != nil {
			return err
		}
	}
	file := s.o.File
	if file == "" {
		file = config.UserConfigFile()
	}
	gw, err := s.o.NewGateway(cfg)
	if err != nil {
		return err
	}
	if err := config.SaveUser(file, cfg); err != nil {
		return fmt.Errorf("saving %s: %w", file, err)
	}
	if s.o.Use != nil {
		s.o.Use(gw)
	}
	s.mu.Lock()
	s.cfg = cfg
	s.mu.Unlock()
	s.o.Logger.Info("settings saved", "file", file, "gateway", cfg.Gateway.URL)
	return nil
}

// ApplyFleet applies the hospital's fleet settings (hospital mode): the
// config is read again with the fleet layer, validated, and, if the gateway
// account or address changed, a new gateway client is put to work at once,
// as Apply does for the settings page. Nothing is written to the user's
// file. Keys that take effect at the next start (reader, scanner, HIS
// address) are kept for it. On any error nothing is applied.
func (s *Store) ApplyFleet(f *config.Fleet) error {
	if s.o.Reload == nil {
		return errors.New("settings: fleet settings need Reload")
	}
	if s.o.Demo {
		return ErrDemo
	}
	cfg, err := s.o.Reload(f)
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.Gateway.Password == "" {
		cfg.Gateway.Password, _, _ = s.passwords(cfg).Load(cfg.Gateway.Username)
	}
	cur := s.Config()
	g, h := cfg.Gateway, cur.Gateway
	if g.URL != h.URL || g.Username != h.Username || g.Password != h.Password || g.MD5Case != h.MD5Case ||
		g.Encoding != h.Encoding || g.Timeout != h.Timeout {
		gw, err := s.o.NewGateway(cfg)
		if err != nil {
			return err
		}
		if s.o.Use != nil {
			s.o.Use(gw)
		}
	}
	s.mu.Lock()
	s.cfg = cfg
	s.mu.Unlock()
	keys := make([]string, 0, len(f.Values)+1)
	for k := range f.Values {
		keys = append(keys, k)
	}
	if f.GatewayPassword != "" {
		keys = append(keys, config.PasswordKey)
	}
	slices.Sort(keys)
	s.o.Logger.Info("fleet settings applied", "keys", keys, "locked", f.Locked, "gateway", cfg.Gateway.URL)
	if len(cfg.Ignored) > 0 {
		s.o.Logger.Warn("Locked settings in this user's own config are ignored; remove them from the user's config file to silence this", "keys", cfg.Ignored)
	}
	return nil
}
