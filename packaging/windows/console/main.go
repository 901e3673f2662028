// Command console is tiepdon.com, the command-line face of tiepdon on
// Windows. tiepdon.exe is linked as a GUI program (-H windowsgui) so that the
// window opens without a console; typed in cmd or PowerShell, such a program
// returns at once and its output goes nowhere. Windows runs NAME.COM before
// NAME.EXE when a command is typed without an extension, so this small
// console program, installed as tiepdon.com next to tiepdon.exe, makes
// `tiepdon doctor` work as expected: it runs tiepdon.exe with the same
// arguments, relays its output through pipes (which, unlike the console, a
// GUI program can write to), waits, and exits with its exit code.
//
// It is pure Go (no cgo), about 2 MB instead of a second 32 MB copy of
// tiepdon in the MSI. packaging/package.sh builds it.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// target returns the program this one stands in for: the same name with
// the extension .exe, next to it.
func target() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(self, filepath.Ext(self)) + ".exe", nil
}

func run(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	exe, err := target()
	if err != nil {
		fmt.Fprintf(stderr, "tiepdon: %v\n", err)
		return 1
	}
	cmd := exec.Command(exe, args...)
	// Wrapping the writers makes os/exec use pipes and copy them here.
	cmd.Stdout = struct{ io.Writer }{stdout}
	cmd.Stderr = struct{ io.Writer }{stderr}
	// Piped or redirected input is passed on as is; a console (a character
	// device) is not, since a GUI program cannot read it and a relay would
	// hang on the console after the program ends.
	if fi, err := stdin.Stat(); err == nil && fi.Mode()&os.ModeCharDevice == 0 {
		cmd.Stdin = stdin
	}
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "tiepdon: starting %s: %v\n", exe, err)
		return 1
	}
	// Ctrl+C reaches this console program only: end the program too.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	go func() {
		if _, ok := <-sig; ok {
			cmd.Process.Kill()
		}
	}()
	err = cmd.Wait()
	signal.Stop(sig)
	close(sig)
	var exit *exec.ExitError
	switch {
	case err == nil, errors.Is(err, exec.ErrWaitDelay):
		return cmd.ProcessState.ExitCode()
	case errors.As(err, &exit):
		return exit.ExitCode()
	default:
		fmt.Fprintf(stderr, "tiepdon: %v\n", err)
		return 1
	}
}
