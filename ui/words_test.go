package ui

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/test"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/agent/settings"
	"github.com/tiepdon/tiepdon/agent/words"
	"github.com/tiepdon/tiepdon/sync/bhxh"
	"github.com/tiepdon/tiepdon/ui/internal/scenes"
)

// TestRegisteredFacility: the card panel names the registered facility
// and says whether it is this one (Options.Facility).
func TestRegisteredFacility(t *testing.T) {
	show := func(lang, here string, e patient.Eligibility) *harness {
		h := newHarness(t, lang, false)
		h.u.opts.Facility = here
		e.Source, e.CheckedAt = patient.SourceLive, scenes.Now
		h.play([]scenes.Step{{Kind: events.CardPresented, Data: events.Presented{CheckID: "c1", Medium: patient.MediumTyped}},
			{Kind: events.EligibilityResult, Data: events.Result{CheckID: "c1", Eligibility: e}}})
		return h
	}
	e := patient.Eligibility{Verdict: patient.Eligible, Code: "000", CardNumber: "DN4010123456789",
		RegisteredFacility: "01043", FacilityName: "Bệnh viện đa khoa Đống Đa"}

	h := show("vi", "01043", e)
	if w := h.u.w; !w.facNote.Visible() || w.facNote.Text != "Đúng tuyến: đăng ký KCB ban đầu tại cơ sở này" {
		t.Errorf("this facility: note %q shown %v", w.facNote.Text, w.facNote.Visible())
	}
	if got := h.u.w.facility.Text; got != "01043 – Bệnh viện đa khoa Đống Đa" {
		t.Errorf("facility row %q lacks the gateway's name", got)
	}

	h = show("vi", "79014", e)
	want := "Nơi đăng ký KCB ban đầu: Bệnh viện đa khoa Đống Đa (01043), không phải cơ sở này"
	if w := h.u.w; !w.facNote.Visible() || w.facNote.Text != want {
		t.Errorf("another facility: note %q shown %v, want %q", w.facNote.Text, w.facNote.Visible(), want)
	}

	e.FacilityName = "" // the gateway gave the code only
	h = show("en", "79014", e)
	if w := h.u.w; w.facNote.Text != "Initial registration: 01043, not this facility" {
		t.Errorf("code only, English: note %q", w.facNote.Text)
	}

	// The window and `tiepdon check` say the same words.
	e.FacilityName = "Bệnh viện đa khoa Đống Đa"
	for _, here := range []string{"01043", "79014"} {
		for _, l := range []string{"vi", "en"} {
			h = show(l, here, e)
			vi, en := bhxh.Registered(e, here)
			if want := map[string]string{"vi": vi, "en": en}[l]; h.u.w.facNote.Text != want {
				t.Errorf("%s, facility %s: window says %q, tiepdon check %q", l, here, h.u.w.facNote.Text, want)
			}
		}
	}

	e.FacilityName = ""
	h = show("vi", "", e) // the desk's facility code is not configured: say nothing
	if h.u.w.facNote.Visible() {
		t.Errorf("note %q shown with no facility configured", h.u.w.facNote.Text)
	}
}

// englishWords are words an English message has and a Vietnamese one
// never has. Short words that are also Vietnamese (an, to, in, do, no, on,
// con) and loanwords staff use (chip, demo, web, IT, PIN) are left out.
var englishWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`the and or of for with not is are was were be been this that these please
		select one card scan scanned scanner reader read removed during settings saved save mode error failed failure
		invalid unknown missing ready none cancel yes ok copy cut paste undo redo open close quit confirm check checking
		eligible result results gateway network timeout connection refused address name date birth patient staff sign
		signed login password account field wrong empty too long short found could cannot did does unavailable server
		request response see log try again new old code number valid expired from until by as at you your has have
		online offline answer answered cached while when what which`) {
		englishWords[w] = true
	}
}

// quoted is a name quoted in a message (a command, a file): not words.
var quoted = regexp.MustCompile(`“[^”]*”`)

// englishIn returns the English words in s, outside quoted names.
func englishIn(s string) []string {
	var out []string
	s = quoted.ReplaceAllString(s, " ")
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) }) {
		if englishWords[strings.ToLower(w)] {
			out = append(out, w)
		}
	}
	return out
}

// TestEnglishWordList: the list finds the leaks the shift found, and no
// Vietnamese sentence trips it.
func TestEnglishWordList(t *testing.T) {
	for _, s := range []string{"scanned a web address, not a card", "the card was removed during the read", "(Select one)",
		"settings are not saved in demo mode"} {
		if len(englishIn(s)) == 0 {
			t.Errorf("%q: no English word found", s)
		}
	}
	for _, s := range []string{"Đúng tuyến: đăng ký KCB ban đầu tại cơ sở này", "Thẻ bị rút ra khi đang đọc",
		"Đặt thẻ CCCD gắn chip lên đầu đọc, hoặc gõ số thẻ (F2); báo IT nếu lỗi (mã PIN, demo)"} {
		if w := englishIn(s); len(w) > 0 {
			t.Errorf("%q: English words %v in Vietnamese", s, w)
		}
	}
}

// TestNoEnglishInVietnamese walks every text the Vietnamese screen can
// show: each catalogue entry; the policy table's reasons and next steps;
// every Vietnamese text the agent, the gateway client and the drivers
// write (read from their source); every failure and alert code a driver
// or the agent sends has its catalogue entry; errors reach the screen in
// Vietnamese; and every scene and tab, as painted, has no English word.
func TestNoEnglishInVietnamese(t *testing.T) {
	check := func(where, s string) {
		t.Helper()
		if w := englishIn(s); len(w) > 0 {
			t.Errorf("%s: English %v in the Vietnamese text %q", where, w, s)
		}
	}
	// The same text in both languages only where it is no words.
	same := map[string]bool{"prov.latency": true, "medium.chip": true, "medium.": true, "entry.dob.placeholder": true}
	for k, m := range messages {
		check("catalogue "+k, m[0])
		if m[0] == m[1] && !same[k] {
			t.Errorf("catalogue %s: the Vietnamese text is the English one, %q", k, m[0])
		}
	}
	for code, r := range bhxh.Policy {
		check("policy "+code+" reason", r.ReasonVI)
		check("policy "+code+" next step", r.NextVI)
	}
	check("policy, unknown code", bhxh.RuleFor("999").ReasonVI+" "+bhxh.RuleFor("999").NextVI)

	// Vietnamese texts written in the core's source.
	texts := vietnameseInSource(t, "../agent", "../sync", "../drivers")
	if len(texts) < 25 {
		t.Fatalf("found only %d Vietnamese texts in the source: the walk is broken", len(texts))
	}
	for _, x := range texts {
		check(x.where, x.text)
	}

	// Every failure and alert code sent has its words.
	codes := constStrings(t, "../drivers/drivers.go", "Failure")
	codes = append(codes, returnedStrings(t, "../drivers/payload/payload.go", "FailureCode")...)
	if len(codes) < 15 {
		t.Fatalf("found %d failure codes: the walk is broken", len(codes))
	}
	for _, c := range codes {
		if _, ok := messages["failure."+c]; !ok {
			t.Errorf("failure code %q can reach the screen but has no catalogue entry failure.%s", c, c)
		}
	}
	alerts := append(constStrings(t, "../agent/chip.go", "Alert"), constStrings(t, "../drivers/cccd/crosscheck.go", "Alert")...)
	if len(alerts) < 4 {
		t.Fatalf("found alerts %v: the walk is broken", alerts)
	}
	for _, c := range alerts {
		if _, ok := messages["alert."+c]; !ok && c != AlertCANRequired {
			t.Errorf("alert code %q can reach the screen but has no catalogue entry alert.%s", c, c)
		}
	}

	// Chip read steps, media, device and gateway states have their words.
	var steps []string
	for _, s := range calledStrings(t, "../drivers/emrtd/read.go", "progress", 0) {
		steps = append(steps, strings.ToLower(s)) // drivers/chip lowercases them
	}
	steps = append(steps, calledStrings(t, "../drivers/chip/chip.go", "Progress", 1)...)
	if len(steps) < 12 {
		t.Fatalf("found steps %v: the walk is broken", steps)
	}
	for _, s := range steps {
		if _, ok := messages["step."+s]; !ok {
			t.Errorf("the chip reader reports step %q, which has no catalogue entry step.%s", s, s)
		}
	}
	for _, c := range []struct{ file, prefix, key string }{
		{"../agent/patient/identity.go", "Medium", "medium."},
		{"../agent/events/payloads.go", "Device", "device."},
		{"../agent/events/payloads.go", "Gateway", "status.gateway."},
	} {
		consts := constStrings(t, c.file, c.prefix)
		if len(consts) < 4 {
			t.Fatalf("%s: found %v: the walk is broken", c.file, consts)
		}
		for _, v := range consts {
			if _, ok := messages[c.key+v]; !ok && !(c.key == "device." && (v == "reader" || v == "scanner")) {
				t.Errorf("%s %q can reach the screen but has no catalogue entry %s%s", c.prefix, v, c.key, v)
			}
		}
	}

	// What the agent sends in English stays off the Vietnamese screen.
	h := newHarness(t, "vi", false)
	for _, err := range []error{settings.ErrDemo, fmt.Errorf("%w: %w", settings.ErrGatewayTest, bhxh.ErrLogin),
		errors.New("dial tcp 10.0.0.1:443: connect: connection refused")} {
		check("error "+err.Error(), h.u.errText(err))
	}
	if got := h.u.errText(settings.ErrDemo); got != "chế độ trình diễn không lưu cài đặt" {
		t.Errorf("demo settings error shown as %q", got)
	}
	h.play([]scenes.Step{{Kind: events.ReadFailed, Data: events.Failure{CheckID: "f1", Medium: patient.MediumChip,
		Code: "chip-melted", Reason: "the chip was removed during the read"}}})
	check("unknown failure", h.u.w.bannerReason.Text)
	h.play([]scenes.Step{{Kind: events.Alert, Data: events.AlertData{Code: "new-alert", Message: "The card is not valid"}}})
	check("unknown alert", h.u.w.alertText.Text)
	if sel := h.u.newSelect(nil); sel.PlaceHolder != "(Chọn một mục)" {
		t.Errorf("drop-down placeholder %q", sel.PlaceHolder)
	}
	if got := lang.L("Copy"); got != "Sao chép" {
		t.Errorf("Fyne's copy menu says %q on a Vietnamese screen", got)
	}
	h.u.SetLanguage("en")
	if got := lang.L("Copy"); got != "Copy" {
		t.Errorf("Fyne's copy menu says %q on an English screen", got)
	}
	h.u.SetLanguage("vi")

	// Every scene as painted, and after the last one every other tab.
	n := 0
	for _, sc := range scenes.All() {
		if sc.Lang != "" {
			continue
		}
		h = newHarness(t, "vi", true)
		h.play(sc.Steps)
		for _, s := range paintedTexts(h.u.win.Canvas()) {
			n++
			check("scene "+sc.Name, s)
		}
	}
	for i := range h.u.w.tabs.Items {
		h.u.w.tabs.SelectIndex(i)
		for _, s := range paintedTexts(h.u.win.Canvas()) {
			n++
			check(fmt.Sprintf("tab %d", i), s)
		}
	}
	if n < 300 {
		t.Errorf("only %d painted texts: the walk is broken", n)
	}
	// The settings page as IT sees it, and the dialogs.
	h.u.w.tabs.SelectIndex(3)
	if texts := strings.Join(paintedTexts(h.u.win.Canvas()), "|"); !strings.Contains(texts, h.u.t("set.url")) {
		t.Errorf("the settings page was not painted: %s", texts)
	}
	h.u.w.tabs.SelectIndex(0)
	h.u.showSignIn()
	h.u.confirmRevoke(PairingInfo{ID: "p9", Origin: "https://his.benhvien-dongda.vn", Name: "HIS Đống Đa"})
	if len(h.u.st.recent) > 0 {
		h.u.showRecent(h.u.st.recent[0])
	}
	if len(h.u.win.Canvas().Overlays().List()) < 2 {
		t.Errorf("%d dialogs open, want the sign-in and the revoke confirmation", len(h.u.win.Canvas().Overlays().List()))
	}
	dialogs := paintedTexts(h.u.win.Canvas())
	for _, s := range dialogs {
		check("dialogs", s)
	}
	if all := strings.Join(dialogs, "|"); !strings.Contains(all, h.u.t("staff.title")) || !strings.Contains(all, h.u.t("pair.revoke.yes")) {
		t.Errorf("the dialogs were not painted: %s", all)
	}
}

// paintedTexts returns every text under the canvas's content and overlays,
// skipping the test data's device names and web origins.
func paintedTexts(c fyne.Canvas) []string {
	roots := []fyne.CanvasObject{c.Content()}
	roots = append(roots, c.Overlays().List()...)
	var out []string
	for _, r := range roots {
		for _, o := range test.LaidOutObjects(r) {
			tx, ok := o.(*canvas.Text)
			if !ok || tx.Text == "" || strings.Contains(tx.Text, "ACS ") || strings.Contains(tx.Text, "://") {
				continue
			}
			out = append(out, tx.Text)
		}
	}
	return out
}

type sourceText struct{ where, text string }

// vietnameseInSource returns the string literals that the non-test Go
// files under dirs give a Vietnamese field (ReasonVI, NextVI, VI), the
// second argument of words.Error, or a Vietnamese method's result.
func vietnameseInSource(t *testing.T, dirs ...string) []sourceText {
	t.Helper()
	var out []sourceText
	var lits func(fset *token.FileSet, n ast.Node)
	lits = func(fset *token.FileSet, n ast.Node) {
		ast.Inspect(n, func(n ast.Node) bool {
			if kv, ok := n.(*ast.KeyValueExpr); ok { // a map key is not shown
				lits(fset, kv.Value)
				return false
			}
			if b, ok := n.(*ast.BasicLit); ok && b.Kind == token.STRING {
				if s, err := strconv.Unquote(b.Value); err == nil {
					out = append(out, sourceText{fset.Position(b.Pos()).String(), s})
				}
			}
			return true
		})
	}
	viField := map[string]bool{"ReasonVI": true, "NextVI": true, "VI": true}
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.KeyValueExpr:
					if id, ok := n.Key.(*ast.Ident); ok && viField[id.Name] {
						lits(fset, n.Value)
					}
				case *ast.AssignStmt:
					for i, l := range n.Lhs {
						if s, ok := l.(*ast.SelectorExpr); ok && viField[s.Sel.Name] && i < len(n.Rhs) {
							lits(fset, n.Rhs[i])
						}
					}
				case *ast.CallExpr:
					if s, ok := n.Fun.(*ast.SelectorExpr); ok && s.Sel.Name == "Error" && len(n.Args) == 2 {
						if x, ok := s.X.(*ast.Ident); ok && x.Name == "words" {
							lits(fset, n.Args[1])
						}
					}
				case *ast.FuncDecl:
					if n.Name.Name == "Vietnamese" && n.Body != nil {
						lits(fset, n.Body)
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// constStrings returns the string constants of file whose names start
// with prefix.
func constStrings(t *testing.T, file, prefix string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			for i, n := range v.Names {
				if !strings.HasPrefix(n.Name, prefix) || i >= len(v.Values) {
					continue
				}
				if b, ok := v.Values[i].(*ast.BasicLit); ok && b.Kind == token.STRING {
					s, _ := strconv.Unquote(b.Value)
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// returnedStrings returns the string literals function fn of file returns.
func returnedStrings(t *testing.T, file, fn string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == fn {
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				if r, ok := n.(*ast.ReturnStmt); ok {
					for _, x := range r.Results {
						if b, ok := x.(*ast.BasicLit); ok && b.Kind == token.STRING {
							s, _ := strconv.Unquote(b.Value)
							out = append(out, s)
						}
					}
				}
				return true
			})
		}
	}
	return out
}

// TestVietnameseOf: the words of an error tree, outermost first, each once;
// an error with words speaks for what it wraps.
func TestVietnameseOf(t *testing.T) {
	outer := words.Error("gateway test failed", "thử cổng không được")
	inner := &words.Err{EN: "login refused", VI: "từ chối đăng nhập"}
	hidden := fmt.Errorf("%w: %w", words.Error("wrapped", "bị bọc"), errors.New("dial tcp"))
	for _, c := range []struct {
		err  error
		want []string
	}{
		{errors.New("plain"), nil},
		{outer, []string{"thử cổng không được"}},
		{fmt.Errorf("%w: %w", outer, inner), []string{"thử cổng không được", "từ chối đăng nhập"}},
		{fmt.Errorf("context: %w", fmt.Errorf("%w: %w", inner, inner)), []string{"từ chối đăng nhập"}},
		{&viWrapper{words.Err{EN: "a", VI: "ngoài"}, hidden}, []string{"ngoài"}},
		{&viWrapper{words.Err{EN: "a"}, hidden}, []string{"bị bọc"}}, // no words: look inside
		{nil, nil},
	} {
		if got := vietnameseOf(c.err); !slices.Equal(got, c.want) {
			t.Errorf("%v: %q, want %q", c.err, got, c.want)
		}
	}
}

type viWrapper struct {
	words.Err
	cause error
}

func (w *viWrapper) Unwrap() error { return w.cause }

// TestReadFailedNextStep: a read failure says why and what to do, for its
// code, in the banner's next-step line.
func TestReadFailedNextStep(t *testing.T) {
	for k := range messages {
		if code, ok := strings.CutPrefix(k, "next.failure."); ok {
			if _, ok := messages["failure."+code]; !ok {
				t.Errorf("%s: no failure code %s", k, code)
			}
		}
	}
	for _, c := range []struct{ code, why, next string }{
		{"pcsc-no-service", "Dịch vụ PC/SC không chạy.", "Việc cần làm: Gọi IT bật dịch vụ thẻ thông minh (PC/SC); trong lúc chờ, quét mã QR hoặc nhập tay (F2)."},
		{"chip-unreadable", "Không đọc được chip.", "Việc cần làm: Quét lại mã QR hoặc đặt lại thẻ lên đầu đọc; vẫn không được thì nhập tay (F2)."},
		{"", "Không đọc được mã quét hoặc thẻ.", "Việc cần làm: Quét lại mã QR hoặc đặt lại thẻ lên đầu đọc; vẫn không được thì nhập tay (F2)."},
	} {
		h := newHarness(t, "vi", false)
		h.play([]scenes.Step{{Kind: events.ReadFailed, Data: events.Failure{CheckID: "f1", Medium: patient.MediumChip, Code: c.code, Reason: "detail"}}})
		if w := h.u.w; w.bannerReason.Text != c.why || !w.bannerNext.Visible() || w.bannerNext.Text != c.next {
			t.Errorf("%q: reason %q, next %q (shown %v)", c.code, w.bannerReason.Text, w.bannerNext.Text, w.bannerNext.Visible())
		}
	}
}

// calledStrings returns the string literal at argument arg of every call
// to fn (a function or method name) in file.
func calledStrings(t *testing.T, file, fn string, arg int) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		c, ok := n.(*ast.CallExpr)
		if !ok || len(c.Args) <= arg {
			return true
		}
		name := ""
		switch f := c.Fun.(type) {
		case *ast.Ident:
			name = f.Name
		case *ast.SelectorExpr:
			name = f.Sel.Name
		}
		if b, ok := c.Args[arg].(*ast.BasicLit); ok && name == fn && b.Kind == token.STRING {
			s, _ := strconv.Unquote(b.Value)
			out = append(out, s)
		}
		return true
	})
	return out
}

// TestCANNextStep: the last-6-digits prompt says what to do in the
// banner's next-step line, like every verdict.
func TestCANNextStep(t *testing.T) {
	h := newHarness(t, "vi", false)
	h.play(sceneNamed(t, "can-required").Steps)
	if w := h.u.w; !w.bannerNext.Visible() || w.bannerNext.Text != "Việc cần làm: "+h.u.t("banner.can.next") {
		t.Errorf("CAN prompt: next step %q shown %v", w.bannerNext.Text, w.bannerNext.Visible())
	}
}
