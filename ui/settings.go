package ui

import (
	"net"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// ValidateSettings checks settings before they are saved: the gateway URL
// is https (plain http only to a loopback simulator), the account is set,
// every HIS origin is a bare scheme://host[:port], retention is 1–3650 days.
func ValidateSettings(s Settings) error {
	u, err := url.Parse(strings.TrimSpace(s.GatewayURL))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return &FieldError{Field: "gatewayUrl", Key: "err.set.url"}
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return &FieldError{Field: "gatewayUrl", Key: "err.set.https"}
	}
	if strings.TrimSpace(s.GatewayUser) == "" {
		return &FieldError{Field: "gatewayUser", Key: "err.set.user"}
	}
	for _, o := range s.HISOrigins {
		ou, err := url.Parse(o)
		if err != nil || ou.Host == "" || (ou.Scheme != "https" && ou.Scheme != "http") ||
			(ou.Path != "" && ou.Path != "/") || ou.RawQuery != "" || ou.Fragment != "" || ou.User != nil {
			return &FieldError{Field: "hisOrigins", Key: "err.set.origin", Args: []any{o}}
		}
	}
	if s.RetentionDays < 1 || s.RetentionDays > 3650 {
		return &FieldError{Field: "retentionDays", Key: "err.set.retention"}
	}
	if s.Language != "" && s.Language != string(Vietnamese) && s.Language != string(English) {
		return &FieldError{Field: "language", Key: "err.set.language"}
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// settingsForm is the settings tab.
type settingsForm struct {
	box       *fyne.Container
	url, user *wedgeEntry
	password  *wedgeEntry
	pwHint    *widget.Label
	reader    *wedgeSelect
	scanner   *wedgeSelect
	origins   *wedgeEntry
	retention *wedgeEntry
	language  *wedgeSelect
	save      *wedgeButton
	msg       *widget.Label
	store     SettingsStore
	loaded    Settings

	// The IT lock (nil guard: always open).
	guard    SettingsGuard
	open     bool
	lockBox  *fyne.Container
	lockText *widget.Label
	pin      *wedgeEntry
	unlock   *wedgeButton
	// untested holds settings whose gateway sign-in failed: saving the
	// same settings again saves them anyway.
	untested *Settings
}

func (u *UI) newSettingsForm() *settingsForm {
	f := &settingsForm{}
	store, ok := u.act.(SettingsStore)
	if !ok {
		f.box = container.NewVBox(widget.NewLabel(u.t("set.unavailable")))
		return f
	}
	f.store = store
	f.url, f.user, f.password = u.newEntry(), u.newEntry(), u.newEntry()
	f.password.Password = true
	f.pwHint = small("")
	f.reader = u.newSelect(nil)
	f.scanner = u.newSelect(nil)
	f.origins = u.newEntry()
	f.origins.MultiLine = true
	f.origins.SetMinRowsVisible(3)
	f.retention = u.newEntry()
	f.language = u.newSelect([]string{"Tiếng Việt", "English"})
	f.msg = widget.NewLabel("")
	f.msg.Wrapping = fyne.TextWrapWord
	f.save = u.newButton(u.t("set.save"), theme.DocumentSaveIcon(), func() { u.saveSettings(f) })
	f.save.Importance = widget.HighImportance
	form := container.New(layout.NewFormLayout(),
		key(u.t("set.url")), f.url,
		key(u.t("set.user")), f.user,
		key(u.t("set.password")), container.NewVBox(f.password, f.pwHint),
		key(u.t("set.reader")), f.reader,
		key(u.t("set.scanner")), f.scanner,
		key(u.t("set.origins")), f.origins,
		key(u.t("set.retention")), f.retention,
		key(u.t("set.language")), f.language,
	)
	f.guard, _ = store.(SettingsGuard)
	f.lockText = widget.NewLabel("")
	f.lockText.Wrapping = fyne.TextWrapWord
	f.lockText.TextStyle.Bold = true
	f.pin = u.newEntry()
	f.pin.Password = true
	f.pin.SetPlaceHolder(u.t("set.pin.placeholder"))
	f.pin.OnSubmitted = func(string) { u.unlockSettings(f) }
	f.unlock = u.newButton(u.t("set.pin.unlock"), theme.LoginIcon(), func() { u.unlockSettings(f) })
	f.lockBox = container.NewVBox(f.lockText, container.NewBorder(nil, nil, nil, f.unlock, f.pin))
	f.box = container.NewVBox(heading(u.t("set.title")), f.lockBox, small(u.t("set.note")), form,
		container.NewHBox(f.save), f.msg)
	u.loadSettings(f)
	u.lockSettings(f)
	return f
}

// lockSettings shows the settings read-only until the IT PIN is typed (or
// for an OS administrator, or when nothing guards them).
func (u *UI) lockSettings(f *settingsForm) {
	if f.store == nil {
		return
	}
	f.open = f.guard == nil || f.guard.Admin()
	f.pin.SetText("")
	switch {
	case f.open:
		f.lockBox.Hide()
	case f.guard.PINSet():
		f.lockText.SetText(u.t("set.pin.ask"))
		f.pin.Show()
		f.unlock.Show()
		f.lockBox.Show()
	default:
		f.lockText.SetText(u.t("set.pin.none"))
		f.pin.Hide()
		f.unlock.Hide()
		f.lockBox.Show()
	}
	for _, e := range []interface {
		Enable()
		Disable()
	}{f.url, f.user, f.password, f.reader, f.scanner, f.origins,
		f.retention, f.language, f.save} {
		if f.open {
			e.Enable()
		} else {
			e.Disable()
		}
	}
	disableLocked(f)
}

// disableLocked shows the keys IT has locked read-only, even when the page
// is open.
func disableLocked(f *settingsForm) {
	for key, e := range map[string]interface{ Disable() }{
		"gateway.url": f.url, "gateway.username": f.user, "gateway.password": f.password,
		"reader.name": f.reader, "scanner.port": f.scanner, "his.origins": f.origins,
		"cache.retention": f.retention, "language": f.language,
	} {
		if slices.Contains(f.loaded.Locked, key) {
			e.Disable()
		}
	}
}

// unlockSettings checks the typed IT PIN.
func (u *UI) unlockSettings(f *settingsForm) {
	if f.guard == nil || f.open {
		return
	}
	ok, wait := f.guard.Unlock(f.pin.Text)
	f.pin.SetText("")
	if !ok {
		f.lockText.Importance = widget.DangerImportance
		if wait > 0 {
			f.lockText.SetText(u.t("set.pin.locked", int((wait+time.Minute-1)/time.Minute)))
		} else {
			f.lockText.SetText(u.t("set.pin.wrong"))
		}
		u.win.Canvas().Focus(f.pin)
		return
	}
	f.lockText.Importance = widget.MediumImportance
	f.guard = openGuard{f.guard} // open until staff leave the tab
	u.lockSettings(f)
	u.win.Canvas().Focus(f.url)
}

// openGuard is a guard already passed: the page stays open until the tab
// is left, when the real guard takes over again.
type openGuard struct{ SettingsGuard }

func (openGuard) Admin() bool { return true }

// leaveSettings locks the settings again when staff leave their tab.
func (u *UI) leaveSettings(f *settingsForm) {
	if g, ok := f.guard.(openGuard); ok {
		f.guard = g.SettingsGuard
	}
	f.untested = nil
	u.lockSettings(f)
}

func (u *UI) loadSettings(f *settingsForm) {
	s := f.store.Settings()
	f.loaded = s
	f.url.SetText(s.GatewayURL)
	f.user.SetText(s.GatewayUser)
	f.password.SetText("")
	switch {
	case s.PasswordStored && s.PasswordInKeyring:
		f.pwHint.SetText(u.t("set.password.keyring"))
	case s.PasswordStored:
		f.pwHint.SetText(u.t("set.password.stored"))
	default:
		f.pwHint.SetText(u.t("set.password.none"))
	}
	auto := u.t("set.auto")
	f.reader.Options = append([]string{auto}, s.Readers...)
	f.reader.SetSelected(orAuto(s.Reader, auto))
	wedge := u.t("set.scanner.wedge")
	f.scanner.Options = append([]string{auto, wedge}, s.Scanners...)
	sc := orAuto(s.Scanner, auto)
	if s.Scanner == ScannerWedge {
		sc = wedge
	}
	f.scanner.SetSelected(sc)
	f.origins.SetText(strings.Join(s.HISOrigins, "\n"))
	f.retention.SetText(strconv.Itoa(s.RetentionDays))
	disableLocked(f)
	if u.cat.lang == English {
		f.language.SetSelected("English")
	} else {
		f.language.SetSelected("Tiếng Việt")
	}
}

func orAuto(s, auto string) string {
	if s == "" {
		return auto
	}
	return s
}

// formSettings reads the form back into Settings.
func (u *UI) formSettings(f *settingsForm) (Settings, error) {
	s := f.loaded
	s.GatewayURL = strings.TrimSpace(f.url.Text)
	s.GatewayUser = strings.TrimSpace(f.user.Text)
	s.GatewayPassword = f.password.Text
	auto, wedge := u.t("set.auto"), u.t("set.scanner.wedge")
	s.Reader = f.reader.Selected
	if s.Reader == auto {
		s.Reader = ""
	}
	switch f.scanner.Selected {
	case auto:
		s.Scanner = ""
	case wedge:
		s.Scanner = ScannerWedge
	default:
		s.Scanner = f.scanner.Selected
	}
	s.HISOrigins = nil
	for _, line := range strings.Split(f.origins.Text, "\n") {
		if line = strings.TrimRight(strings.TrimSpace(line), "/"); line != "" {
			s.HISOrigins = append(s.HISOrigins, line)
		}
	}
	days, err := strconv.Atoi(strings.TrimSpace(f.retention.Text))
	if err != nil {
		return s, &FieldError{Field: "retentionDays", Key: "err.set.retention"}
	}
	s.RetentionDays = days
	s.Language = string(Vietnamese)
	if f.language.Selected == "English" {
		s.Language = string(English)
	}
	return s, ValidateSettings(s)
}

func (u *UI) saveSettings(f *settingsForm) {
	if !f.open {
		return
	}
	s, err := u.formSettings(f)
	if err != nil {
		f.msg.Importance = widget.DangerImportance
		f.msg.SetText(u.errText(err))
		return
	}
	tester, ok := f.store.(GatewayTester)
	if !ok || (f.untested != nil && reflect.DeepEqual(*f.untested, s)) {
		f.untested = nil
		u.storeSettings(f, s)
		return
	}
	// A wrong gateway URL or account, saved, leaves every patient without
	// an answer: sign in with it first.
	f.save.Disable()
	f.msg.Importance = widget.MediumImportance
	f.msg.SetText(u.t("set.testing"))
	u.async(func() func() {
		err := tester.TryGateway(s)
		return func() {
			if err != nil {
				f.save.Enable()
				f.untested = &s
				f.msg.Importance = widget.DangerImportance
				f.msg.SetText(u.t("set.test.failed", u.errText(err)))
				return
			}
			u.storeSettings(f, s)
		}
	})
}

func (u *UI) storeSettings(f *settingsForm, s Settings) {
	f.save.Disable()
	u.async(func() func() {
		err := f.store.SaveSettings(s)
		return func() {
			f.save.Enable()
			if err != nil {
				u.log.Warn("The settings could not be saved; the window shows why; fix the field named and save again", "err", err)
				f.msg.Importance = widget.DangerImportance
				f.msg.SetText(u.t("set.failed", u.errText(err)))
				return
			}
			f.msg.Importance = widget.SuccessImportance
			f.msg.SetText(u.t("set.saved"))
			if s.Language != string(u.cat.lang) {
				u.SetLanguage(s.Language)
				u.w.tabs.SelectIndex(3)
				u.w.settings.msg.Importance = widget.SuccessImportance
				u.w.settings.msg.SetText(u.t("set.saved"))
				return
			}
			u.loadSettings(f)
		}
	})
}
