// Command screens shows the reception window in a real (GL) Fyne window in
// each scene of ui/internal/scenes, fed through a real event bus, so that
// ui/screenshots.sh can photograph it under Xvfb.
//
// For each scene it prints "READY <name>" on stdout once the scene is
// rendered and then waits for a line on stdin (the screenshot is taken)
// before the next one. It is a tool for docs/screens, not part of tiepdon.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/ui"
	"github.com/tiepdon/tiepdon/ui/internal/scenes"
)

// fake is an in-memory agent for the screenshots.
type fake struct{}

func (fake) Check(context.Context, patient.Identity) (string, error) { return "x", nil }
func (fake) SetStaff(patient.Staff)                                  {}
func (fake) Staff() patient.Staff {
	return patient.Staff{Name: "Lê Thị Hoa", CitizenID: "001190012345"}
}
func (fake) Scan(p string) {
	if *wedgeMode {
		fmt.Printf("SCAN %s\n", p)
	}
}
func (fake) ProvideCAN(string) error    { return nil }
func (fake) Pairings() []ui.PairingInfo { return nil }
func (fake) RevokePairing(string) error { return nil }

var size = flag.String("size", "1200x800", "window size WxH (the screen's working area)")

var wedgeMode = flag.Bool("wedge", false, "show the idle window and print SCAN <payload> for each keyboard-wedge scan (ui/wedge-xvfb.sh)")

func main() {
	only := flag.String("scene", "", "comma-separated scene names (default: all)")
	flag.Parse()
	var sw, sh float32
	if _, err := fmt.Sscanf(*size, "%fx%f", &sw, &sh); err != nil || sw < 100 || sh < 100 {
		fmt.Fprintln(os.Stderr, "screens: -size wants WxH, e.g. 1366x728")
		os.Exit(2)
	}
	winSize = fyne.NewSize(sw, sh)
	if *wedgeMode {
		*only = "idle"
	}
	want := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		if s != "" {
			want[s] = true
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	a := app.NewWithID("vn.tiepdon.screens")
	done := make(chan error, 1)
	go func() {
		if *shiftMode {
			done <- runShift(a, log)
			fyne.Do(a.Quit)
			return
		}
		done <- run(a, want, log)
		fyne.Do(a.Quit)
	}()
	a.Run()
	if err := <-done; err != nil {
		fmt.Fprintln(os.Stderr, "screens:", err)
		os.Exit(1)
	}
}

var winSize fyne.Size

func run(a fyne.App, want map[string]bool, log *slog.Logger) error {
	in := bufio.NewScanner(os.Stdin)
	var prev *ui.UI
	for _, sc := range scenes.All() {
		if len(want) > 0 && !want[sc.Name] {
			continue
		}
		now := func() time.Time { return scenes.Now } // ages in the scenes are relative to it
		if *wedgeMode {
			now = time.Now // keystroke timing needs the real clock
		}
		bus := events.New()
		rendered := make(chan uint64, 256)
		var u *ui.UI
		fyne.DoAndWait(func() {
			u = ui.New(a, bus, fake{}, ui.Options{
				Language: sc.Lang, Mute: true, Logger: log, Location: time.UTC, Size: winSize,
				Now:      now,
				Rendered: func(ev events.Event) { rendered <- ev.Seq },
			})
			u.Show()
			if prev != nil {
				prev.Window().Hide()
			}
		})
		if prev != nil {
			prev.Close()
		}
		prev = u
		var last uint64
		for _, s := range sc.Steps {
			last = bus.Publish(s.Kind, s.Data)
		}
		deadline := time.After(30 * time.Second)
		for seen := uint64(0); seen < last; {
			select {
			case seen = <-rendered:
			case <-deadline:
				return fmt.Errorf("scene %s: events not rendered", sc.Name)
			}
		}
		// Let the verdict's colour flash (450 ms) finish and a frame be drawn.
		time.Sleep(900 * time.Millisecond)
		fyne.DoAndWait(func() {})
		fmt.Printf("READY %s\n", sc.Name)
		if *wedgeMode {
			in.Scan() // until the script closes stdin
			return nil
		}
		if !in.Scan() {
			return nil
		}
	}
	return nil
}
