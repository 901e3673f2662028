package install

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for a running agent: with
// TIEPDON_TEST_AGENT=listen it waits for its close event and exits 0, with
// =deaf it ignores installers (an older version) until ended.
func TestMain(m *testing.M) {
	switch os.Getenv("TIEPDON_TEST_AGENT") {
	case "listen":
		c, err := ListenForClose(context.Background())
		if err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString("listening\n")
		select {
		case <-c:
			os.Exit(0)
		case <-time.After(time.Minute):
			os.Exit(4)
		}
	case "deaf":
		os.Stdout.WriteString("listening\n")
		time.Sleep(time.Minute)
		os.Exit(4)
	}
	os.Exit(m.Run())
}

// TestCloseAgents: the installer's CloseAgents finds the processes running
// the program (with their command lines), asks the one that listens to
// close, which exits cleanly, and ends the one that does not.
func TestCloseAgents(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	start := func(mode string) *exec.Cmd {
		cmd := exec.Command(exe, "run", "--mode", mode)
		cmd.Env = append(os.Environ(), "TIEPDON_TEST_AGENT="+mode)
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 10)
		if n, _ := out.Read(buf); string(buf[:n]) != "listening\n" {
			t.Fatalf("%s agent did not start: %q", mode, buf[:n])
		}
		return cmd
	}
	listen, deaf := start("listen"), start("deaf")
	list, err := RunningAgents(exe)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("RunningAgents found %+v, want the 2 started", list)
	}
	for _, a := range list {
		if !a.Run() || !slices.Contains(a.Args, "--mode") {
			t.Errorf("agent %d: args %q, want its command line (run --mode …)", a.PID, a.Args)
		}
	}
	closed, ended := CloseAgents(list, 20*time.Second)
	if closed != 1 || ended != 1 {
		t.Errorf("CloseAgents: %d closed, %d ended; want 1 and 1", closed, ended)
	}
	if err := listen.Wait(); err != nil {
		t.Errorf("the listening agent did not exit cleanly: %v", err)
	}
	if err := deaf.Wait(); err == nil {
		t.Error("the deaf agent exited 0: it should have been ended")
	}
}
