package packaging

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/tiepdon/tiepdon/agent/config"
	"github.com/tiepdon/tiepdon/agent/install"
)

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// customAction is a CustomAction element of the WiX source.
type customAction struct {
	ID          string `xml:"Id,attr"`
	FileKey     string `xml:"FileKey,attr"`
	ExeCommand  string `xml:"ExeCommand,attr"`
	Execute     string `xml:"Execute,attr"`
	Impersonate string `xml:"Impersonate,attr"`
}

// wxs is the part of the WiX source the test looks at.
type wxs struct {
	Product struct {
		UpgradeCode string `xml:"UpgradeCode,attr"`
		Properties  []struct {
			ID    string `xml:"Id,attr"`
			Value string `xml:"Value,attr"`
		} `xml:"Property"`
		CustomActions []customAction `xml:"CustomAction"`
		Sequence      struct {
			Custom []struct {
				Action    string `xml:"Action,attr"`
				Sequence  int    `xml:"Sequence,attr"`
				Condition string `xml:",chardata"`
			} `xml:"Custom"`
		} `xml:"InstallExecuteSequence"`
	} `xml:"Product"`
}

func TestWXSPassesEveryProperty(t *testing.T) {
	var w wxs
	if err := xml.Unmarshal([]byte(read(t, "windows/tiepdon.wxs")), &w); err != nil {
		t.Fatal(err)
	}
	if w.Product.UpgradeCode != "6B0F2D1E-5C3A-4E8B-9A41-7D2C0E9F3B15" {
		t.Errorf("the UpgradeCode changed to %s: every installed version would stop upgrading", w.Product.UpgradeCode)
	}
	var cmd string
	for _, ca := range w.Product.CustomActions {
		if ca.ID == "WriteMachineConfig" {
			cmd = ca.ExeCommand
			if ca.Execute != "deferred" || ca.Impersonate != "no" || ca.FileKey != "tiepdon.exe" {
				t.Errorf("WriteMachineConfig must run the installed exe deferred as SYSTEM: %+v", ca)
			}
		}
	}
	if !strings.HasPrefix(cmd, "machine-config ") {
		t.Fatalf("WriteMachineConfig runs %q", cmd)
	}
	// Every property install.FromProperties knows is passed, and nothing else.
	passed := regexp.MustCompile(`"([A-Z_]+)=\[([A-Z_]+)\]"`).FindAllStringSubmatch(cmd, -1)
	var names []string
	for _, m := range passed {
		if m[1] != m[2] {
			t.Errorf("%s is passed the value of [%s]", m[1], m[2])
		}
		names = append(names, m[1])
	}
	want := []string{"AUTOSTART"}
	for _, p := range install.Properties {
		want = append(want, p.Name)
	}
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("the MSI passes %v, install.Properties knows %v", names, want)
	}
	if _, _, err := install.FromProperties(namesToArgs(names)); err != nil {
		t.Errorf("machine-config would reject what the MSI passes: %v", err)
	}
	// The data is removed only when asked, never on an upgrade.
	for _, c := range w.Product.Sequence.Custom {
		if c.Action == "PurgeData" && (!strings.Contains(c.Condition, `REMOVE_DATA="1"`) || !strings.Contains(c.Condition, "NOT UPGRADINGPRODUCTCODE")) {
			t.Errorf("PurgeData runs on %q", c.Condition)
		}
	}
	// No property has a default in the MSI: an upgrade that does not name
	// one keeps the machine's (the config file's value, the remembered
	// AUTOSTART), which a default would overwrite.
	for _, p := range w.Product.Properties {
		if slices.Contains(want, p.ID) {
			t.Errorf("the MSI gives %s the default %q", p.ID, p.Value)
		}
	}
}

func namesToArgs(names []string) []string {
	var args []string
	for _, n := range names {
		args = append(args, n+"=") // what the MSI passes for a property left unset
	}
	return args
}

// TestMachineTemplateSetsNothing: the machine config as installed (the
// Linux conffile, the MSI's first file) is all comments, so a new release
// never changes it, dpkg never stops an upgrade to ask about the
// administrator's edits, and no default is pinned.
func TestMachineTemplateSetsNothing(t *testing.T) {
	text := read(t, "../agent/config/machine.toml")
	for i, line := range strings.Split(text, "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
			t.Errorf("agent/config/machine.toml line %d sets something: %q", i+1, line)
		}
	}
	// Its commented example is valid when uncommented.
	// (The locked list is valid in the machine-wide file only, which this
	// test cannot be: it is checked apart.)
	var example strings.Builder
	locked := ""
	for _, line := range strings.Split(text, "\n") {
		if l, ok := strings.CutPrefix(line, "# "); ok && (strings.HasPrefix(l, "[") || strings.Contains(l, " = ")) {
			if strings.HasPrefix(l, "locked = ") {
				locked = l
				continue
			}
			example.WriteString(l + "\n")
		}
	}
	var lk struct {
		Locked []string `toml:"locked"`
	}
	if _, err := toml.Decode(locked, &lk); err != nil || len(lk.Locked) == 0 {
		t.Errorf("the conffile's locked example %q does not read as a list of keys: %v", locked, err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "example.toml"), []byte(example.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(filepath.Join(dir, "example.toml"), func(string) string { return "" })
	if err != nil || c.Facility.Code != "79014" || len(c.HIS.Origins) != 1 {
		t.Errorf("the conffile's example does not load: %v (facility %q, origins %v)\n%s", err, c.Facility.Code, c.HIS.Origins, example.String())
	}
}

func TestNFPMShipsTheDefaults(t *testing.T) {
	y := read(t, "linux/nfpm.yaml")
	for _, want := range []string{
		"src: agent/config/machine.toml\n    dst: /etc/tiepdon/config.toml\n    type: config|noreplace",
		"src: agent/config/defaults.toml\n    dst: /usr/share/doc/tiepdon/config.toml.example",
		"dst: /etc/xdg/autostart/tiepdon.desktop\n    type: config|noreplace",
		"dst: /usr/lib/systemd/user/tiepdon.service",
		"- pcscd", "- libpcsclite1", "- pcsc-lite",
	} {
		if !strings.Contains(y, want) {
			t.Errorf("nfpm.yaml lacks %q", want)
		}
	}
	for _, f := range []string{"linux/tiepdon.desktop", "linux/tiepdon-autostart.desktop"} {
		if d := read(t, f); !strings.Contains(d, "\nExec=tiepdon run\n") || !strings.Contains(d, "\nIcon=tiepdon\n") {
			t.Errorf("%s does not start tiepdon run with its icon", f)
		}
	}
	if u := read(t, "linux/tiepdon.service"); !strings.Contains(u, "\nExecStart=/usr/bin/tiepdon run --headless\n") {
		t.Error("the systemd user unit does not run tiepdon headless")
	}
}

// TestPolicyTemplate checks that the ADMX refers only to strings and
// presentations the ADML defines, and writes the browsers' policy keys.
func TestPolicyTemplate(t *testing.T) {
	admx := read(t, "windows/policy/tiepdon-browser.admx")
	adml := read(t, "windows/policy/en-US/tiepdon-browser.adml")
	for _, doc := range []string{admx, adml} {
		d := xml.NewDecoder(strings.NewReader(doc))
		for {
			if _, err := d.Token(); err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("not well-formed XML: %v", err)
				}
				break
			}
		}
	}
	defined := map[string]bool{}
	for _, m := range regexp.MustCompile(`<(?:string|presentation) id="(\w+)"`).FindAllStringSubmatch(adml, -1) {
		defined[m[1]] = true
	}
	for _, m := range regexp.MustCompile(`\$\((?:string|presentation)\.(\w+)\)`).FindAllStringSubmatch(admx, -1) {
		if !defined[m[1]] {
			t.Errorf("the ADMX uses %s, which the ADML does not define", m[1])
		}
	}
	for _, key := range []string{
		`Software\Policies\Google\Chrome\LoopbackNetworkAllowedForUrls`, `Software\Policies\Microsoft\Edge\LoopbackNetworkAllowedForUrls`,
		`Software\Policies\Google\Chrome\LocalNetworkAccessAllowedForUrls`, `Software\Policies\Microsoft\Edge\LocalNetworkAccessAllowedForUrls`,
	} {
		if !strings.Contains(admx, `<list id="`) || !strings.Contains(admx, `key="`+key+`" valuePrefix=""`) {
			t.Errorf("the ADMX does not write the list %s (value names 1, 2, …)", key)
		}
	}
}

// TestEveryScheduledActionExists: each custom action tiepdon.wxs schedules
// is defined, in the .wxs or by msi-fixup.sh (wixl cannot write actions from
// the Binary table); an action scheduled but never defined makes msiexec
// fail every install. The Binary-table actions keep their order: the
// properties are checked, then running agents are closed, before
// RemoveExistingProducts (1401); they are started again after
// InstallFinalize (6600).
func TestEveryScheduledActionExists(t *testing.T) {
	var w wxs
	if err := xml.Unmarshal([]byte(read(t, "windows/tiepdon.wxs")), &w); err != nil {
		t.Fatal(err)
	}
	fixup := read(t, "windows/msi-fixup.sh")
	seq := map[string]int{}
	for _, c := range w.Product.Sequence.Custom {
		seq[c.Action] = c.Sequence
		defined := slices.ContainsFunc(w.Product.CustomActions, func(a customAction) bool {
			return a.ID == c.Action
		})
		if !defined && !strings.Contains(fixup, "VALUES ('"+c.Action+"',") {
			t.Errorf("%s is scheduled but defined neither in tiepdon.wxs nor by msi-fixup.sh", c.Action)
		}
	}
	if !(seq["ValidateProperties"] > 0 && seq["ValidateProperties"] < seq["CloseAgents"] && seq["CloseAgents"] < 1401) {
		t.Errorf("ValidateProperties at %d, CloseAgents at %d: both before RemoveExistingProducts (1401), in this order",
			seq["ValidateProperties"], seq["CloseAgents"])
	}
	if seq["RestartAgents"] <= 6600 {
		t.Errorf("RestartAgents at %d, before InstallFinalize (6600): the new files are not in place yet", seq["RestartAgents"])
	}
}

// TestInstallDocLinks: every file docs/install-windows.md links to (the
// screenshot of the installed window, the scripts and sources it cites)
// exists, so IT staff following the guide never hit a dead link.
func TestInstallDocLinks(t *testing.T) {
	doc := read(t, "../docs/install-windows.md")
	links := regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`).FindAllStringSubmatch(doc, -1)
	n := 0
	for _, m := range links {
		target := m[1]
		if strings.Contains(target, "://") {
			continue
		}
		n++
		if _, err := os.Stat(filepath.Join("../docs", filepath.FromSlash(target))); err != nil {
			t.Errorf("docs/install-windows.md links to %s: %v", target, err)
		}
	}
	if n < 5 {
		t.Errorf("found %d relative links in docs/install-windows.md; the pattern no longer matches them", n)
	}
}
