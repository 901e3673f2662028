package ui

import (
	"image/color"
	"sort"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
)

// renderRecent renders the shift's recent checks, newest first, each with
// a re-check button.
func (u *UI) renderRecent() {
	if u.w == nil {
		return
	}
	box := u.w.recentBox
	box.RemoveAll()
	if len(u.st.recent) == 0 {
		box.Add(widget.NewLabel(u.t("recent.none")))
	}
	for _, rc := range u.st.recent {
		id := rc.Identity
		dot := canvas.NewRectangle(colIdle)
		dot.SetMinSize(fyne.NewSize(14, 14))
		dot.CornerRadius = 7
		verdict := u.t("banner.checking")
		if rc.Result != nil {
			s := styleOf(*rc.Result)
			dot.FillColor = s.bg
			verdict = u.t(s.titleKey)
		}
		who := string(id.Name)
		if who == "" && rc.Result != nil {
			who = string(rc.Result.Holder)
		}
		ident := id.CitizenID.Masked()
		if id.CardNumber != "" {
			ident = id.CardNumber.Masked()
		}
		line := widget.NewLabel(rc.At.In(u.opts.Location).Format("15:04") + "  " + orDash(who) + "  " + ident + "  · " + u.t("medium."+string(id.Medium)))
		line.Truncation = fyne.TextTruncateEllipsis
		v := widget.NewLabel(verdict)
		v.TextStyle.Bold = true
		btn := u.newButton(u.t("action.recheck.short"), theme.ViewRefreshIcon(), func() { u.startCheck(id) })
		if patient.QueryOf(id).Empty() {
			btn.Disable()
		}
		box.Add(container.NewBorder(nil, nil, container.NewHBox(container.NewCenter(dot), v), btn, line))
	}
	box.Refresh()
}

// renderPairings renders pending pairing requests (on the main tab and the
// pairing tab) and the paired apps.
func (u *UI) renderPairings() {
	if u.w == nil {
		return
	}
	w := u.w
	w.pairStrip.RemoveAll()
	w.pendingBox.RemoveAll()
	if len(u.st.pending) == 0 {
		w.pendingBox.Add(widget.NewLabel(u.t("pair.pending.none")))
	}
	for _, p := range u.st.pending {
		w.pairStrip.Add(u.pairingRow(p))
		w.pendingBox.Add(u.pairingRow(p))
	}
	w.pairedBox.RemoveAll()
	if len(u.st.paired) == 0 {
		w.pairedBox.Add(widget.NewLabel(u.t("pair.paired.none")))
	}
	for _, p := range u.st.paired {
		text := p.Origin
		if !p.Since.IsZero() {
			text += "  · " + u.t("pair.since", p.Since.In(u.opts.Location).Format("02/01/2006 15:04"))
		}
		if !p.LastSeen.IsZero() {
			text += "  · " + u.t("pair.lastseen", p.LastSeen.In(u.opts.Location).Format("02/01/2006 15:04"))
		}
		id := p.ID
		btn := u.newButton(u.t("pair.revoke"), theme.DeleteIcon(), func() { u.revoke(id) })
		btn.Importance = widget.DangerImportance
		w.pairedBox.Add(container.NewBorder(nil, nil, nil, btn, widget.NewLabel(text)))
	}
	w.pairStrip.Refresh()
	w.pendingBox.Refresh()
	w.pairedBox.Refresh()
	u.relayoutMain()
}

func (u *UI) pairingRow(p events.Pairing) fyne.CanvasObject {
	text := widget.NewLabel(u.t("pair.request", p.Origin))
	text.Wrapping = fyne.TextWrapWord
	code := canvas.NewText(p.Code, theme.Color(theme.ColorNamePrimary))
	code.TextSize = 28
	code.TextStyle = fyne.TextStyle{Bold: true}
	yes := u.newButton(u.t("pair.approve"), theme.ConfirmIcon(), func() { u.answerPairing(p.ID, true) })
	yes.Importance = widget.HighImportance
	no := u.newButton(u.t("pair.deny"), theme.CancelIcon(), func() { u.answerPairing(p.ID, false) })
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameWarning))
	bg.StrokeColor = theme.Color(theme.ColorNameWarning)
	bg.StrokeWidth = 2
	bg.FillColor = color.Transparent
	bg.CornerRadius = 4
	row := container.NewBorder(nil, nil, widget.NewIcon(theme.LoginIcon()), container.NewHBox(container.NewCenter(code), yes, no), text)
	return container.NewStack(bg, container.NewPadded(row))
}

func (u *UI) answerPairing(id string, approved bool) {
	var p events.Pairing
	kept := u.st.pending[:0]
	for _, q := range u.st.pending {
		if q.ID == id {
			p = q
			continue
		}
		kept = append(kept, q)
	}
	u.st.pending = kept
	u.renderPairings()
	if p.Reply == nil {
		return
	}
	u.async(func() func() {
		p.Reply(approved)
		return u.pairedUpdate()
	})
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
	sort.Slice(list, func(i, j int) bool { return list[i].Origin < list[j].Origin })
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
