package ui

import (
	"fmt"
	"image/color"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"golang.org/x/text/unicode/norm"
)

// renderRecent renders the shift's checks, newest first, each with Open
// (the full stored result) and Re-check, filtered by the search box.
func (u *UI) renderRecent() {
	if u.w == nil {
		return
	}
	box := u.w.recentBox
	box.RemoveAll()
	q := ""
	if u.w.recentSearch != nil {
		q = u.w.recentSearch.Text
	}
	shown := 0
	for _, rc := range u.st.recent {
		if !matchRecent(rc, q, u.recentVerdict(rc)) {
			continue
		}
		shown++
		box.Add(u.recentRow(rc))
	}
	switch {
	case len(u.st.recent) == 0:
		box.Add(widget.NewLabel(u.t("recent.none")))
	case shown == 0:
		box.Add(widget.NewLabel(u.t("recent.nomatch", strings.TrimSpace(q))))
	}
	if u.w.recentCount != nil {
		u.w.recentCount.SetText(u.t("recent.count", shown, len(u.st.recent)))
	}
	box.Refresh()
}

// recentVerdict is a check's verdict title, or "checking" with no answer.
func (u *UI) recentVerdict(rc recentCheck) string {
	if rc.Result == nil {
		return u.t("banner.checking")
	}
	return u.t(styleOf(*rc.Result).titleKey)
}

// recentWho is the name a check is listed under.
func recentWho(rc recentCheck) string {
	who := string(rc.Identity.Name)
	if who == "" && rc.Result != nil {
		who = string(rc.Result.Holder)
	}
	return who
}

// howText says how a check came: the medium, or the HIS app that asked.
func (u *UI) howText(rc recentCheck) string {
	how := u.t("medium." + string(rc.Identity.Medium))
	if rc.HIS {
		if rc.Identity.Medium == patient.MediumTyped || rc.Identity.Medium == "" {
			return u.hisLabel(rc.App)
		}
		return u.hisLabel(rc.App) + " · " + how
	}
	return how
}

func (u *UI) recentRow(rc recentCheck) fyne.CanvasObject {
	id := rc.Identity
	dot := canvas.NewRectangle(colIdle)
	dot.SetMinSize(fyne.NewSize(14, 14))
	dot.CornerRadius = 7
	if rc.Result != nil {
		dot.FillColor = styleOf(*rc.Result).bg
	}
	ident := id.CitizenID.Masked()
	if id.CardNumber != "" {
		ident = id.CardNumber.Masked()
	}
	line := widget.NewLabel(rc.At.In(u.opts.Location).Format("15:04") + "  " + orDash(recentWho(rc)) + "  " + ident + "  · " + u.howText(rc))
	line.Truncation = fyne.TextTruncateEllipsis
	v := widget.NewLabel(u.recentVerdict(rc))
	v.TextStyle.Bold = true
	open := u.newButton(u.t("recent.open"), theme.DocumentIcon(), func() { u.showRecent(rc) })
	btn := u.newButton(u.t("action.recheck.short"), theme.ViewRefreshIcon(), func() { u.startCheck(id) })
	if patient.QueryOf(id).Empty() {
		btn.Disable()
	}
	return container.NewBorder(nil, nil, container.NewHBox(container.NewCenter(dot), v), container.NewHBox(open, btn), line)
}

// matchRecent reports whether a check matches a search: every word must
// be in the name or the verdict (accents and case ignored), begin or end
// a card number, citizen ID or social-insurance number (the last few
// digits, typically), or be the gateway's result code. The search runs on
// what the window holds; nothing of it is logged.
func matchRecent(rc recentCheck, q, verdict string) bool {
	q = foldText(strings.TrimSpace(q))
	if q == "" {
		return true
	}
	id := rc.Identity
	words := []string{foldText(recentWho(rc)), foldText(verdict)}
	ids := []string{strings.ToLower(string(id.CardNumber)), string(id.CitizenID), id.SocialInsuranceNumber}
	code := ""
	if e := rc.Result; e != nil {
		words = append(words, foldText(string(e.Holder)))
		ids = append(ids, strings.ToLower(string(e.CardNumber)))
		code = e.Code
	}
	for _, word := range strings.Fields(q) {
		found := word == code
		for _, h := range words {
			found = found || strings.Contains(h, word)
		}
		for _, h := range ids {
			found = found || h != "" && (strings.HasSuffix(h, word) || strings.HasPrefix(h, word))
		}
		if !found {
			return false
		}
	}
	return true
}

// foldText lower-cases s and strips its Vietnamese accents (đ → d), so
// "nguyen van an" finds "Nguyễn Văn An".
func foldText(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'đ' || r == 'Đ':
			r = 'd'
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// showRecent opens a check of the shift in full: the verdict as it was
// shown (colour, title, reason, next step, code), the patient and the card,
// how and when it came, with copy buttons and Re-check.
func (u *UI) showRecent(rc recentCheck) {
	id := rc.Identity
	var e patient.Eligibility
	title, bg, fg := u.t("banner.checking"), colIdle, colInk
	if rc.Result != nil {
		e = *rc.Result
		s := styleOf(e)
		title, bg, fg = u.t(s.titleKey), s.bg, s.fg
	}
	head := canvas.NewText(title, fg)
	head.TextSize = 28
	head.TextStyle.Bold = true
	headBg := canvas.NewRectangle(bg)
	headBg.CornerRadius = 6
	code := ""
	if e.Code != "" {
		code = u.t("banner.code", e.Code)
	}
	codeText := canvas.NewText(code, fg)
	lines := container.NewVBox(container.NewStack(headBg, container.NewPadded(container.NewBorder(nil, nil, nil, container.NewCenter(codeText), head))))
	reason, next := e.ReasonVI, e.NextVI
	if u.cat.lang == English {
		reason, next = e.ReasonEN, e.NextEN
	}
	if rc.Result == nil {
		reason = u.t("recent.detail.pending")
	} else if reason == "" {
		reason = u.t(reasonKeyOf(e))
	}
	lines.Add(wrapped(reason))
	if next != "" {
		n := wrapped(u.t("banner.next", next))
		n.TextStyle.Bold = true
		lines.Add(n)
	}

	name := recentWho(rc)
	dob := id.BirthDate
	if dob.IsZero() {
		dob = e.BirthDate
	}
	card := e.CardNumber
	if card == "" {
		card = id.CardNumber
	}
	from, to := e.ValidFrom, e.ValidTo
	if from.IsZero() && to.IsZero() {
		from, to = id.CardValidFrom, id.CardValidTo
	}
	validity := "—"
	if !from.IsZero() || !to.IsZero() {
		validity = u.t("card.validity.value", from.String(), to.String())
	}
	fac := e.RegisteredFacility
	if fac == "" {
		fac = id.RegisteredFacility
	}
	if e.FacilityName != "" {
		fac += " – " + e.FacilityName
	}
	how := u.howText(rc)
	switch e.Source {
	case patient.SourceLive:
		how += " · " + u.t("prov.live")
	case patient.SourceCache:
		how += " · " + u.t("prov.cache", u.ago(e.Age))
	}

	cid := value()
	cid.Truncation = fyne.TextTruncateOff
	cidCopy := u.copyButton(func() string { return string(id.CitizenID) })
	reveal := u.newButton(u.t("patient.reveal"), theme.VisibilityIcon(), nil)
	reveal.Importance = widget.LowImportance
	shown := false
	showCID := func() {
		if shown {
			cid.SetText(string(id.CitizenID))
			reveal.SetText(u.t("patient.hide"))
			cidCopy.Show()
		} else {
			cid.SetText(id.CitizenID.Masked())
			reveal.SetText(u.t("patient.reveal"))
			cidCopy.Hide()
		}
	}
	reveal.OnTapped = func() { shown = !shown; showCID() }
	showCID()
	cidRow := fyne.CanvasObject(container.NewBorder(nil, nil, nil, container.NewHBox(cidCopy, reveal), cid))
	if id.CitizenID == "" {
		cidRow = valueLabel("—")
	}
	withCopy := func(text string) fyne.CanvasObject {
		l := valueLabel(orDash(text))
		if text == "" {
			return l
		}
		return container.NewBorder(nil, nil, nil, u.copyButton(func() string { return text }), l)
	}
	lines.Add(container.New(layout.NewFormLayout(),
		key(u.t("recent.detail.name")), withCopy(name),
		key(u.t("patient.dob")), valueLabel(orDash(dob.String())),
		key(u.t("patient.cid")), cidRow,
		key(u.t("card.number")), withCopy(string(card)),
		key(u.t("card.validity")), valueLabel(validity),
		key(u.t("card.facility")), valueLabel(orDash(fac)),
		key(u.t("recent.detail.how")), valueLabel(how),
		key(u.t("recent.detail.when")), valueLabel(rc.At.In(u.opts.Location).Format("15:04:05 02/01/2006")),
	))
	var d dialog.Dialog
	recheck := u.newButton(u.t("action.recheck.short"), theme.ViewRefreshIcon(), func() {
		d.Hide()
		if !u.needStaff() {
			u.startCheck(id)
		}
	})
	if patient.QueryOf(id).Empty() {
		recheck.Disable()
	}
	lines.Add(container.NewHBox(layout.NewSpacer(), recheck))
	d = dialog.NewCustom(u.t("recent.detail.title", rc.At.In(u.opts.Location).Format("15:04")), u.t("recent.detail.close"), lines, u.win)
	d.Resize(fyne.NewSize(640, 0))
	d.Show()
}

func valueLabel(s string) *widget.Label {
	l := value()
	l.SetText(s)
	l.Truncation = fyne.TextTruncateOff
	l.Wrapping = fyne.TextWrapWord
	return l
}

// copyButton copies what get returns to the clipboard (the card number,
// the citizen ID while shown, a name), for pasting into the HIS. What is
// copied is never logged.
func (u *UI) copyButton(get func() string) *wedgeButton {
	var b *wedgeButton
	b = u.newButton("", theme.ContentCopyIcon(), func() {
		if s := get(); s != "" && s != "—" {
			u.app.Clipboard().SetContent(s)
			b.SetIcon(theme.ConfirmIcon()) // copied; back to the copy icon at the next patient
		}
	})
	b.Importance = widget.LowImportance
	return b
}

// renderPairings renders pending pairing requests and the paired apps.
// The main screen shows one request as a single line (app, origin, what
// it asks for, code, countdown, approve and deny) and several as a badge
// of the same height that opens the pairing tab, so the patient panel
// does not move as requests come and go; the pairing tab lists each in
// full.
func (u *UI) renderPairings() {
	if u.w == nil {
		return
	}
	w := u.w
	u.dropExpiredPairings()
	w.pairStrip.RemoveAll()
	w.pendingBox.RemoveAll()
	w.pairTicks = nil
	switch n := len(u.st.pending); {
	case n == 1:
		w.pairStrip.Add(u.pairingLine(u.st.pending[0]))
	case n > 1:
		w.pairStrip.Add(u.pairingBadge(n))
	}
	if len(u.st.pending) == 0 {
		w.pendingBox.Add(widget.NewLabel(u.t("pair.pending.none")))
	}
	for _, p := range u.st.pending {
		w.pendingBox.Add(u.pairingCard(p))
	}
	w.pairedBox.RemoveAll()
	if len(u.st.paired) == 0 {
		w.pairedBox.Add(widget.NewLabel(u.t("pair.paired.none")))
	}
	for _, p := range u.st.paired {
		text := u.appLabel(p.Name, p.Origin)
		if len(p.Scopes) > 0 {
			text += "  · " + u.scopesText(p.Scopes)
		}
		if !p.Since.IsZero() {
			text += "  · " + u.t("pair.since", p.Since.In(u.opts.Location).Format("02/01/2006 15:04"))
		}
		if !p.LastSeen.IsZero() {
			text += "  · " + u.t("pair.lastseen", p.LastSeen.In(u.opts.Location).Format("02/01/2006 15:04"))
		}
		p := p
		btn := u.newButton(u.t("pair.revoke"), theme.DeleteIcon(), func() { u.confirmRevoke(p) })
		btn.Importance = widget.DangerImportance
		l := widget.NewLabel(text)
		l.Wrapping = fyne.TextWrapWord
		w.pairedBox.Add(container.NewBorder(nil, nil, nil, btn, l))
	}
	w.pairStrip.Refresh()
	w.pendingBox.Refresh()
	w.pairedBox.Refresh()
	u.armPairingTick()
	u.relayoutMain()
}

// appLabel names an app by its name and origin: "HIS Đống Đa
// (https://his.example.vn)"; an app outside a browser has no origin.
func (u *UI) appLabel(name, origin string) string {
	if name == "" {
		name = u.t("pair.unnamed")
	}
	if origin == "" {
		origin = u.t("pair.noorigin")
	}
	return name + " (" + origin + ")"
}

// scopesText says in words what an app may receive.
func (u *UI) scopesText(scopes []string) string {
	out := ""
	for i, s := range scopes {
		if i > 0 {
			out += ", "
		}
		out += u.tOr("scope."+s, s)
	}
	return u.t("pair.scopes", out)
}

// pairingName is a pending request's app name (hisapi labels an app
// outside a browser "app:NAME" as its origin).
func pairingName(p events.Pairing) (name, origin string) {
	name, origin = p.Name, p.Origin
	if strings.HasPrefix(origin, "app:") {
		if name == "" {
			name = strings.TrimPrefix(origin, "app:")
		}
		origin = ""
	}
	return name, origin
}

// left is the countdown text of a pending request ("1:45"), "" if it
// never expires.
func (u *UI) left(p events.Pairing) string {
	if p.Expires.IsZero() {
		return ""
	}
	d := p.Expires.Sub(u.now()).Round(time.Second)
	if d < 0 {
		d = 0
	}
	return u.t("pair.expires", fmt.Sprintf("%d:%02d", int(d/time.Minute), int(d%time.Minute/time.Second)))
}

// pairingLine is one pending request on one line of the main screen: the
// app and what it asks for (cut short if need be), then its countdown,
// code and buttons, which always show.
func (u *UI) pairingLine(p events.Pairing) fyne.CanvasObject {
	name, origin := pairingName(p)
	s := u.t("pair.request", u.appLabel(name, origin))
	if len(p.Scopes) > 0 {
		s += " · " + u.scopesText(p.Scopes)
	}
	text := widget.NewLabel(s)
	text.Truncation = fyne.TextTruncateEllipsis
	text.TextStyle.Bold = true
	right := container.NewHBox()
	if l := u.left(p); l != "" {
		cd := widget.NewLabel(l)
		cd.TextStyle.Bold = true
		u.w.pairTicks = append(u.w.pairTicks, func() { cd.SetText(u.left(p)) })
		right.Add(cd)
	}
	hint := widget.NewLabel(u.t("pair.code.short"))
	hint.SizeName = theme.SizeNameCaptionText
	right.Add(container.NewCenter(hint))
	right.Add(u.pairingButtons(p))
	return u.pairingFrame(container.NewBorder(nil, nil, widget.NewIcon(theme.LoginIcon()), right, text))
}

// pairingBadge stands for several waiting requests on the main screen.
func (u *UI) pairingBadge(n int) fyne.CanvasObject {
	text := widget.NewLabel(u.t("pair.badge", n))
	text.TextStyle.Bold = true
	open := u.newButton(u.t("pair.badge.open"), theme.NavigateNextIcon(), func() { u.w.tabs.SelectIndex(2) })
	open.Importance = widget.HighImportance
	// As tall as a request's line (its code is large), so nothing moves.
	strut := canvas.NewRectangle(color.Transparent)
	strut.SetMinSize(fyne.NewSize(0, pairCode("000000").MinSize().Height))
	return u.pairingFrame(container.NewBorder(nil, nil, widget.NewIcon(theme.LoginIcon()), container.NewHBox(strut, open), text))
}

// pairingCard is one pending request in full on the pairing tab.
func (u *UI) pairingCard(p events.Pairing) fyne.CanvasObject {
	name, origin := pairingName(p)
	title := widget.NewLabel(u.t("pair.request", u.appLabel(name, origin)))
	title.TextStyle.Bold = true
	title.Wrapping = fyne.TextWrapWord
	lines := container.NewVBox(title)
	if len(p.Scopes) > 0 {
		lines.Add(wrapped(u.scopesText(p.Scopes)))
	}
	lines.Add(wrapped(u.t("pair.code.check")))
	if l := u.left(p); l != "" {
		cd := widget.NewLabel(l)
		u.w.pairTicks = append(u.w.pairTicks, func() { cd.SetText(u.left(p)) })
		lines.Add(cd)
	}
	return u.pairingFrame(container.NewBorder(nil, nil, widget.NewIcon(theme.LoginIcon()), u.pairingButtons(p), lines))
}

func (u *UI) pairingButtons(p events.Pairing) fyne.CanvasObject {
	code := pairCode(p.Code)
	yes := u.newButton(u.t("pair.approve"), theme.ConfirmIcon(), func() { u.answerPairing(p.ID, true) })
	yes.Importance = widget.HighImportance
	no := u.newButton(u.t("pair.deny"), theme.CancelIcon(), func() { u.answerPairing(p.ID, false) })
	return container.NewCenter(container.NewHBox(container.NewCenter(code), yes, no))
}

// pairCode is a request's 6-digit code, large enough to compare with the
// HIS page at a glance.
func pairCode(code string) *canvas.Text {
	t := canvas.NewText(code, theme.Color(theme.ColorNamePrimary))
	t.TextSize = 28
	t.TextStyle = fyne.TextStyle{Bold: true}
	return t
}

func (u *UI) pairingFrame(row fyne.CanvasObject) fyne.CanvasObject {
	bg := canvas.NewRectangle(color.Transparent)
	bg.StrokeColor = theme.Color(theme.ColorNameWarning)
	bg.StrokeWidth = 2
	bg.CornerRadius = 4
	return container.NewStack(bg, container.NewPadded(row))
}

// dropPairing stops showing the request id and returns it, if it was
// shown.
func (u *UI) dropPairing(id string) (events.Pairing, bool) {
	i := slices.IndexFunc(u.st.pending, func(p events.Pairing) bool { return p.ID == id })
	if i < 0 {
		return events.Pairing{}, false
	}
	p := u.st.pending[i]
	u.st.pending = slices.Delete(u.st.pending, i, i+1)
	u.renderPairings()
	return p, true
}

// dropExpiredPairings forgets requests past their expiry: the agent has
// refused them already (a late click would change nothing).
func (u *UI) dropExpiredPairings() bool {
	now := u.now()
	kept := u.st.pending[:0]
	for _, p := range u.st.pending {
		if !p.Expires.IsZero() && !now.Before(p.Expires) {
			continue
		}
		kept = append(kept, p)
	}
	dropped := len(kept) != len(u.st.pending)
	u.st.pending = kept
	return dropped
}

// armPairingTick updates the countdowns every second while requests wait.
func (u *UI) armPairingTick() {
	if len(u.st.pending) == 0 || u.pairTimer != nil {
		return
	}
	u.pairTimer = time.AfterFunc(time.Second, func() {
		if u.ctx.Err() == nil {
			u.do(u.tickPairings)
		}
	})
}

// tickPairings runs every second while requests wait: it counts down and
// drops the requests that expired.
func (u *UI) tickPairings() {
	u.pairTimer = nil
	if u.w == nil {
		return
	}
	if u.dropExpiredPairings() {
		u.renderPairings()
		return
	}
	for _, f := range u.w.pairTicks {
		f()
	}
	u.armPairingTick()
}

func (u *UI) answerPairing(id string, approved bool) {
	p, ok := u.dropPairing(id)
	if !ok || p.Reply == nil {
		return
	}
	u.async(func() func() {
		p.Reply(approved)
		return u.pairedUpdate()
	})
}

// confirmRevoke asks before it revokes a paired app: a revoked app must
// pair again, with someone at this window.
func (u *UI) confirmRevoke(p PairingInfo) {
	d := dialog.NewConfirm(u.t("pair.revoke.title"), u.t("pair.revoke.confirm", u.appLabel(p.Name, p.Origin)), func(ok bool) {
		if ok {
			u.revoke(p.ID)
		}
	}, u.win)
	d.SetConfirmText(u.t("pair.revoke.yes"))
	d.SetDismissText(u.t("pair.revoke.no"))
	d.SetConfirmImportance(widget.DangerImportance)
	d.Show()
}

func (u *UI) revoke(id string) {
	pm, ok := u.act.(PairingManager)
	if !ok {
		return
	}
	u.async(func() func() {
		err := pm.RevokePairing(id)
		update := u.pairedUpdate()
		return func() {
			if err != nil {
				u.log.Warn("A HIS app's pairing could not be revoked from the window; try again, or run tiepdon pairing revoke ID", "err", err)
				u.w.pairMsg.SetText(u.t("pair.revoke.failed"))
			} else {
				u.w.pairMsg.SetText(u.t("pair.revoked"))
			}
			if update != nil {
				update()
			}
		}
	})
}

// refreshPaired reloads the paired apps off the Fyne goroutine.
func (u *UI) refreshPaired() {
	if _, ok := u.act.(PairingManager); !ok {
		return
	}
	u.async(u.pairedUpdate)
}

// pairedUpdate reads the paired apps (off the Fyne goroutine) and returns
// the update that shows them.
func (u *UI) pairedUpdate() func() {
	pm, ok := u.act.(PairingManager)
	if !ok {
		return nil
	}
	list := pm.Pairings()
	sort.Slice(list, func(i, j int) bool {
		return u.appLabel(list[i].Name, list[i].Origin) < u.appLabel(list[j].Name, list[j].Origin)
	})
	return func() {
		u.st.paired = list
		u.renderPairings()
	}
}

// sortedDevices returns the devices in a stable order.
func sortedDevices(m map[string]events.Device) []events.Device {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]events.Device, 0, len(keys))
	for _, k := range keys {
		out = append(out, m[k])
	}
	return out
}
