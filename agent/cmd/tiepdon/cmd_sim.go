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
		summary: "run the BHXH gateway simulator alone (synthetic people, quirks, fault injection)",
		run:     runSim,
	})
}

func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("sim", "sim [--addr 127.0.0.1:PORT] [--seed N] [quirk and fault flags]  (docs/simulator.md)", stderr)
	addr := fs.String("addr", "127.0.0.1:8734", "address to listen on")
	people := fs.Int("people", 0, "print the first N people (one JSON object a line) before serving")
	o := bhxhsim.Options{Seed: 1}
	o.RegisterFlags(fs)
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	o.Logger = slog.New(slog.NewTextHandler(stderr, nil))
	sim := bhxhsim.New(o)
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
	fmt.Fprintf(stdout, "gateway simulator listening on %s (seed %d, %d people); faults at %s/sim/faults; Ctrl+C to stop\n",
		bhxhsim.URL(a), o.Seed, o.Size, bhxhsim.URL(a))
	<-ctx.Done()
	return 0
}
