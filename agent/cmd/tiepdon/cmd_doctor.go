package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiepdon/tiepdon/agent/config"
	"github.com/tiepdon/tiepdon/agent/doctor"
	"github.com/tiepdon/tiepdon/drivers/pcsc"
	"github.com/tiepdon/tiepdon/drivers/serialqr"
	"github.com/tiepdon/tiepdon/sync/fleet"
	"github.com/tiepdon/tiepdon/sync/hospital"
)

func init() {
	register(&command{
		name:    "doctor",
		summary: "check readers, scanner, gateway, HIS port, data dir, config and clock, and explain what to fix",
		run:     runDoctor,
	})
}

// lookupGatewayPassword returns the gateway password the window's settings
// saved (OS keyring or the 0600 file in the data dir), for when the config
// and the environment hold none.
func lookupGatewayPassword(cfg *config.Config) (string, bool) {
	pw, _, ok := config.PasswordStore{DataDir: cfg.ResolvedDataDir()}.Load(cfg.Gateway.Username)
	return pw, ok
}

// loadForDiagnosis loads the config the way "tiepdon run" does. A broken
// config is reported; the checks go on with what "tiepdon run" would run
// with (without an unreadable password file or a broken user settings
// file: loadStartConfig), else with the defaults.
func loadForDiagnosis(file string) (*config.Config, error) {
	cfg, err := config.Load(file, os.Getenv)
	if err != nil {
		if run, _, rerr := loadStartConfig(file, os.Getenv, func(*config.Config) error { return nil }); rerr == nil {
			cfg = run
		} else {
			d := config.Default()
			d.Files = cfg.Files
			cfg = d
		}
	}
	if err == nil {
		cfg = withCachedFleet(file, cfg)
	}
	if cfg.Gateway.Password == "" {
		if pw, ok := lookupGatewayPassword(&cfg); ok {
			cfg.Gateway.Password = pw
		}
	}
	return &cfg, err
}

// withCachedFleet loads the config again with the fleet settings a desk in
// hospital mode keeps in its data folder (the last it read from
// PostgreSQL), so the doctor sees the fleet's values and locks as the
// running desk does. Without hospital mode, or when they cannot be read
// (tiepdon doctor's hospital-keys check says why), cfg stays as it is.
func withCachedFleet(file string, cfg config.Config) config.Config {
	if cfg.Hospital.DSN == "" {
		return cfg
	}
	keys, _, err := hospital.ReadKeys(cfg.Hospital.KeyFile)
	if err != nil {
		return cfg
	}
	w := &fleet.Watcher{Keys: keys, File: fleetCacheFile(cfg.ResolvedDataDir())}
	layer, err := w.Cached()
	if err != nil || layer == nil {
		return cfg
	}
	withFleet, err := config.LoadFleet(file, os.Getenv, layer)
	if err != nil {
		return cfg
	}
	return withFleet
}

// listPorts lists the serial ports through drivers/serialqr, which names
// known scanner makers.
func listPorts() ([]doctor.Port, error) {
	list, err := serialqr.List()
	ports := make([]doctor.Port, 0, len(list))
	for _, p := range list {
		ports = append(ports, doctor.Port{Name: p.Path, USB: p.USB, VID: p.VID, PID: p.PID, Product: p.Product, Vendor: p.Vendor})
	}
	return ports, err
}

// listReaders lists the PC/SC readers, marking a missing service for the
// doctor.
func listReaders() ([]string, error) {
	names, err := pcsc.ListReaders()
	if errors.Is(err, pcsc.ErrNoService) {
		return nil, fmt.Errorf("%w: %w", doctor.ErrNoService, err)
	}
	return names, err
}

func runDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("doctor", "doctor [--config FILE] [--json] [--lang vi|en] [--strict]", stderr)
	file := fs.String("config", "", "config file to read instead of the per-user one")
	asJSON := fs.Bool("json", false, "print the findings as JSON (both languages)")
	lang := fs.String("lang", "", `language of the text: "vi" or "en" (default: the configured language)`)
	strict := fs.Bool("strict", false, "exit non-zero on warnings too")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	cfg, cfgErr := loadForDiagnosis(*file)
	rep := doctor.Run(ctx, doctor.Options{
		Version:      currentBuild().Version,
		Config:       cfg,
		ConfigErr:    cfgErr,
		ListReaders:  listReaders,
		ListPorts:    listPorts,
		CSCAs:        doctorCSCAs(cfg),
		HospitalKeys: doctorHospitalKeys,
	})
	if *asJSON {
		if err := writeJSON(stdout, rep); err != nil {
			fmt.Fprintf(stderr, "tiepdon doctor: %v\n", err)
			return 2
		}
		return rep.ExitCode(*strict)
	}
	if *lang == "" {
		*lang = cfg.Language
	}
	if err := rep.WriteText(stdout, *lang); err != nil {
		fmt.Fprintf(stderr, "tiepdon doctor: %v\n", err)
		return 2
	}
	return rep.ExitCode(*strict)
}

// doctorHospitalKeys reads the hospital key file for doctor's hospital-keys
// check and asks PostgreSQL (for 5 s at most) which keys its data still
// needs.
func doctorHospitalKeys(ctx context.Context, c *config.Config) (doctor.KeyFile, error) {
	keys, _, err := hospital.ReadKeys(c.Hospital.KeyFile)
	if err != nil {
		return doctor.KeyFile{}, err
	}
	kf := doctor.KeyFile{IDs: keys.IDs()}
	kf.Needed, kf.NeededErr = func() ([]string, error) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		pc, err := pgxpool.ParseConfig(c.Hospital.DSN)
		if err != nil {
			return nil, err
		}
		pc.ConnConfig.ConnectTimeout = 3 * time.Second
		pool, err := pgxpool.NewWithConfig(ctx, pc)
		if err != nil {
			return nil, err
		}
		defer pool.Close()
		return hospital.NeededKeys(ctx, pool, c.Cache.Retention.Duration)
	}()
	return kf, nil
}
