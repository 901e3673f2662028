package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestRelay builds this program as dir/tiepdon.com next to a stand-in
// dir/tiepdon.exe (a shell script here), runs it the way a user would, and
// checks arguments, input, output and exit code pass through.
func TestRelay(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in tiepdon.exe is a shell script")
	}
	dir := t.TempDir()
	com := filepath.Join(dir, "tiepdon.com")
	build := exec.Command("go", "build", "-o", com, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	script := "#!/bin/sh\necho \"args: $*\"\necho \"stdin: $(cat)\"\necho 'to stderr' >&2\nexit 3\n"
	if err := os.WriteFile(filepath.Join(dir, "tiepdon.exe"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(com, "doctor", "--lang", "en")
	cmd.Stdin = strings.NewReader("payload")
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 3 {
		t.Fatalf("exit: %v (stderr %q)", err, errb.String())
	}
	if out.String() != "args: doctor --lang en\nstdin: payload\n" || errb.String() != "to stderr\n" {
		t.Errorf("stdout %q, stderr %q", out.String(), errb.String())
	}

	// Without the program beside it, it says so.
	os.Remove(filepath.Join(dir, "tiepdon.exe"))
	cmd = exec.Command(com, "version")
	errb.Reset()
	cmd.Stderr = &errb
	if err := cmd.Run(); err == nil || !strings.Contains(errb.String(), "tiepdon.exe") {
		t.Errorf("missing tiepdon.exe: %v, %q", err, errb.String())
	}
}
