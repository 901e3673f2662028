package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"fyne.io/fyne/v2"

	"github.com/tiepdon/tiepdon/agent"
	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers"
	"github.com/tiepdon/tiepdon/drivers/payload"
	"github.com/tiepdon/tiepdon/drivers/serialqr"
	"github.com/tiepdon/tiepdon/drivers/virtual"
	"github.com/tiepdon/tiepdon/sync/bhxh"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
	"github.com/tiepdon/tiepdon/sync/cache"
	"github.com/tiepdon/tiepdon/ui"
	"golang.org/x/text/unicode/norm"
)

var shiftMode = flag.Bool("shift", false, "a shift from sign-in on, with the real agent, a gateway simulator over HTTP "+
	"and a cache file: no one signed in; \"scan N\" on stdin scans person N's BHYT card on a pty serial scanner; "+
	"prints PATIENT, QR, PLAIN, STAFF, SCAN and VERDICT lines (ui/shift-xvfb.sh)")

// shiftActions wires the window to the real agent as cmd/tiepdon does, and
// prints what the script checks.
type shiftActions struct{ a *agent.Agent }

func (s shiftActions) Check(ctx context.Context, id patient.Identity) (string, error) {
	return s.a.Check(ctx, id)
}

func (s shiftActions) SetStaff(st patient.Staff) {
	s.a.SetStaff(st)
	fmt.Printf("STAFF %s\n", st.CitizenID.Masked())
}

func (s shiftActions) Staff() patient.Staff     { return s.a.Staff() }
func (s shiftActions) ShowCheck(checkID string) { s.a.ShowCheck(checkID) }

func (s shiftActions) Scan(p string) {
	fmt.Printf("SCAN %d\n", len(p))
	s.a.Present(drivers.Presentation{Medium: patient.MediumQR, Device: "wedge", At: time.Now(), Payload: []byte(p)})
}

// shiftPatients is how many people the script checks: 20 in the sequence,
// one refused before sign-in, one for each mismatch.
const shiftPatients = 23

// runShift shows the window with no one signed in, over the real agent and
// a gateway simulator, prints the people the script will check and a line
// for each verdict rendered, until stdin closes.
func runShift(a fyne.App, log *slog.Logger) error {
	dir, err := os.MkdirTemp("", "tiepdon-shift-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	sim := bhxhsim.New(bhxhsim.Options{Seed: 7})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	defer sim.Close()
	bus := events.New()
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cli, err := bhxh.New(bhxh.Options{URL: srv.URL, Username: "79014_BV", Password: "bhxh-sim", Bus: bus, Logger: quiet})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := cache.Open(ctx, filepath.Join(dir, "cache.db"), cache.Options{Logger: quiet})
	if err != nil {
		return err
	}
	defer db.Close()
	// A serial QR scanner on a pty: "scan N" on stdin scans person N's
	// BHYT card.
	sc, err := virtual.NewScanner(virtual.ScannerOptions{Dir: dir})
	if err != nil {
		return err
	}
	defer sc.Close()
	src, err := serialqr.New(serialqr.Options{Path: sc.Path(), Logger: quiet})
	if err != nil {
		return err
	}
	ag, err := agent.New(agent.Deps{Bus: bus, Identify: payload.Identify, Checker: cli, Store: db, Logger: quiet,
		Sources: []drivers.Source{src}})
	if err != nil {
		return err
	}
	go ag.Run(ctx) //nolint:errcheck // ends with ctx

	// People the gateway answers 000 with their own card, name and year.
	var qr []string
	n := 0
	for i := len(bhxhsim.Showcase); n < shiftPatients; i++ {
		p := sim.Person(i)
		if p.Code != "000" || p.NewCard != nil || p.RecordName != "" || !p.RecordBirthDate.IsZero() {
			continue
		}
		n++
		fmt.Printf("PATIENT %d %s %d %s\nQR %d %s\n", n, p.CardNumber, p.BirthDate.Year, p.Name, n, p.BHYTQR())
		fmt.Printf("PLAIN %d %s\n", n, plain(string(p.Name)))
		qr = append(qr, p.BHYTQR())
	}

	var results atomic.Int64
	fyne.DoAndWait(func() {
		u := ui.New(a, bus, shiftActions{ag}, ui.Options{Mute: true, Logger: log, Location: time.UTC, Size: winSize,
			Rendered: func(ev events.Event) {
				if r, ok := ev.Data.(events.Result); ok && ev.Kind == events.EligibilityResult {
					fmt.Printf("VERDICT %d %s %s %s asked=%d\n", results.Add(1), r.Identity.Medium,
						r.Eligibility.Verdict, r.Eligibility.Code, sim.Stats().Checks)
				}
			}})
		u.Show()
	})
	time.Sleep(500 * time.Millisecond) // a frame drawn before xdotool looks for the window
	fmt.Println("READY shift")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var i int
		switch line := strings.TrimSpace(in.Text()); {
		case line == "quit":
			return nil
		case len(line) > 5 && line[:5] == "scan ":
			if _, err := fmt.Sscan(line[5:], &i); err != nil || i < 1 || i > len(qr) {
				return fmt.Errorf("bad line %q", line)
			}
			if err := sc.Scan(qr[i-1]); err != nil {
				return err
			}
		}
	}
	return nil
}

// plain is a name typed without accents, as on a keyboard with no
// Vietnamese input method: "Nguyễn Văn Bình" -> "Nguyen Van Binh".
func plain(name string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(name) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == 'đ':
			b.WriteRune('d')
		case r == 'Đ':
			b.WriteRune('D')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
