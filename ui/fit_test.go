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
