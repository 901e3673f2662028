package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tiepdon/tiepdon/agent/config"
	"github.com/tiepdon/tiepdon/agent/install"
	"github.com/tiepdon/tiepdon/agent/settings"
)

func init() {
	register(&command{
		name:    "settings-pin",
		summary: "set the IT PIN that unlocks the window's Settings tab (reads the PIN from standard input)",
		run:     runSettingsPIN,
	})
}

const settingsPINSynopsis = `settings-pin [--write] [--file PATH] < pin.txt`

// runSettingsPIN hashes the IT PIN read from standard input (one line) and
// prints the [settings] lines for the machine-wide config file, or writes
// them there with --write (as an administrator). The PIN itself is never
// stored or printed.
func runSettingsPIN(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("settings-pin", settingsPINSynopsis, stderr)
	write := fs.Bool("write", false, "write pin_hash into the machine-wide config file (needs an administrator)")
	file := fs.String("file", config.MachineConfigFile(), "machine-wide config file for --write")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	line, err := bufio.NewReader(osStdin()).ReadString('\n')
	if err != nil && err != io.EOF {
		fmt.Fprintf(stderr, "tiepdon settings-pin: reading the PIN from standard input: %v\n", err)
		return 1
	}
	hash, err := settings.HashPIN(strings.TrimRight(line, "\r\n"))
	if err != nil {
		fmt.Fprintf(stderr, "tiepdon settings-pin: %v\n", err)
		return 2
	}
	if !*write {
		fmt.Fprintf(stdout, "# Put these lines in the machine-wide config file (%s):\n[settings]\npin_hash = %s\n", config.MachineConfigFile(), strconv.Quote(hash))
		return 0
	}
	if _, err := install.WriteMachineConfig(*file, []install.Setting{{Key: "settings.pin_hash", Value: strconv.Quote(hash)}}); err != nil {
		fmt.Fprintf(stderr, "tiepdon settings-pin: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "The IT PIN is set in %s; open windows ask for it from their next start.\n", *file)
	return 0
}
