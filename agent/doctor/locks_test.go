package doctor

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent/config"
)

// filesAt writes a machine-wide file and a user's file and points Load at
// the machine-wide one; it returns the user's file.
func filesAt(t *testing.T, machine, user string) string {
	t.Helper()
	dir := t.TempDir()
	mf, uf := filepath.Join(dir, "machine.toml"), filepath.Join(dir, "user.toml")
	if err := os.WriteFile(mf, []byte(machine), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(uf, []byte(user), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(config.MachineFileForTest(mf))
	return uf
}

func noEnv(map[string]string) func(string) string {
	return func(string) string { return "" }
}

// TestLocksNone: without a locked list nothing is locked, and it says so.
func TestLocksNone(t *testing.T) {
	user := filesAt(t, "[gateway]\nusername = \"79014_BV\"\n", "[gateway]\nurl = \"https://egw.example.vn\"\n")
	c, err := config.Load(user, noEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, Locks(&c, IgnoredFlags{}), OK, "No setting is locked")
}

// TestLocksIgnored: the machine-wide file locks gateway.url and
// his.origins; the user's file, the environment and a flag each try to
// change gateway.url. The doctor lists the locked keys and says, in both
// languages, which change is ignored and where it was made.
func TestLocksIgnored(t *testing.T) {
	user := filesAt(t, `locked = ["gateway.url", "his.origins"]
[gateway]
url = "https://egw.baohiemxahoi.gov.vn"
[his]
origins = ["https://his.benhvien.vn"]
`, "[gateway]\nurl = \"https://mine.example\"\nusername = \"79014_BV\"\n")
	env := map[string]string{"TIEPDON_GATEWAY_URL": "https://env.example"}
	c, err := config.Load(user, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	c.Gateway.URL = "https://flag.example" // tiepdon run --gateway
	c.EnforceLocks()

	r := Locks(&c, IgnoredFlags{})
	wantStatus(t, r, Warn, "gateway.url, his.origins", config.MachineConfigFile(),
		"gateway.url is set in the user's own file "+user+", but the lock keeps IT's value",
		"gateway.url is set in the environment variable TIEPDON_GATEWAY_URL",
		"gateway.url is set in a command-line flag of tiepdon run",
		"remove those settings")
	for _, w := range []string{"IT đã khoá: gateway.url, his.origins", "tệp riêng của người dùng " + user, "biến môi trường TIEPDON_GATEWAY_URL",
		"tham số dòng lệnh", "bị bỏ qua"} {
		if !strings.Contains(r.Found.VI+r.Fix.VI, w) {
			t.Errorf("the Vietnamese text does not say %q:\n%s", w, r.Found.VI)
		}
	}
	if strings.Contains(r.Found.EN, "his.origins is set") {
		t.Errorf("his.origins, set nowhere else, is reported as ignored:\n%s", r.Found.EN)
	}
	// Values never appear: a locked password must not leak through here.
	if strings.Contains(r.Found.EN, "mine.example") || strings.Contains(r.Found.EN, "env.example") {
		t.Errorf("the finding shows the ignored values:\n%s", r.Found.EN)
	}
	var out bytes.Buffer
	rep := Report{Results: []Result{r}}
	rep.WriteText(&out, "vi")
	if !strings.Contains(out.String(), "[WARN] locked-settings") {
		t.Errorf("the text report:\n%s", out.String())
	}
}

// TestLocksFleet: the hospital's fleet settings lock a key; a user's file
// value for it is ignored and said to be.
func TestLocksFleet(t *testing.T) {
	user := filesAt(t, "", "[scanner]\nbaud = 115200\n")
	c, err := config.LoadFleet(user, noEnv(nil), &config.Fleet{Values: map[string]string{"scanner.baud": "9600"}, Locked: []string{"scanner.baud"}})
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, Locks(&c, IgnoredFlags{}), Warn, "scanner.baud (the hospital's fleet settings)", "scanner.baud is set in the user's own file")
	if c.Scanner.Baud != 9600 {
		t.Fatalf("scanner.baud = %d, want the fleet's 9600", c.Scanner.Baud)
	}
}

// TestLocksFlagsOfTheRunningAgent: the flags a running tiepdon run was
// given reach the doctor through the data folder; a flag for a key that is
// no longer locked is not reported, and with no flag ignored the file goes.
func TestLocksFlagsOfTheRunningAgent(t *testing.T) {
	user := filesAt(t, "locked = [\"gateway.url\"]\n[gateway]\nurl = \"https://egw.baohiemxahoi.gov.vn\"\n", "")
	c, err := config.Load(user, noEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	started := time.Date(2026, 12, 5, 7, 30, 0, 0, time.Local)
	if err := WriteIgnoredFlags(filepath.Join(data, "new"), IgnoredFlags{Started: started, Keys: []string{"gateway.url", "scanner.port"}}); err != nil {
		t.Fatal(err)
	}
	flags := ReadIgnoredFlags(filepath.Join(data, "new"))
	r := Locks(&c, flags)
	wantStatus(t, r, Warn, "gateway.url is set in a command-line flag of the tiepdon run started 2026-12-05 07:30")
	if !strings.Contains(r.Found.VI, "tham số dòng lệnh của tiepdon run khởi động lúc 2026-12-05 07:30") {
		t.Errorf("the Vietnamese text: %s", r.Found.VI)
	}
	if strings.Contains(r.Found.EN, "scanner.port") {
		t.Errorf("an unlocked key is reported as ignored: %s", r.Found.EN)
	}
	if err := WriteIgnoredFlags(filepath.Join(data, "new"), IgnoredFlags{Started: started}); err != nil {
		t.Fatal(err)
	}
	if f := ReadIgnoredFlags(filepath.Join(data, "new")); len(f.Keys) != 0 {
		t.Fatalf("the file outlived its last ignored flag: %+v", f)
	}
	wantStatus(t, Locks(&c, ReadIgnoredFlags(filepath.Join(data, "new"))), OK, "Nothing on this PC tries to change them")
}
