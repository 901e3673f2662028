package ui

import (
	"bytes"
	"image"
	"image/color"
	_ "image/jpeg" // chip photos are JPEG
	_ "image/png"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
)

// widgets are the window's live widgets; build makes a new set (on start
// and when the language changes) and the render functions fill them from
// the state.
type widgets struct {
	bannerBg     *canvas.Rectangle
	bannerTitle  *canvas.Text
	bannerReason *widget.Label
	bannerCode   *widget.Label
	bannerNext   *widget.Label // what to do next, from the policy table
	bannerAction *wedgeButton  // "sign in again" on a staff problem
	bannerTheme  *bannerTheme
	bannerHold   *container.ThemeOverride
	progress     *widget.ProgressBar
	flash        *fyne.Animation

	alertBox  *fyne.Container
	alertText *widget.Label
	canBox    *fyne.Container
	canEntry  *wedgeEntry
	canHint   *widget.Label
	pairStrip *fyne.Container
	lateBox   *fyne.Container

	patientCard *widget.Card
	photo       *canvas.Image
	photoBox    *fyne.Container
	name        *widget.Label
	dob         *widget.Label
	sex         *widget.Label
	cid         *widget.Label
	reveal      *wedgeButton
	address     *widget.Label
	chipExtra   *widget.Label

	cardCard *widget.Card
	cardNo   *widget.Label
	benefit  *widget.Label
	validity *widget.Label
	facility *widget.Label
	facNote  *widget.Label // this facility is, or is not, the registered one
	area     *widget.Label
	fiveYear *widget.Label
	newCard  *widget.Label

	provenance  *widget.Label
	strips      *fyne.Container // banner and the strips under it
	details     *fyne.Container
	entryBox    *fyne.Container // manual entry: the fields scroll, the check button and error stay under them
	top         *fyne.Container
	mainTab     *fyne.Container
	status      *fyne.Container
	visitsCard  *fyne.Container
	visitsTitle *widget.Label
	visits      *fyne.Container
	recheck     *wedgeButton
	clearBtn    *wedgeButton

	numEntry, nameEntry, dobEntry *wedgeEntry
	numHint, nameHint, dobHint    *widget.Label
	entryErr                      *widget.Label
	checkBtn                      *wedgeButton

	staffBtn *wedgeButton
	simBtn   *wedgeButton
	langBtn  *wedgeButton

	stReader, stScanner, stGateway, stOutbox, stClients *widget.Label
	stServed                                            *widget.Label

	tabs                        *container.AppTabs
	recentBox                   *fyne.Container
	recentSearch                *wedgeEntry
	recentCount                 *widget.Label
	copyName, copyCID, copyCard *wedgeButton
	pendingBox                  *fyne.Container
	pairedBox                   *fyne.Container
	pairMsg                     *widget.Label
	pairTicks                   []func() // count the pending requests' time down

	settings *settingsForm

	signIn     *dialog.FormDialog // the shift sign-in while open
	signInName *wedgeEntry
}

// build makes the window's content from scratch and renders the state.
func (u *UI) build() {
	w := &widgets{}
	u.w = w
	u.localizeToolkit()
	u.win.SetTitle(u.opts.Title + " — " + u.t("app.subtitle"))

	// Verdict banner.
	w.bannerBg = canvas.NewRectangle(colIdle)
	w.bannerBg.CornerRadius = 6
	w.bannerTitle = canvas.NewText("", colInk)
	w.bannerTitle.TextSize = 44
	w.bannerTitle.TextStyle = fyne.TextStyle{Bold: true}
	w.bannerReason = widget.NewLabel("")
	w.bannerReason.Wrapping = fyne.TextWrapWord
	w.bannerReason.SizeName = theme.SizeNameSubHeadingText
	w.bannerCode = widget.NewLabel("")
	w.bannerNext = widget.NewLabel("")
	w.bannerNext.Wrapping = fyne.TextWrapWord
	w.bannerNext.TextStyle.Bold = true
	w.bannerNext.Hide()
	w.bannerAction = u.newButton(u.t("banner.signin-again"), theme.AccountIcon(), u.showSignIn)
	// The banner's theme paints text in its own colour (white on grey):
	// a primary button keeps its own colours, so it reads on any banner.
	w.bannerAction.Importance = widget.HighImportance
	w.bannerAction.Hide()
	w.progress = widget.NewProgressBar()
	w.progress.Max = 100
	w.bannerTheme = &bannerTheme{base: u.app.Settings().Theme(), fg: colInk}
	body := container.NewVBox(container.NewBorder(nil, nil, nil, w.bannerCode, w.bannerTitle), w.bannerReason,
		container.NewBorder(nil, nil, nil, w.bannerAction, w.bannerNext), w.progress)
	w.bannerHold = container.NewThemeOverride(body, w.bannerTheme)
	banner := container.NewStack(w.bannerBg, container.NewPadded(container.NewPadded(w.bannerHold)))

	// Strips under the banner: alert, CAN prompt, pairing requests.
	w.alertText = widget.NewLabel("")
	w.alertText.Wrapping = fyne.TextWrapWord
	w.alertText.TextStyle.Bold = true
	alertBg := canvas.NewRectangle(colRed)
	alertBg.CornerRadius = 6
	w.alertBox = container.NewStack(alertBg, container.NewThemeOverride(
		container.NewBorder(nil, nil, widget.NewIcon(theme.WarningIcon()), nil, w.alertText),
		&bannerTheme{base: u.app.Settings().Theme(), fg: colWhite}))
	w.canEntry = u.newEntry()
	w.canEntry.SetPlaceHolder("123456")
	w.canEntry.OnSubmitted = func(string) { u.submitCAN() }
	w.canHint = widget.NewLabel(u.t("can.prompt"))
	w.canHint.TextStyle.Bold = true
	canOK := u.newButton(u.t("can.submit"), theme.ConfirmIcon(), u.submitCAN)
	w.canBox = container.NewBorder(nil, nil, w.canHint, canOK, w.canEntry)
	w.pairStrip = container.NewVBox()
	w.lateBox = container.NewVBox()
	w.lateBox.Hide()

	// Patient panel.
	w.photo = canvas.NewImageFromImage(nil)
	w.photo.FillMode = canvas.ImageFillContain
	w.photo.SetMinSize(fyne.NewSize(105, 140))
	w.photoBox = container.NewVBox(w.photo, small(u.t("patient.photo.chip")))
	w.name = widget.NewLabel("")
	w.name.SizeName = theme.SizeNameSubHeadingText
	w.name.TextStyle.Bold = true
	w.name.Wrapping = fyne.TextWrapWord
	w.dob, w.sex, w.cid, w.address, w.chipExtra = value(), value(), value(), value(), value()
	w.cid.Truncation = fyne.TextTruncateOff
	w.address.Truncation = fyne.TextTruncateOff
	w.address.Wrapping = fyne.TextWrapWord
	w.reveal = u.newButton(u.t("patient.reveal"), theme.VisibilityIcon(), u.toggleReveal)
	w.reveal.Importance = widget.LowImportance
	// Copy buttons put what the window shows on the clipboard, for the HIS:
	// the citizen ID only while it is shown in full.
	w.copyName = u.copyButton(func() string { return w.name.Text })
	w.copyCID = u.copyButton(func() string { return w.cid.Text })
	w.copyCard = u.copyButton(func() string { return w.cardNo.Text })
	cidRow := container.NewBorder(nil, nil, nil, container.NewHBox(w.copyCID, w.reveal), w.cid)
	fields := container.New(layout.NewFormLayout(),
		key(u.t("patient.dob")), w.dob,
		key(u.t("patient.sex")), w.sex,
		key(u.t("patient.cid")), cidRow,
		key(u.t("patient.address")), w.address,
	)
	w.patientCard = widget.NewCard(u.t("patient.title"), "", container.NewBorder(nil, nil, w.photoBox, nil,
		container.NewVBox(container.NewBorder(nil, nil, nil, w.copyName, w.name), fields, w.chipExtra)))

	// Card panel.
	w.cardNo, w.benefit, w.validity, w.facility, w.area, w.fiveYear = value(), value(), value(), value(), value(), value()
	w.facility.Truncation = fyne.TextTruncateOff
	w.facility.Wrapping = fyne.TextWrapWord
	w.facNote = widget.NewLabel("")
	w.facNote.Wrapping = fyne.TextWrapWord
	w.facNote.Hide()
	w.newCard = widget.NewLabel("")
	w.newCard.Importance = widget.HighImportance
	w.newCard.TextStyle.Bold = true
	w.newCard.Wrapping = fyne.TextWrapWord
	w.cardCard = widget.NewCard(u.t("card.title"), "", container.NewVBox(
		container.New(layout.NewFormLayout(),
			key(u.t("card.number")), container.NewBorder(nil, nil, nil, w.copyCard, w.cardNo),
			key(u.t("card.benefit")), w.benefit,
			key(u.t("card.validity")), w.validity,
			key(u.t("card.facility")), w.facility,
			key(u.t("card.area")), w.area,
			key(u.t("card.fiveyear")), w.fiveYear,
		), w.facNote, w.newCard))

	w.provenance = widget.NewLabel("")
	w.provenance.Wrapping = fyne.TextWrapWord
	w.provenance.Importance = widget.MediumImportance
	w.visits = container.NewVBox()
	w.visitsTitle = heading("")
	w.visitsCard = container.NewVBox(widget.NewSeparator(), w.visitsTitle, w.visits)
	w.recheck = u.newButton(u.t("action.recheck"), theme.ViewRefreshIcon(), u.recheckCurrent)
	w.clearBtn = u.newButton(u.t("action.clear"), theme.ContentClearIcon(), u.clear)
	provRow := container.NewBorder(nil, nil, nil, container.NewHBox(w.recheck, w.clearBtn), w.provenance)

	panels := container.NewGridWithColumns(2, w.patientCard, w.cardCard)
	w.details = container.NewVBox(panels, provRow, w.visitsCard)

	// Manual entry.
	w.numEntry, w.nameEntry, w.dobEntry = u.newEntry(), u.newEntry(), u.newEntry()
	w.numEntry.SetPlaceHolder(u.t("entry.number.placeholder"))
	w.nameEntry.SetPlaceHolder(u.t("entry.name.placeholder"))
	w.dobEntry.SetPlaceHolder(u.t("entry.dob.placeholder"))
	w.numHint, w.nameHint, w.dobHint = small(""), small(""), small("")
	w.numEntry.OnChanged = func(string) { u.renderEntryHints() }
	w.nameEntry.OnChanged = func(string) { u.renderEntryHints() }
	w.dobEntry.OnChanged = func(string) { u.renderEntryHints() }
	for _, e := range []*wedgeEntry{w.numEntry, w.nameEntry, w.dobEntry} {
		e.OnSubmitted = func(string) { u.submitManual() }
	}
	w.entryErr = widget.NewLabel("")
	w.entryErr.Importance = widget.DangerImportance
	w.entryErr.Wrapping = fyne.TextWrapWord
	w.checkBtn = u.newButton(u.t("entry.check"), theme.SearchIcon(), u.submitManual)
	w.checkBtn.Importance = widget.HighImportance
	entryCard := widget.NewCard(u.t("entry.title"), "", container.NewVBox(
		wrapped(u.t("entry.number")), w.numEntry, w.numHint,
		wrapped(u.t("entry.name")), w.nameEntry, w.nameHint,
		wrapped(u.t("entry.dob")), w.dobEntry, w.dobHint,
	))
	// The check button and the entry's error sit right under the fields,
	// and on a 720-line screen the fields scroll so neither goes out of
	// sight.
	entryFields := container.New(&fixedWidth{330}, entryCard)
	w.entryBox = container.New(&entryColumn{fields: entryFields},
		container.NewVScroll(entryFields), container.NewVBox(w.checkBtn, w.entryErr))
	w.strips = container.NewVBox(banner, w.lateBox, w.alertBox, w.canBox, w.pairStrip)
	w.mainTab = container.NewBorder(
		w.strips, nil, nil,
		w.entryBox,
		container.NewVScroll(w.details),
	)

	// Top bar.
	w.staffBtn = u.newButton("", theme.AccountIcon(), u.showSignIn)
	w.simBtn = u.newButton(u.t("action.simulate"), theme.MediaPlayIcon(), u.simulate)
	if _, ok := u.act.(Simulator); !ok || !u.opts.Demo {
		w.simBtn.Hide()
	}
	w.langBtn = u.newButton(u.t("action.language"), nil, u.toggleLanguage)
	w.langBtn.Importance = widget.LowImportance
	// The shift's sign-in and the language sit at the right of the tab
	// row (the window title names the app), so the working screen keeps
	// its height on a 720-line screen.
	w.top = container.NewHBox(layout.NewSpacer(), w.simBtn, w.staffBtn, w.langBtn)

	// Status bar.
	w.stReader, w.stScanner, w.stGateway, w.stOutbox, w.stClients = statusLabel(), statusLabel(), statusLabel(), statusLabel(), statusLabel()
	w.stGateway.TextStyle.Bold = true
	w.stServed = statusLabel()
	w.stServed.TextStyle.Bold = true
	w.status = container.NewHBox(w.stGateway, vsep(), w.stReader, vsep(), w.stScanner, vsep(), w.stOutbox, vsep(), w.stClients,
		layout.NewSpacer(), w.stServed)

	// Other tabs.
	w.recentBox = container.NewVBox()
	w.recentSearch = u.newEntry()
	w.recentSearch.SetPlaceHolder(u.t("recent.search"))
	w.recentSearch.OnChanged = func(string) { u.renderRecent() }
	w.recentCount = statusLabel()
	recentTab := container.NewBorder(container.NewBorder(nil, nil, widget.NewIcon(theme.SearchIcon()), w.recentCount, w.recentSearch),
		nil, nil, nil, container.NewVScroll(w.recentBox))
	w.pendingBox = container.NewVBox()
	w.pairedBox = container.NewVBox()
	w.pairMsg = small("")
	pairTab := container.NewVScroll(container.NewVBox(
		heading(u.t("pair.pending")), w.pendingBox, widget.NewSeparator(),
		heading(u.t("pair.paired")), w.pairedBox, w.pairMsg))
	w.settings = u.newSettingsForm()

	w.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon(u.t("tab.main"), theme.HomeIcon(), w.mainTab),
		container.NewTabItemWithIcon(u.t("tab.recent"), theme.HistoryIcon(), recentTab),
		container.NewTabItemWithIcon(u.t("tab.pairing"), theme.LoginIcon(), pairTab),
		container.NewTabItemWithIcon(u.t("tab.settings"), theme.SettingsIcon(), container.NewVScroll(w.settings.box)),
	)
	w.tabs.OnSelected = func(t *container.TabItem) {
		if t == w.tabs.Items[2] {
			u.refreshPaired()
		}
		if t != w.tabs.Items[3] {
			u.leaveSettings(w.settings)
		}
	}

	u.win.SetContent(container.NewBorder(nil, container.NewVBox(widget.NewSeparator(), w.status), nil, nil,
		container.NewStack(w.tabs, container.NewVBox(w.top))))
	u.win.SetMainMenu(u.mainMenu())
	u.installKeys()

	u.renderLate()
	u.renderMain()
	u.renderStatus()
	u.renderRecent()
	u.renderPairings()
	u.renderStaff()
	u.renderEntryHints()
}

// fixedWidth lays its objects out one above the other at a fixed width.
// entryColumn lays out the manual entry: its fields' scroll (objs[0]) as
// tall as the fields need or as there is room for, and the check button
// and error (objs[1]) right under it, always inside the column.
type entryColumn struct{ fields fyne.CanvasObject }

func (e *entryColumn) MinSize(objs []fyne.CanvasObject) fyne.Size {
	s, b := objs[0].MinSize(), objs[1].MinSize()
	return fyne.NewSize(max(s.Width, b.Width), s.Height+b.Height)
}

func (e *entryColumn) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	bh := objs[1].MinSize().Height
	h := min(e.fields.MinSize().Height, max(size.Height-bh, 0))
	objs[0].Move(fyne.NewPos(0, 0))
	objs[0].Resize(fyne.NewSize(size.Width, h))
	objs[1].Move(fyne.NewPos(0, h))
	objs[1].Resize(fyne.NewSize(size.Width, bh))
}

type fixedWidth struct{ width float32 }

func (f *fixedWidth) MinSize(objs []fyne.CanvasObject) fyne.Size {
	h := float32(0)
	for _, o := range objs {
		if o.Visible() {
			h += o.MinSize().Height
		}
	}
	return fyne.NewSize(f.width, h)
}

func (f *fixedWidth) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	y := float32(0)
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		h := o.MinSize().Height
		o.Move(fyne.NewPos(0, y))
		o.Resize(fyne.NewSize(size.Width, h))
		y += h
	}
}

func key(s string) *widget.Label { return widget.NewLabel(s) }

func wrapped(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	return l
}

func value() *widget.Label {
	l := widget.NewLabel("")
	l.TextStyle.Bold = true
	l.Truncation = fyne.TextTruncateEllipsis
	return l
}

func small(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.SizeName = theme.SizeNameCaptionText
	l.Wrapping = fyne.TextWrapWord
	return l
}

func statusLabel() *widget.Label {
	l := widget.NewLabel("")
	l.SizeName = theme.SizeNameCaptionText
	return l
}

func heading(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.TextStyle.Bold = true
	l.SizeName = theme.SizeNameSubHeadingText
	return l
}

func vsep() fyne.CanvasObject { return widget.NewSeparator() }

// bannerTheme is the app theme with the banner's text colour and larger
// text, so the reason reads from a metre away.
type bannerTheme struct {
	base fyne.Theme
	fg   color.Color
}

func (t *bannerTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	switch n {
	case theme.ColorNameForeground:
		return t.fg
	case theme.ColorNameBackground, theme.ColorNameInputBackground:
		return color.Transparent
	}
	return t.base.Color(n, v)
}

func (t *bannerTheme) Font(s fyne.TextStyle) fyne.Resource     { return t.base.Font(s) }
func (t *bannerTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return t.base.Icon(n) }
func (t *bannerTheme) Size(n fyne.ThemeSizeName) float32 {
	switch n {
	case theme.SizeNameSubHeadingText:
		return 22
	case theme.SizeNameText:
		return 16
	}
	return t.base.Size(n)
}

// renderMain renders everything on the main tab from the state.
func (u *UI) renderMain() {
	if u.w == nil {
		return
	}
	u.renderBanner()
	u.renderStrips()
	u.renderPatient()
	u.renderCard()
	u.renderProvenance()
	u.renderVisits()
	st, w := &u.st, u.w
	if st.identity != nil && !patient.QueryOf(*st.identity).Empty() {
		w.recheck.Enable()
	} else {
		w.recheck.Disable()
	}
	w.entryErr.SetText(st.entryErr)
	w.entryErr.Hidden = st.entryErr == ""
	w.entryErr.Refresh()
	u.relayoutMain()
}

// relayoutMain lays the main tab out again after panels were shown,
// hidden or changed size. Container.Refresh also refreshes every widget
// under it (re-shaping their text); laying out only the containers that
// changed proved fragile with nested cards, so correctness wins here.
func (u *UI) relayoutMain() { u.w.mainTab.Refresh() }

func (u *UI) setBanner(bg, fg color.NRGBA, title, reason, code string) {
	w := u.w
	w.bannerBg.FillColor = bg
	w.bannerBg.Refresh()
	w.bannerTitle.Text = title
	w.bannerTitle.Color = fg
	w.bannerTitle.Refresh()
	w.bannerTheme.fg = fg
	w.bannerReason.SetText(reason)
	w.bannerReason.Hidden = reason == ""
	w.bannerCode.SetText(code)
	w.bannerNext.Hide()
	w.bannerAction.Hide()
	w.bannerHold.Refresh()
}

func (u *UI) renderBanner() {
	st, w := &u.st, u.w
	w.progress.Hide()
	switch st.phase {
	case phaseIdle:
		reason := u.t("banner.idle.reason")
		if st.staff.CitizenID == "" {
			reason += " " + u.t("banner.idle.nostaff")
		}
		u.setBanner(colIdle, colInk, u.t("banner.idle"), reason, "")
	case phaseReading:
		if st.askCAN {
			u.setBanner(colAmber, colInk, u.t("banner.can"), u.t("banner.can.reason"), "")
			w.bannerNext.SetText(u.t("banner.next", u.t("banner.can.next")))
			w.bannerNext.Show()
			return
		}
		step := st.progress.Step
		reason := u.t("banner.reading.reason")
		if _, ok := messages["step."+step]; ok && step != "" { // a step the catalogue does not know is left out
			reason += " " + u.t("banner.reading.step", u.t("step."+step))
		}
		u.setBanner(colBlue, colWhite, u.t("banner.reading"), reason, "")
		w.progress.SetValue(float64(st.progress.Percent))
		w.progress.Show()
	case phaseChecking:
		u.setBanner(colBlue, colWhite, u.t("banner.checking"), u.t("banner.checking.reason"), "")
	case phaseFailed:
		// Why, worded by the catalogue from the code; an unknown code
		// keeps the agent's text on an English screen only (it is
		// English). Then what to do, for that code or in general.
		reason, next := u.t("banner.failed.why"), u.t("banner.failed.reason")
		if f := st.failure; f != nil {
			if _, ok := messages["failure."+f.Code]; ok && f.Code != "" {
				reason = u.t("failure."+f.Code) + "."
				next = u.tOr("next.failure."+f.Code, next)
			} else if u.cat.lang == English && f.Reason != "" {
				reason = f.Reason
			}
		}
		u.setBanner(colGrey, colWhite, u.t("banner.failed"), reason, "")
		w.bannerNext.SetText(u.t("banner.next", next))
		w.bannerNext.Show()
	case phaseResult:
		e := *st.result
		s := styleOf(e)
		reason := e.ReasonVI
		if u.cat.lang == English {
			reason = e.ReasonEN
		}
		if reason == "" {
			reason = u.t(reasonKeyOf(e))
		}
		if e.Verdict == patient.InputMismatch && e.Field != "" {
			reason += " " + u.t("reason.field", u.t("field."+e.Field))
		}
		if e.Source == patient.SourceCache {
			if e.CachedBy != "" {
				// Another desk's live answer (hospital mode).
				reason = u.t("banner.cached.desk", e.CachedBy, u.ago(u.cachedAge(e))) + " " + reason
			} else {
				reason = u.t("banner.cached", u.ago(u.cachedAge(e))) + " " + reason
			}
		}
		code := ""
		if e.Code != "" {
			code = u.t("banner.code", e.Code)
			if nc := e.NewCard; nc != nil && nc.FirstCode != "" && nc.FirstCode != e.Code {
				// A reissued card re-checked by itself: the new card's code decided.
				code = u.t("banner.code.reissued", e.Code, nc.FirstCode)
			}
		}
		u.setBanner(s.bg, s.fg, u.t(s.titleKey), reason, code)
		next := e.NextVI
		if u.cat.lang == English {
			next = e.NextEN
		}
		if next != "" {
			w.bannerNext.SetText(u.t("banner.next", next))
			w.bannerNext.Show()
		}
		if e.Verdict == patient.StaffProblem {
			w.bannerAction.Show()
		}
		// A chip verdict can come before the photo: show the rest of the read.
		if p := st.progress; p.CheckID == st.checkID && p.Percent > 0 && p.Percent < 100 {
			w.progress.SetValue(float64(p.Percent))
			w.progress.Show()
		}
	}
}

func (u *UI) renderStrips() {
	st, w := &u.st, u.w
	if st.alert != nil {
		// An alert the catalogue does not know keeps the agent's text on
		// an English screen only (it is English).
		msg := u.tOr("alert."+st.alert.Code, st.alert.Message)
		if _, ok := messages["alert."+st.alert.Code]; !ok && (u.cat.lang != English || msg == "") {
			msg = u.t("alert.other")
		}
		w.alertText.SetText(msg)
		w.alertBox.Show()
	} else if len(u.opts.Setup) > 0 {
		// What start-up could not use, until IT fixes it.
		var parts []string
		for _, i := range u.opts.Setup {
			if u.cat.lang == English {
				parts = append(parts, i.EN)
			} else {
				parts = append(parts, i.VI)
			}
		}
		w.alertText.SetText(u.t("setup.needed", strings.Join(parts, " ")))
		w.alertBox.Show()
	} else {
		w.alertBox.Hide()
	}
	if st.askCAN {
		w.canBox.Show()
	} else {
		w.canBox.Hide()
		w.canHint.SetText(u.t("can.prompt"))
	}
}

func (u *UI) renderPatient() {
	st, w := &u.st, u.w
	if st.identity == nil {
		w.patientCard.Hide()
		return
	}
	w.patientCard.Show()
	id := *st.identity
	name, dob, sex, addr := id.Name, id.BirthDate, id.Sex, id.Address
	if e := st.result; e != nil { // the gateway's record fills what the medium lacks
		if name == "" {
			name = e.Holder
		}
		if dob.IsZero() {
			dob = e.BirthDate
		}
		if sex == "" {
			sex = e.Sex
		}
		if addr == "" {
			addr = e.Address
		}
	}
	w.name.SetText(orDash(string(name)))
	w.dob.SetText(orDash(dob.String()))
	w.sex.SetText(orDash(u.sexText(sex)))
	w.address.SetText(orDash(addr))
	w.copyCID.Hide()
	switch {
	case id.CitizenID == "":
		w.cid.SetText("—")
		w.reveal.Hide()
	case st.reveal:
		w.cid.SetText(string(id.CitizenID))
		w.reveal.SetText(u.t("patient.hide"))
		w.reveal.Show()
		w.copyCID.Show()
	default:
		w.cid.SetText(id.CitizenID.Masked())
		w.reveal.SetText(u.t("patient.reveal"))
		w.reveal.Show()
	}
	w.copyName.Hidden = w.name.Text == "—"
	for _, b := range []*wedgeButton{w.copyName, w.copyCID} {
		b.SetIcon(theme.ContentCopyIcon())
	}
	w.photoBox.Hide()
	w.chipExtra.Hide()
	if c := id.Chip; c != nil {
		if img := u.photo(c.Photo); img != nil {
			w.photo.Image = img
			w.photo.Refresh()
			w.photoBox.Show()
		}
		if c.ExpiryDate.Full() {
			w.chipExtra.SetText(u.t("patient.idexpiry", c.ExpiryDate.String()))
			w.chipExtra.Show()
		}
	}
}

// photo decodes a chip photo once per patient.
func (u *UI) photo(b []byte) image.Image {
	if len(b) == 0 {
		return nil
	}
	if len(u.photoSrc) == len(b) && &u.photoSrc[0] == &b[0] {
		return u.photoImg
	}
	u.photoSrc, u.photoImg = b, decodePhoto(b)
	return u.photoImg
}

func decodePhoto(b []byte) image.Image {
	if len(b) == 0 {
		return nil
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil // JPEG 2000 or damaged: the panel shows no photo
	}
	return img
}

func (u *UI) renderCard() {
	st, w := &u.st, u.w
	var e patient.Eligibility
	if st.result != nil {
		e = *st.result
	}
	var id patient.Identity
	if st.identity != nil {
		id = *st.identity
	}
	number := e.CardNumber
	if number == "" {
		number = id.CardNumber
	}
	from, to := e.ValidFrom, e.ValidTo
	if from.IsZero() && to.IsZero() {
		from, to = id.CardValidFrom, id.CardValidTo
	}
	fac := e.RegisteredFacility
	if fac == "" {
		fac = id.RegisteredFacility
	}
	five := e.FiveYearDate
	if five.IsZero() {
		five = id.FiveYearDate
	}
	if number == "" && from.IsZero() && to.IsZero() && fac == "" {
		w.cardCard.Hide()
		return
	}
	w.cardCard.Show()
	w.cardNo.SetText(orDash(string(number)))
	w.copyCard.Hidden = number == ""
	w.copyCard.SetIcon(theme.ContentCopyIcon())
	level, pct := e.BenefitLevel, e.BenefitPercent
	if level == 0 {
		level, pct = benefitOf(string(number))
	}
	switch {
	case level > 0 && pct > 0:
		w.benefit.SetText(u.t("card.benefit.value", level, pct))
	case level > 0:
		w.benefit.SetText(u.t("card.benefit.level", level))
	default:
		w.benefit.SetText("—")
	}
	switch {
	case !from.IsZero() && !to.IsZero():
		w.validity.SetText(u.t("card.validity.value", from.String(), to.String()))
	case !to.IsZero():
		w.validity.SetText(u.t("card.validity.to", to.String()))
	default:
		w.validity.SetText("—")
	}
	facText := fac
	if e.FacilityName != "" {
		facText += " – " + e.FacilityName
	}
	w.facility.SetText(orDash(facText))
	u.renderFacilityNote(fac, e.FacilityName)
	w.area.SetText(orDash(e.AreaCode))
	w.fiveYear.SetText(orDash(five.String()))
	if nc := e.NewCard; nc != nil {
		text := u.t("card.newcard", string(nc.CardNumber))
		if !nc.ValidFrom.IsZero() || !nc.ValidTo.IsZero() {
			text += " " + u.t("card.validity.value", nc.ValidFrom.String(), nc.ValidTo.String())
		}
		w.newCard.SetText(text)
		w.newCard.Show()
	} else {
		w.newCard.Hide()
	}
}

// benefitOf decodes the benefit level (third character) of a 15-character
// card number and its usual percentage.
func benefitOf(card string) (level, percent int) {
	if len(card) != 15 || card[2] < '1' || card[2] > '5' {
		return 0, 0
	}
	level = int(card[2] - '0')
	return level, [...]int{0, 100, 100, 95, 80, 100}[level]
}

func (u *UI) renderProvenance() {
	st, w := &u.st, u.w
	if st.identity == nil {
		w.provenance.Hide()
		return
	}
	w.provenance.Show()
	id := *st.identity
	var parts []string
	switch id.Medium {
	case patient.MediumChip:
		switch id.Authenticity.Level {
		case patient.Verified:
			parts = append(parts, u.t("prov.chip.verified"))
		case patient.IntactIssuerUnknown:
			parts = append(parts, u.t("prov.chip.intact"))
		case patient.Failed:
			parts = append(parts, u.t("prov.chip.failed"))
		default:
			parts = append(parts, u.t("prov.chip.unverified"))
		}
		if id.Authenticity.Clone == patient.ClonePassed {
			parts = append(parts, u.t("prov.clone.passed"))
		} else if id.Authenticity.Clone == patient.CloneFailed {
			parts = append(parts, u.t("prov.clone.failed"))
		}
	case patient.MediumQRCCCD:
		parts = append(parts, u.t("prov.qr.cccd"))
	case patient.MediumQRBHYT:
		parts = append(parts, u.t("prov.qr.bhyt"))
	case patient.MediumTyped:
		if _, his := st.his[st.checkID]; !his {
			parts = append(parts, u.t("prov.typed"))
		}
	}
	if app, his := st.his[st.checkID]; his {
		parts = append([]string{u.hisLabel(app)}, parts...)
	}
	if e := st.result; e != nil {
		switch e.Source {
		case patient.SourceLive:
			p := u.t("prov.live")
			if e.Latency > 0 {
				p += " " + u.t("prov.latency", e.Latency.Seconds())
			}
			parts = append(parts, p)
		case patient.SourceCache:
			parts = append(parts, u.t("prov.cache", u.ago(u.cachedAge(*e))))
		case patient.SourceNone:
			if e.Verdict == patient.StaffProblem && e.Code == "" {
				// Refused before sign-in: nothing was asked and nothing
				// is re-checked until F5.
				parts = append(parts, u.t("prov.notasked"))
			} else {
				parts = append(parts, u.t("prov.none"))
			}
		}
	}
	text := ""
	for i, p := range parts {
		if i > 0 {
			text += " · "
		}
		text += p
	}
	w.provenance.SetText(u.t("prov.label") + " " + text)
	switch {
	case id.Authenticity.Level == patient.Failed || id.Authenticity.Clone == patient.CloneFailed:
		w.provenance.Importance = widget.DangerImportance
		w.provenance.TextStyle.Bold = true
	case st.result != nil && st.result.Source == patient.SourceCache:
		w.provenance.Importance = widget.MediumImportance
		w.provenance.TextStyle.Bold = true
	default:
		w.provenance.Importance = widget.MediumImportance
		w.provenance.TextStyle.Bold = false
	}
	w.provenance.Refresh()
}

// hisLabel says a HIS app asked for a check: "HIS yêu cầu (HIS Đống Đa)".
func (u *UI) hisLabel(app string) string {
	if app == "" {
		return u.t("prov.his")
	}
	return u.t("prov.his.app", app)
}

// cachedAge is how old a cached answer was when it was shown.
func (u *UI) cachedAge(e patient.Eligibility) time.Duration {
	if !e.CheckedAt.IsZero() && !u.st.shownAt.IsZero() {
		return u.st.shownAt.Sub(e.CheckedAt)
	}
	return e.Age
}

// ago says how long ago d was, in whole minutes, hours or days.
func (u *UI) ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return u.t("ago.now")
	case d < time.Hour:
		return u.t("ago.minutes", int(d/time.Minute))
	case d < 48*time.Hour:
		return u.t("ago.hours", int(d/time.Hour))
	}
	return u.t("ago.days", int(d/(24*time.Hour)))
}

// maxVisits is how many visits the main screen lists.
const maxVisits = 5

func (u *UI) renderVisits() {
	st, w := &u.st, u.w
	w.visits.RemoveAll()
	if st.result == nil || len(st.result.Visits) == 0 {
		w.visitsCard.Hide()
		return
	}
	w.visitsCard.Show()
	vs := st.result.Visits
	w.visitsTitle.SetText(u.t("visits.title", len(vs)))
	for i, v := range vs {
		if i == maxVisits {
			w.visits.Add(small(u.t("visits.more", len(vs)-maxVisits)))
			break
		}
		when := v.Admitted.In(u.opts.Location).Format("02/01/2006")
		if !v.Discharged.IsZero() && v.Discharged.In(u.opts.Location).Format("02/01/2006") != when {
			when += "–" + v.Discharged.In(u.opts.Location).Format("02/01/2006")
		}
		line := when + "  " + v.Facility
		if v.Diagnosis != "" {
			line += "  ·  " + v.Diagnosis
		}
		if v.Outcome != "" {
			line += "  ·  " + v.Outcome
		}
		l := widget.NewLabel(line)
		l.Truncation = fyne.TextTruncateEllipsis
		w.visits.Add(l)
	}
	w.visits.Refresh()
}

func (u *UI) sexText(s patient.Sex) string {
	switch s {
	case patient.Male:
		return u.t("sex.male")
	case patient.Female:
		return u.t("sex.female")
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// renderStatus renders the status bar.
func (u *UI) renderStatus() {
	if u.w == nil {
		return
	}
	st, w := &u.st, u.w
	w.stReader.SetText(u.t("status.reader") + " " + u.devicesText(events.Reader))
	w.stScanner.SetText(u.t("status.scanner") + " " + u.devicesText(events.Scanner))
	gw := u.t("status.gateway.unknown")
	w.stGateway.Importance = widget.MediumImportance
	switch st.gateway.State {
	case events.GatewayOnline:
		gw = u.t("status.gateway.online")
		w.stGateway.Importance = widget.SuccessImportance
	case events.GatewayDegraded:
		gw = u.t("status.gateway.degraded")
		w.stGateway.Importance = widget.WarningImportance
	case events.GatewayOffline:
		gw = u.t("status.gateway.offline")
		w.stGateway.Importance = widget.DangerImportance
	case events.GatewayAccountRefused:
		gw = u.t("status.gateway.account-refused")
		w.stGateway.Importance = widget.DangerImportance
	case events.GatewayNotConfigured:
		gw = u.t("status.gateway.not-configured")
		w.stGateway.Importance = widget.DangerImportance
	}
	w.stGateway.SetText(u.t("status.gateway") + " " + gw)
	w.stOutbox.Importance = widget.MediumImportance
	if st.disk.Disk == events.DiskRefusing {
		// The disk is full: checks are safe in memory only until tiepdon closes.
		w.stOutbox.Importance = widget.DangerImportance
		w.stOutbox.SetText(u.t("status.disk-refusing", st.outbox, st.disk.Unsaved))
	} else {
		w.stOutbox.SetText(u.t("status.outbox", st.outbox))
	}
	w.stClients.SetText(u.t("status.clients", st.clients))
	w.stServed.SetText(u.t("status.served", u.served()))
	w.status.Refresh()
}

// served counts the patients checked this shift: checks with an answer,
// a staff problem (no one signed in, staff not registered) aside.
func (u *UI) served() int {
	n := 0
	for _, r := range u.st.recent {
		if r.Result != nil && r.Result.Verdict != patient.StaffProblem {
			n++
		}
	}
	return n
}

func (u *UI) devicesText(k events.DeviceKind) string {
	var names []string
	for _, d := range sortedDevices(u.st.devices) {
		if d.Kind != k {
			continue
		}
		names = append(names, shortName(d.Name)+" ("+u.t("device."+string(d.State))+")")
	}
	if len(names) == 0 {
		return u.t("device.none")
	}
	out := names[0]
	for _, n := range names[1:] {
		out += ", " + n
	}
	return out
}

// shortName keeps status-bar device names short.
func shortName(s string) string {
	r := []rune(s)
	if len(r) > 28 {
		return string(r[:27]) + "…"
	}
	return s
}
