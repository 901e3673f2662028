package main

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/hisapi"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers"
	"github.com/tiepdon/tiepdon/ui"
)

// appID identifies tiepdon to Fyne (preferences, notifications).
const appID = "vn.tiepdon.agent"

// runWindow runs the window on this (the main) goroutine, beside the stack
// already running in the background (stopped says when it ends), until the
// window is closed or ctx ends.
func (s *stack) runWindow(ctx context.Context, cancel context.CancelFunc, o runOptions, stopped <-chan error) error {
	a := app.NewWithID(appID)
	u := ui.New(a, s.bus, &windowActions{s: s}, ui.Options{
		Language: s.cfg.Language, Demo: o.demo, Logger: s.log, Facility: s.cfg.Facility.Code, Setup: setupForWindow(o.setup),
	})
	// The window opens maximised once it exists (the app has started).
	a.Lifecycle().SetOnStarted(func() {
		s.log.Info("window opened", "how", maximise(u.Window()))
	})
	errc := make(chan error, 1)
	go func() {
		errc <- <-stopped
		fyne.Do(a.Quit) // the stack stopped (signal or failure): close the window
	}()
	s.setWindow(hisapi.WindowInfo{State: "open"})
	if panicked := showAndRun(u); panicked != nil {
		// The toolkit failed after it started: the window is gone, but the
		// agent and the HIS API go on until the agent is stopped.
		s.windowFailed(fmt.Errorf("the window toolkit failed: %v", panicked))
		return <-errc
	}
	cancel()
	return <-errc
}

// showAndRun runs the window until it closes; a panic inside the toolkit
// is returned instead of taking the agent down.
func showAndRun(u *ui.UI) (panicked any) {
	defer func() { panicked = recover() }()
	u.ShowAndRun()
	return nil
}

// windowActions is what the window may ask of the agent.
type windowActions struct{ s *stack }

// Check implements ui.Actions.
func (w *windowActions) Check(ctx context.Context, id patient.Identity) (string, error) {
	return w.s.agent.Check(ctx, id)
}

// SetStaff implements ui.Actions.
func (w *windowActions) SetStaff(st patient.Staff) { w.s.agent.SetStaff(st) }

// ShowCheck implements ui.ScreenReporter: the agent marks answers for any
// other check as late (current: false) for the HIS too.
func (w *windowActions) ShowCheck(checkID string) { w.s.agent.ShowCheck(checkID) }

// Staff implements ui.StaffSource.
func (w *windowActions) Staff() patient.Staff { return w.s.agent.Staff() }

// Scan implements ui.Scanner: a keyboard-wedge scan is handled like a
// serial one.
func (w *windowActions) Scan(payload string) {
	w.s.agent.Present(drivers.Presentation{Medium: patient.MediumQR, Device: "wedge", At: time.Now(), Payload: []byte(payload)})
}

// SimulateScan implements ui.Simulator (demo mode).
func (w *windowActions) SimulateScan() error { return w.s.simulateScan() }

// Pairings implements ui.PairingManager.
func (w *windowActions) Pairings() []ui.PairingInfo {
	list, err := w.s.his.Store().List(context.Background())
	if err != nil {
		w.s.log.Error("The paired HIS apps could not be listed; check that the data folder is readable and run tiepdon doctor", "err", err)
		return nil
	}
	var out []ui.PairingInfo
	for _, t := range list {
		if !t.Active() {
			continue
		}
		p := ui.PairingInfo{ID: t.ID, Origin: t.Origin, Name: t.Name, Since: t.Created}
		for _, sc := range t.Scopes {
			p.Scopes = append(p.Scopes, string(sc))
		}
		if t.LastUsed != nil {
			p.LastSeen = *t.LastUsed
		}
		out = append(out, p)
	}
	return out
}

// RevokePairing implements ui.PairingManager.
func (w *windowActions) RevokePairing(id string) error {
	return w.s.his.Revoke(context.Background(), id)
}

// Devices implements ui.DeviceLister: the state of every device seen so far.
func (w *windowActions) Devices() []events.Device { return w.s.agent.Devices() }

func setupForWindow(issues []setupIssue) []ui.SetupIssue {
	var out []ui.SetupIssue
	for _, i := range issues {
		out = append(out, ui.SetupIssue{VI: i.VI, EN: i.EN})
	}
	return out
}
