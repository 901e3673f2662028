package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/tiepdon/tiepdon/sync/bhxhsim"
)

func init() {
	register(&command{
		name:    "sim",
		summary: "run the BHXH gateway simulator alone (synthetic people, fault injection)",
		run:     runSim,
	})
}

func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("sim", "sim [--addr 127.0.0.1:PORT] [--seed N] [--people N]", stderr)
	addr := fs.String("addr", "127.0.0.1:8734", "address to listen on")
	seed := fs.Int64("seed", 1, "seed of the synthetic population (same seed, same people)")
	size := fs.Int("size", 0, "number of synthetic people (0: the simulator's default)")
	md5Case := fs.String("md5-case", "", `password digest case the login accepts: "upper", "lower" or "" (either)`)
	encoding := fs.String("encoding", "", `body encoding accepted: "form", "json" or "" (either)`)
	people := fs.Int("people", 0, "print the first N people (one JSON object a line) before serving")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	sim := bhxhsim.New(bhxhsim.Options{
		Seed: *seed, Size: *size, MD5Case: *md5Case, Encoding: *encoding,
		Logger: slog.New(slog.NewTextHandler(stderr, nil)),
	})
	defer sim.Close()
	enc := json.NewEncoder(stdout)
	for i := range *people {
		enc.Encode(sim.Person(i))
	}
	a, err := sim.Serve(ctx, *addr)
	if err != nil {
		fmt.Fprintf(stderr, "tiepdon sim: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "gateway simulator listening on %s (seed %d); Ctrl+C to stop\n", bhxhsim.URL(a), *seed)
	<-ctx.Done()
	return 0
}
