package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tiepdon/tiepdon/agent/config"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
)

func init() {
	register(&command{
		name:    "demo",
		summary: "drive a running demo agent without its window (demo scan)",
		run:     runDemo,
	})
}

const demoSynopsis = `demo scan [--data-dir DIR] [--config FILE] [--person CCCD|CARD] [--code 000]`

// demoScanRequest is what "tiepdon demo scan" leaves for the running demo
// agent in its run folder.
type demoScanRequest struct {
	Person string `json:"person,omitempty"` // a synthetic person's CCCD number or card number
	Code   string `json:"code,omitempty"`   // or: the first person whose answer has this gateway code
}

const demoRequestGlob = "scan-*.req"

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "scan" {
		fmt.Fprintf(stderr, "Usage: tiepdon %s\n", demoSynopsis)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return 0
		}
		return 2
	}
	fs := newFlagSet("demo scan", demoSynopsis, stderr)
	dataDir := fs.String("data-dir", "", "the demo agent's data directory (default: the demo folder of the configured one)")
	cfgFile := fs.String("config", "", "config file to read instead of the per-user one")
	person := fs.String("person", "", "scan this synthetic person's CCCD (12 digits or a card number); default: a random one")
	code := fs.String("code", "", "scan the first synthetic person whose gateway answer has this code, e.g. 000, 004, 060")
	if code := parseFlags(fs, args[1:]); code >= 0 {
		return code
	}
	if fs.NArg() != 0 || (*person != "" && *code != "") {
		fmt.Fprintln(stderr, "tiepdon demo scan: give --person or --code, not both")
		return 2
	}
	dir := *dataDir
	if dir == "" {
		cfg, err := config.Load(*cfgFile, os.Getenv)
		if err != nil {
			fmt.Fprintf(stderr, "tiepdon demo scan: %v\n", err)
			return 1
		}
		dir = filepath.Join(cfg.ResolvedDataDir(), "demo")
	}
	run := filepath.Join(dir, "run")
	if _, err := os.Stat(run); err != nil {
		fmt.Fprintf(stderr, "tiepdon demo scan: no demo agent has run with data folder %s (start one with tiepdon run --demo)\n", dir)
		return 1
	}
	b, _ := json.Marshal(demoScanRequest{Person: strings.TrimSpace(*person), Code: strings.TrimSpace(*code)})
	var rnd [6]byte
	rand.Read(rnd[:])
	name := filepath.Join(run, "scan-"+hex.EncodeToString(rnd[:])+".req")
	if err := os.WriteFile(name+".tmp", b, 0o600); err != nil {
		fmt.Fprintf(stderr, "tiepdon demo scan: %v\n", err)
		return 1
	}
	if err := os.Rename(name+".tmp", name); err != nil {
		fmt.Fprintf(stderr, "tiepdon demo scan: %v\n", err)
		return 1
	}
	// The agent takes the request within a second; if it is still there
	// after a few, no demo agent is running on this folder.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(name); errors.Is(err, os.ErrNotExist) {
			fmt.Fprintln(stderr, "Scanned: the demo agent shows the result (and sends it to paired HIS apps).")
			return 0
		}
		time.Sleep(100 * time.Millisecond)
	}
	os.Remove(name)
	fmt.Fprintf(stderr, "tiepdon demo scan: no demo agent took the scan; is tiepdon run --demo running with data folder %s?\n", dir)
	return 1
}

// demoScanRequests serves "tiepdon demo scan": it takes the requests left
// in the run folder and scans the person asked for.
func (s *stack) demoScanRequests(ctx context.Context) error {
	run := filepath.Join(s.cfg.DataDir, "run")
	os.MkdirAll(run, 0o700)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		files, _ := filepath.Glob(filepath.Join(run, demoRequestGlob))
		for _, f := range files {
			b, err := os.ReadFile(f)
			os.Remove(f)
			if err != nil {
				continue
			}
			var req demoScanRequest
			json.Unmarshal(b, &req)
			if err := s.demoScan(req); err != nil {
				s.log.Warn("A demo scan asked for with tiepdon demo scan was not made; check the person or code given", "err", err)
			}
		}
	}
}

func (s *stack) demoScan(req demoScanRequest) error {
	var p bhxhsim.Person
	var ok bool
	switch {
	case req.Person != "":
		if p, ok = s.sim.Find(req.Person); !ok {
			return errors.New("no synthetic person has this CCCD or card number")
		}
	case req.Code != "":
		if p, ok = s.sim.Example(req.Code); !ok {
			return fmt.Errorf("no synthetic person answers with code %q", req.Code)
		}
	default:
		return s.simulateScan()
	}
	if err := s.scanner.Scan(p.CCCDQR()); err != nil {
		return err
	}
	s.demoTap(s.ctx, p)
	return nil
}
