package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/ui"
)

var shiftMode = flag.Bool("shift", false, "a shift from sign-in on: no one signed in, typed checks answered at once "+
	"(a name the gateway spells differently comes back as 060); prints STAFF, CHECK and VERDICT lines (ui/shift-xvfb.sh)")

// shiftAgent answers typed checks at once on the bus, as the gateway
// would: eligible, or 060 when the name is not the gateway's spelling.
type shiftAgent struct {
	bus   *events.Bus
	mu    sync.Mutex
	n     int
	staff patient.Staff
}

func (s *shiftAgent) Check(_ context.Context, id patient.Identity) (string, error) {
	s.mu.Lock()
	s.n++
	checkID := fmt.Sprintf("t%d", s.n)
	s.mu.Unlock()
	fmt.Printf("CHECK %s %s %q\n", checkID, id.CardNumber, id.Name)
	s.bus.Publish(events.CardPresented, events.Presented{CheckID: checkID, Medium: id.Medium})
	s.bus.Publish(events.IdentityRead, events.Identity{CheckID: checkID, Identity: id})
	e := patient.Eligibility{Verdict: patient.Eligible, Code: "000", CardNumber: id.CardNumber, Holder: gatewayName,
		Source: patient.SourceLive, CheckedAt: time.Now()}
	if id.Name != gatewayName {
		e = patient.Eligibility{Verdict: patient.InputMismatch, Code: "060", Field: "name", Holder: gatewayName, Source: patient.SourceLive}
	}
	s.bus.Publish(events.EligibilityResult, events.Result{CheckID: checkID, Identity: id, Eligibility: e, Current: true})
	return checkID, nil
}

// gatewayName is the holder's name as the synthetic gateway has it.
const gatewayName = patient.Name("Nguyễn Văn Bình")

func (s *shiftAgent) SetStaff(st patient.Staff) {
	s.mu.Lock()
	s.staff = st
	s.mu.Unlock()
	fmt.Printf("STAFF %s\n", st.CitizenID.Masked())
}

func (s *shiftAgent) Scan(p string) { fmt.Printf("SCAN %d\n", len(p)) }

// runShift shows the window with no one signed in and prints a line for
// each verdict rendered, until stdin closes.
func runShift(a fyne.App, log *slog.Logger) error {
	bus := events.New()
	ag := &shiftAgent{bus: bus}
	fyne.DoAndWait(func() {
		u := ui.New(a, bus, ag, ui.Options{Mute: true, Logger: log, Location: time.UTC, Size: winSize,
			Rendered: func(ev events.Event) {
				if r, ok := ev.Data.(events.Result); ok {
					fmt.Printf("VERDICT %s %s\n", r.CheckID, r.Eligibility.Verdict)
				}
			}})
		u.Show()
	})
	time.Sleep(500 * time.Millisecond) // a frame drawn before xdotool looks for the window
	fmt.Println("READY shift")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if strings.TrimSpace(in.Text()) == "quit" {
			break
		}
	}
	return nil
}
