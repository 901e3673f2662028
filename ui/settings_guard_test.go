package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/words"
	"github.com/tiepdon/tiepdon/ui/internal/scenes"
)

// guardedFake is the window's actions with the IT lock and the gateway
// sign-in test of a real desk.
type guardedFake struct {
	*fakeActions
	pin    string // "" : no PIN set
	admin  bool
	tries  int
	wait   time.Duration
	tryErr error
	tested chan Settings
}

func (g *guardedFake) PINSet() bool { return g.pin != "" }
func (g *guardedFake) Admin() bool  { return g.admin }
func (g *guardedFake) Unlock(pin string) (bool, time.Duration) {
	g.tries++
	if g.wait > 0 {
		return false, g.wait
	}
	return pin == g.pin && pin != "", 0
}
func (g *guardedFake) TryGateway(s Settings) error {
	g.tested <- s
	return g.tryErr
}

func newGuardedHarness(t *testing.T, g *guardedFake) *harness {
	t.Helper()
	h := &harness{fake: g.fakeActions, beep: &recBeeper{}, clock: &clock{t: scenes.Now}, async: make(chan struct{}, 64), queue: make(chan func(), 1024)}
	h.u = New(test.NewTempApp(t), events.New(), g, Options{
		Language: "vi", Beeper: h.beep, Now: h.clock.now, Location: time.UTC, Size: fyne.NewSize(1200, 800),
	})
	h.u.onAsync = func() { h.async <- struct{}{} }
	h.u.do = func(f func()) { h.queue <- f }
	h.u.win.Resize(fyne.NewSize(1200, 800))
	t.Cleanup(h.u.Close)
	return h
}

// TestSettingsNeedITPIN: the settings are read-only until the IT PIN is
// typed (Enter submits); a wrong PIN says so; a lockout says how long;
// leaving the tab locks them again.
func TestSettingsNeedITPIN(t *testing.T) {
	g := &guardedFake{fakeActions: newFake(), pin: "246810", tested: make(chan Settings, 4)}
	h := newGuardedHarness(t, g)
	f := h.u.w.settings
	h.u.w.tabs.SelectIndex(3)
	if f.open || !f.url.Disabled() || !f.save.Disabled() || f.lockBox.Hidden || f.pin.Hidden {
		t.Fatalf("locked settings: open %v url disabled %v save disabled %v lock shown %v", f.open, f.url.Disabled(), f.save.Disabled(), !f.lockBox.Hidden)
	}
	test.Tap(f.save)
	if len(g.saved) != 0 {
		t.Fatal("a locked settings page saved")
	}
	test.Type(f.pin, "111111")
	f.pin.OnSubmitted(f.pin.Text)
	if f.open || f.lockText.Text != h.u.t("set.pin.wrong") {
		t.Errorf("wrong PIN: open %v, message %q", f.open, f.lockText.Text)
	}
	test.Type(f.pin, "246810")
	f.pin.OnSubmitted(f.pin.Text)
	if !f.open || f.url.Disabled() || f.save.Disabled() || !f.lockBox.Hidden {
		t.Fatalf("right PIN: open %v url disabled %v", f.open, f.url.Disabled())
	}
	if f.pin.Text != "" {
		t.Error("the PIN stays in its field")
	}
	h.u.w.tabs.SelectIndex(0)
	h.u.w.tabs.SelectIndex(3)
	if f.open || !f.url.Disabled() {
		t.Error("leaving the tab did not lock the settings again")
	}
	g.wait = 90 * time.Second
	test.Type(f.pin, "246810")
	test.Tap(f.unlock)
	if f.open || !strings.Contains(f.lockText.Text, "2 phút") {
		t.Errorf("locked out: open %v, message %q, want the wait in minutes", f.open, f.lockText.Text)
	}
}

// TestSettingsWithoutPIN: with no IT PIN set, only an OS administrator can
// change settings; anyone else is told how IT sets a PIN.
func TestSettingsWithoutPIN(t *testing.T) {
	h := newGuardedHarness(t, &guardedFake{fakeActions: newFake(), tested: make(chan Settings, 4)})
	f := h.u.w.settings
	if f.open || !f.pin.Hidden || !strings.Contains(f.lockText.Text, "tiepdon settings-pin") || !f.save.Disabled() {
		t.Errorf("no PIN, no administrator: open %v, PIN field shown %v, text %q", f.open, !f.pin.Hidden, f.lockText.Text)
	}
	h = newGuardedHarness(t, &guardedFake{fakeActions: newFake(), admin: true, tested: make(chan Settings, 4)})
	if f := h.u.w.settings; !f.open || f.url.Disabled() || !f.lockBox.Hidden {
		t.Errorf("administrator: open %v", f.open)
	}
}

// TestSettingsTestGateway: a changed gateway account that cannot sign in is
// not saved and the reason is shown; Save again saves it anyway.
func TestSettingsTestGateway(t *testing.T) {
	g := &guardedFake{fakeActions: newFake(), admin: true, tested: make(chan Settings, 4),
		tryErr: words.Error("gateway login: code 401", "cổng BHXH trả mã 401 khi đăng nhập")}
	h := newGuardedHarness(t, g)
	f := h.u.w.settings
	h.u.w.tabs.SelectIndex(3)
	f.url.SetText("https://egw.example.vn")
	test.Tap(f.save)
	if s := <-g.tested; s.GatewayURL != "https://egw.example.vn" {
		t.Errorf("tested %q", s.GatewayURL)
	}
	h.waitAsync(t)
	if len(g.saved) != 0 || !strings.Contains(f.msg.Text, "mã 401") || !strings.Contains(f.msg.Text, "Lưu lần nữa") {
		t.Fatalf("failed sign-in: %d saved, message %q", len(g.saved), f.msg.Text)
	}
	test.Tap(f.save)
	if s := <-g.saved; s.GatewayURL != "https://egw.example.vn" {
		t.Errorf("saved anyway %q", s.GatewayURL)
	}
	h.waitAsync(t)
	g.tryErr = nil
	f.user.SetText("01044_BV")
	test.Tap(f.save)
	<-g.tested
	h.waitAsync(t)
	if s := <-g.saved; s.GatewayUser != "01044_BV" {
		t.Errorf("a sign-in that works saved %q", s.GatewayUser)
	}
}

// TestSettingsLockedKeys: keys IT has locked (machine-wide file or fleet
// settings) stay read-only on an open page; the others can be changed.
func TestSettingsLockedKeys(t *testing.T) {
	fake := newFake()
	fake.settings.Locked = []string{"gateway.url", "gateway.password"}
	h := newGuardedHarness(t, &guardedFake{fakeActions: fake, admin: true, tested: make(chan Settings, 4)})
	f := h.u.w.settings
	h.u.loadSettings(f)
	h.u.lockSettings(f)
	if !f.open || !f.url.Disabled() || !f.password.Disabled() {
		t.Errorf("locked keys editable: open %v, url disabled %v, password disabled %v", f.open, f.url.Disabled(), f.password.Disabled())
	}
	if f.user.Disabled() || f.origins.Disabled() || f.save.Disabled() {
		t.Errorf("unlocked keys read-only: user %v, origins %v, save %v", f.user.Disabled(), f.origins.Disabled(), f.save.Disabled())
	}
}
