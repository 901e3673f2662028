package ui

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestCatalogueComplete: every message has both languages, with the same
// format verbs, and every key the code names exists.
func TestCatalogueComplete(t *testing.T) {
	verbs := regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)
	for k, m := range messages {
		if m[0] == "" || m[1] == "" {
			t.Errorf("%s: missing a language", k)
		}
		if a, b := verbs.FindAllString(m[0], -1), verbs.FindAllString(m[1], -1); strings.Join(a, ",") != strings.Join(b, ",") {
			t.Errorf("%s: vi verbs %v, en verbs %v", k, a, b)
		}
	}
	files, _ := filepath.Glob("*.go")
	used := regexp.MustCompile(`(?:u\.t|u\.tOr|\.t)\("([a-z][a-zA-Z0-9.-]*)"|Key: "([a-z][a-zA-Z0-9.-]*)"|fail\("([a-z][a-zA-Z0-9.-]*)"|\{"(menu\.[a-z]+)"|"((?:verdict|reason)\.[a-z.-]+)"`)
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range used.FindAllStringSubmatch(string(src), -1) {
			key := strings.Join(m[1:], "")
			if strings.HasSuffix(key, ".") { // a prefix completed at run time
				continue
			}
			n++
			if _, ok := messages[key]; !ok {
				t.Errorf("%s names %q, which the catalogue lacks", f, key)
			}
		}
	}
	if n < 100 {
		t.Errorf("found only %d catalogue references: the pattern is broken", n)
	}
	// Keys completed at run time from bus values.
	for _, prefix := range []string{"step.", "device.", "medium.", "field.", "alert.", "reason."} {
		found := false
		for k := range messages {
			found = found || strings.HasPrefix(k, prefix)
		}
		if !found {
			t.Errorf("no messages for %s*", prefix)
		}
	}
	for _, d := range []string{"ready", "card", "missing", "error"} {
		if _, ok := messages["device."+d]; !ok {
			t.Errorf("no message for device state %s", d)
		}
	}
}

func TestCueSounds(t *testing.T) {
	seen := map[string]cue{}
	for c, wav := range cueSounds {
		if !bytes.HasPrefix(wav, []byte("RIFF")) || string(wav[8:16]) != "WAVEfmt " || string(wav[36:40]) != "data" {
			t.Fatalf("cue %d: not a WAV header", c)
		}
		if size := binary.LittleEndian.Uint32(wav[40:44]); int(size) != len(wav)-44 || binary.LittleEndian.Uint32(wav[4:8]) != uint32(len(wav)-8) {
			t.Errorf("cue %d: sizes in header do not match", c)
		}
		ms := (len(wav) - 44) / 2 * 1000 / wavRate
		if ms < 100 || ms > 600 {
			t.Errorf("cue %d lasts %d ms; a cue must be short", c, ms)
		}
		if prev, dup := seen[string(wav)]; dup {
			t.Errorf("cues %d and %d sound the same", prev, c)
		}
		seen[string(wav)] = c
	}
	if len(cueSounds) != 5 {
		t.Errorf("%d cue sounds, want 5", len(cueSounds))
	}
}

// TestImports: the core never depends on Fyne, and the window depends on
// the core's contracts only (no drivers, gateway, HIS API, config, and not
// the GL app package).
func TestImports(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go") //nolint:staticcheck // the toolchain running this test
	}
	deps := func(pkgs ...string) []string {
		cmd := exec.Command(goTool, append([]string{"list", "-deps"}, pkgs...)...)
		cmd.Dir = ".."
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %v: %v", pkgs, err)
		}
		return strings.Fields(string(out))
	}
	// agent/cmd/tiepdon is main, the one package that wires everything
	// (the window included); every other package under agent/ is the core.
	list := exec.Command(goTool, "list", "./agent/...")
	list.Dir = ".."
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list ./agent/...: %v", err)
	}
	var core []string
	for _, p := range strings.Fields(string(out)) {
		if !strings.Contains(p, "/agent/cmd/") {
			core = append(core, p)
		}
	}
	if len(core) < 3 {
		t.Fatalf("core packages %v", core)
	}
	for _, p := range deps(core...) {
		if strings.HasPrefix(p, "fyne.io/") {
			t.Errorf("the core (%s) imports %s", strings.Join(core, " "), p)
		}
	}
	uiDeps := deps("./ui")
	if len(uiDeps) < 50 {
		t.Fatalf("go list -deps ./ui gave %d packages", len(uiDeps))
	}
	for _, p := range uiDeps {
		for _, banned := range []string{
			"fyne.io/fyne/v2/app", "fyne.io/fyne/v2/internal/driver/glfw", "github.com/go-gl/",
			"github.com/tiepdon/tiepdon/agent/config", "github.com/tiepdon/tiepdon/agent/hisapi",
			"github.com/tiepdon/tiepdon/sync/", "github.com/tiepdon/tiepdon/drivers",
		} {
			if strings.HasPrefix(p, banned) {
				t.Errorf("ui imports %s", p)
			}
		}
	}
}

// TestFailureCodes: every read.failed code the HIS documentation lists is
// worded in the catalogue, and the catalogue words no other.
func TestFailureCodes(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "his-api.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(doc), "### Failure codes")
	if !ok {
		t.Fatal("docs/his-api.md has no Failure codes section")
	}
	table, _, _ = strings.Cut(table, "\n#")
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z0-9-]+)` \\|").FindAllStringSubmatch(table, -1) {
		documented[m[1]] = true
	}
	if len(documented) < 10 {
		t.Fatalf("found %d codes in docs/his-api.md: the pattern is broken", len(documented))
	}
	for code := range documented {
		if _, ok := messages["failure."+code]; !ok {
			t.Errorf("failure code %s is documented but not in the catalogue", code)
		}
	}
	for k := range messages {
		if code, ok := strings.CutPrefix(k, "failure."); ok && !documented[code] {
			t.Errorf("the catalogue words failure code %s, which docs/his-api.md does not list", code)
		}
	}
}
