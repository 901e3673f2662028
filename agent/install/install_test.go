package install

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent/config"
)

func TestFromProperties(t *testing.T) {
	sets, auto, err := FromProperties([]string{
		"AUTOSTART=0",
		"GATEWAY_URL=https://daotaoegw.baohiemxahoi.gov.vn/",
		"FACILITY_CODE=79014",
		"HIS_ORIGINS=https://his.benhvien.vn, http://10.0.0.5:8080;https://his2.benhvien.vn/",
		"HIS_PORT=9000",
		"gateway_user=79014_BV", // msiexec passes names as given; case does not matter
		"LANGUAGE=",             // empty: keep the file's value
		`SCANNER_PORT=COM3`,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Setting{
		{"gateway.url", `"https://daotaoegw.baohiemxahoi.gov.vn"`},
		{"facility.code", `"79014"`},
		{"his.origins", `["https://his.benhvien.vn", "http://10.0.0.5:8080", "https://his2.benhvien.vn"]`},
		{"his.addr", `"127.0.0.1:9000"`},
		{"gateway.username", `"79014_BV"`},
		{"scanner.port", `"COM3"`},
	}
	if len(sets) != len(want) {
		t.Fatalf("got %v", sets)
	}
	if auto == nil || *auto {
		t.Errorf("AUTOSTART=0 gave %v", auto)
	}
	if _, auto, _ := FromProperties([]string{"AUTOSTART=", "HIS_PORT=1"}); auto != nil {
		t.Errorf("an empty AUTOSTART gave %v", *auto)
	}
	for i := range want {
		if sets[i] != want[i] {
			t.Errorf("setting %d = %v, want %v", i, sets[i], want[i])
		}
	}

	for _, bad := range []string{
		"GATEWAY_URL=egw.baohiemxahoi.gov.vn", "HIS_PORT=0", "HIS_PORT=70000", "HIS_PORT=http",
		"HIS_ORIGINS=https://his.benhvien.vn/login", "HIS_ORIGINS=his.benhvien.vn", "PASSWORD=x", "GATEWAY_URL", "AUTOSTART=yes",
	} {
		if _, _, err := FromProperties([]string{bad}); !errors.Is(err, ErrBadProperty) {
			t.Errorf("FromProperties(%q) = %v, want ErrBadProperty", bad, err)
		}
	}
}

func TestApply(t *testing.T) {
	in := `# machine config
language = "vi"

[gateway]
# the gateway
url = "https://egw.baohiemxahoi.gov.vn" # production
timeout = "10s"

[his]
origins = [
  "https://old.example", # old HIS
]
allow_non_loopback = false
`
	out, err := Apply(in, []Setting{
		{"gateway.url", `"https://daotaoegw.baohiemxahoi.gov.vn"`},
		{"his.origins", `["https://his.benhvien.vn"]`},
		{"his.addr", `"127.0.0.1:9000"`},
		{"facility.code", `"79014"`},
		{"language", `"en"`},
		{"data_dir", `"D:\\tiepdon"`},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `# machine config
language = "en"
data_dir = "D:\\tiepdon"

[gateway]
# the gateway
url = "https://daotaoegw.baohiemxahoi.gov.vn"
timeout = "10s"

[his]
origins = ["https://his.benhvien.vn"]
allow_non_loopback = false
addr = "127.0.0.1:9000"

[facility]
code = "79014"
`
	if out != want {
		t.Errorf("Apply:\n%s\nwant:\n%s", out, want)
	}
	// Applying the same settings again changes nothing.
	again, _ := Apply(out, []Setting{{"gateway.url", `"https://daotaoegw.baohiemxahoi.gov.vn"`}})
	if again != out {
		t.Errorf("not idempotent:\n%s", again)
	}
	if _, err := Apply(in, []Setting{{"gateway.url", `"unterminated`}}); err == nil {
		t.Error("Apply accepted a value that breaks the file")
	}
}

func TestApplyToShippedDefaults(t *testing.T) {
	sets, _, err := FromProperties([]string{"GATEWAY_URL=https://daotaoegw.baohiemxahoi.gov.vn", "FACILITY_CODE=79014",
		"HIS_ORIGINS=https://his.benhvien.vn", "HIS_PORT=9000", "GATEWAY_USER=79014_BV"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := Apply(config.Defaults, sets)
	if err != nil {
		t.Fatal(err)
	}
	// Every comment line of the defaults survives.
	for _, l := range strings.Split(config.Defaults, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#") && !strings.Contains(out, l) {
			t.Errorf("comment lost: %q", l)
		}
	}
	f := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(f, []byte(out), 0o644)
	c, err := config.Load(f, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if c.Gateway.URL != "https://daotaoegw.baohiemxahoi.gov.vn" || c.Facility.Code != "79014" || c.HIS.Addr != "127.0.0.1:9000" ||
		len(c.HIS.Origins) != 1 || c.HIS.Origins[0] != "https://his.benhvien.vn" || c.Gateway.Username != "79014_BV" {
		t.Errorf("loaded %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

func TestWriteMachineConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ProgramData", "tiepdon")
	path := filepath.Join(dir, "config.toml")

	// First install: the file is made from the template and holds only
	// what was set (no default is pinned in it).
	sets, _, _ := FromProperties([]string{"FACILITY_CODE=79014", "HIS_ORIGINS=https://his.benhvien.vn", "LANGUAGE=en"})
	changed, err := WriteMachineConfig(path, sets)
	if err != nil || !changed {
		t.Fatalf("first write: changed=%v err=%v", changed, err)
	}
	fi, err := os.Stat(path)
	// Windows has no mode bits: %ProgramData%'s ACL makes the file readable by all.
	if err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o644) {
		t.Fatalf("stat: %v %v", fi, err)
	}
	b, _ := os.ReadFile(path)
	var set []string
	for _, line := range strings.Split(string(b), "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") {
			set = append(set, l)
		}
	}
	if want := []string{`language = "en"`, "[facility]", `code = "79014"`, "[his]", `origins = ["https://his.benhvien.vn"]`}; !slices.Equal(set, want) {
		t.Errorf("first install's file sets %q, want %q", set, want)
	}
	if !strings.HasPrefix(string(b), "# tiepdon: machine-wide settings") {
		t.Errorf("the template's comments are not kept at the top:\n%s", b)
	}
	// An administrator edits the file by hand.
	hand := string(b) + "\n[log]\nlevel = \"debug\" # set by IT\n"
	os.WriteFile(path, []byte(hand), 0o644)

	// Upgrade without properties: nothing changes.
	changed, err = WriteMachineConfig(path, nil)
	if err != nil || changed {
		t.Fatalf("upgrade without properties: changed=%v err=%v", changed, err)
	}
	// Upgrade with a new port: only that line changes.
	sets, _, _ = FromProperties([]string{"HIS_PORT=9100"})
	if changed, err = WriteMachineConfig(path, sets); err != nil || !changed {
		t.Fatalf("upgrade: changed=%v err=%v", changed, err)
	}
	c, err := config.Load(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if c.Log.Level != "debug" || c.Facility.Code != "79014" || c.HIS.Addr != "127.0.0.1:9100" {
		t.Errorf("after upgrade: level=%s code=%s addr=%s", c.Log.Level, c.Facility.Code, c.HIS.Addr)
	}
	// A value the config rejects is not written.
	before, _ := os.ReadFile(path)
	if _, err := WriteMachineConfig(path, []Setting{{"language", `"fr"`}}); err == nil {
		t.Error("an invalid language was accepted")
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Error("a rejected change was written")
	}
	if err := AppendLog(filepath.Join(dir, "install.log"), time.Unix(0, 0), "machine-config: his.addr"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "install.log")); string(b) != "1970-01-01T00:00:00Z machine-config: his.addr\n" {
		t.Errorf("install.log: %q", b)
	}
}

func TestDataDirsAndRemove(t *testing.T) {
	root := t.TempDir()
	machine := filepath.Join(root, "etc", "tiepdon")
	home := filepath.Join(root, "home")
	data, conf := ".local/share", ".config" // per-user data and config dirs
	if runtime.GOOS == "windows" {
		data, conf = `AppData\Local`, `AppData\Roaming`
	}
	for _, d := range []string{machine, filepath.Join(home, "an", data, "tiepdon/logs"), filepath.Join(home, "binh", conf, "tiepdon"),
		filepath.Join(home, "chi", data, "other")} {
		os.MkdirAll(d, 0o755)
	}
	dirs := DataDirs(machine, home)
	want := []string{machine, filepath.Join(home, "an", data, "tiepdon"), filepath.Join(home, "binh", conf, "tiepdon")}
	if strings.Join(dirs, "|") != strings.Join(want, "|") {
		t.Fatalf("DataDirs = %v, want %v", dirs, want)
	}
	if err := RemoveAll(append(dirs, filepath.Join(root, "missing"))); err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there: %v", d, err)
		}
	}
	if _, err := os.Stat(filepath.Join(home, "chi", data, "other")); err != nil {
		t.Errorf("removed another program's data: %v", err)
	}
}

func FuzzApply(f *testing.F) {
	f.Add(config.Defaults, "his.origins", `["https://a.b"]`)
	f.Add("[his]\norigins = [\n \"x\", # ]\n]\n", "his.origins", `[]`)
	f.Add("a = 'x[' \n[t]\nk = \"]\\\"\"\n", "t.k", `"v"`)
	f.Add("", "language", `"en"`)
	f.Fuzz(func(t *testing.T, text, key, value string) {
		out, err := Apply(text, []Setting{{key, value}})
		if err != nil {
			return
		}
		// Whatever Apply returns parses (it checks), and applying the same
		// setting again is stable.
		again, err := Apply(out, []Setting{{key, value}})
		if err != nil {
			t.Fatalf("second Apply failed: %v\nfirst output:\n%s", err, out)
		}
		if again != out {
			t.Fatalf("not idempotent:\n%q\n%q", out, again)
		}
	})
}

func TestAutostartRemembered(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tiepdon")
	steps := []struct {
		prop *bool
		want bool
	}{
		{nil, true},         // fresh install, no AUTOSTART: on
		{new(false), false}, // AUTOSTART=0
		{nil, false},        // upgrade without AUTOSTART: still off
		{nil, false},
		{new(true), true}, // AUTOSTART=1 turns it back on
		{nil, true},
	}
	for i, s := range steps {
		got, err := Autostart(dir, s.prop)
		if err != nil || got != s.want {
			t.Fatalf("step %d: Autostart = %v, %v; want %v", i, got, err, s.want)
		}
	}
	os.WriteFile(filepath.Join(dir, AutostartFile), []byte("yes"), 0o644)
	if got, err := Autostart(dir, nil); err == nil || !got {
		t.Errorf("a damaged file: %v, %v; want on and an error", got, err)
	}
}
