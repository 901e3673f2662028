package ui

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/agent/words"
	"github.com/tiepdon/tiepdon/ui/internal/scenes"
)

// fakeActions is an in-memory agent: it records what the window asked.
type fakeActions struct {
	mu       sync.Mutex
	checks   chan patient.Identity
	scans    chan string
	cans     chan string
	staff    []patient.Staff
	block    chan struct{} // when set, Check waits on it
	checkErr error
	settings Settings
	saved    chan Settings
	paired   []PairingInfo
	revoked  chan string
	sims     int
}

func newFake() *fakeActions {
	return &fakeActions{
		checks: make(chan patient.Identity, 16), scans: make(chan string, 16), cans: make(chan string, 4),
		saved: make(chan Settings, 4), revoked: make(chan string, 4),
		settings: Settings{
			GatewayURL: "https://egw.baohiemxahoi.gov.vn", GatewayUser: "01043_BV", PasswordStored: true, PasswordInKeyring: true,
			Readers: []string{"ACS ACR1252 Dual Reader PICC 00 00"}, Scanners: []string{"/dev/ttyACM0"},
			HISOrigins: []string{"https://his.benhvien-dongda.vn"}, RetentionDays: 30, Language: "vi",
		},
		paired: []PairingInfo{{ID: "p9", Origin: "https://his.benhvien-dongda.vn", Name: "HIS Đống Đa",
			Scopes: []string{"eligibility", "identity"}, Since: scenes.Now.Add(-72 * time.Hour)}},
	}
}

func (f *fakeActions) Check(ctx context.Context, id patient.Identity) (string, error) {
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	f.checks <- id
	return "typed-1", f.checkErr
}

func (f *fakeActions) SetStaff(s patient.Staff) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.staff = append(f.staff, s)
}

func (f *fakeActions) Scan(p string)             { f.scans <- p }
func (f *fakeActions) ProvideCAN(c string) error { f.cans <- c; return nil }
func (f *fakeActions) SimulateScan() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sims++
	return nil
}
func (f *fakeActions) Settings() Settings { return f.settings }
func (f *fakeActions) SaveSettings(s Settings) error {
	f.saved <- s
	return nil
}
func (f *fakeActions) Pairings() []PairingInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]PairingInfo(nil), f.paired...)
}
func (f *fakeActions) RevokePairing(id string) error {
	f.mu.Lock()
	f.paired = nil
	f.mu.Unlock()
	f.revoked <- id
	return nil
}

// recBeeper records the sounds played.
type recBeeper struct{ played [][]byte }

func (r *recBeeper) Beep(wav []byte) { r.played = append(r.played, wav) }

// clock is a fake clock that moves forward by step at each reading.
type clock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	c.t = c.t.Add(c.step)
	return t
}

func (c *clock) setStep(d time.Duration) {
	c.mu.Lock()
	c.step = d
	c.mu.Unlock()
}

type harness struct {
	u     *UI
	fake  *fakeActions
	beep  *recBeeper
	clock *clock
	async chan struct{}
	queue chan func() // updates bound for the Fyne goroutine
}

func newHarness(t *testing.T, lang string, demo bool) *harness {
	t.Helper()
	a := test.NewTempApp(t)
	h := &harness{fake: newFake(), beep: &recBeeper{}, clock: &clock{t: scenes.Now}, async: make(chan struct{}, 64), queue: make(chan func(), 1024)}
	h.u = New(a, events.New(), h.fake, Options{
		Language: lang, Demo: demo, Beeper: h.beep, Now: h.clock.now, Location: time.UTC, Size: fyne.NewSize(1200, 800),
	})
	h.u.onAsync = func() { h.async <- struct{}{} }
	h.u.do = func(f func()) { h.queue <- f }
	h.u.win.Resize(fyne.NewSize(1200, 800))
	// Signed in for the shift, as at the counter (TestShiftSignIn starts
	// from no one).
	h.u.st.staff = testStaff
	h.u.renderStaff()
	h.u.renderMain()
	t.Cleanup(h.u.Close)
	return h
}

var testStaff = patient.Staff{Name: "Lê Thị Hoa", CitizenID: "001190012345"}

// play applies a scene's events directly, as the event loop would.
func (h *harness) play(steps []scenes.Step) {
	for i, s := range steps {
		h.u.apply(events.Event{Seq: uint64(i + 1), Time: scenes.Now, Kind: s.Kind, Data: s.Data})
	}
}

// waitAsync runs queued updates on the test goroutine (standing in for
// the Fyne goroutine) until one from an async call has run.
func (h *harness) waitAsync(t *testing.T) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case f := <-h.queue:
			f()
		case <-deadline:
			t.Fatal("async call did not finish")
		}
		select {
		case <-h.async:
			return
		default:
		}
	}
}

// pump runs queued updates until pred holds.
func (h *harness) pump(t *testing.T, pred func() bool) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for !pred() {
		select {
		case f := <-h.queue:
			f()
		case <-deadline:
			t.Fatal("updates did not arrive")
		}
	}
}

// TestScenes renders every scene (each verdict state and the main flows)
// and compares it with its golden markup under testdata/.
func TestScenes(t *testing.T) {
	for _, sc := range scenes.All() {
		t.Run(sc.Name, func(t *testing.T) {
			h := newHarness(t, sc.Lang, false)
			h.play(sc.Steps)
			assertScreen(t, "scene_"+sc.Name, h.u.win.Canvas())
		})
	}
}

// TestVerdictBanner checks the banner's words, colours and sound for each
// verdict, independently of the goldens.
func TestVerdictBanner(t *testing.T) {
	for _, sc := range scenes.All() {
		if sc.Verdict == "" || sc.Lang != "" {
			continue
		}
		t.Run(sc.Name, func(t *testing.T) {
			h := newHarness(t, "vi", false)
			h.play(sc.Steps)
			e := *h.u.st.result
			if e.Verdict != sc.Verdict {
				t.Fatalf("state verdict %q, want %q", e.Verdict, sc.Verdict)
			}
			s := styleOf(e)
			w := h.u.w
			if w.bannerTitle.Text != h.u.t(s.titleKey) || w.bannerTitle.Color != s.fg {
				t.Errorf("title %q %v, want %q %v", w.bannerTitle.Text, w.bannerTitle.Color, h.u.t(s.titleKey), s.fg)
			}
			if w.bannerBg.FillColor != s.bg {
				t.Errorf("banner colour %v, want %v (the flash must end on it)", w.bannerBg.FillColor, s.bg)
			}
			if !strings.Contains(w.bannerReason.Text, e.ReasonVI) {
				t.Errorf("reason %q lacks the gateway's Vietnamese reason %q", w.bannerReason.Text, e.ReasonVI)
			}
			if e.NextVI == "" {
				t.Errorf("scene %s has no next step: every verdict says what to do next", sc.Name)
			} else if !w.bannerNext.Visible() || !strings.Contains(w.bannerNext.Text, e.NextVI) {
				t.Errorf("next step %q (shown %v), want %q", w.bannerNext.Text, w.bannerNext.Visible(), e.NextVI)
			}
			if again := w.bannerAction.Visible(); again != (e.Verdict == patient.StaffProblem) {
				t.Errorf("the sign-in-again button shown = %v for %s", again, e.Verdict)
			}
			played := false
			for _, p := range h.beep.played {
				played = played || string(p) == string(cueSounds[s.cue])
			}
			if !played {
				t.Errorf("sound cue not played for %s", sc.Name)
			}
		})
	}
	want := map[patient.Verdict]cue{
		patient.Eligible: cueGood, patient.CheckDocuments: cueWarn, patient.InputMismatch: cueWarn,
		patient.NotEligible: cueBad, patient.StaffProblem: cueUnavailable, patient.Unavailable: cueUnavailable,
	}
	for v, c := range want {
		if got := styleOf(patient.Eligibility{Verdict: v, Source: patient.SourceLive}).cue; got != c {
			t.Errorf("%s: cue %d, want %d", v, got, c)
		}
	}
	if styleOf(patient.Eligibility{Verdict: patient.Eligible, Source: patient.SourceCache}).bg != colAmber {
		t.Error("a cached eligible answer is not amber")
	}
}

func TestRevealCitizenID(t *testing.T) {
	h := newHarness(t, "vi", false)
	h.play(scenes.All()[2].Steps) // eligible
	if got := h.u.w.cid.Text; got != "0010******56" {
		t.Fatalf("citizen ID shown as %q before reveal", got)
	}
	test.Tap(h.u.w.reveal)
	if got := h.u.w.cid.Text; got != "001090123456" {
		t.Errorf("after reveal %q", got)
	}
	test.Tap(h.u.w.reveal)
	if got := h.u.w.cid.Text; got != "0010******56" {
		t.Errorf("after hide %q", got)
	}
	// A new patient starts masked again.
	h.play(scenes.All()[3].Steps)
	if got := h.u.w.cid.Text; got != "0791******21" {
		t.Errorf("next patient shown as %q", got)
	}
}

func TestManualEntryFlow(t *testing.T) {
	h := newHarness(t, "vi", false)
	w := h.u.w
	h.clock.setStep(200 * time.Millisecond) // a person typing
	h.u.win.Canvas().Focus(w.numEntry)
	test.Type(w.numEntry, "dn4010123456789")
	if !strings.Contains(w.numHint.Text, "mức 4 (80%), tỉnh 01") {
		t.Errorf("number hint %q", w.numHint.Text)
	}
	test.Type(w.nameEntry, "Nguyễn Văn An")
	test.Type(w.dobEntry, "02/01/1990")
	if w.dobHint.Text != "Ngày sinh: 02/01/1990" {
		t.Errorf("dob hint %q", w.dobHint.Text)
	}
	assertScreen(t, "flow_manual_typed", h.u.win.Canvas())
	w.dobEntry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	select {
	case id := <-h.fake.checks:
		if id.CardNumber != "DN4010123456789" || id.Name != "Nguyễn Văn An" || id.BirthDate != (patient.Date{Year: 1990, Month: 1, Day: 2}) || id.Medium != patient.MediumTyped {
			t.Errorf("checked %+v", id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Enter did not start a check")
	}
	h.waitAsync(t)
	if w.numEntry.Text != "dn4010123456789" || w.nameEntry.Text != "Nguyễn Văn An" {
		t.Error("typed fields not kept while the check runs")
	}
	if len(h.fake.scans) != 0 {
		t.Error("typing was taken for a scan")
	}
	typed := patient.Identity{Medium: patient.MediumTyped, CardNumber: "DN4010123456789", Name: "Nguyễn Văn An"}
	// The gateway disagrees with the name (060): the fields stay, the name
	// is marked with the gateway's own spelling and has the focus.
	h.play(append(present2("t1", typed), scenes.Step{Kind: events.EligibilityResult, Data: events.Result{CheckID: "t1", Identity: typed,
		Eligibility: patient.Eligibility{Verdict: patient.InputMismatch, Code: "060", Field: "name", Holder: "Nguyễn Văn Ân"}}}))
	if w.numEntry.Text != "dn4010123456789" || w.nameEntry.Text != "Nguyễn Văn An" || w.dobEntry.Text != "02/01/1990" {
		t.Errorf("a mismatch cleared what was typed: %q %q %q", w.numEntry.Text, w.nameEntry.Text, w.dobEntry.Text)
	}
	if w.nameHint.Text != "Cổng BHXH ghi: Nguyễn Văn Ân" || w.nameHint.Importance != widget.DangerImportance {
		t.Errorf("name hint %q", w.nameHint.Text)
	}
	if h.u.win.Canvas().Focused() != w.nameEntry {
		t.Error("focus not in the name the gateway disagreed with")
	}
	// Corrected and sent again: the answer empties the form and the focus
	// waits in the card number for the next patient.
	w.nameEntry.SetText("Nguyễn Văn Ân")
	w.nameEntry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	<-h.fake.checks
	h.waitAsync(t)
	h.play(append(present2("t2", typed), scenes.Step{Kind: events.EligibilityResult, Data: events.Result{CheckID: "t2", Identity: typed,
		Eligibility: patient.Eligibility{Verdict: patient.Eligible, Code: "000"}}}))
	if w.numEntry.Text != "" || w.nameEntry.Text != "" || w.dobEntry.Text != "" {
		t.Error("form not emptied after the verdict")
	}
	if h.u.win.Canvas().Focused() != w.numEntry {
		t.Error("after a verdict the focus is not in the card number")
	}
}

// TestNoStaffRefusesChecks: before anyone signs in a check is refused with
// a plain instruction and the sign-in opens; Enter moves from the name to
// the CCCD and signs in (two keys besides what is typed); an error keeps
// the dialog open with the focus in the field at fault.
func TestNoStaffRefusesChecks(t *testing.T) {
	h := newHarness(t, "vi", false)
	h.u.st.staff = patient.Staff{}
	h.clock.setStep(200 * time.Millisecond) // a person typing
	w := h.u.w
	test.Type(w.numEntry, "DN4010123456789")
	h.u.submitManual()
	if !strings.Contains(w.entryErr.Text, "Chưa đăng nhập ca") || len(h.fake.checks) != 0 {
		t.Fatalf("check without staff: err %q, %d checks", w.entryErr.Text, len(h.fake.checks))
	}
	if w.signIn == nil || h.u.win.Canvas().Focused() != w.signInName {
		t.Fatal("sign-in not opened with the focus in the name")
	}
	name := w.signInName
	test.Type(name, "Lê Thị Hoa")
	name.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	id, ok := h.u.win.Canvas().Focused().(*wedgeEntry)
	if !ok || id == name {
		t.Fatal("Enter in the name did not move to the CCCD")
	}
	test.Type(id, "00119001234") // 11 digits
	id.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if h.u.st.staff.CitizenID != "" || h.u.win.Canvas().Focused() != id || h.u.win.Canvas().Overlays().Top() == nil {
		t.Fatal("a wrong CCCD: want the dialog open with the focus in the CCCD")
	}
	test.Type(id, "5")
	id.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if h.u.st.staff.CitizenID != "001190012345" || h.u.win.Canvas().Overlays().Top() != nil {
		t.Fatalf("signed in %+v, dialog %v", h.u.st.staff, h.u.win.Canvas().Overlays().Top())
	}
	if h.u.win.Canvas().Focused() != w.numEntry || w.entryErr.Visible() {
		t.Error("after sign-in: want the focus in the card number and the instruction gone")
	}
	test.Type(w.nameEntry, "Nguyễn Văn An")
	test.Type(w.dobEntry, "1990")
	h.u.submitManual()
	select {
	case <-h.fake.checks:
	case <-time.After(5 * time.Second):
		t.Fatal("no check after sign-in")
	}
}

// TestNoStaffScanGoesToAgent: a wedge scan before anyone signs in is not
// lost: it goes to the agent (which refuses it with a plain instruction and
// keeps the patient on screen for F5) and the sign-in opens.
func TestNoStaffScanGoesToAgent(t *testing.T) {
	h := newHarness(t, "vi", false)
	h.u.st.staff = patient.Staff{}
	const qr = "DN4010123456789$"
	h.u.scan(qr)
	select {
	case p := <-h.fake.scans:
		if p != qr {
			t.Errorf("scan %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a scan before sign-in did not reach the agent")
	}
	if h.u.w.signIn == nil || h.u.win.Canvas().Focused() != h.u.w.signInName {
		t.Error("sign-in not opened with the focus in the name")
	}
}

// TestNoStaffRefusalShown: the agent's refusal before sign-in says the
// gateway was not asked (not "will re-check by itself") and does not count
// as a patient served.
func TestNoStaffRefusalShown(t *testing.T) {
	h := newHarness(t, "vi", false)
	h.u.st.staff = patient.Staff{}
	id := patient.Identity{Medium: patient.MediumQRBHYT, CardNumber: "QN5010987654321", Name: "Lê Văn Cường"}
	refused := patient.Eligibility{Verdict: patient.StaffProblem, Source: patient.SourceNone, CheckedAt: scenes.Now,
		ReasonVI: "Chưa có cán bộ đăng nhập ca.", NextVI: "Đăng nhập ca, rồi bấm Kiểm tra lại (F5)."}
	h.play([]scenes.Step{
		{Kind: events.CardPresented, Data: events.Presented{CheckID: "n1", Medium: id.Medium}},
		{Kind: events.IdentityRead, Data: events.Identity{CheckID: "n1", Identity: id}},
		{Kind: events.EligibilityResult, Data: events.Result{CheckID: "n1", Identity: id, Eligibility: refused, Current: true}},
	})
	w := h.u.w
	if !strings.Contains(w.provenance.Text, h.u.t("prov.notasked")) || strings.Contains(w.provenance.Text, h.u.t("prov.none")) {
		t.Errorf("provenance %q, want %q", w.provenance.Text, h.u.t("prov.notasked"))
	}
	if got := w.stServed.Text; got != h.u.t("status.served", 0) {
		t.Errorf("served %q after a refused check, want 0", got)
	}
}

func TestManualEntryErrors(t *testing.T) {
	h := newHarness(t, "vi", false)
	w := h.u.w
	h.clock.setStep(200 * time.Millisecond)
	test.Type(w.numEntry, "DN6")
	if w.numHint.Text != h.u.t("err.card.benefit") {
		t.Errorf("as-typed error %q", w.numHint.Text)
	}
	w.numEntry.SetText("DN4010123456789")
	test.Type(w.dobEntry, "31/02/1990")
	if w.dobHint.Text != h.u.t("err.dob.invalid") {
		t.Errorf("dob hint %q", w.dobHint.Text)
	}
	test.Tap(w.checkBtn)
	if w.entryErr.Hidden || w.entryErr.Text != h.u.t("err.name.empty") {
		t.Errorf("submit error %q hidden=%v", w.entryErr.Text, w.entryErr.Hidden)
	}
	if h.u.win.Canvas().Focused() != w.nameEntry {
		t.Error("focus not moved to the field in error")
	}
	assertScreen(t, "flow_manual_errors", h.u.win.Canvas())
	if len(h.fake.checks) != 0 {
		t.Error("an invalid form started a check")
	}
}

// TestWedgeScanIntoFocusedEntry: a scanner typing into whichever field has
// focus is recognised, its characters are taken out of the field and the
// payload goes to Scan.
func TestWedgeScanIntoFocusedEntry(t *testing.T) {
	const payload = "001090123456|123456789|Nguyễn Văn An|02011990|Nam|Hà Nội|15042021"
	for _, target := range []string{"number", "name", "canvas", "button", "select"} {
		t.Run(target, func(t *testing.T) {
			h := newHarness(t, "vi", false)
			w := h.u.w
			c := h.u.win.Canvas()
			h.clock.setStep(200 * time.Millisecond)
			var typeRunes func(string)
			var enter func()
			switch target {
			case "number", "name":
				e := w.numEntry
				if target == "name" {
					e = w.nameEntry
				}
				c.Focus(e)
				test.Type(e, "DN4") // a person started typing
				// As GLFW does: a key event (and Shift for capitals) before each rune.
				typeRunes = func(s string) {
					for _, r := range s {
						if unicode.IsUpper(r) {
							e.TypedKey(&fyne.KeyEvent{Name: desktop.KeyShiftLeft})
						}
						e.TypedKey(&fyne.KeyEvent{Name: fyne.KeyName(strings.ToUpper(string(r)))})
						e.TypedRune(r)
					}
				}
				enter = func() { e.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) }
				defer func() {
					if e.Text != "DN4" {
						t.Errorf("field holds %q after the scan, want the typed %q", e.Text, "DN4")
					}
				}()
			case "canvas":
				c.Unfocus()
				typeRunes = func(s string) { test.TypeOnCanvas(c, s) }
				enter = func() { c.OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn}) }
			case "button":
				c.Focus(w.checkBtn)
				typeRunes = func(s string) {
					for _, r := range s {
						w.checkBtn.TypedRune(r)
					}
				}
				enter = func() { w.checkBtn.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) }
			case "select": // a drop-down of the settings tab
				sel := w.settings.language
				h.u.w.tabs.SelectIndex(3)
				c.Focus(sel)
				before := sel.Selected
				typeRunes = func(s string) {
					for _, r := range s {
						if r == ' ' {
							sel.TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace})
						}
						sel.TypedRune(r)
					}
				}
				enter = func() { sel.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn}) }
				defer func() {
					if sel.Selected != before || len(c.Overlays().List()) != 0 {
						t.Errorf("the scan changed the drop-down (%q, was %q) or opened its list (%d overlays)",
							sel.Selected, before, len(c.Overlays().List()))
					}
				}()
			}
			h.clock.setStep(3 * time.Millisecond) // the scanner
			typeRunes(payload)
			enter()
			select {
			case got := <-h.fake.scans:
				if got != payload {
					t.Errorf("scan %q", got)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("scan not delivered")
			}
			h.waitAsync(t)
			if len(h.fake.checks) != 0 {
				t.Error("the scan also started a manual check")
			}
		})
	}
}

func TestHotkeys(t *testing.T) {
	h := newHarness(t, "vi", false)
	h.play(scenes.All()[2].Steps) // eligible
	c := h.u.win.Canvas()
	c.Unfocus()
	c.OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyF5})
	select {
	case id := <-h.fake.checks:
		if id.CitizenID != scenes.An.CitizenID {
			t.Errorf("re-checked %v", id.CitizenID)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("F5 did not re-check")
	}
	h.waitAsync(t)
	h.u.w.numEntry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if h.u.st.phase != phaseIdle || !h.u.w.patientCard.Hidden {
		t.Error("Escape in a field did not clear the screen")
	}
	c.OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyF2})
	if c.Focused() != h.u.w.numEntry {
		t.Error("F2 did not focus manual entry")
	}
	// Every main-menu shortcut has a label and an action; Ctrl+R re-checks.
	menu := h.u.mainMenu()
	for _, it := range menu.Items[0].Items {
		if it.Label == "" || it.Action == nil || it.Shortcut == nil {
			t.Errorf("menu item %+v incomplete", it)
		}
	}
	h.play(scenes.All()[2].Steps)
	for _, it := range menu.Items[0].Items {
		if it.Label == h.u.t("menu.recheck") {
			it.Action()
		}
	}
	select {
	case <-h.fake.checks:
	case <-time.After(5 * time.Second):
		t.Fatal("menu re-check did not check")
	}
	h.waitAsync(t)
}

func TestUIStaysResponsiveWhileCheckBlocks(t *testing.T) {
	h := newHarness(t, "vi", false)
	h.fake.block = make(chan struct{})
	h.play(scenes.All()[2].Steps)
	h.u.recheckCurrent() // returns at once although Check blocks
	h.play(scenes.All()[6].Steps)
	if h.u.st.result.Verdict != patient.NotEligible {
		t.Error("events not rendered while a check was blocked")
	}
	close(h.fake.block)
	<-h.fake.checks
	h.waitAsync(t)
}

func TestCheckErrorShown(t *testing.T) {
	h := newHarness(t, "vi", false)
	h.fake.checkErr = words.Error("need a card number", "cần số thẻ BHYT")
	h.u.startCheck(scenes.Dung)
	<-h.fake.checks
	h.waitAsync(t)
	if !strings.Contains(h.u.w.entryErr.Text, "cần số thẻ BHYT") || h.u.w.entryErr.Hidden {
		t.Errorf("error %q", h.u.w.entryErr.Text)
	}
	// An error without Vietnamese words: a plain sentence, the English in the log.
	h.fake.checkErr = errors.New("dial tcp: connection refused")
	h.u.startCheck(scenes.Dung)
	<-h.fake.checks
	h.waitAsync(t)
	if want := h.u.t("entry.err.check", h.u.t("err.technical")); h.u.w.entryErr.Text != want {
		t.Errorf("error %q, want %q", h.u.w.entryErr.Text, want)
	}
	h.u.SetLanguage("en") // English keeps the agent's own text, for IT
	h.u.startCheck(scenes.Dung)
	<-h.fake.checks
	h.waitAsync(t)
	if !strings.Contains(h.u.w.entryErr.Text, "connection refused") {
		t.Errorf("English error %q", h.u.w.entryErr.Text)
	}
}

func TestCANPrompt(t *testing.T) {
	h := newHarness(t, "vi", false)
	h.play(sceneNamed(t, "can-required").Steps)
	w := h.u.w
	if w.canBox.Hidden || h.u.win.Canvas().Focused() != w.canEntry {
		t.Fatal("CAN prompt not shown and focused")
	}
	test.Type(w.canEntry, "12345")
	w.canEntry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if w.canHint.Text != h.u.t("err.can") || len(h.fake.cans) != 0 {
		t.Errorf("5 digits accepted: hint %q", w.canHint.Text)
	}
	test.Type(w.canEntry, "6")
	w.canEntry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if got := <-h.fake.cans; got != "123456" {
		t.Errorf("CAN %q", got)
	}
	h.waitAsync(t)
	if !w.canBox.Hidden {
		t.Error("prompt still shown")
	}
}

func TestShiftSignIn(t *testing.T) {
	h := newHarness(t, "vi", false)
	h.u.st.staff = patient.Staff{}
	h.u.renderStaff()
	if h.u.w.staffBtn.Text != h.u.t("staff.signin") {
		t.Errorf("staff button %q", h.u.w.staffBtn.Text)
	}
	test.Tap(h.u.w.staffBtn)
	assertScreen(t, "flow_signin_dialog", h.u.win.Canvas())
	if err := h.u.signIn("Lê Thị Hoa", "00109012345"); err == nil {
		t.Error("11-digit staff CCCD accepted")
	}
	if err := h.u.signIn("  Lê   Thị Hoa ", "001190012345"); err != nil {
		t.Fatal(err)
	}
	if len(h.fake.staff) != 1 || h.fake.staff[0].Name != "Lê Thị Hoa" || h.fake.staff[0].CitizenID != "001190012345" {
		t.Errorf("SetStaff got %+v", h.fake.staff)
	}
	if h.u.w.staffBtn.Text != "Ca: Lê Thị Hoa" {
		t.Errorf("staff button %q", h.u.w.staffBtn.Text)
	}
	// Remembered across a language switch (a rebuild of every widget).
	h.u.SetLanguage("en")
	if h.u.w.staffBtn.Text != "Shift: Lê Thị Hoa" {
		t.Errorf("after language switch %q", h.u.w.staffBtn.Text)
	}
}

func TestRecentChecksAndRecheck(t *testing.T) {
	h := newHarness(t, "vi", false)
	for _, name := range []string{"eligible", "not-eligible", "check-documents"} {
		h.play(sceneNamed(t, name).Steps)
	}
	if len(h.u.st.recent) != 3 || h.u.st.recent[0].Identity.Name != scenes.Cuong.Name {
		t.Fatalf("recent %+v", h.u.st.recent)
	}
	h.u.w.tabs.SelectIndex(1)
	assertScreen(t, "flow_recent", h.u.win.Canvas())
	// Re-check the second line (the expired card).
	test.Tap(findButton(t, h.u.w.recentBox.Objects[1], h.u.t("action.recheck.short")))
	if id := <-h.fake.checks; id.CardNumber != scenes.Dung.CardNumber {
		t.Errorf("re-checked %v", id.CardNumber)
	}
	h.waitAsync(t)
	// A late update for an earlier check changes its line, not the screen.
	late := events.Result{CheckID: "c1", Identity: scenes.An, Eligibility: patient.Eligibility{Verdict: patient.NotEligible, Source: patient.SourceLive}}
	h.u.apply(events.Event{Kind: events.EligibilityUpdated, Time: scenes.Now, Data: late})
	if h.u.st.result.Verdict != patient.CheckDocuments {
		t.Error("a late update for another patient replaced the screen")
	}
	if h.u.st.recent[2].Result.Verdict != patient.NotEligible {
		t.Error("late update not in the recent list")
	}
}

func TestPairingApproveAndRevoke(t *testing.T) {
	h := newHarness(t, "vi", false)
	replies := make(chan bool, 1)
	h.u.apply(events.Event{Kind: events.PairingRequested, Data: events.Pairing{ID: "p1", Origin: "https://his.example.vn", Code: "123456",
		Reply: func(ok bool) { replies <- ok }}})
	if len(h.u.w.pairStrip.Objects) != 1 {
		t.Fatal("pairing request not on the main screen")
	}
	test.Tap(findButton(t, h.u.w.pairStrip, h.u.t("pair.approve")))
	if !<-replies {
		t.Error("approve replied false")
	}
	h.waitAsync(t)
	if len(h.u.w.pairStrip.Objects) != 0 {
		t.Error("answered request still shown")
	}
	if len(h.u.st.paired) != 1 {
		t.Fatalf("paired list %+v", h.u.st.paired)
	}
	h.u.w.tabs.SelectIndex(2)
	h.waitAsync(t)
	assertScreen(t, "flow_pairing_tab", h.u.win.Canvas())
	// Revoking asks first: "Giữ lại" keeps the app, "Thu hồi" revokes it.
	test.Tap(findButton(t, h.u.w.pairedBox, h.u.t("pair.revoke")))
	tapDialogButton(t, h.u.win, h.u.t("pair.revoke.no"))
	select {
	case id := <-h.fake.revoked:
		t.Fatalf("revoked %q without confirmation", id)
	default:
	}
	test.Tap(findButton(t, h.u.w.pairedBox, h.u.t("pair.revoke")))
	if msg := dialogText(h.u.win); !strings.Contains(msg, "HIS Đống Đa (https://his.benhvien-dongda.vn)") {
		t.Errorf("the confirmation does not name the app: %q", msg)
	}
	tapDialogButton(t, h.u.win, h.u.t("pair.revoke.yes"))
	if got := <-h.fake.revoked; got != "p9" {
		t.Errorf("revoked %q", got)
	}
	h.waitAsync(t)
	if len(h.u.st.paired) != 0 || h.u.w.pairMsg.Text != h.u.t("pair.revoked") {
		t.Errorf("after revoke: %+v %q", h.u.st.paired, h.u.w.pairMsg.Text)
	}
}

func TestSettingsForm(t *testing.T) {
	h := newHarness(t, "vi", false)
	f := h.u.w.settings
	h.u.w.tabs.SelectIndex(3)
	assertScreen(t, "flow_settings", h.u.win.Canvas())
	f.url.SetText("http://egw.example.vn")
	test.Tap(f.save)
	if f.msg.Text != h.u.t("err.set.https") {
		t.Errorf("plain http accepted: %q", f.msg.Text)
	}
	f.url.SetText("https://daotaoegw.baohiemxahoi.gov.vn/")
	f.password.SetText("s3cret")
	f.origins.SetText("https://his.benhvien-dongda.vn\nhttp://127.0.0.1:8080/\n")
	f.retention.SetText("90")
	f.scanner.SetSelected(h.u.t("set.scanner.wedge"))
	f.language.SetSelected("English")
	test.Tap(f.save)
	s := <-h.fake.saved
	h.waitAsync(t)
	if s.GatewayPassword != "s3cret" || s.RetentionDays != 90 || s.Scanner != ScannerWedge || s.Language != "en" ||
		strings.Join(s.HISOrigins, ",") != "https://his.benhvien-dongda.vn,http://127.0.0.1:8080" {
		t.Errorf("saved %+v", s)
	}
	if h.u.cat.lang != English || h.u.w.tabs.SelectedIndex() != 3 || h.u.w.settings.msg.Text != messages["set.saved"][1] {
		t.Errorf("language not applied at once: %s tab %d %q", h.u.cat.lang, h.u.w.tabs.SelectedIndex(), h.u.w.settings.msg.Text)
	}
}

func TestSimulateButtonOnlyInDemo(t *testing.T) {
	if h := newHarness(t, "vi", false); !h.u.w.simBtn.Hidden {
		t.Error("demo button shown outside demo mode")
	}
	h := newHarness(t, "vi", true)
	if h.u.w.simBtn.Hidden {
		t.Fatal("demo button hidden in demo mode")
	}
	test.Tap(h.u.w.simBtn)
	h.waitAsync(t)
	if h.fake.sims != 1 {
		t.Errorf("SimulateScan called %d times", h.fake.sims)
	}
}

// minimal implements only the required Actions: every optional part of the
// window must hide itself or say it is unavailable.
type minimal struct{}

func (minimal) Check(context.Context, patient.Identity) (string, error) { return "x", nil }
func (minimal) SetStaff(patient.Staff)                                  {}

// TestAccountRefusedStatus: a refused gateway account reads as a plain
// "call IT" in the status bar, in both languages, not as an outage.
func TestAccountRefusedStatus(t *testing.T) {
	for lang, want := range map[string]string{"vi": "gọi IT", "en": "call IT"} {
		h := newHarness(t, lang, false)
		h.u.apply(events.Event{Seq: 1, Time: scenes.Now, Kind: events.GatewayChanged,
			Data: events.Gateway{State: events.GatewayAccountRefused, Since: scenes.Now, Reason: "login refused (code 402)"}})
		if got := h.u.w.stGateway.Text; !strings.Contains(got, want) || h.u.w.stGateway.Importance != widget.DangerImportance {
			t.Errorf("%s: status bar %q (importance %v), want %q as danger", lang, got, h.u.w.stGateway.Importance, want)
		}
	}
}

func TestMinimalActions(t *testing.T) {
	a := test.NewTempApp(t)
	u := New(a, events.New(), minimal{}, Options{Demo: true, Mute: true})
	defer u.Close()
	if !u.w.simBtn.Hidden {
		t.Error("demo button shown without a Simulator")
	}
	if u.w.settings.store != nil {
		t.Error("settings form without a SettingsStore")
	}
	u.scan("DN4010123456789") // no Scanner: ignored, no panic
	u.refreshPaired()
}

// TestBusDrivesWindow runs the real path: events published on a bus reach
// the window through its subscription and fyne.Do.
func TestBusDrivesWindow(t *testing.T) {
	h := newHarness(t, "vi", false)
	bus := h.u.bus
	bus.Publish(events.GatewayChanged, events.Gateway{State: events.GatewayDegraded})
	applied := make(chan events.Event, 64)
	h.u.opts.Rendered = func(ev events.Event) { applied <- ev }
	h.u.Start()
	if !strings.Contains(h.u.w.stGateway.Text, "chậm") {
		t.Errorf("state known before Start not shown: %q", h.u.w.stGateway.Text)
	}
	var last uint64
	for _, s := range sceneNamed(t, "not-eligible").Steps {
		last = bus.Publish(s.Kind, s.Data)
	}
	done := false
	h.pump(t, func() bool {
		select {
		case ev := <-applied:
			done = done || ev.Seq == last
		default:
		}
		return done
	})
	if h.u.st.result == nil || h.u.st.result.Verdict != patient.NotEligible || h.u.w.bannerTitle.Text != "KHÔNG ĐỦ ĐIỀU KIỆN" {
		t.Errorf("banner %q", h.u.w.bannerTitle.Text)
	}
	if h.u.w.stOutbox.Text != "Chờ tra cứu lại: 0" || h.u.w.stClients.Text != "HIS kết nối: 1" {
		t.Errorf("status %q %q", h.u.w.stOutbox.Text, h.u.w.stClients.Text)
	}
}

func TestProvenanceAge(t *testing.T) {
	h := newHarness(t, "vi", false)
	h.play(sceneNamed(t, "eligible-cached").Steps)
	if got := h.u.w.provenance.Text; !strings.Contains(got, "mã QR trên CCCD (chưa xác thực)") || !strings.Contains(got, "KẾT QUẢ LƯU từ 2 giờ trước") {
		t.Errorf("provenance %q", got)
	}
	h.play(sceneNamed(t, "eligible").Steps)
	if got := h.u.w.provenance.Text; !strings.Contains(got, "chữ ký số hợp lệ") || !strings.Contains(got, "trực tiếp (0.4 s)") {
		t.Errorf("provenance %q", got)
	}
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{30 * time.Second, "vừa xong"}, {5 * time.Minute, "5 phút trước"}, {26 * time.Hour, "26 giờ trước"}, {72 * time.Hour, "3 ngày trước"}} {
		if got := h.u.ago(tc.d); got != tc.want {
			t.Errorf("ago(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

// assertScreen compares the canvas with its golden markup
// testdata/<name>.xml.
func assertScreen(t *testing.T, name string, c fyne.Canvas) {
	t.Helper()
	test.AssertRendersToMarkup(t, name+".xml", c)
	dumpPNG(t, name, c)
}

// dumpPNG writes what the test driver painted to $UI_DUMP/<name>.png, for
// a quick look without Xvfb (the real-window screenshots are ui/screenshots.sh).
func dumpPNG(t *testing.T, name string, c fyne.Canvas) {
	dir := os.Getenv("UI_DUMP")
	if dir == "" {
		return
	}
	f, err := os.Create(filepath.Join(dir, name+".png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, c.Capture()); err != nil {
		t.Fatal(err)
	}
}

// findButton returns the first button labelled text under o.
func findButton(t *testing.T, o fyne.CanvasObject, text string) *wedgeButton {
	t.Helper()
	var walk func(fyne.CanvasObject) *wedgeButton
	walk = func(o fyne.CanvasObject) *wedgeButton {
		switch v := o.(type) {
		case *wedgeButton:
			if v.Text == text {
				return v
			}
		case *fyne.Container:
			for _, c := range v.Objects {
				if b := walk(c); b != nil {
					return b
				}
			}
		}
		return nil
	}
	b := walk(o)
	if b == nil {
		t.Fatalf("no button %q", text)
	}
	return b
}

func sceneNamed(t *testing.T, name string) scenes.Scene {
	t.Helper()
	for _, s := range scenes.All() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no scene %q", name)
	return scenes.Scene{}
}

// BenchmarkApplyResult is the time the Fyne goroutine spends rendering one
// verdict (patient, card, provenance, visits, recent list) with the test
// driver's software canvas: the budget that keeps the window responsive.
func BenchmarkApplyResult(b *testing.B) {
	a := test.NewTempApp(b)
	u := New(a, events.New(), newFake(), Options{Mute: true, Now: func() time.Time { return scenes.Now }, Location: time.UTC})
	defer u.Close()
	u.do = func(func()) {}
	steps := sceneNamed(&testing.T{}, "eligible").Steps
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range steps {
			u.apply(events.Event{Time: scenes.Now, Kind: s.Kind, Data: s.Data})
		}
	}
}

// BenchmarkWedge is the classifier's cost per keystroke.
func BenchmarkWedge(b *testing.B) {
	var w Wedge
	t0 := time.Unix(0, 0)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		w.Rune('7', t0.Add(time.Duration(i)*time.Millisecond))
		if i%80 == 0 {
			w.Enter(t0.Add(time.Duration(i) * time.Millisecond))
		}
	}
}

// TestEarlyChipVerdict: a chip verdict shown before the photo is read stays
// on screen while the read goes on, with its progress.
func TestEarlyChipVerdict(t *testing.T) {
	h := newHarness(t, "vi", false)
	h.play(sceneNamed(t, "eligible").Steps)
	h.u.apply(events.Event{Kind: events.CardProgress, Data: events.Progress{CheckID: "c1", Step: "dg2", Percent: 70}})
	if h.u.st.phase != phaseResult || h.u.w.bannerTitle.Text != "ĐỦ ĐIỀU KIỆN BHYT" {
		t.Errorf("verdict replaced by progress: %q", h.u.w.bannerTitle.Text)
	}
	if h.u.w.progress.Hidden || h.u.w.progress.Value != 70 {
		t.Errorf("progress hidden=%v value=%v", h.u.w.progress.Hidden, h.u.w.progress.Value)
	}
	// Progress of another check is ignored.
	h.u.apply(events.Event{Kind: events.CardProgress, Data: events.Progress{CheckID: "other", Percent: 10}})
	if h.u.w.progress.Value != 70 {
		t.Error("progress of another check shown")
	}
}

// BenchmarkTypeRune is the Fyne goroutine's work for one keystroke in the
// card-number field (the entry, the wedge and the as-typed validation). It
// must stay well under a scanner's key interval, or key events queue up
// and reach the wedge classifier bunched together.
func BenchmarkTypeRune(b *testing.B) {
	a := test.NewTempApp(b)
	u := New(a, events.New(), newFake(), Options{Mute: true, Now: func() time.Time { return scenes.Now }})
	defer u.Close()
	u.win.Resize(fyne.NewSize(1200, 800))
	u.win.Canvas().Focus(u.w.numEntry)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		u.w.numEntry.TypedRune(rune('0' + i%10))
		if i++; i%12 == 0 {
			u.w.numEntry.SetText("")
		}
	}
}

// screenLog records what the window told the agent about the check on
// screen (ScreenReporter).
type screenLog struct {
	*fakeActions
	shown []string
}

func (s *screenLog) ShowCheck(id string) { s.shown = append(s.shown, id) }

// TestLateAnswer: an answer for a check that is not on screen never
// replaces the verdict shown (another patient, or a screen cleared with
// Esc); it waits in the late-results strip, with a tone, until staff open
// or dismiss it; a patient sent away without an answer is marked "call
// back".
func TestLateAnswer(t *testing.T) {
	h := newHarness(t, "vi", false)
	sl := &screenLog{fakeActions: h.fake}
	h.u.act = sl
	// Bình was sent away with "no result"; An is at the desk now.
	h.play(sceneNamed(t, "unavailable").Steps)
	h.play(sceneNamed(t, "eligible").Steps)
	if h.u.w.lateBox.Visible() {
		t.Fatal("late strip shown with no late answer")
	}
	beeps := len(h.beep.played)
	binh := scenes.Binh
	lateE := patient.Eligibility{Verdict: patient.Eligible, Code: "000", Holder: binh.Name, Source: patient.SourceLive}
	h.u.apply(events.Event{Kind: events.EligibilityUpdated, Time: scenes.Now, Data: events.Result{CheckID: "c8", Identity: binh, Eligibility: lateE}})
	if h.u.st.checkID != "c1" || h.u.w.bannerTitle.Text != "ĐỦ ĐIỀU KIỆN BHYT" || h.u.w.name.Text != "Nguyễn Văn An" {
		t.Errorf("the late answer changed the screen: check %s banner %q name %q", h.u.st.checkID, h.u.w.bannerTitle.Text, h.u.w.name.Text)
	}
	if !h.u.w.lateBox.Visible() || len(h.u.st.late) != 1 {
		t.Fatalf("late strip visible %v, %d late answers", h.u.w.lateBox.Visible(), len(h.u.st.late))
	}
	text := labelsIn(h.u.w.lateBox)
	if !strings.Contains(text, "GỌI LẠI BỆNH NHÂN") || !strings.Contains(text, "Trần Thị Bình") || !strings.Contains(text, "ĐỦ ĐIỀU KIỆN") {
		t.Errorf("late strip says %q, want call back, the name and the verdict", text)
	}
	if len(h.beep.played) != beeps+1 || !bytes.Equal(h.beep.played[beeps], cueSounds[cueLate]) {
		t.Errorf("late answer played %d sounds, want the late tone", len(h.beep.played)-beeps)
	}
	if title := h.u.win.Title(); !strings.HasPrefix(title, "(1 kết quả đến muộn)") {
		t.Errorf("window title %q does not count the late answer", title)
	}
	// Esc clears the screen; the agent is told; An's own re-check
	// arriving now is late too, and is not marked "call back".
	h.u.clear()
	if len(sl.shown) == 0 || sl.shown[len(sl.shown)-1] != "" {
		t.Errorf("the agent was told %q after Esc, want \"\"", sl.shown)
	}
	an := scenes.An
	h.u.apply(events.Event{Kind: events.EligibilityUpdated, Time: scenes.Now, Data: events.Result{CheckID: "c1", Identity: an,
		Eligibility: patient.Eligibility{Verdict: patient.NotEligible, Code: "010", Holder: an.Name}}})
	if h.u.st.phase != phaseIdle || h.u.w.bannerTitle.Text != "SẴN SÀNG" {
		t.Errorf("after Esc a late answer filled the screen: %q", h.u.w.bannerTitle.Text)
	}
	if len(h.u.st.late) != 2 || h.u.st.late[0].CheckID != "c1" || h.u.st.late[0].CallBack {
		t.Errorf("late answers %+v", h.u.st.late)
	}
	// A first answer for a check whose screen was cleared is late as well.
	h.play(present2("c20", scenes.Cuong))
	h.u.clear()
	h.u.apply(events.Event{Kind: events.EligibilityResult, Time: scenes.Now, Data: events.Result{CheckID: "c20", Identity: scenes.Cuong,
		Eligibility: patient.Eligibility{Verdict: patient.CheckDocuments, Code: "001"}}})
	if h.u.st.phase != phaseIdle || len(h.u.st.late) != 3 || !h.u.st.late[0].CallBack {
		t.Errorf("first answer after Esc: phase %v, late %d", h.u.st.phase, len(h.u.st.late))
	}
	// Open shows Bình's answer as the check on screen; Dismiss drops An's.
	findButtonIn(t, h.u.w.lateBox, 2, "Mở").OnTapped()
	if h.u.st.checkID != "c8" || h.u.w.bannerTitle.Text != "ĐỦ ĐIỀU KIỆN BHYT" || h.u.w.name.Text != "Trần Thị Bình" {
		t.Errorf("open: check %s banner %q name %q", h.u.st.checkID, h.u.w.bannerTitle.Text, h.u.w.name.Text)
	}
	if sl.shown[len(sl.shown)-1] != "c8" {
		t.Errorf("the agent was told %q after open, want c8", sl.shown)
	}
	findButtonIn(t, h.u.w.lateBox, 1, "Bỏ qua").OnTapped()
	if len(h.u.st.late) != 1 || h.u.st.late[0].CheckID != "c20" {
		t.Errorf("after open and dismiss: %+v", h.u.st.late)
	}
	findButtonIn(t, h.u.w.lateBox, 0, "Bỏ qua").OnTapped()
	if h.u.w.lateBox.Visible() || strings.Contains(h.u.win.Title(), "muộn") {
		t.Errorf("strip still shown (title %q)", h.u.win.Title())
	}
	if got := h.u.w.stServed.Text; got != "Đã tiếp đón trong ca: 3" {
		t.Errorf("served count %q, want 3 (Bình, An, Cường)", got)
	}
	// The shift's list kept every answer.
	if r := recentFor(h.u.st.recent, "c1"); r == nil || r.Result == nil || r.Result.Code != "010" {
		t.Errorf("the shift's list lost An's late answer: %+v", r)
	}
}

func present2(id string, ident patient.Identity) []scenes.Step {
	return []scenes.Step{
		{Kind: events.CardPresented, Data: events.Presented{CheckID: id, Medium: ident.Medium}},
		{Kind: events.IdentityRead, Data: events.Identity{CheckID: id, Identity: ident}},
	}
}

func recentFor(rs []recentCheck, id string) *recentCheck {
	for i := range rs {
		if rs[i].CheckID == id {
			return &rs[i]
		}
	}
	return nil
}

// labelsIn joins the text of every label and text under o.
func labelsIn(o fyne.CanvasObject) string { return textsIn(o, walk) }

// textsIn joins the text of every label and text that each (walk, or
// deepWalk into widgets' renderers) finds under o.
func textsIn(o fyne.CanvasObject, each func(fyne.CanvasObject, func(fyne.CanvasObject))) string {
	var out []string
	each(o, func(o fyne.CanvasObject) {
		switch l := o.(type) {
		case *widget.Label:
			out = append(out, l.Text)
		case *canvas.Text:
			out = append(out, l.Text)
		}
	})
	return strings.Join(out, " | ")
}

func walk(o fyne.CanvasObject, f func(fyne.CanvasObject)) {
	f(o)
	switch c := o.(type) {
	case *fyne.Container:
		for _, o := range c.Objects {
			walk(o, f)
		}
	case *container.ThemeOverride:
		walk(c.Content, f)
	}
}

// findButtonIn returns the button labelled text in the row-th late row.
func findButtonIn(t *testing.T, box *fyne.Container, row int, text string) *wedgeButton {
	t.Helper()
	var found *wedgeButton
	walk(box.Objects[row], func(o fyne.CanvasObject) {
		if b, ok := o.(*wedgeButton); ok && b.Text == text {
			found = b
		}
	})
	if found == nil {
		t.Fatalf("no %q button in late row %d", text, row)
	}
	return found
}

// TestDiskRefusingStatus: while the data folder refuses writes (disk full),
// the status bar says so plainly, in danger colour, with what to do; when it
// takes writes again the plain queue count returns.
func TestDiskRefusingStatus(t *testing.T) {
	for lang, want := range map[string]string{"vi": "Ổ ĐĨA ĐẦY: 7 mục chưa ghi, gọi IT", "en": "DISK FULL: 7 not saved, call IT"} {
		h := newHarness(t, lang, false)
		h.u.apply(events.Event{Seq: 1, Time: scenes.Now, Kind: events.OutboxChanged,
			Data: events.Outbox{Pending: 3, Unsaved: 7, Disk: events.DiskRefusing, DiskSince: scenes.Now}})
		if got := h.u.w.stOutbox.Text; !strings.Contains(got, want) || h.u.w.stOutbox.Importance != widget.DangerImportance {
			t.Errorf("%s: status bar %q (importance %v), want %q as danger", lang, got, h.u.w.stOutbox.Importance, want)
		}
		h.u.apply(events.Event{Seq: 2, Time: scenes.Now, Kind: events.OutboxChanged, Data: events.Outbox{Pending: 3, Disk: events.DiskOK}})
		if got := h.u.w.stOutbox.Text; strings.Contains(got, want) || h.u.w.stOutbox.Importance == widget.DangerImportance {
			t.Errorf("%s: status bar %q still warns after the disk came back", lang, got)
		}
	}
}

// TestBackgroundCheckStaysOffScreen: a HIS back-end's background check
// (announce: false) neither replaces the verdict nor enters the late strip;
// the shift's list keeps it.
func TestBackgroundCheckStaysOffScreen(t *testing.T) {
	h := newHarness(t, "vi", false)
	h.play(sceneNamed(t, "eligible").Steps)
	beeps := len(h.beep.played)
	binh := scenes.Binh
	e := patient.Eligibility{Verdict: patient.NotEligible, Code: "010", Holder: binh.Name, Source: patient.SourceLive}
	h.u.apply(events.Event{Kind: events.EligibilityResult, Time: scenes.Now, Data: events.Result{CheckID: "bg1", Identity: binh, Eligibility: e, Background: true}})
	if h.u.st.checkID != "c1" || h.u.w.bannerTitle.Text != "ĐỦ ĐIỀU KIỆN BHYT" {
		t.Errorf("a background check changed the screen: check %s banner %q", h.u.st.checkID, h.u.w.bannerTitle.Text)
	}
	if h.u.w.lateBox.Visible() || len(h.u.st.late) != 0 || len(h.beep.played) != beeps {
		t.Errorf("a background check reached the late strip (%d) or sounded a tone", len(h.u.st.late))
	}
	found := false
	for _, r := range h.u.st.recent {
		found = found || r.CheckID == "bg1"
	}
	if !found {
		t.Error("the background check is not in the shift's list")
	}
}

// TestNotConfiguredStatus: a desk without a gateway account says so in the
// status bar, in both languages, with who fixes it.
func TestNotConfiguredStatus(t *testing.T) {
	for lang, want := range map[string]string{"vi": "gọi IT nhập trong Cài đặt", "en": "call IT to enter it in Settings"} {
		h := newHarness(t, lang, false)
		h.u.apply(events.Event{Seq: 1, Time: scenes.Now, Kind: events.GatewayChanged,
			Data: events.Gateway{State: events.GatewayNotConfigured, Since: scenes.Now}})
		if got := h.u.w.stGateway.Text; !strings.Contains(got, want) || h.u.w.stGateway.Importance != widget.DangerImportance {
			t.Errorf("%s: status bar %q, want %q as danger", lang, got, want)
		}
	}
}

// TestNextStepActions: a staff problem offers "sign in again", which opens
// the sign-in; a reissued card re-checked by itself shows the code that
// decided and the old card's code, never the first alone.
func TestNextStepActions(t *testing.T) {
	h := newHarness(t, "vi", false)
	e := patient.Eligibility{Verdict: patient.StaffProblem, Code: "054", ReasonVI: "x", NextVI: "bấm “Đăng nhập lại”.",
		Source: patient.SourceLive, CheckedAt: scenes.Now}
	h.play([]scenes.Step{{Kind: events.CardPresented, Data: events.Presented{CheckID: "c1", Medium: patient.MediumTyped}},
		{Kind: events.EligibilityResult, Data: events.Result{CheckID: "c1", Eligibility: e}}})
	if !h.u.w.bannerAction.Visible() || h.u.w.bannerAction.Text != "Đăng nhập lại" {
		t.Fatalf("staff problem: sign-in-again button %q shown %v", h.u.w.bannerAction.Text, h.u.w.bannerAction.Visible())
	}
	test.Tap(h.u.w.bannerAction)
	if h.u.w.signIn == nil {
		t.Error("the sign-in-again button did not open the sign-in")
	}

	h = newHarness(t, "vi", false)
	e = patient.Eligibility{Verdict: patient.Eligible, Code: "000", ReasonVI: "x", NextVI: "Tiếp nhận BHYT theo thẻ mới.",
		NewCard: &patient.NewCard{FirstCode: "003", CardNumber: "DN4010123456790"}, Source: patient.SourceLive, CheckedAt: scenes.Now}
	h.play([]scenes.Step{{Kind: events.CardPresented, Data: events.Presented{CheckID: "c2", Medium: patient.MediumTyped}},
		{Kind: events.EligibilityResult, Data: events.Result{CheckID: "c2", Eligibility: e}}})
	if got := h.u.w.bannerCode.Text; got != "Mã 000 (thẻ cũ: 003)" {
		t.Errorf("reissued card's code %q, want %q", got, "Mã 000 (thẻ cũ: 003)")
	}
	if h.u.w.bannerAction.Visible() {
		t.Error("sign-in-again button shown for an eligible answer")
	}
}

// TestCachedByAnotherDesk: in hospital mode a cached answer another desk
// kept says which desk and how long ago.
func TestCachedByAnotherDesk(t *testing.T) {
	h := newHarness(t, "vi", false)
	e := patient.Eligibility{Verdict: patient.Eligible, Code: "000", ReasonVI: "Thẻ còn giá trị.", Source: patient.SourceCache,
		CachedBy: "Quầy 3", CheckedAt: scenes.Now.Add(-2*time.Hour - 5*time.Minute)}
	h.play([]scenes.Step{{Kind: events.CardPresented, Data: events.Presented{CheckID: "c1", Medium: patient.MediumTyped}},
		{Kind: events.EligibilityResult, Data: events.Result{CheckID: "c1", Eligibility: e}}})
	if got := h.u.w.bannerReason.Text; !strings.Contains(got, "Kết quả lưu tại Quầy 3, 2 giờ trước") {
		t.Errorf("banner %q, want the desk and the age", got)
	}
}
