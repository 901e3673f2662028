package install

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// AutostartFile is where machine-config remembers the AUTOSTART choice, in
// the machine config's directory: like the config, it outlives upgrades
// (which remove the old version's Run entry) and goes only with
// REMOVE_DATA=1.
const AutostartFile = "autostart"

// Autostart says whether tiepdon should start at logon. prop is the MSI's
// AUTOSTART (nil when absent or empty): when set it is the answer and is
// remembered in dir; when nil the remembered choice is, so that an upgrade
// run without AUTOSTART=0 keeps autostart off. With neither, autostart is
// on (a fresh install's default).
func Autostart(dir string, prop *bool) (bool, error) {
	path := filepath.Join(dir, AutostartFile)
	if prop != nil {
		v := "0\n"
		if *prop {
			v = "1\n"
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return *prop, err
		}
		if err := os.WriteFile(path, []byte(v), 0o644); err != nil {
			return *prop, fmt.Errorf("remembering AUTOSTART: %w", err)
		}
		return *prop, nil
	}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return true, nil
	case err != nil:
		return true, fmt.Errorf("reading the remembered AUTOSTART: %w", err)
	}
	switch strings.TrimSpace(string(b)) {
	case "0":
		return false, nil
	case "1":
		return true, nil
	}
	return true, fmt.Errorf("%s holds %q, not 1 or 0: autostart stays on", path, strings.TrimSpace(string(b)))
}
