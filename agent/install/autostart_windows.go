package install

import (
	"errors"
	"fmt"

	"golang.org/x/sys/windows/registry"
)

// ErrNoAutostart is returned by SetAutostart where the package manager
// owns autostart; never on Windows.
var ErrNoAutostart = errors.New("autostart is set up by the package, not by tiepdon, on this OS")

// runKey is where Windows looks for programs to start at every user's logon.
const runKey = `Software\Microsoft\Windows\CurrentVersion\Run`

// SetAutostart adds or removes the HKLM Run entry that starts exe ("tiepdon
// run") at every user's logon. The MSI calls it through machine-config,
// because wixl cannot attach a condition to a component.
func SetAutostart(enable bool, exe string) error {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, runKey, registry.SET_VALUE|registry.WOW64_64KEY)
	if err != nil {
		return fmt.Errorf("opening HKLM\\%s: %w", runKey, err)
	}
	defer k.Close()
	if enable {
		if err := k.SetStringValue("tiepdon", `"`+exe+`" run`); err != nil {
			return fmt.Errorf("setting the autostart entry: %w", err)
		}
		return nil
	}
	if err := k.DeleteValue("tiepdon"); err != nil && !errors.Is(err, registry.ErrNotExist) {
		return fmt.Errorf("removing the autostart entry: %w", err)
	}
	return nil
}
