package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/tiepdon/tiepdon/agent/config"
	"github.com/tiepdon/tiepdon/agent/hisapi"
)

func init() {
	register(&command{
		name:    "pairing",
		summary: "list, add or revoke the HIS apps allowed to use the local API",
		run:     runPairing,
	})
}

const pairingSynopsis = `pairing list   [--data-dir DIR] [--config FILE] [--json]
       tiepdon pairing add    [--data-dir DIR] [--config FILE] --name NAME --scopes eligibility[,identity[,photo]][,history] [--origin https://his.example.vn]
       tiepdon pairing revoke [--data-dir DIR] [--config FILE] ID
       tiepdon pairing approve [--data-dir DIR] [--config FILE] CODE`

func runPairing(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "list" && args[0] != "add" && args[0] != "revoke" && args[0] != "approve") {
		fmt.Fprintf(stderr, "Usage: tiepdon %s\n", pairingSynopsis)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return 0
		}
		return 2
	}
	sub := args[0]
	fs := newFlagSet("pairing "+sub, pairingSynopsis, stderr)
	dataDir := fs.String("data-dir", "", "data directory holding his-tokens.db (default: from the config)")
	cfgFile := fs.String("config", "", "config file to read instead of the per-user one")
	asJSON := fs.Bool("json", false, "list: print as JSON")
	name := fs.String("name", "", "add: the app's name, shown in the window and in listings")
	scopes := fs.String("scopes", "", "add: comma-separated scopes: eligibility, identity, photo (needs identity), history (visit history: health data; needs eligibility)")
	origin := fs.String("origin", "", "add: bind the token to this web origin (default: a non-browser app, which must send no Origin)")
	if code := parseFlags(fs, args[1:]); code >= 0 {
		return code
	}
	dir := *dataDir
	if dir == "" {
		cfg, err := config.Load(*cfgFile, os.Getenv)
		if err != nil {
			fmt.Fprintf(stderr, "tiepdon pairing: %v\n", err)
			return 1
		}
		dir = cfg.ResolvedDataDir()
	}
	store, err := hisapi.OpenStore(dir)
	if err != nil {
		fmt.Fprintf(stderr, "tiepdon pairing: %v\n", err)
		return 1
	}
	defer store.Close()

	switch sub {
	case "approve":
		if fs.NArg() != 1 {
			fs.Usage()
			return 2
		}
		if err := store.Approve(ctx, fs.Arg(0)); err != nil {
			fmt.Fprintf(stderr, "tiepdon pairing approve: %v\n", err)
			return 2
		}
		fmt.Fprintln(stderr, "Approved: the app waiting with this code receives its token within a few seconds (the code must still be on its page).")
		return 0
	case "list":
		if fs.NArg() != 0 {
			fs.Usage()
			return 2
		}
		return pairingList(ctx, store, *asJSON, stdout, stderr)
	case "add":
		if fs.NArg() != 0 || *name == "" || *scopes == "" {
			fmt.Fprintln(stderr, "tiepdon pairing add: --name and --scopes are required")
			return 2
		}
		sc, err := hisapi.ParseScopes(*scopes)
		if err != nil {
			fmt.Fprintf(stderr, "tiepdon pairing add: --scopes: %v\n", err)
			return 2
		}
		o := *origin
		if o != "" {
			if o, err = hisapi.NormalizeOrigin(o); err != nil {
				fmt.Fprintf(stderr, "tiepdon pairing add: --origin %q: want an origin like https://his.example.vn\n", *origin)
				return 2
			}
		}
		tok, info, err := store.Add(ctx, *name, o, sc)
		if err != nil {
			fmt.Fprintf(stderr, "tiepdon pairing add: %v\n", err)
			return 1
		}
		// The token alone on stdout, so that scripts can capture it.
		fmt.Fprintln(stdout, tok)
		bound := "non-browser app (sends no Origin)"
		if o != "" {
			bound = "web origin " + o
		}
		fmt.Fprintf(stderr, "Added %q (id %s, scopes %s, %s).\nThis token is shown once: tiepdon keeps only its hash. Revoke it with: tiepdon pairing revoke %s\n",
			info.Name, info.ID, hisapi.JoinScopes(info.Scopes), bound, info.ID)
		return 0
	default: // revoke
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "tiepdon pairing revoke: give the token ID (see tiepdon pairing list)")
			return 2
		}
		id := fs.Arg(0)
		info, err := store.Get(ctx, id)
		if err == nil {
			err = store.Revoke(ctx, id)
		}
		if err != nil {
			fmt.Fprintf(stderr, "tiepdon pairing revoke: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "Revoked %s (%q). A running agent closes its connections within seconds.\n", id, info.Name)
		return 0
	}
}

func pairingList(ctx context.Context, store *hisapi.Store, asJSON bool, stdout, stderr io.Writer) int {
	list, err := store.List(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "tiepdon pairing list: %v\n", err)
		return 1
	}
	if asJSON {
		if list == nil {
			list = []hisapi.TokenInfo{}
		}
		writeJSON(stdout, list)
		return 0
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "No paired apps. Pair from the HIS page (staff approve in the window) or add one with: tiepdon pairing add --name NAME --scopes eligibility")
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tORIGIN\tSCOPES\tCREATED\tLAST USED\tSTATE")
	when := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.Local().Format("2006-01-02 15:04")
	}
	for _, t := range list {
		origin := t.Origin
		if origin == "" {
			origin = "(app)"
		}
		state := "active"
		if !t.Active() {
			state = "revoked " + when(t.Revoked)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, origin, hisapi.JoinScopes(t.Scopes), when(&t.Created), when(t.LastUsed), state)
	}
	tw.Flush()
	return 0
}
