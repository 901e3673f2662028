package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/tiepdon/tiepdon/agent/config"
	"github.com/tiepdon/tiepdon/agent/install"
)

func init() {
	register(&command{
		name:    "machine-config",
		summary: "set keys of the machine-wide config from installer properties (NAME=value ...)",
		run:     runMachineConfig,
	})
	register(&command{
		name:    "purge-data",
		summary: "remove tiepdon's config, cache, keys and logs for every user (uninstall with REMOVE_DATA=1)",
		run:     runPurgeData,
	})
}

// runMachineConfig is what the MSI runs after copying the files (a
// deferred custom action, as SYSTEM): tiepdon.exe machine-config
// "GATEWAY_URL=[GATEWAY_URL]" ... Empty values keep what the file says.
func runMachineConfig(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("machine-config", "machine-config [--file PATH] NAME=value ...", stderr)
	file := fs.String("file", config.MachineConfigFile(), "config file to edit")
	uninstall := fs.Bool("uninstall", false, "only remove the autostart entry (the MSI's uninstall step)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: tiepdon machine-config [--file PATH] NAME=value ...\n\n")
		fmt.Fprintf(stderr, "Sets keys of the machine-wide config (%s), keeping comments and\nother settings. Empty values are ignored. Properties:\n\n", config.MachineConfigFile())
		for _, p := range install.Properties {
			fmt.Fprintf(stderr, "  %-14s %-18s %s\n", p.Name, p.Key, p.Doc)
		}
		fmt.Fprintf(stderr, "  %-14s %-18s %s\n", "AUTOSTART", "(Windows: HKLM Run)", "1: start tiepdon at every user's logon, 0: do not")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	logf := func(format string, a ...any) {
		line := fmt.Sprintf(format, a...)
		fmt.Fprintln(stderr, "tiepdon machine-config: "+line)
		// The MSI shows no output: keep a trace next to the file.
		install.AppendLog(filepath.Join(filepath.Dir(*file), "install.log"), time.Now(), "machine-config: "+line)
	}
	if *uninstall {
		if err := install.SetAutostart(false, ""); err != nil {
			logf("%v", err)
		}
		return 0
	}
	// A refusal fails the install: say why where IT looks (Windows:
	// the Application event log too).
	refuse := func(err error) {
		logf("%v", err)
		install.ReportError("tiepdon machine-config: cài đặt bị từ chối / install refused: " + err.Error())
	}
	sets, autostart, err := install.FromProperties(fs.Args())
	if err != nil {
		refuse(err)
		return 2
	}
	changed, err := install.WriteMachineConfig(*file, sets)
	if err != nil {
		refuse(err)
		return 1
	}
	keys := make([]string, len(sets))
	for i, s := range sets {
		keys[i] = s.Key
	}
	if changed {
		logf("wrote %s (%s)", *file, strings.Join(keys, ", "))
	} else {
		logf("%s unchanged", *file)
	}
	if runtime.GOOS != "windows" { // the package owns autostart
		if autostart != nil {
			logf("AUTOSTART ignored: %v", install.ErrNoAutostart)
		}
		return 0
	}
	// The MSI passes AUTOSTART=[AUTOSTART], empty unless given: then the
	// choice remembered from an earlier install stands.
	enable, err := install.Autostart(filepath.Dir(*file), autostart)
	if err != nil {
		logf("%v", err) // the answer is still usable: a damaged memory means "on"
	}
	exe, err := os.Executable()
	if err == nil {
		err = install.SetAutostart(enable, exe)
	}
	if err != nil {
		logf("%v", err)
		return 1
	}
	logf("autostart %v", enable)
	return 0
}

// runPurgeData removes the machine config directory and every user's data
// and config directories. The MSI runs it on uninstall with REMOVE_DATA=1
// (never on upgrades); on Linux an administrator runs it by hand.
func runPurgeData(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("purge-data", "purge-data --yes [--home DIR]", stderr)
	yes := fs.Bool("yes", false, "really remove (without it, only list what would go)")
	home := fs.String("home", defaultHomes(), "directory holding the users' home directories")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	machineDir := filepath.Dir(config.MachineConfigFile())
	plan := install.PlanPurge(machineDir, *home)
	if !*yes {
		fmt.Fprintln(stdout, "Would remove (run again with --yes):")
		for _, d := range plan.Remove {
			fmt.Fprintln(stdout, "  "+d)
		}
		for _, k := range plan.Keep {
			fmt.Fprintf(stdout, "Would keep %s: %s\n", k.Dir, k.Why)
		}
		return 0
	}
	// What was removed and kept, and why, goes where IT looks after an
	// uninstall (Windows: %ProgramData%\tiepdon-install.log, outside the
	// folders removed here).
	logf := func(format string, a ...any) {
		line := fmt.Sprintf("purge-data: "+format, a...)
		fmt.Fprintln(stdout, line)
		if runtime.GOOS == "windows" {
			install.AppendLog(filepath.Join(filepath.Dir(machineDir), "tiepdon-install.log"), time.Now(), line)
		}
	}
	for _, k := range plan.Keep {
		logf("kept %s: %s", k.Dir, k.Why)
	}
	err := install.RemoveAll(plan.Remove)
	for _, d := range plan.Remove {
		if _, serr := os.Stat(d); os.IsNotExist(serr) {
			logf("removed %s", d)
		}
	}
	if err != nil {
		logf("%v", err)
		fmt.Fprintf(stderr, "tiepdon purge-data: %v\n", err)
		return 1
	}
	return 0
}

func defaultHomes() string {
	if runtime.GOOS == "windows" {
		if p := os.Getenv("PUBLIC"); p != "" {
			return filepath.Dir(p) // C:\Users\Public -> C:\Users
		}
		return `C:\Users`
	}
	return "/home"
}
