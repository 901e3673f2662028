package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tiepdon/tiepdon/agent/patient"
)

// lateAnswer is an answer that came for a check the screen no longer
// shows: another patient was scanned since, or staff cleared the screen.
// It waits in the late-results strip until staff open or dismiss it.
type lateAnswer struct {
	CheckID  string
	Identity patient.Identity
	Result   patient.Eligibility
	// CallBack: the patient left without a usable answer (none shown, or
	// "no result" / a staff problem), so staff must call them back.
	CallBack bool
}

// maxLateShown is how many late answers the strip lists; the rest are
// counted.
const maxLateShown = 3

// ScreenReporter is an optional extra of Actions: the window tells the
// agent which check it shows when staff change it (Esc clears the screen,
// "Mở" opens a late answer), so the agent marks the answers it publishes
// as current or late for the HIS as the window shows them.
type ScreenReporter interface {
	ShowCheck(checkID string)
}

// late records an answer for a check that is not on screen. The verdict
// on screen does not change; the strip shows the answer and a tone plays.
func (u *UI) late(checkID string, id patient.Identity, e patient.Eligibility, prev *patient.Eligibility) {
	st := &u.st
	callBack := prev == nil || prev.Verdict == patient.Unavailable || prev.Verdict == patient.StaffProblem
	for i, l := range st.late {
		if l.CheckID == checkID { // a newer answer for a late check already listed
			callBack = callBack || l.CallBack
			st.late = append(st.late[:i], st.late[i+1:]...)
			break
		}
	}
	st.late = append([]lateAnswer{{CheckID: checkID, Identity: id, Result: e, CallBack: callBack}}, st.late...)
	u.renderLate()
	u.relayoutMain()
	if u.beep != nil {
		u.beep.Beep(cueSounds[cueLate])
	}
}

// openLate shows a late answer on the main screen as the check on screen.
func (u *UI) openLate(checkID string) {
	st := &u.st
	for i, l := range st.late {
		if l.CheckID != checkID {
			continue
		}
		st.late = append(st.late[:i], st.late[i+1:]...)
		id, e := l.Identity, l.Result
		st.checkID = checkID
		st.medium = id.Medium
		st.identity, st.result = &id, &e
		st.failure, st.alert, st.askCAN, st.reveal = nil, nil, false, false
		st.phase = phaseResult
		st.shownAt = u.now()
		u.reportScreen()
		u.renderMain()
		return
	}
}

// dismissLate removes a late answer from the strip (it stays in the
// shift's list).
func (u *UI) dismissLate(checkID string) {
	st := &u.st
	for i, l := range st.late {
		if l.CheckID == checkID {
			st.late = append(st.late[:i], st.late[i+1:]...)
			break
		}
	}
	u.renderLate()
	u.relayoutMain()
}

// reportScreen tells the agent which check the screen shows.
func (u *UI) reportScreen() {
	if r, ok := u.act.(ScreenReporter); ok {
		r.ShowCheck(u.st.checkID)
	}
}

// renderLate renders the late-results strip and the window title, which
// counts late answers so the taskbar shows them while another program has
// the screen.
func (u *UI) renderLate() {
	st, w := &u.st, u.w
	title := u.opts.Title + " — " + u.t("app.subtitle")
	if n := len(st.late); n > 0 {
		title = u.t("late.wintitle", n) + " " + title
	}
	u.win.SetTitle(title)
	w.lateBox.RemoveAll()
	if len(st.late) == 0 {
		w.lateBox.Hide()
		return
	}
	for i, l := range st.late {
		if i == maxLateShown {
			w.lateBox.Add(small(u.t("late.more", len(st.late)-maxLateShown)))
			break
		}
		w.lateBox.Add(u.lateRow(l))
	}
	w.lateBox.Show()
	w.lateBox.Refresh()
}

// lateRow is one late answer: what it is, for whom, and open / dismiss.
func (u *UI) lateRow(l lateAnswer) fyne.CanvasObject {
	s := styleOf(l.Result)
	name := string(l.Identity.Name)
	if name == "" {
		name = string(l.Result.Holder)
	}
	if name == "" {
		name = u.t("late.noname")
	}
	head := u.t("late.title")
	if l.CallBack {
		head = u.t("late.callback")
	}
	text := widget.NewLabel(head + " · " + name)
	text.TextStyle.Bold = true
	text.Truncation = fyne.TextTruncateEllipsis
	// The verdict as a small badge in its colour: the strip itself stays
	// pale, so it is never mistaken for the verdict of the patient on screen.
	verdict := canvas.NewText(" "+u.t(s.titleKey)+" ", s.fg)
	verdict.TextStyle.Bold = true
	badgeBg := canvas.NewRectangle(s.bg)
	badgeBg.CornerRadius = 4
	badge := container.NewCenter(container.NewStack(badgeBg, container.NewPadded(verdict)))
	id := l.CheckID
	open := u.newButton(u.t("late.open"), theme.VisibilityIcon(), func() { u.openLate(id) })
	dismiss := u.newButton(u.t("late.dismiss"), theme.CancelIcon(), func() { u.dismissLate(id) })
	bg := canvas.NewRectangle(colLate)
	bg.CornerRadius = 6
	bg.StrokeColor = colAmber
	bg.StrokeWidth = 2
	if l.CallBack {
		bg.StrokeColor = colRed
		bg.StrokeWidth = 4
	}
	open.Importance = widget.HighImportance
	label := container.NewThemeOverride(container.NewBorder(nil, nil, widget.NewIcon(theme.HistoryIcon()), nil, text),
		&bannerTheme{base: u.app.Settings().Theme(), fg: colInk})
	row := container.NewBorder(nil, nil, nil, container.NewHBox(badge, open, dismiss), label)
	return container.NewStack(bg, container.NewPadded(row))
}
