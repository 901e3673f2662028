package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/tiepdon/tiepdon/agent/config"
	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/receipt"
)

func init() {
	register(&command{
		name:    "receipt",
		summary: "print this desk's receipt public key, or check a signed receipt offline",
		run:     runReceipt,
	})
}

const receiptSynopsis = `receipt public-key [--data-dir DIR] [--config FILE]
       tiepdon receipt verify     [--data-dir DIR] [--config FILE] [--key PEMFILE] [FILE|-]`

func runReceipt(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "public-key" && args[0] != "verify") {
		fmt.Fprintf(stderr, "Usage: tiepdon %s\n", receiptSynopsis)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return 0
		}
		return 2
	}
	sub := args[0]
	fs := newFlagSet("receipt "+sub, receiptSynopsis, stderr)
	dataDir := fs.String("data-dir", "", "data directory of the desk (default: from the config)")
	cfgFile := fs.String("config", "", "config file to read instead of the per-user one")
	keyFile := fs.String("key", "", "verify: the signing desk's public key (PEM, from receipt public-key); default: this desk's")
	if code := parseFlags(fs, args[1:]); code >= 0 {
		return code
	}
	var pub ed25519.PublicKey
	if sub == "public-key" || *keyFile == "" {
		dir := *dataDir
		if dir == "" {
			cfg, err := config.Load(*cfgFile, os.Getenv)
			if err != nil {
				fmt.Fprintf(stderr, "tiepdon receipt: %v\n", err)
				return 1
			}
			dir = cfg.ResolvedDataDir()
		}
		k, _, err := receipt.LoadKey(dir, true, slog.New(slog.DiscardHandler))
		if err != nil {
			fmt.Fprintf(stderr, "tiepdon receipt: %v\n", err)
			return 1
		}
		pub = k.Public().(ed25519.PublicKey)
	} else {
		b, err := os.ReadFile(*keyFile)
		if err == nil {
			pub, err = receipt.ParsePublic(string(b))
		}
		if err != nil {
			fmt.Fprintf(stderr, "tiepdon receipt: %v\n", err)
			return 1
		}
	}
	if sub == "public-key" {
		fmt.Fprint(stdout, receipt.PublicPEM(pub))
		fmt.Fprintf(stderr, "key id %s\n", receipt.KeyID(pub))
		return 0
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return 2
	}
	in := io.Reader(os.Stdin)
	if name := fs.Arg(0); name != "" && name != "-" {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(stderr, "tiepdon receipt: %v\n", err)
			return 1
		}
		defer f.Close()
		in = f
	}
	r, err := findReceipt(io.LimitReader(in, 4<<20))
	if err != nil {
		fmt.Fprintf(stderr, "tiepdon receipt: %v\n", err)
		return 1
	}
	f, err := receipt.Verify(pub, r)
	if err != nil {
		fmt.Fprintf(stderr, "NOT VALID: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "valid: signed by key %s\ncheck %s (%s) at facility %s, %s\nverdict %s, gateway code %q, source %s, answered %s\n",
		r.KeyID, f.CheckID, f.Kind, f.Facility, f.Agent, f.Verdict, f.Code, f.Source, f.AnsweredAt)
	return 0
}

// findReceipt reads a receipt, or an answer carrying one (receipt.get's
// result, a notification, or a whole JSON-RPC message).
func findReceipt(r io.Reader) (events.Receipt, error) {
	var raw json.RawMessage
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return events.Receipt{}, fmt.Errorf("reading the receipt: %w", err)
	}
	type holder struct {
		Receipt *events.Receipt `json:"receipt"`
	}
	var doc struct {
		holder
		Params *holder `json:"params"`
		Result *holder `json:"result"`
	}
	var flat events.Receipt
	json.Unmarshal(raw, &doc)
	json.Unmarshal(raw, &flat)
	switch {
	case doc.Receipt != nil:
		return *doc.Receipt, nil
	case doc.Params != nil && doc.Params.Receipt != nil:
		return *doc.Params.Receipt, nil
	case doc.Result != nil && doc.Result.Receipt != nil:
		return *doc.Result.Receipt, nil
	case flat.Payload != "":
		return flat, nil
	}
	return events.Receipt{}, errors.New("no receipt in the input (want a receipt, or an answer with a \"receipt\")")
}
