// Command validate is run by the MSI before anything is removed or changed
// (an immediate custom action from the MSI's Binary table, sequenced before
// RemoveExistingProducts): it checks the public properties the way
// "tiepdon machine-config" will apply them, so that a bad value refuses the
// install while the installed version is still in place. The reason goes to
// stderr, to %ProgramData%\tiepdon-install.log (which exists even on a first
// install), to the Windows Application event log (source "tiepdon") and,
// through the exit code, to the msiexec /l*v log.
//
// The same program, from the same Binary table, closes the running agents
// before the install replaces their files ("close-agents") and starts them
// again once the new files are in place ("restart-agents").
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tiepdon/tiepdon/agent/install"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "close-agents", "restart-agents":
			// Around the install: close the running agents before their
			// files are replaced, start them again after (agents_windows.go).
			os.Exit(agents(os.Args[1], os.Args[2:]))
		}
	}
	if err := validate(os.Args[1:]); err != nil {
		msg := "tiepdon: cài đặt bị từ chối, bản đang cài được giữ nguyên: " + err.Error() +
			" / tiepdon: install refused, the installed version is kept: " + err.Error()
		fmt.Fprintln(os.Stderr, msg)
		if pd := os.Getenv("ProgramData"); pd != "" {
			install.AppendLog(filepath.Join(pd, "tiepdon-install.log"), time.Now(), msg)
		}
		install.ReportError(msg) // Windows Application log, source "tiepdon"
		os.Exit(1)
	}
}

// validate applies the properties to an empty machine config in a temporary
// folder: the same checks as the install's WriteMachineConfig.
func validate(args []string) error {
	var props []string
	for _, a := range args {
		if name, val, _ := strings.Cut(a, "="); name != "" && val != "" {
			props = append(props, a)
		}
	}
	sets, _, err := install.FromProperties(props)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "tiepdon-validate")
	if err != nil {
		return nil // nowhere to try: machine-config checks again later
	}
	defer os.RemoveAll(dir)
	_, err = install.WriteMachineConfig(filepath.Join(dir, "config.toml"), sets)
	return err
}
