package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/ui/internal/scenes"
)

// deepWalk visits o and everything under it, widgets' renderers included
// (dialogs are widgets drawn by their renderer).
func deepWalk(o fyne.CanvasObject, f func(fyne.CanvasObject)) {
	f(o)
	switch c := o.(type) {
	case *fyne.Container:
		for _, o := range c.Objects {
			deepWalk(o, f)
		}
	case fyne.Widget:
		for _, o := range test.WidgetRenderer(c).Objects() {
			deepWalk(o, f)
		}
	}
}

// tapDialogButton taps the button labelled text in the top overlay.
func tapDialogButton(t *testing.T, win fyne.Window, text string) {
	t.Helper()
	top := win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatalf("no dialog open to tap %q in", text)
	}
	var found fyne.Tappable
	deepWalk(top, func(o fyne.CanvasObject) {
		switch b := o.(type) {
		case *widget.Button:
			if b.Text == text && found == nil {
				found = b
			}
		case *wedgeButton:
			if b.Text == text && found == nil {
				found = b
			}
		}
	})
	if found == nil {
		t.Fatalf("no %q button in the dialog", text)
	}
	test.Tap(found)
}

// dialogText joins the texts of the top overlay.
func dialogText(win fyne.Window) string {
	top := win.Canvas().Overlays().Top()
	if top == nil {
		return ""
	}
	return textsIn(top, deepWalk)
}

// TestPairingRequests: a request shows the app's name, origin, what it
// asks for and a countdown on one line of the main screen; several
// collapse into a badge of the same height that opens the pairing tab,
// which lists each in full; a request past its expiry goes away, and one
// the agent says is over (approved from the command line) at once.
func TestPairingRequests(t *testing.T) {
	h := newHarness(t, "vi", false)
	h.play(sceneNamed(t, "eligible").Steps)
	patientAt := func() float32 {
		return fyne.CurrentApp().Driver().AbsolutePositionForObject(h.u.w.patientCard).Y
	}
	stripH := func() float32 { return h.u.w.pairStrip.MinSize().Height }
	noStrip := stripH()
	exp := scenes.Now.Add(2 * time.Minute)
	req := func(id, name, origin string) events.Pairing {
		return events.Pairing{ID: id, Name: name, Origin: origin, Code: "12345" + id[1:], Scopes: []string{"eligibility", "photo"}, Expires: exp}
	}
	h.u.apply(events.Event{Kind: events.PairingRequested, Data: req("p1", "HIS Đống Đa", "https://his.example.vn")})
	one := labelsIn(h.u.w.pairStrip)
	for _, want := range []string{"HIS Đống Đa (https://his.example.vn) xin kết nối", "kết quả BHYT, ảnh chân dung", "còn 2:00", "123451"} {
		if !strings.Contains(one, want) {
			t.Errorf("the request line lacks %q: %s", want, one)
		}
	}
	oneH, oneY := stripH(), patientAt()
	if oneH <= noStrip {
		t.Fatal("the request is not on the main screen")
	}
	h.u.apply(events.Event{Kind: events.PairingRequested, Data: req("p2", "", "app:Máy chủ HIS")})
	h.u.apply(events.Event{Kind: events.PairingRequested, Data: req("p3", "Phòng khám", "https://pk.example.vn")})
	badge := labelsIn(h.u.w.pairStrip)
	if !strings.Contains(badge, "3 yêu cầu kết nối đang chờ") {
		t.Errorf("no badge for three requests: %s", badge)
	}
	if strings.Contains(badge, "123452") {
		t.Errorf("the badge shows a request's code: %s", badge)
	}
	if stripH() != oneH || patientAt() != oneY {
		t.Errorf("the patient panel moved: strip %v→%v, panel at %v→%v", oneH, stripH(), oneY, patientAt())
	}
	test.Tap(findButton(t, h.u.w.pairStrip, h.u.t("pair.badge.open")))
	if h.u.w.tabs.SelectedIndex() != 2 {
		t.Fatal("the badge does not open the pairing tab")
	}
	all := labelsIn(h.u.w.pendingBox)
	for _, want := range []string{"HIS Đống Đa (https://his.example.vn)", "Máy chủ HIS (ngoài trình duyệt)", "Phòng khám (https://pk.example.vn)", "còn 2:00"} {
		if !strings.Contains(all, want) {
			t.Errorf("the pairing tab lacks %q: %s", want, all)
		}
	}
	// The countdown runs each second; at expiry the request goes.
	h.clock.mu.Lock()
	h.clock.t = scenes.Now.Add(75 * time.Second)
	h.clock.mu.Unlock()
	h.u.tickPairings()
	if all := labelsIn(h.u.w.pendingBox); !strings.Contains(all, "còn 0:45") {
		t.Errorf("the countdown did not run: %s", all)
	}
	h.u.st.pending[2].Expires = scenes.Now.Add(10 * time.Minute) // one lasts longer
	h.clock.mu.Lock()
	h.clock.t = exp
	h.clock.mu.Unlock()
	h.u.tickPairings()
	if len(h.u.st.pending) != 1 || h.u.st.pending[0].ID != "p3" {
		t.Fatalf("expired requests kept: %+v", h.u.st.pending)
	}
	if one := labelsIn(h.u.w.pairStrip); !strings.Contains(one, "Phòng khám (https://pk.example.vn) xin kết nối") || !strings.Contains(one, "còn 8:00") {
		t.Errorf("the last request is not back on one line: %s", one)
	}
	// IT approved it with tiepdon pairing approve (or the app left): the
	// agent says it is over and the line goes at once, not at its expiry.
	h.u.apply(events.Event{Kind: events.PairingRequested, Data: events.Pairing{ID: "p3", Ended: true}})
	if len(h.u.st.pending) != 0 || stripH() != noStrip {
		t.Errorf("a request that ended is still shown: %+v (strip %v, %v without)", h.u.st.pending, stripH(), noStrip)
	}
}
