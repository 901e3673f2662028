package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/tiepdon/tiepdon/agent/config"
	"github.com/tiepdon/tiepdon/agent/doctor"
	"github.com/tiepdon/tiepdon/agent/install"
	"github.com/tiepdon/tiepdon/agent/lograte"
	"gopkg.in/natefinch/lumberjack.v2"
)

func init() {
	register(&command{
		name:    "run",
		summary: "run the agent: devices, gateway checks, window and HIS API",
		run:     runAgent,
	})
}

// runOptions are the flags of "tiepdon run" beyond the config file.
type runOptions struct {
	started    time.Time
	configFile string
	dataDir    string
	demo       bool
	headless   bool
	hisAddr    string
	scanner    string
	gateway    string

	demoScanAfter time.Duration // demo: simulate one scan this long after start
	demoSeed      int64

	setup []setupIssue // what must be fixed; tiepdon runs meanwhile
	// reload reads the config again with the fleet settings (hospital
	// mode); nil where tiepdon run's flags are not at hand (tests).
	reload func(*config.Fleet) (config.Config, error)
}

func runAgent(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", "run [--config FILE] [--data-dir DIR] [--demo] [--headless] [--his-addr 127.0.0.1:8733] [--scanner PATH] [--gateway URL]", stderr)
	var o runOptions
	fs.StringVar(&o.configFile, "config", "", "config file to read instead of the per-user one")
	fs.StringVar(&o.dataDir, "data-dir", "", "directory for the cache, keys, tokens and logs")
	fs.BoolVar(&o.demo, "demo", false, "demo mode: gateway simulator, virtual scanner and synthetic people")
	fs.BoolVar(&o.headless, "headless", false, "run without the window")
	fs.StringVar(&o.hisAddr, "his-addr", "", "address of the HIS WebSocket/HTTP API (default 127.0.0.1:8733)")
	fs.StringVar(&o.scanner, "scanner", "", `serial port of the QR scanner ("auto", a path, or "" for none)`)
	fs.StringVar(&o.gateway, "gateway", "", "BHXH gateway URL")
	fs.DurationVar(&o.demoScanAfter, "demo-scan-after", 0, "demo: simulate a scan this long after start (0: only on request)")
	fs.Int64Var(&o.demoSeed, "demo-seed", 1, "demo: seed of the synthetic population")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	o.started = time.Now()
	o.reload = reloadWithFleet(fs, o)
	cfg, setup, err := loadRunConfig(fs, o)
	if err != nil {
		// A config tiepdon cannot run with (the machine config, a flag):
		// said where the person who started it sees it, not only on a
		// stderr nobody reads (the windowed tiepdon.exe has none).
		fmt.Fprintf(stderr, "tiepdon run: %v\n", err)
		tellFatal("tiepdon", fmt.Sprintf("tiepdon không khởi động được vì cấu hình có lỗi: %v\nSửa tệp cấu hình rồi mở lại tiepdon (lệnh tiepdon doctor chỉ rõ lỗi).\n\n"+
			"tiepdon cannot start: its configuration has an error: %v\nCorrect the config file, then start tiepdon again (tiepdon doctor shows the problem).", err, err))
		return 2
	}
	log, closeLog, err := newLogger(cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "tiepdon run: %v\n", err)
		return 1
	}
	defer closeLog()
	noteIgnoredFlags(cfg, o.started)
	if len(cfg.Ignored) > 0 {
		log.Warn("Settings IT has locked are set in this user's own config, environment or flags and are ignored; remove them there to silence this", "keys", cfg.Ignored, "from", cfg.IgnoredFrom)
	}
	// What a person can fix does not stop tiepdon: it runs "needing
	// setup" and says what to fix (log, the person at the desk, /healthz's
	// gateway reason, tiepdon doctor).
	if len(setup) > 0 {
		var vi, en []string
		for _, i := range setup {
			log.Error("tiepdon started, but a setting must be fixed before this desk works fully; do what the problem says", "problem", i.EN)
			vi, en = append(vi, i.VI), append(en, i.EN)
		}
		tellDesk("tiepdon: cần cài đặt / needs setup", strings.Join(vi, "\n")+"\n\n"+strings.Join(en, "\n"), log)
		o.setup = setup
	}
	// An installer closing tiepdon before it replaces its files (Windows:
	// the MSI's CloseAgents) stops it as Ctrl+C would; the installer
	// starts it again when it is done.
	ctx, closeAgent := context.WithCancel(ctx)
	defer closeAgent()
	if closing, err := install.ListenForClose(ctx); err != nil {
		log.Warn("An installer cannot ask this tiepdon to close, so an upgrade may need a reboot; nothing to do now", "err", err)
	} else if closing != nil {
		go func() {
			select {
			case <-closing:
				log.Info("closing: an install or upgrade of tiepdon asked to; it starts tiepdon again when it is done")
				closeAgent()
			case <-ctx.Done():
			}
		}()
	}
	if !o.headless && !haveDisplay() {
		log.Warn("no display found: running headless (set DISPLAY or pass --headless to silence this)")
		o.headless = true
	}
	if err := serve(ctx, cfg, o, log); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("tiepdon stopped on an error; read the error, run tiepdon doctor, then start tiepdon again", "err", err)
		fmt.Fprintf(stderr, "tiepdon run: %v\n", err)
		return 1
	}
	return 0
}

// loadRunConfig loads the config and applies the flags that were set; what
// a person can fix starts tiepdon needing setup (loadStartConfig).
func loadRunConfig(fs *flag.FlagSet, o runOptions) (config.Config, []setupIssue, error) {
	return loadStartConfig(o.configFile, os.Getenv, runFlags(fs, o))
}

// reloadWithFleet reads the config again with the hospital's fleet
// settings layer, and applies the flags (hospital mode's ApplyFleet).
func reloadWithFleet(fs *flag.FlagSet, o runOptions) func(*config.Fleet) (config.Config, error) {
	return func(f *config.Fleet) (config.Config, error) {
		cfg, err := config.LoadFleet(o.configFile, os.Getenv, f)
		if err != nil {
			return cfg, err
		}
		if err := runFlags(fs, o)(&cfg); err != nil {
			return cfg, err
		}
		noteIgnoredFlags(cfg, o.started)
		return cfg, nil
	}
}

// noteIgnoredFlags keeps in the data folder which locked keys this tiepdon
// run's flags set in vain, for tiepdon doctor (which cannot see them).
func noteIgnoredFlags(cfg config.Config, started time.Time) {
	f := doctor.IgnoredFlags{Started: started}
	for _, ig := range cfg.IgnoredFrom {
		if ig.From == config.FromFlag && !slices.Contains(f.Keys, ig.Key) {
			f.Keys = append(f.Keys, ig.Key)
		}
	}
	doctor.WriteIgnoredFlags(cfg.DataDir, f)
}

// runFlags applies the flags of tiepdon run that were set to a loaded
// config (a locked key keeps IT's value) and validates it.
func runFlags(fs *flag.FlagSet, o runOptions) func(*config.Config) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return func(cfg *config.Config) error {
		if o.dataDir != "" {
			cfg.DataDir = o.dataDir
		}
		if o.hisAddr != "" {
			cfg.HIS.Addr = o.hisAddr
		}
		if o.gateway != "" {
			cfg.Gateway.URL = o.gateway
		}
		if set["scanner"] {
			cfg.Scanner.Port = o.scanner
		}
		cfg.EnforceLocks()
		if o.demo {
			if cfg.DataDir == "" || !set["data-dir"] {
				cfg.DataDir = filepath.Join(cfg.ResolvedDataDir(), "demo")
			}
			if cfg.Staff.Name == "" {
				cfg.Staff = demoStaff
			}
		}
		cfg.DataDir = cfg.ResolvedDataDir()
		return cfg.Validate()
	}
}

// newLogger logs to stderr and to a rotated file in the data dir.
func newLogger(cfg config.Config, stderr io.Writer) (*slog.Logger, func(), error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("creating data dir: %w", err)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Log.Level)); err != nil {
		return nil, nil, fmt.Errorf("log.level: %w", err)
	}
	file := &lumberjack.Logger{
		Filename: filepath.Join(cfg.DataDir, "logs", "tiepdon.log"),
		MaxSize:  10, MaxBackups: 5, MaxAge: 30, Compress: true,
	}
	h := slog.NewTextHandler(io.MultiWriter(stderr, file), &slog.HandlerOptions{Level: level})
	// A warning repeated for every scan during an outage is written a
	// few times a minute, with the count of those left out.
	log := slog.New(lograte.New(h, lograte.Options{}))
	slog.SetDefault(log)
	return log, func() { file.Close() }, nil
}

// haveDisplay reports whether a window can be opened.
func haveDisplay() bool {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd":
		return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
	}
	return true
}
