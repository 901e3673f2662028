package install

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// PurgePlan is what "tiepdon purge-data" (MSI: REMOVE_DATA=1) removes and
// what it leaves in place, with the reason.
type PurgePlan struct {
	Remove []string
	Keep   []Kept
}

// Kept is a configured data folder purge-data leaves, and why.
type Kept struct{ Dir, Why string }

// dataMarkers are files only a tiepdon data folder holds: a configured
// data_dir is removed only if it holds one of them, so that a mistyped
// data_dir (a drive, a shared folder) never takes other files with it.
var dataMarkers = []string{"cache.db", "his-tokens.db", "receipt-key", "cache.db.key", filepath.Join("logs", "tiepdon.log"), "demo"}

// PlanPurge lists the folders to remove: those of DataDirs, and every
// data_dir set in the machine config (machineDir/config.toml) or in a
// user's config file, when it is an absolute path to a folder holding
// tiepdon's data and is not a drive root, a home folder or the users'
// folder itself.
func PlanPurge(machineDir, home string) PurgePlan {
	p := PurgePlan{Remove: DataDirs(machineDir, home)}
	files := []string{filepath.Join(machineDir, "config.toml")}
	users, _ := os.ReadDir(home)
	userConf := filepath.Join(".config", "tiepdon", "config.toml")
	if filepath.Separator == '\\' {
		userConf = filepath.Join("AppData", "Local", "tiepdon", "config.toml")
	}
	for _, u := range users {
		if u.IsDir() {
			files = append(files, filepath.Join(home, u.Name(), userConf))
		}
	}
	for _, f := range files {
		var c struct {
			DataDir string `toml:"data_dir"`
		}
		if _, err := toml.DecodeFile(f, &c); err != nil || c.DataDir == "" {
			continue
		}
		d := filepath.Clean(c.DataDir)
		if slices.ContainsFunc(p.Remove, func(r string) bool { return strings.EqualFold(r, d) }) {
			continue
		}
		if why := notDataDir(d, home); why != "" {
			p.Keep = append(p.Keep, Kept{Dir: c.DataDir, Why: fmt.Sprintf("data_dir in %s %s", f, why)})
			continue
		}
		p.Remove = append(p.Remove, d)
	}
	return p
}

// notDataDir says why d must not be removed as a data folder, or "".
func notDataDir(d, home string) string {
	switch {
	case !filepath.IsAbs(d):
		return "is not an absolute path"
	case filepath.Dir(d) == d || strings.EqualFold(d, filepath.Clean(home)) || strings.EqualFold(filepath.Dir(d), filepath.Clean(home)):
		return "is a drive, the users' folder or a home folder"
	}
	if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
		return "does not exist"
	}
	for _, m := range dataMarkers {
		if _, err := os.Stat(filepath.Join(d, m)); err == nil {
			return ""
		}
	}
	return "holds no tiepdon data (cache.db, his-tokens.db, receipt-key, logs)"
}

// RemoveAll removes each directory and returns the errors joined; a
// missing directory is not an error.
func RemoveAll(dirs []string) error {
	var errs []error
	for _, d := range dirs {
		err := os.RemoveAll(d)
		if err != nil {
			// Where the file system refuses the call Go deletes with
			// (see removeTree), delete file by file the older way.
			err = removeTree(d, err)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("removing %s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}
