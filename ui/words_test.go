package ui

import (
	"testing"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/ui/internal/scenes"
)

// TestRegisteredFacility: the card panel names the registered facility
// and says whether it is this one (Options.Facility).
func TestRegisteredFacility(t *testing.T) {
	show := func(lang, here string, e patient.Eligibility) *harness {
		h := newHarness(t, lang, false)
		h.u.opts.Facility = here
		e.Source, e.CheckedAt = patient.SourceLive, scenes.Now
		h.play([]scenes.Step{{Kind: events.CardPresented, Data: events.Presented{CheckID: "c1", Medium: patient.MediumTyped}},
			{Kind: events.EligibilityResult, Data: events.Result{CheckID: "c1", Eligibility: e}}})
		return h
	}
	e := patient.Eligibility{Verdict: patient.Eligible, Code: "000", CardNumber: "DN4010123456789",
		RegisteredFacility: "01043", FacilityName: "Bệnh viện đa khoa Đống Đa"}

	h := show("vi", "01043", e)
	if w := h.u.w; !w.facNote.Visible() || w.facNote.Text != "Đúng tuyến: đăng ký KCB ban đầu tại cơ sở này" {
		t.Errorf("this facility: note %q shown %v", w.facNote.Text, w.facNote.Visible())
	}
	if got := h.u.w.facility.Text; got != "01043 – Bệnh viện đa khoa Đống Đa" {
		t.Errorf("facility row %q lacks the gateway's name", got)
	}

	h = show("vi", "79014", e)
	want := "Nơi đăng ký KCB ban đầu: Bệnh viện đa khoa Đống Đa (01043), không phải cơ sở này"
	if w := h.u.w; !w.facNote.Visible() || w.facNote.Text != want {
		t.Errorf("another facility: note %q shown %v, want %q", w.facNote.Text, w.facNote.Visible(), want)
	}

	e.FacilityName = "" // the gateway gave the code only
	h = show("en", "79014", e)
	if w := h.u.w; w.facNote.Text != "Initial registration: 01043, not this facility" {
		t.Errorf("code only, English: note %q", w.facNote.Text)
	}

	h = show("vi", "", e) // the desk's facility code is not configured: say nothing
	if h.u.w.facNote.Visible() {
		t.Errorf("note %q shown with no facility configured", h.u.w.facNote.Text)
	}
}
