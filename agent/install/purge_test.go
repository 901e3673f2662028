package install

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestPlanPurge: REMOVE_DATA=1 also removes a data_dir set in the machine
// config or a user's config, when it holds tiepdon's data; a data_dir that
// is relative, a home folder, missing or holds no tiepdon files is kept and
// said so, and nothing beside the removed folders goes.
func TestPlanPurge(t *testing.T) {
	root := t.TempDir()
	machine := filepath.Join(root, "ProgramData", "tiepdon")
	home := filepath.Join(root, "Users")
	userConf := filepath.Join(".config", "tiepdon")
	if runtime.GOOS == "windows" {
		userConf = filepath.Join("AppData", "Local", "tiepdon")
	}
	custom := filepath.Join(root, "TiepdonData") // machine data_dir, holds a cache
	other := filepath.Join(root, "Shared")       // an's data_dir, holds no tiepdon file
	for _, d := range []string{machine, filepath.Join(custom, "logs"), other, filepath.Join(home, "an", userConf), filepath.Join(home, "binh", userConf)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	q := func(p string) string { return "'" + p + "'" } // TOML literal string: backslashes as they are
	write(filepath.Join(custom, "cache.db"), "x")
	write(filepath.Join(custom, "logs", "tiepdon.log"), "x")
	write(filepath.Join(other, "report.xlsx"), "keep me")
	write(filepath.Join(root, "beside.txt"), "keep me")
	write(filepath.Join(machine, "config.toml"), "data_dir = "+q(custom)+"\n")
	write(filepath.Join(home, "an", userConf, "config.toml"), "data_dir = "+q(other)+"\n")
	write(filepath.Join(home, "binh", userConf, "config.toml"), "data_dir = 'relative\\dir'\nlanguage = 'en'\n")

	p := PlanPurge(machine, home)
	for _, want := range []string{machine, custom, filepath.Join(home, "an", userConf), filepath.Join(home, "binh", userConf)} {
		if !slices.Contains(p.Remove, want) {
			t.Errorf("PlanPurge removes %v, not %s", p.Remove, want)
		}
	}
	if slices.Contains(p.Remove, other) {
		t.Errorf("PlanPurge removes %s, which holds no tiepdon data", other)
	}
	var why []string
	for _, k := range p.Keep {
		why = append(why, k.Dir+": "+k.Why)
	}
	if got := strings.Join(why, "\n"); !strings.Contains(got, other+": data_dir in") || !strings.Contains(got, "holds no tiepdon data") ||
		!strings.Contains(got, "is not an absolute path") {
		t.Errorf("kept, with reasons:\n%s", got)
	}
	if err := RemoveAll(p.Remove); err != nil {
		t.Fatal(err)
	}
	for _, d := range p.Remove {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there: %v", d, err)
		}
	}
	for _, f := range []string{filepath.Join(other, "report.xlsx"), filepath.Join(root, "beside.txt")} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("purge removed %s: %v", f, err)
		}
	}
}
