package ui

import (
	"time"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
)

// phase is what the main screen is showing.
type phase int

const (
	phaseIdle     phase = iota // waiting for a patient
	phaseReading               // a chip is being read
	phaseChecking              // identity known, waiting for the gateway
	phaseResult                // a verdict is shown
	phaseFailed                // the presentation could not be read
)

// state is everything the window shows. It is only touched on the Fyne
// goroutine; widgets are rebuilt from it when the language changes.
type state struct {
	phase    phase
	checkID  string
	medium   patient.Medium
	progress events.Progress
	identity *patient.Identity
	result   *patient.Eligibility
	failure  *events.Failure
	alert    *events.AlertData
	askCAN   bool
	reveal   bool // show the full citizen ID
	shownAt  time.Time

	devices map[string]events.Device
	gateway events.Gateway
	outbox  int
	disk    events.Outbox // the data folder's state (refusing writes: disk full)
	clients int
	staff   patient.Staff
	recent  []recentCheck // this shift, newest first
	late    []lateAnswer  // answers for checks no longer on screen, newest first
	// his holds the checks a HIS app asked for (check ID → the app's name),
	// so the window labels them "HIS yêu cầu" rather than typed.
	his      map[string]string
	pending  []events.Pairing
	paired   []PairingInfo
	entryErr string // last error from a manual check
	typed    bool   // a typed check is on its way: its fields stay until the answer
	// mismatchField is the typed field the gateway disagreed with ("name",
	// "birthDate", "cardNumber") and mismatchHint what to show under it.
	mismatchField, mismatchHint string
	asciiWarned                 string // a name without accents already flagged once
}

// recentCheck is one line of the shift's recent checks.
type recentCheck struct {
	CheckID  string
	At       time.Time
	Identity patient.Identity
	Result   *patient.Eligibility
	HIS      bool   // a HIS app asked for it
	App      string // that app's name
}

// maxRecent bounds the recent-checks list.
const maxRecent = 100

func deviceKey(d events.Device) string { return string(d.Kind) + "\x00" + d.Name }

// apply renders one bus event. It runs on the Fyne goroutine.
func (u *UI) apply(ev events.Event) {
	st := &u.st
	switch d := ev.Data.(type) {
	case events.Device:
		st.devices[deviceKey(d)] = d
		u.renderStatus()
	case events.Gateway:
		st.gateway = d
		u.renderStatus()
	case events.Outbox:
		st.outbox = d.Pending
		st.disk = d
		u.renderStatus()
	case events.Clients:
		st.clients = d.Connected
		u.renderStatus()
		u.refreshPaired()
	case events.Presented:
		if d.HIS {
			if st.his == nil || len(st.his) >= 4*maxRecent {
				st.his = map[string]string{} // older ones are off the shift's list
			}
			st.his[d.CheckID] = d.App
		}
		st.checkID, st.medium = d.CheckID, d.Medium
		st.identity, st.result, st.failure, st.alert = nil, nil, nil, nil
		st.reveal, st.askCAN = false, false
		st.progress = events.Progress{CheckID: d.CheckID}
		st.phase = phaseChecking
		if d.Medium == patient.MediumChip {
			st.phase = phaseReading
		}
		u.renderMain()
	case events.Progress:
		if d.CheckID != st.checkID && st.checkID != "" {
			return
		}
		st.checkID = d.CheckID
		st.progress = d
		// A chip read that showed its verdict early (before the photo)
		// keeps the verdict on screen while the rest is read.
		if st.phase == phaseReading {
			u.renderBanner() // only the bar and the step change
			return
		}
		if st.phase != phaseResult {
			st.phase = phaseReading
		}
		u.renderMain()
	case events.Identity:
		if d.CheckID != st.checkID {
			// An identity always follows its check's presentation; one for
			// another check (a chip's photo after the screen moved on) only
			// fills in the shift's list.
			u.addRecent(d.CheckID, d.Identity, nil, ev.Time)
			u.renderRecent()
			return
		}
		id := d.Identity
		st.identity = &id
		st.medium = id.Medium
		st.askCAN = false
		if st.phase != phaseResult {
			st.phase = phaseChecking
		}
		u.addRecent(d.CheckID, id, nil, ev.Time)
		u.renderMain()
	case events.Result:
		e := d.Eligibility
		prev := u.addRecent(d.CheckID, d.Identity, &e, ev.Time)
		u.renderRecent()
		u.renderStatus() // the count of patients served
		if d.Background {
			// A check a HIS back-end ran quietly (announce: false): no
			// patient at the desk waits for it; the shift's list keeps it.
			return
		}
		if d.CheckID != st.checkID {
			// A late answer, for a patient the screen has moved on from
			// (another patient, or a screen cleared with Esc): it never
			// replaces the verdict shown; the late-results strip lists it.
			u.late(d.CheckID, d.Identity, e, prev)
			return
		}
		id := d.Identity
		// A chip read sends its photo after the verdict is known: keep the
		// fuller identity already shown for this check.
		if st.checkID == d.CheckID && st.identity != nil && hasPhoto(*st.identity) && !hasPhoto(id) {
			id = *st.identity
		}
		st.checkID = d.CheckID
		st.identity = &id
		st.result = &e
		st.failure = nil
		st.phase = phaseResult
		st.shownAt = u.now()
		u.renderMain()
		u.afterVerdict(e)
		if ev.Kind == events.EligibilityResult || prev == nil || styleOf(*prev).cue != styleOf(e).cue {
			u.cue(styleOf(e).cue)
		}
	case events.Failure:
		if d.CheckID != "" && st.checkID != "" && d.CheckID != st.checkID && st.phase == phaseResult {
			return
		}
		f := d
		st.failure = &f
		st.phase = phaseFailed
		st.askCAN = d.Medium == patient.MediumChip
		u.renderMain()
		u.cue(cueUnavailable)
	case events.AlertData:
		a := d
		if a.Code == AlertCANRequired {
			st.askCAN = true
			u.renderMain()
			u.focusCAN()
			return
		}
		st.alert = &a
		u.renderMain()
		u.cue(cueBad)
	case events.Pairing:
		if d.Ended {
			u.dropPairing(d.ID)
			return
		}
		st.pending = append(st.pending, d)
		u.renderPairings()
	}
}

// addRecent inserts or updates the recent-checks line for checkID and
// returns the result it held before.
func (u *UI) addRecent(checkID string, id patient.Identity, e *patient.Eligibility, at time.Time) *patient.Eligibility {
	st := &u.st
	for i := range st.recent {
		if st.recent[i].CheckID == checkID {
			prev := st.recent[i].Result
			st.recent[i].Identity = id
			if e != nil {
				st.recent[i].Result = e
			}
			return prev
		}
	}
	if at.IsZero() {
		at = u.now()
	}
	app, his := st.his[checkID]
	st.recent = append([]recentCheck{{CheckID: checkID, At: at, Identity: id, Result: e, HIS: his, App: app}}, st.recent...)
	if len(st.recent) > maxRecent {
		st.recent = st.recent[:maxRecent]
	}
	u.renderRecent()
	return nil
}

// clear returns the main screen to "waiting for a patient".
func (u *UI) clear() {
	st := &u.st
	st.phase = phaseIdle
	st.checkID = ""
	st.identity, st.result, st.failure, st.alert = nil, nil, nil, nil
	st.askCAN, st.reveal = false, false
	st.entryErr = ""
	st.typed, st.mismatchField, st.mismatchHint = false, "", ""
	u.clearEntry()
	u.reportScreen()
	u.renderMain()
}

// hasPhoto reports whether id carries a chip photo.
func hasPhoto(id patient.Identity) bool { return id.Chip != nil && len(id.Chip.Photo) > 0 }
