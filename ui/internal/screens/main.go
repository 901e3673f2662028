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
	"fyne.io/fyne/v2/container"

	"github.com/tiepdon/tiepdon/agent"
	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/ui"
	"github.com/tiepdon/tiepdon/ui/internal/scenes"
)

// fake is an in-memory agent for the screenshots; noStaff leaves the shift
// without anyone signed in.
type fake struct{ noStaff bool }

func (fake) Check(context.Context, patient.Identity) (string, error) { return "x", nil }
func (fake) SetStaff(patient.Staff)                                  {}
func (f fake) Staff() patient.Staff {
	if f.noStaff {
		return patient.Staff{}
	}
	return patient.Staff{Name: "Lê Thị Hoa", CitizenID: "001190012345"}
}
func (fake) Scan(p string) {
	if *wedgeMode {
		fmt.Printf("SCAN %s\n", p)
	}
}
func (fake) ProvideCAN(string) error { return nil }
func (fake) Pairings() []ui.PairingInfo {
	return []ui.PairingInfo{{ID: "p9", Origin: "https://his.benhvien-dongda.vn", Name: "HIS Đống Đa",
		Scopes: []string{"eligibility", "identity"}, Since: scenes.Now.Add(-72 * time.Hour), LastSeen: scenes.Now.Add(-2 * time.Minute)}}
}
func (fake) RevokePairing(string) error { return nil }

// The settings page as IT finds it: a PIN is set, so it is read-only.
func (fake) Settings() ui.Settings {
	return ui.Settings{GatewayURL: "https://egw.baohiemxahoi.gov.vn", GatewayUser: "01043_BV", PasswordStored: true,
		PasswordInKeyring: true, Readers: []string{"ACS ACR1252 Dual Reader PICC 00 00"}, Scanners: []string{"/dev/ttyACM0"},
		HISOrigins: []string{"https://his.benhvien-dongda.vn"}, RetentionDays: 30, Language: "vi"}
}
func (fake) SaveSettings(ui.Settings) error      { return nil }
func (fake) PINSet() bool                        { return true }
func (fake) Admin() bool                         { return false }
func (fake) Unlock(string) (bool, time.Duration) { return false, 0 }

// extra are screens that are not scenes of the golden tests: the shift
// start (sign-in open), a check refused before sign-in, and the other tabs.
type extra struct {
	scenes.Scene
	noStaff bool
	tab     int // 0 main, 1 this shift's checks, 2 pairing, 3 settings
}

func extras() []extra {
	all := scenes.All()
	by := map[string]scenes.Scene{}
	for _, sc := range all {
		by[sc.Name] = sc
	}
	online := scenes.Status(events.GatewayOnline)
	refused := agent.NoStaffAnswer(scenes.Now)
	id := patient.Identity{Medium: patient.MediumQRBHYT, CardNumber: "QN5010987654321", Name: "Lê Văn Cường",
		BirthDate: patient.Date{Year: 1975, Month: 3, Day: 8}, Sex: patient.Male}
	var shift []scenes.Step
	for _, n := range []string{"eligible-cached", "not-eligible", "input-mismatch", "check-documents", "eligible"} {
		shift = append(shift, by[n].Steps...)
	}
	// Three HIS apps asking to pair at once: one badge line on the main
	// screen, each in full on the pairing tab.
	var several []scenes.Step
	for i, app := range []struct{ name, origin string }{
		{"HIS Đống Đa", "https://his.benhvien-dongda.vn"}, {"Máy chủ HIS", "app:Máy chủ HIS"}, {"Phòng khám số 3", "https://pk3.benhvien-dongda.vn"},
	} {
		several = append(several, scenes.Step{Kind: events.PairingRequested, Data: events.Pairing{
			ID: fmt.Sprint("p", i), Name: app.name, Origin: app.origin, Code: fmt.Sprintf("%06d", 482913+i*111111),
			Scopes: []string{"eligibility", "identity"}, Expires: scenes.Now.Add(time.Duration(105-30*i) * time.Second)}})
	}
	return []extra{
		{Scene: scenes.Scene{Name: "shift-start", Steps: online}, noStaff: true},
		{Scene: scenes.Scene{Name: "no-staff", Steps: append(append([]scenes.Step{}, online...),
			scenes.Step{Kind: events.CardPresented, Data: events.Presented{CheckID: "n1", Medium: id.Medium}},
			scenes.Step{Kind: events.IdentityRead, Data: events.Identity{CheckID: "n1", Identity: id}},
			scenes.Step{Kind: events.EligibilityResult, Data: events.Result{CheckID: "n1", Identity: id, Eligibility: refused, Current: true}},
		)}, noStaff: true},
		{Scene: scenes.Scene{Name: "tab-recent", Steps: shift}, tab: 1},
		{Scene: scenes.Scene{Name: "pairing-several", Steps: append(append([]scenes.Step{}, by["eligible"].Steps...), several...)}},
		{Scene: scenes.Scene{Name: "tab-pairing", Steps: append(append([]scenes.Step{}, online...), several...)}, tab: 2},
		{Scene: scenes.Scene{Name: "tab-settings", Steps: online}, tab: 3},
	}
}

// selectTab shows tab i of the window's tab row.
func selectTab(w fyne.Window, i int) {
	var walk func(o fyne.CanvasObject) bool
	walk = func(o fyne.CanvasObject) bool {
		switch t := o.(type) {
		case *container.AppTabs:
			t.SelectIndex(i)
			return true
		case *fyne.Container:
			for _, c := range t.Objects {
				if walk(c) {
					return true
				}
			}
		}
		return false
	}
	walk(w.Content())
}

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
	var list []extra
	for _, sc := range scenes.All() {
		list = append(list, extra{Scene: sc})
	}
	if !*wedgeMode {
		list = append(list, extras()...)
	}
	for _, sc := range list {
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
			u = ui.New(a, bus, fake{noStaff: sc.noStaff}, ui.Options{
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
		if sc.tab > 0 {
			fyne.DoAndWait(func() { selectTab(u.Window(), sc.tab) })
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
