package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/ui/internal/scenes"
)

// TestHISCheckLabelled: a check a HIS app asked for is labelled with the
// app, on the main screen and in the shift's list, not "typed".
func TestHISCheckLabelled(t *testing.T) {
	h := newHarness(t, "vi", false)
	typed := scenes.Dung // typed identity, as a HIS sends it
	e := patient.Eligibility{Verdict: patient.Eligible, Code: "000", Source: patient.SourceLive, CardNumber: typed.CardNumber}
	h.play([]scenes.Step{
		{Kind: events.CardPresented, Data: events.Presented{CheckID: "h1", Medium: patient.MediumTyped, HIS: true, App: "HIS Đống Đa"}},
		{Kind: events.EligibilityResult, Data: events.Result{CheckID: "h1", Identity: typed, Eligibility: e, Current: true}},
	})
	prov := h.u.w.provenance.Text
	if !strings.Contains(prov, "HIS yêu cầu (HIS Đống Đa)") || strings.Contains(prov, "nhập tay") {
		t.Errorf("the HIS's check reads %q", prov)
	}
	if row := labelsIn(h.u.w.recentBox); !strings.Contains(row, "HIS yêu cầu (HIS Đống Đa)") || strings.Contains(row, "nhập tay") {
		t.Errorf("the shift's list reads %q", row)
	}
	// The same identity typed at the desk is "typed".
	h.play([]scenes.Step{
		{Kind: events.CardPresented, Data: events.Presented{CheckID: "d1", Medium: patient.MediumTyped}},
		{Kind: events.EligibilityResult, Data: events.Result{CheckID: "d1", Identity: typed, Eligibility: e, Current: true}},
	})
	if prov := h.u.w.provenance.Text; !strings.Contains(prov, "nhập tay") || strings.Contains(prov, "HIS") {
		t.Errorf("a desk check reads %q", prov)
	}
	if first := labelsIn(h.u.w.recentBox.Objects[0]); !strings.Contains(first, "nhập tay") {
		t.Errorf("the desk check's line reads %q", first)
	}
}

// TestRecentSearch: the shift's list filters by name without accents,
// the last digits of a card or citizen ID, and the result code.
func TestRecentSearch(t *testing.T) {
	h := newHarness(t, "vi", false)
	for _, name := range []string{"eligible", "not-eligible", "check-documents"} {
		h.play(sceneNamed(t, name).Steps)
	}
	for _, c := range []struct {
		q    string
		want []string // names listed
	}{
		{"", []string{"Lê Văn Cường", "Phạm Thị Dung", "Nguyễn Văn An"}},
		{"cuong", []string{"Lê Văn Cường"}},
		{"NGUYỄN an", []string{"Nguyễn Văn An"}},
		{"3445", []string{"Phạm Thị Dung"}},     // last digits of the card
		{"3456", []string{"Nguyễn Văn An"}},     // last digits of the citizen ID
		{"010", []string{"Phạm Thị Dung"}},      // the result code
		{"dn40", []string{"Nguyễn Văn An"}},     // the start of a card number
		{"thi", []string{"Phạm Thị Dung"}},      // a word of the name
		{"van 3445", nil},                       // both words must match
		{"0123", nil},                           // digits inside a number: not the last digits
		{"không đủ", []string{"Phạm Thị Dung"}}, // the verdict's words
	} {
		h.u.w.recentSearch.SetText(c.q)
		got := labelsIn(h.u.w.recentBox)
		for _, n := range []string{"Lê Văn Cường", "Phạm Thị Dung", "Nguyễn Văn An"} {
			want := false
			for _, w := range c.want {
				want = want || w == n
			}
			if strings.Contains(got, n) != want {
				t.Errorf("search %q: %s listed %v, want %v (%s)", c.q, n, !want, want, got)
			}
		}
		if c.want == nil && !strings.Contains(got, "Không có lượt nào khớp") {
			t.Errorf("search %q: no 'nothing matches' line: %s", c.q, got)
		}
	}
}

// TestRecentOpensFullResult: a line of the shift's list opens the stored
// result in full, with the citizen ID masked until "Hiện", copy buttons,
// and Re-check.
func TestRecentOpensFullResult(t *testing.T) {
	h := newHarness(t, "vi", false)
	for _, name := range []string{"eligible", "not-eligible"} {
		h.play(sceneNamed(t, name).Steps)
	}
	h.u.w.tabs.SelectIndex(1)
	test.Tap(findButtonIn(t, h.u.w.recentBox, 1, h.u.t("recent.open"))) // An, eligible
	got := dialogText(h.u.win)
	for _, want := range []string{"ĐỦ ĐIỀU KIỆN BHYT", "Mã 000", "Nguyễn Văn An", "0010******56", "01043 – Bệnh viện Đa khoa Đống Đa", "chip"} {
		if !strings.Contains(got, want) {
			t.Errorf("the opened result lacks %q: %s", want, got)
		}
	}
	if strings.Contains(got, "001090123456") {
		t.Errorf("the full citizen ID shows before Hiện: %s", got)
	}
	tapDialogButton(t, h.u.win, h.u.t("patient.reveal"))
	if got := dialogText(h.u.win); !strings.Contains(got, "001090123456") {
		t.Errorf("Hiện does not show the citizen ID: %s", got)
	}
	tapDialogIcon(t, h.u.win, 1) // the citizen ID's copy button, once shown
	if c := h.u.app.Clipboard().Content(); c != "001090123456" {
		t.Errorf("copied %q, want the citizen ID", c)
	}
	tapDialogButton(t, h.u.win, h.u.t("action.recheck.short"))
	if id := <-h.fake.checks; id.CitizenID != scenes.An.CitizenID {
		t.Errorf("re-checked %+v", id)
	}
	if h.u.win.Canvas().Overlays().Top() != nil {
		t.Error("the dialog stayed open after Re-check")
	}
}

// TestCopyFromMainScreen: the name, the card number and (only after
// "Hiện") the citizen ID go to the clipboard with one click.
func TestCopyFromMainScreen(t *testing.T) {
	h := newHarness(t, "vi", false)
	h.play(sceneNamed(t, "eligible").Steps)
	w := h.u.w
	test.Tap(w.copyCard)
	if c := h.u.app.Clipboard().Content(); c != string(sceneEligibleCard(h)) || c == "" {
		t.Errorf("copied %q for the card number", c)
	}
	test.Tap(w.copyName)
	if c := h.u.app.Clipboard().Content(); c != "Nguyễn Văn An" {
		t.Errorf("copied %q for the name", c)
	}
	if w.copyCID.Visible() {
		t.Error("the citizen ID can be copied while masked")
	}
	h.u.toggleReveal()
	if !w.copyCID.Visible() {
		t.Fatal("no copy button for the citizen ID once shown")
	}
	test.Tap(w.copyCID)
	if c := h.u.app.Clipboard().Content(); c != "001090123456" {
		t.Errorf("copied %q for the citizen ID", c)
	}
	h.u.toggleReveal()
	if w.copyCID.Visible() {
		t.Error("the citizen ID can still be copied once hidden again")
	}
}

func sceneEligibleCard(h *harness) patient.CardNumber { return h.u.st.result.CardNumber }

// tapDialogIcon taps the n-th icon-only button (a copy button) of the
// top overlay.
func tapDialogIcon(t *testing.T, win fyne.Window, n int) {
	t.Helper()
	var found []*wedgeButton
	deepWalk(win.Canvas().Overlays().Top(), func(o fyne.CanvasObject) {
		if b, ok := o.(*wedgeButton); ok && b.Text == "" && b.Visible() {
			found = append(found, b)
		}
	})
	if len(found) <= n {
		t.Fatalf("the dialog has %d copy buttons, want more than %d", len(found), n)
	}
	test.Tap(found[n])
}

// TestFocusAfterEveryVerdict: whatever had the focus (a field of the
// last patient, a button, nothing), every verdict leaves it in the card
// number, where the next patient starts; a wedge scan and F2 work from
// there.
func TestFocusAfterEveryVerdict(t *testing.T) {
	n := 0
	for _, sc := range scenes.All() {
		if sc.Verdict == "" || sc.Lang == "en" {
			continue
		}
		n++
		h := newHarness(t, "vi", false)
		for _, before := range []fyne.Focusable{h.u.w.dobEntry, h.u.w.clearBtn, nil} {
			c := h.u.win.Canvas()
			if before == nil {
				c.Unfocus()
			} else {
				c.Focus(before)
			}
			h.u.clear()
			if before != nil {
				c.Focus(before)
			}
			h.play(sc.Steps)
			if c.Focused() != h.u.w.numEntry {
				t.Errorf("%s, focus before %T: focus after the verdict in %T, want the card number", sc.Name, before, c.Focused())
			}
		}
	}
	if n < 5 {
		t.Fatalf("only %d verdict scenes", n)
	}
}
