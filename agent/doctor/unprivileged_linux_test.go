package doctor

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// unprivileged runs check=arg in a process that cannot bypass file
// permissions: this process if it is not root, else a copy of the test
// binary run as user nobody.
func unprivileged(t *testing.T, check, arg string, direct func() Result) Result {
	t.Helper()
	if os.Geteuid() != 0 {
		return direct()
	}
	dir := t.TempDir()
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "doctor.test")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestHelperChild$")
	cmd.Env = append(os.Environ(), "DOCTOR_CHILD="+check+"="+arg)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child as nobody: %v\n%s", err, out)
	}
	var r Result
	if err := json.Unmarshal(out[:strings.IndexByte(string(out), '\n')+1], &r); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	return r
}
