package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers"
)

// Alert codes the agent publishes about chips (events.AlertData.Code),
// besides the QR/chip cross-check's.
const (
	AlertCANRequired    = "can-required"       // the window asks staff for the last 6 digits
	AlertCloneSuspected = "clone-suspected"    // Chip or Active Authentication failed
	AlertNotAuthentic   = "chip-not-authentic" // passive authentication failed
)

// recentQR is the QR-then-tap memory: the identity of the last CCCD QR
// read, which opens the same card's chip for a while (its CAN is the last
// 6 digits of the citizen ID, ICAO 9303-11 §9.2 and the CCCD's printed
// CAN), and wakes chip reads waiting for it.
type recentQR struct {
	now func() time.Time

	mu     sync.Mutex
	id     patient.Identity
	at     time.Time
	notify chan struct{} // closed and replaced by remember
}

func (r *recentQR) remember(id patient.Identity, at time.Time) {
	if !id.CitizenID.Valid() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if at.Before(r.at) {
		return // an older scan than the one remembered
	}
	r.id, r.at = id, at
	if r.notify != nil {
		close(r.notify)
		r.notify = nil
	}
}

// get returns the remembered identity if it was read within window, and
// a channel closed at the next remember.
func (r *recentQR) get(window time.Duration) (patient.Identity, bool, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.notify == nil {
		r.notify = make(chan struct{})
	}
	if r.at.IsZero() || r.now().Sub(r.at) > window {
		return patient.Identity{}, false, r.notify
	}
	return r.id, true, r.notify
}

// RecentQR returns the identity of the last CCCD QR read, if it is recent
// enough to open its chip.
func (a *Agent) RecentQR() (patient.Identity, bool) {
	id, ok, _ := a.recent.get(a.d.QRWindow)
	return id, ok
}

// ChipKey implements drivers.ChipKeys (QR then tap): the identity of the
// CCCD QR scanned within QRWindow; else, while the card stays on the
// reader, the first of a QR scan (for up to WaitForQR) and the CAN staff
// type when asked (AskCAN, ProvideCAN).
func (a *Agent) ChipKey(ctx context.Context, reader string) (drivers.ChipKey, error) {
	id, ok, scanned := a.recent.get(a.d.QRWindow)
	if ok {
		return drivers.ChipKey{Identity: &id}, nil
	}
	if !a.d.AskCAN && a.d.WaitForQR <= 0 {
		return drivers.ChipKey{}, fmt.Errorf("no recent CCCD QR code and nobody to ask: %w", drivers.ErrNoKey)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var typed <-chan string
	if a.d.AskCAN {
		select { // drop digits typed for an earlier card
		case <-a.can:
		default:
		}
		a.d.Bus.Publish(events.Alert, events.AlertData{Code: AlertCANRequired,
			Message: "Type the last 6 digits of the citizen ID to read the chip"})
		typed = a.can
	}
	var timeout <-chan time.Time
	if a.d.WaitForQR > 0 {
		t := time.NewTimer(a.d.WaitForQR)
		defer t.Stop()
		timeout = t.C
	}
	for {
		select {
		case <-scanned:
			if id, ok, _ := a.recent.get(a.d.QRWindow); ok {
				return drivers.ChipKey{Identity: &id}, nil
			}
			scanned = nil
		case can := <-typed:
			return drivers.ChipKey{CAN: can}, nil
		case <-timeout:
			if typed == nil {
				return drivers.ChipKey{}, fmt.Errorf("no CCCD QR code scanned in %v: %w", a.d.WaitForQR, drivers.ErrNoKey)
			}
			scanned, timeout = nil, nil // keep waiting for the typed CAN only
		case <-ctx.Done():
			return drivers.ChipKey{}, fmt.Errorf("waiting for the chip key: %w", ctx.Err())
		}
	}
}

// ProvideCAN hands the agent the CAN staff typed for a chip that waits for
// one: its last 6 digits (or the whole 12-digit citizen ID).
func (a *Agent) ProvideCAN(can string) error {
	can = strings.TrimSpace(can)
	if len(can) == 12 && patient.CitizenID(can).Valid() {
		can = can[6:]
	}
	if len(can) != 6 || strings.Trim(can, "0123456789") != "" {
		return errors.New("need the last 6 digits of the citizen ID")
	}
	if !a.d.AskCAN {
		return errors.New("no chip reader is in use")
	}
	select {
	case a.can <- can:
	default:
	}
	return nil
}

// crossCheck compares a chip identity with the recent QR identity of the
// same citizen and publishes an alert when they disagree.
func (a *Agent) crossCheck(checkID string, chip patient.Identity) {
	if a.d.CrossCheck == nil {
		return
	}
	qr, ok := a.RecentQR()
	if !ok || qr.CitizenID.CAN() != chip.CitizenID.CAN() {
		return // the QR was another card's; nothing to compare
	}
	if code, msg, ok := a.d.CrossCheck(qr, chip); ok {
		a.log.Warn("The chip and the QR code scanned before it disagree; staff are told to check the documents by hand", "check", checkID, "detail", msg)
		a.alert(events.AlertData{CheckID: checkID, Code: code, Message: msg})
	}
}

// chipAlert publishes an alert for a chip that failed its checks.
func (a *Agent) chipAlert(checkID string, id patient.Identity) {
	au := id.Authenticity
	switch {
	case au.Clone == patient.CloneFailed:
		a.alert(events.AlertData{CheckID: checkID, Code: AlertCloneSuspected,
			Message: "The chip failed its clone check: the card may be a copy. Check the physical card."})
	case au.Level == patient.Failed:
		a.alert(events.AlertData{CheckID: checkID, Code: AlertNotAuthentic,
			Message: "The chip data does not match its signature: " + au.Detail})
	}
}

// alert publishes al once per check and code.
func (a *Agent) alert(al events.AlertData) {
	key := al.CheckID + "\x00" + al.Code
	a.mu.Lock()
	if a.alerted == nil || len(a.alerted) > maxReceipts {
		a.alerted = map[string]bool{}
	}
	seen := a.alerted[key]
	a.alerted[key] = true
	a.mu.Unlock()
	if !seen {
		a.d.Bus.Publish(events.Alert, al)
	}
}
