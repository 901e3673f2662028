package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/tiepdon/tiepdon/agent/config"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/sync/bhxh"
)

// Exit codes of "tiepdon check" (bhxh.ExitStatus): 0 eligible, 1 any other
// answer, 2 usage, 3 gateway unavailable.
const (
	checkEligible    = 0
	checkNotEligible = 1
	checkUsage       = 2
	checkUnavailable = 3
)

func init() {
	register(&command{
		name:    "check",
		summary: "check one patient's BHYT eligibility with the gateway (exit 0 eligible, 1 other answer, 3 unavailable)",
		run:     runCheck,
	})
}

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", "check [--gateway URL] [--config FILE] (--card X | --id X) --name N --dob D [--json]", stderr)
	gw := fs.String("gateway", "", "BHXH gateway URL (default: from the config)")
	file := fs.String("config", "", "config file to read instead of the per-user one")
	card := fs.String("card", "", "BHYT card number (15 characters) or social-insurance number (10 digits)")
	id := fs.String("id", "", "12-digit citizen ID")
	name := fs.String("name", "", "full name as on the card")
	dob := fs.String("dob", "", "date of birth: dd/MM/yyyy, MM/yyyy or yyyy")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "tiepdon check: "+format+"\n", a...)
		return code
	}
	if (*card == "") == (*id == "") {
		return fail(checkUsage, "give --card or --id")
	}
	if *name == "" || *dob == "" {
		return fail(checkUsage, "--name and --dob are required")
	}
	birth, err := patient.ParseDate(*dob)
	if err != nil {
		return fail(checkUsage, "--dob: %v", err)
	}
	q := patient.Query{CitizenID: patient.CitizenID(*id), Name: patient.Name(*name), BirthDate: birth}
	switch {
	case len(*card) == 10:
		q.SocialInsuranceNumber = *card
	case *card != "":
		q.CardNumber = patient.CardNumber(*card)
	}
	if q.CitizenID != "" && !q.CitizenID.Valid() {
		return fail(checkUsage, "--id: not a 12-digit citizen ID")
	}

	cfg, err := config.Load(*file, os.Getenv)
	if err != nil {
		return fail(checkUsage, "%v", err)
	}
	if *gw != "" {
		cfg.Gateway.URL = *gw
	}
	if err := cfg.Validate(); err != nil {
		return fail(checkUsage, "%v", err)
	}
	if cfg.Gateway.Password == "" {
		cfg.Gateway.Password, _, _ = config.PasswordStore{DataDir: cfg.ResolvedDataDir()}.Load(cfg.Gateway.Username)
	}
	q.Staff = cfg.Staff
	c, err := newGatewayClient(cfg, false, nil, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return fail(checkUsage, "%v", err)
	}
	e, err := c.Check(ctx, q)
	if err != nil {
		fmt.Fprintf(stderr, "tiepdon check: %v\n", err)
		return bhxh.ExitStatus(e, err)
	}
	if *asJSON {
		writeJSON(stdout, e)
	} else {
		bhxh.WriteText(stdout, e, cfg.Facility.Code)
	}
	return bhxh.ExitStatus(e, nil)
}
