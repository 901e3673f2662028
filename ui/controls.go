package ui

import (
	"errors"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"

	"github.com/tiepdon/tiepdon/agent/patient"
)

// wedgeEntry is an Entry that feeds its keystrokes to the keyboard-wedge
// classifier. When a burst turns out to be a scan, the scanned characters
// are taken back out of the field and the payload goes to Scanner.Scan.
type wedgeEntry struct {
	widget.Entry
	u    *UI
	snap string // text before the current burst
}

func (u *UI) newEntry() *wedgeEntry {
	e := &wedgeEntry{u: u}
	e.ExtendBaseWidget(e)
	return e
}

// TypedRune implements fyne.Focusable.
func (e *wedgeEntry) TypedRune(r rune) {
	e.u.keyRune(r, e)
	e.Entry.TypedRune(r)
}

// TypedKey implements fyne.Focusable.
func (e *wedgeEntry) TypedKey(k *fyne.KeyEvent) {
	if p, done := e.u.wedgeKey(k); done {
		if p != "" { // a scan: take its characters back out
			e.SetText(e.snap)
		}
		e.u.scan(p)
		return
	}
	e.Entry.TypedKey(k)
}

// wedgeButton is a Button that feeds keystrokes typed while it has focus
// to the keyboard-wedge classifier.
type wedgeButton struct {
	widget.Button
	u *UI
}

func (u *UI) newButton(label string, icon fyne.Resource, tapped func()) *wedgeButton {
	b := &wedgeButton{u: u}
	b.Text, b.Icon, b.OnTapped = label, icon, tapped
	b.ExtendBaseWidget(b)
	return b
}

// TypedRune implements fyne.Focusable.
func (b *wedgeButton) TypedRune(r rune) {
	b.u.keyRune(r, nil)
	b.Button.TypedRune(r)
}

// TypedKey implements fyne.Focusable.
func (b *wedgeButton) TypedKey(k *fyne.KeyEvent) {
	if p, done := b.u.wedgeKey(k); done {
		b.u.scan(p)
		return
	}
	b.Button.TypedKey(k)
}

// wedgeSelect is a Select (settings) that feeds keystrokes typed while it
// has focus to the keyboard-wedge classifier. A space inside a burst (a
// scanned name has spaces) does not open its list.
type wedgeSelect struct {
	widget.Select
	u *UI
}

func (u *UI) newSelect(options []string) *wedgeSelect {
	s := &wedgeSelect{u: u}
	s.Options = options
	s.PlaceHolder = u.t("select.placeholder") // Fyne's own is English
	s.ExtendBaseWidget(s)
	return s
}

// TypedRune implements fyne.Focusable.
func (s *wedgeSelect) TypedRune(r rune) {
	s.u.keyRune(r, nil)
	s.Select.TypedRune(r)
}

// TypedKey implements fyne.Focusable.
func (s *wedgeSelect) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeySpace && s.u.wedge.Pending() > 0 {
		return // a space inside a burst: its rune follows
	}
	if p, done := s.u.wedgeKey(k); done {
		s.u.scan(p)
		return
	}
	s.Select.TypedKey(k)
}

// wedgeKey gives a key event to the keyboard-wedge classifier and the
// hotkeys, whatever has focus. done says the focused widget must not see
// the key: an Enter that ended a scan (payload is the scan) or a hotkey
// (payload is empty).
func (u *UI) wedgeKey(k *fyne.KeyEvent) (payload string, done bool) {
	if isEnter(k) {
		return u.wedge.Enter(u.now())
	}
	if editingKey(k) {
		u.wedge.Other()
	}
	return "", u.hotkey(k)
}

func isEnter(k *fyne.KeyEvent) bool { return k.Name == fyne.KeyReturn || k.Name == fyne.KeyEnter }

// installKeys feeds keystrokes typed with nothing focused to the wedge
// classifier and the function keys.
func (u *UI) installKeys() {
	c := u.win.Canvas()
	c.SetOnTypedRune(func(r rune) { u.keyRune(r, nil) })
	c.SetOnTypedKey(func(k *fyne.KeyEvent) {
		p, _ := u.wedgeKey(k)
		u.scan(p)
	})
}

// keyRune feeds a typed character to the keyboard-wedge classifier and
// re-arms the pause that ends a scan sent without Enter. field is the text
// field with the focus, if any: a scan typed into it is taken back out.
func (u *UI) keyRune(r rune, field *wedgeEntry) {
	if u.wedge.Rune(r, u.now()) {
		u.wedgeField = field
		if field != nil {
			field.snap = field.Text
		}
	}
	pause := u.wedge.maxGap() + 20*time.Millisecond
	if u.wedgePause == nil {
		u.wedgePause = time.AfterFunc(pause, func() {
			if u.ctx.Err() == nil {
				u.do(u.wedgeIdle)
			}
		})
		return
	}
	u.wedgePause.Reset(pause)
}

// wedgeIdle ends the current burst after a pause: a scanner that sends no
// Enter has finished.
func (u *UI) wedgeIdle() {
	p, ok := u.wedge.Idle(u.now())
	if !ok {
		return
	}
	if f := u.wedgeField; f != nil {
		f.SetText(f.snap)
	}
	u.scan(p)
}

// editingKey reports keys no scanner sends inside a payload (editing and
// navigation), which mark a burst as typing. Keys that produce characters
// and modifiers (Shift for capitals) also arrive as key events, alongside
// their runes, and must not.
func editingKey(k *fyne.KeyEvent) bool {
	switch k.Name {
	case fyne.KeyBackspace, fyne.KeyDelete, fyne.KeyLeft, fyne.KeyRight, fyne.KeyUp, fyne.KeyDown,
		fyne.KeyHome, fyne.KeyEnd, fyne.KeyPageUp, fyne.KeyPageDown, fyne.KeyTab, fyne.KeyEscape, fyne.KeyInsert:
		return true
	}
	return false
}

// hotkey handles the keys that work whatever has focus: Escape clears the
// screen, F2 goes to manual entry, F5 re-checks.
func (u *UI) hotkey(k *fyne.KeyEvent) bool {
	switch k.Name {
	case fyne.KeyEscape:
		u.clear()
	case fyne.KeyF2:
		u.focusEntry()
	case fyne.KeyF5:
		u.recheckCurrent()
	default:
		return false
	}
	return true
}

// shortcut is one keyboard shortcut of the main menu.
type shortcut struct {
	key    string // catalogue key of the menu label
	sc     fyne.Shortcut
	action func()
}

func ctrl(k fyne.KeyName) fyne.Shortcut {
	return &desktop.CustomShortcut{KeyName: k, Modifier: fyne.KeyModifierShortcutDefault}
}

func (u *UI) shortcuts() []shortcut {
	s := []shortcut{
		{"menu.check", ctrl(fyne.KeyReturn), u.submitManual},
		{"menu.recheck", ctrl(fyne.KeyR), u.recheckCurrent},
		{"menu.clear", ctrl(fyne.KeyL), u.clear},
		{"menu.entry", ctrl(fyne.KeyF), u.focusEntry},
		{"menu.reveal", ctrl(fyne.KeyI), u.toggleReveal},
		{"menu.signin", ctrl(fyne.KeyU), u.showSignIn},
		{"menu.language", ctrl(fyne.KeyG), u.toggleLanguage},
	}
	if _, ok := u.act.(Simulator); ok && u.opts.Demo {
		s = append(s, shortcut{"menu.simulate", ctrl(fyne.KeyD), u.simulate})
	}
	return s
}

// mainMenu holds the shortcuts: the desktop driver runs main-menu
// shortcuts before the focused widget sees them, so they work from any
// field.
func (u *UI) mainMenu() *fyne.MainMenu {
	var items []*fyne.MenuItem
	for _, s := range u.shortcuts() {
		it := fyne.NewMenuItem(u.t(s.key), s.action)
		it.Shortcut = s.sc
		items = append(items, it)
	}
	return fyne.NewMainMenu(fyne.NewMenu(u.t("menu.title"), items...))
}

// scan hands a keyboard-wedge scan to the agent, and opens the sign-in when
// no one is signed in for the shift. An empty payload (a key that was no
// scan) is ignored.
func (u *UI) scan(payload string) {
	if payload == "" {
		return
	}
	// Before anyone signs in the scan still goes to the agent, which
	// refuses it with a plain instruction and keeps the patient on screen,
	// so F5 after signing in checks them without a second scan.
	u.needStaff()
	sc, ok := u.act.(Scanner)
	if !ok {
		u.log.Warn("A keyboard-wedge scan was ignored because this window has no scanner input; scan with the serial scanner or type the card number", "len", len(payload))
		return
	}
	u.async(func() func() { sc.Scan(payload); return nil })
}

func (u *UI) focusEntry() {
	u.w.tabs.SelectIndex(0)
	u.win.Canvas().Focus(u.w.numEntry)
}

func (u *UI) focusCAN() {
	u.w.tabs.SelectIndex(0)
	u.win.Canvas().Focus(u.w.canEntry)
}

func (u *UI) clearEntry() {
	for _, e := range []*wedgeEntry{u.w.numEntry, u.w.nameEntry, u.w.dobEntry} {
		e.SetText("")
	}
}

// renderEntryHints validates the manual-entry fields as they are typed.
func (u *UI) renderEntryHints() {
	w := u.w
	c := CheckNumber(w.numEntry.Text)
	switch {
	case c.Err != nil:
		setHint(w.numHint, u.errText(c.Err), widget.DangerImportance)
	case c.Norm == "":
		setHint(w.numHint, u.t("hint.number"), widget.MediumImportance)
	case c.Kind == NumberCard && c.Complete:
		_, pct := benefitOf(c.Norm)
		setHint(w.numHint, u.t("hint.card.ok", c.Norm[:2], c.Benefit, pct, c.Province), widget.SuccessImportance)
	case c.Kind == NumberCard:
		setHint(w.numHint, u.t("hint.card.partial", len(c.Norm)), widget.MediumImportance)
	case c.Kind == NumberSocialIns:
		setHint(w.numHint, u.t("hint.bhxh.ok"), widget.SuccessImportance)
	case c.Kind == NumberCitizenID && c.Complete:
		setHint(w.numHint, u.t("hint.cid.ok"), widget.SuccessImportance)
	default:
		setHint(w.numHint, u.t("hint.digits.partial", len(c.Norm)), widget.MediumImportance)
	}
	if w.nameEntry.Text == "" {
		setHint(w.nameHint, "", widget.MediumImportance)
	} else if _, err := CheckName(w.nameEntry.Text); err != nil {
		setHint(w.nameHint, u.errText(err), widget.DangerImportance)
	} else if plainASCII(w.nameEntry.Text) {
		setHint(w.nameHint, u.t("hint.name.nodiacritics"), widget.WarningImportance)
	} else {
		setHint(w.nameHint, "", widget.MediumImportance)
	}
	d, partial, err := CheckDOB(w.dobEntry.Text, u.now())
	switch {
	case w.dobEntry.Text == "":
		setHint(w.dobHint, u.t("hint.dob"), widget.MediumImportance)
	case err != nil && partial:
		setHint(w.dobHint, u.t("hint.dob"), widget.MediumImportance)
	case err != nil:
		setHint(w.dobHint, u.errText(err), widget.DangerImportance)
	default:
		setHint(w.dobHint, u.t("hint.dob.ok", d.String()), widget.SuccessImportance)
	}
	if f := u.st.mismatchField; f != "" {
		hint := map[string]*widget.Label{"name": w.nameHint, "birthDate": w.dobHint, "cardNumber": w.numHint}[f]
		if hint != nil {
			setHint(hint, u.st.mismatchHint, widget.DangerImportance)
		}
	}
	w.entryBox.Refresh()
}

// plainASCII reports a name typed without any Vietnamese letter or accent.
func plainASCII(s string) bool {
	for _, r := range s {
		if r > 0x7f {
			return false
		}
	}
	return true
}

// afterVerdict runs when the check on screen gets its answer: typed
// fields stay with the field at fault marked when the gateway found a
// mismatch (and its own spelling or date shown), and are emptied
// otherwise; the focus goes where the next patient starts (the card
// number; a wedge scan or F2 work from there too).
func (u *UI) afterVerdict(e patient.Eligibility) {
	st, w := &u.st, u.w
	focus := w.numEntry
	if st.typed {
		st.typed = false
		if e.Verdict == patient.InputMismatch {
			st.mismatchField = e.Field
			st.mismatchHint = u.t("hint.mismatch")
			switch e.Field {
			case "name":
				focus = w.nameEntry
				if e.Holder != "" {
					st.mismatchHint = u.t("hint.mismatch.gateway", string(e.Holder))
				}
			case "birthDate":
				focus = w.dobEntry
				if !e.BirthDate.IsZero() {
					st.mismatchHint = u.t("hint.mismatch.gateway", e.BirthDate.String())
				}
			}
			u.renderEntryHints()
		} else {
			st.mismatchField, st.mismatchHint = "", ""
			u.clearEntry()
		}
	}
	if w.tabs.SelectedIndex() != 0 || u.win.Canvas().Overlays().Top() != nil {
		return // staff are elsewhere (settings, a dialog): leave them there
	}
	u.win.Canvas().Focus(focus)
}

func setHint(l *widget.Label, text string, imp widget.Importance) {
	l.Importance = imp
	l.Hidden = text == ""
	l.SetText(text)
}

// submitManual checks the manually entered identity.
func (u *UI) submitManual() {
	w := u.w
	if u.needStaff() {
		return
	}
	id, err := ParseManual(w.numEntry.Text, w.nameEntry.Text, w.dobEntry.Text, u.now())
	if err != nil {
		u.st.entryErr = u.errText(err)
		w.entryErr.SetText(u.st.entryErr)
		w.entryErr.Show()
		w.entryBox.Refresh()
		var fe *FieldError
		if errors.As(err, &fe) {
			switch fe.Field {
			case "name":
				u.win.Canvas().Focus(w.nameEntry)
			case "dob":
				u.win.Canvas().Focus(w.dobEntry)
			default:
				u.win.Canvas().Focus(w.numEntry)
			}
		}
		return
	}
	if n := string(id.Name); n != "" && plainASCII(n) && u.st.asciiWarned != n {
		// Sent as typed, a name without its accents comes back as a
		// mismatch (060): say so first; a second Enter sends it anyway.
		u.st.asciiWarned = n
		u.st.entryErr = u.t("entry.err.nodiacritics")
		u.renderMain()
		u.win.Canvas().Focus(w.nameEntry)
		return
	}
	u.st.mismatchField, u.st.mismatchHint = "", ""
	u.st.entryErr = ""
	w.entryErr.Hide()
	u.st.typed = true // the fields stay until the answer: a mismatch is corrected in place
	u.startCheck(id)
}

// startCheck asks the agent for a check; the answer comes on the bus.
func (u *UI) startCheck(id patient.Identity) {
	u.async(func() func() {
		_, err := u.act.Check(u.ctx, id)
		if err == nil {
			return nil
		}
		u.log.Warn("A check asked for in the window did not start; try again, and check the log lines before this one", "err", err)
		return func() {
			u.st.entryErr = u.t("entry.err.check", u.errText(err))
			u.renderMain()
		}
	})
}

func (u *UI) recheckCurrent() {
	if u.st.identity == nil || patient.QueryOf(*u.st.identity).Empty() || u.needStaff() {
		return
	}
	u.startCheck(*u.st.identity)
}

func (u *UI) submitCAN() {
	can, err := CheckCAN(u.w.canEntry.Text)
	if err != nil {
		u.w.canHint.SetText(u.errText(err))
		return
	}
	p, ok := u.act.(CANProvider)
	if !ok {
		u.log.Warn("The 6 digits typed for a chip were not used: this window cannot pass them to a reader; read the chip with its QR code scanned first")
		return
	}
	u.w.canEntry.SetText("")
	u.st.askCAN = false
	u.renderStrips()
	u.async(func() func() {
		if err := p.ProvideCAN(can); err != nil {
			u.log.Warn("The 6 digits typed for a chip were not taken; tap the card again and retype them", "err", err)
			return func() {
				u.st.askCAN = true
				u.renderStrips()
				u.w.canHint.SetText(u.t("can.failed"))
			}
		}
		return nil
	})
}

func (u *UI) toggleReveal() {
	u.st.reveal = !u.st.reveal
	u.renderPatient()
}

func (u *UI) simulate() {
	s, ok := u.act.(Simulator)
	if !ok {
		return
	}
	u.async(func() func() {
		if err := s.SimulateScan(); err != nil {
			u.log.Warn("The demo's simulated scan did not run; try the button again", "err", err)
		}
		return nil
	})
}

func (u *UI) toggleLanguage() {
	if u.cat.lang == English {
		u.SetLanguage(string(Vietnamese))
	} else {
		u.SetLanguage(string(English))
	}
}

// SetLanguage switches the window to "vi" or "en" at once. Call it on the
// Fyne goroutine.
func (u *UI) SetLanguage(lang string) {
	if Lang(lang) == u.cat.lang {
		return
	}
	tab := 0
	if u.w != nil && u.w.tabs != nil {
		tab = u.w.tabs.SelectedIndex()
	}
	u.cat = catalogueFor(lang)
	u.build()
	u.w.tabs.SelectIndex(tab)
}

func (u *UI) renderStaff() {
	b := u.w.staffBtn
	if u.st.staff.CitizenID == "" {
		b.SetText(u.t("staff.signin"))
		b.Importance = widget.WarningImportance
	} else {
		b.SetText(u.t("staff.signed", string(u.st.staff.Name)))
		b.Importance = widget.MediumImportance
	}
	b.Refresh()
	u.w.top.Refresh()
}

// showSignIn asks for the staff member of this shift. Keyboard only it
// takes the name, Enter, the CCCD number and Enter: two keys besides what
// is typed. After an error the dialog stays open with the focus in the
// field at fault.
func (u *UI) showSignIn() {
	if u.w.signIn != nil {
		u.w.signIn.Show()
		u.win.Canvas().Focus(u.w.signInName)
		return
	}
	name, id := u.newEntry(), u.newEntry()
	name.SetText(string(u.st.staff.Name))
	id.SetText(string(u.st.staff.CitizenID))
	id.SetPlaceHolder("001090123456")
	msg := widget.NewLabel(u.t("staff.note"))
	msg.Wrapping = fyne.TextWrapWord
	items := []*widget.FormItem{
		widget.NewFormItem(u.t("staff.name"), name),
		widget.NewFormItem(u.t("staff.id"), id),
		widget.NewFormItem("", msg),
	}
	var d *dialog.FormDialog
	submit := func() {
		err := u.signIn(name.Text, id.Text)
		if err == nil {
			d.Hide()
			u.focusEntry()
			return
		}
		msg.Importance = widget.DangerImportance
		msg.SetText(u.errText(err))
		d.Show() // the form closes itself on confirm: keep it open after an error
		if err.Field == "staffId" {
			u.win.Canvas().Focus(id)
		} else {
			u.win.Canvas().Focus(name)
		}
	}
	name.OnSubmitted = func(string) { u.win.Canvas().Focus(id) }
	id.OnSubmitted = func(string) { submit() }
	d = dialog.NewForm(u.t("staff.title"), u.t("staff.ok"), u.t("staff.cancel"), items, func(ok bool) {
		if ok {
			submit()
		}
	}, u.win)
	d.SetOnClosed(func() { u.w.signIn, u.w.signInName = nil, nil })
	u.w.signIn, u.w.signInName = d, name
	d.Resize(fyne.NewSize(480, 300))
	d.Show()
	u.win.Canvas().Focus(name)
}

// needStaff reports that no one is signed in for the shift: the window
// then refuses to start a check, says why and opens the sign-in, since the
// gateway answers every check without a registered staff member with an
// error that reads like an IT fault.
func (u *UI) needStaff() bool {
	if u.st.staff.CitizenID != "" {
		return false
	}
	u.st.entryErr = u.t("entry.err.nostaff")
	u.renderMain()
	u.showSignIn()
	return true
}

// signIn validates and applies the shift sign-in.
func (u *UI) signIn(name, id string) *FieldError {
	s, err := CheckStaff(name, id)
	if err != nil {
		return err
	}
	if u.st.entryErr == u.t("entry.err.nostaff") {
		u.st.entryErr = ""
	}
	u.st.staff = s
	u.act.SetStaff(s)
	u.renderStaff()
	u.renderMain()
	return nil
}
