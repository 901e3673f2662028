package ui

import (
	"image/color"
	"strings"

	"fyne.io/fyne/v2/widget"

	"github.com/tiepdon/tiepdon/agent/patient"
)

// cue is the sound and colour family of a verdict.
type cue int

// Cues.
const (
	cueNone        cue = iota
	cueGood            // green: admit under BHYT
	cueWarn            // amber: check documents, cached answer, fix the input
	cueBad             // red: not eligible, or an alert
	cueUnavailable     // grey: no answer
	cueLate            // a late answer for a patient no longer on screen (the strip, not the banner)
)

// verdictStyle is how a verdict looks on the banner.
type verdictStyle struct {
	cue      cue
	bg, fg   color.NRGBA
	titleKey string // catalogue key of the banner title
}

// Banner colours. Each pair has a contrast ratio of at least 4.5:1 (WCAG
// AA for large text is 3:1), so the banner reads from a metre away and on
// cheap screens.
var (
	colGreen = color.NRGBA{R: 0x15, G: 0x6b, B: 0x34, A: 0xff} // white on it: 6.6:1
	colAmber = color.NRGBA{R: 0xf5, G: 0xa5, B: 0x24, A: 0xff} // near-black on it: 8.7:1
	colRed   = color.NRGBA{R: 0xb4, G: 0x1c, B: 0x1c, A: 0xff} // white on it: 6.7:1
	colGrey  = color.NRGBA{R: 0x4b, G: 0x55, B: 0x63, A: 0xff} // white on it: 7.6:1
	colBlue  = color.NRGBA{R: 0x1d, G: 0x4e, B: 0xd8, A: 0xff} // white on it: 6.7:1
	colIdle  = color.NRGBA{R: 0xe5, G: 0xe7, B: 0xeb, A: 0xff}
	colLate  = color.NRGBA{R: 0xff, G: 0xf4, B: 0xd1, A: 0xff} // the late-results strip; near-black on it: 17:1
	colWhite = color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}
	colInk   = color.NRGBA{R: 0x11, G: 0x18, B: 0x27, A: 0xff}
)

// styleOf maps an answer to its banner. A cached "eligible" is amber, not
// green: staff must know the gateway did not confirm it today.
func styleOf(e patient.Eligibility) verdictStyle {
	switch e.Verdict {
	case patient.Eligible:
		if e.Source == patient.SourceCache {
			return verdictStyle{cueWarn, colAmber, colInk, "verdict.eligible.cached"}
		}
		if e.NewCard != nil {
			return verdictStyle{cueGood, colGreen, colWhite, "verdict.eligible.newcard"}
		}
		return verdictStyle{cueGood, colGreen, colWhite, "verdict.eligible"}
	case patient.CheckDocuments:
		return verdictStyle{cueWarn, colAmber, colInk, "verdict.check-documents"}
	case patient.InputMismatch:
		return verdictStyle{cueWarn, colAmber, colInk, "verdict.input-mismatch"}
	case patient.NotEligible:
		return verdictStyle{cueBad, colRed, colWhite, "verdict.not-eligible"}
	case patient.StaffProblem:
		return verdictStyle{cueUnavailable, colGrey, colWhite, "verdict.staff-problem"}
	}
	return verdictStyle{cueUnavailable, colGrey, colWhite, "verdict.unavailable"}
}

// reasonKeyOf is the catalogue key for a verdict's reason when the answer
// carries none.
func reasonKeyOf(e patient.Eligibility) string {
	switch e.Verdict {
	case patient.Eligible, patient.CheckDocuments, patient.NotEligible, patient.InputMismatch, patient.StaffProblem:
		return "reason." + string(e.Verdict)
	}
	return "reason.unavailable"
}

// renderFacilityNote says whether this facility (Options.Facility) is the
// patient's initial-registration facility (nơi đăng ký KCB ban đầu, maDKBD),
// naming the other one when it is not.
func (u *UI) renderFacilityNote(code, name string) {
	l := u.w.facNote
	here := strings.TrimSpace(u.opts.Facility)
	if here == "" || code == "" {
		l.Hide()
		return
	}
	if strings.EqualFold(code, here) {
		l.Importance = widget.SuccessImportance
		l.SetText(u.t("card.facility.here"))
	} else {
		other := code
		if name != "" {
			other = name + " (" + code + ")"
		}
		l.Importance = widget.MediumImportance
		l.SetText(u.t("card.facility.elsewhere", other))
	}
	l.Show()
}
