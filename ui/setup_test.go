package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/ui/internal/scenes"
)

// TestSetupBanner: what start-up could not use (a broken settings file)
// stays in the alert strip, in the window's language, until a patient
// alert needs the strip.
func TestSetupBanner(t *testing.T) {
	u := New(test.NewTempApp(t), events.New(), newFake(), Options{Language: "vi", Now: func() time.Time { return scenes.Now },
		Location: time.UTC, Size: fyne.NewSize(1200, 800), Beeper: &recBeeper{},
		Setup: []SetupIssue{{VI: "Tệp cài đặt của người dùng bị lỗi và đã được để sang bên.", EN: "The user's settings file is broken and was set aside."}}})
	t.Cleanup(u.Close)
	if !u.w.alertBox.Visible() || !strings.Contains(u.w.alertText.Text, "Cần IT cài đặt: Tệp cài đặt của người dùng bị lỗi") {
		t.Fatalf("setup strip shown %v: %q", u.w.alertBox.Visible(), u.w.alertText.Text)
	}
	u.apply(events.Event{Seq: 1, Time: scenes.Now, Kind: events.Alert, Data: events.AlertData{Code: "clone-suspected"}})
	if !strings.Contains(u.w.alertText.Text, "sao chép") {
		t.Errorf("a patient alert did not take the strip: %q", u.w.alertText.Text)
	}
}
