package ui

import (
	"testing"

	"fyne.io/fyne/v2"

	"github.com/tiepdon/tiepdon/ui/internal/scenes"
)

// TestFitsTheDesk: every scene fits the working area of a 1280×720 or
// 1366×768 screen with a Windows taskbar (about 680 px high, less the
// title bar): the window's minimum size never exceeds deskSize, so the
// status bar and the manual entry stay on screen.
func TestFitsTheDesk(t *testing.T) {
	for _, sc := range scenes.All() {
		h := newHarness(t, sc.Lang, false)
		h.play(sc.Steps)
		min := h.u.win.Content().MinSize()
		if min.Width > deskSize.Width || min.Height > deskSize.Height {
			t.Errorf("%s: the window needs %v, more than the desk's %v", sc.Name, min, deskSize)
		}
	}
	_ = fyne.NewSize
}

// TestCheckButtonOnScreen: at the desk's size, with a typing error shown,
// the check button and the error are inside the window (the fields above
// them may scroll; these do not).
func TestCheckButtonOnScreen(t *testing.T) {
	h := newHarness(t, "vi", false)
	h.play(scenes.All()[2].Steps) // eligible: the tallest patient panel
	h.u.win.Resize(deskSize)
	w := h.u.w
	w.numEntry.SetText("DN6")
	h.u.submitManual()
	win := h.u.win.Canvas().Size()
	d := fyne.CurrentApp().Driver()
	for name, o := range map[string]fyne.CanvasObject{"check button": w.checkBtn, "entry error": w.entryErr} {
		pos := d.AbsolutePositionForObject(o)
		if !o.Visible() || pos.Y+o.Size().Height > win.Height || o.Size().Height == 0 {
			t.Errorf("%s at %v size %v, window %v", name, pos, o.Size(), win)
		}
	}
}
