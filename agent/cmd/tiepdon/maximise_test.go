//go:build linux && !wayland

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent/hisapi"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
)

// TestMain runs the agent itself, window and all, when
// TIEPDON_WINDOW_ARGS is set: the window must run on the main goroutine,
// which only TestMain has.
func TestMain(m *testing.M) {
	if raw := os.Getenv("TIEPDON_WINDOW_ARGS"); raw != "" {
		var args []string
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		code := dispatch(ctx, args, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// TestWindowOpensMaximised: the real window under Xvfb, on a 1366×768
// screen whose work area leaves 40 px for a taskbar (_NET_WORKAREA, as a
// desktop panel sets it) and with no window manager to maximise it, opens
// filling the work area exactly. (With a window manager that supports
// _NET_WM_STATE_MAXIMIZED_*, the window manager maximises it instead.)
func TestWindowOpensMaximised(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
	need := map[string]string{"Xvfb": "xvfb", "xprop": "x11-utils", "xwininfo": "x11-utils", "xdotool": "xdotool"}
	for tool, pkg := range need {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is needed for this test in CI (Debian package %s)", tool, pkg)
			}
			t.Skipf("SKIPPED LOUDLY: no %s on this machine", tool)
		}
	}
	display := fmt.Sprintf(":%d", 250+rand.IntN(200))
	x := exec.Command("Xvfb", display, "-screen", "0", "1366x768x24", "-nolisten", "tcp", "-noreset") // -noreset: root properties outlive xprop
	if err := x.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Process.Kill(); x.Wait() })
	waitFor(t, 10*time.Second, func() bool {
		_, err := os.Stat("/tmp/.X11-unix/X" + strings.TrimPrefix(display, ":"))
		return err == nil
	}, func() string { return "Xvfb did not start" })
	if out, err := exec.Command("xprop", "-display", display, "-root", "-f", "_NET_WORKAREA", "32c",
		"-set", "_NET_WORKAREA", "0, 0, 1366, 728").CombinedOutput(); err != nil {
		t.Fatalf("xprop: %v %s", err, out)
	}

	r := newAgentRig(t, bhxhsim.Options{Seed: 46}, "s3cret", "", hisapi.ScopeEligibility)
	var args []string
	for _, a := range r.args() {
		if a != "--headless" {
			args = append(args, a)
		}
	}
	raw, _ := json.Marshal(args)
	p := &agentProcess{cmd: exec.Command(os.Args[0], "-test.run=^$"), log: &lockedBuffer{}}
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	p.cmd.Env = append(os.Environ(), "TIEPDON_WINDOW_ARGS="+string(raw), "DISPLAY="+display, "WAYLAND_DISPLAY=")
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.stop(t) })
	r.waitReady(p.log.String)
	waitFor(t, 30*time.Second, func() bool { return strings.Contains(p.log.String(), "window opened") },
		func() string { return "the window did not open:\n" + tail(p.log.String(), 30) })
	if !strings.Contains(p.log.String(), "sized to the work area") {
		t.Errorf("the window was not sized to the work area:\n%s", tail(p.log.String(), 10))
	}
	geometry := func() string {
		id, err := exec.Command("xdotool", "search", "--name", "tiepdon").Output()
		if err != nil {
			return ""
		}
		ids := strings.Fields(string(id))
		if len(ids) == 0 {
			return ""
		}
		out, _ := exec.Command("xwininfo", "-id", ids[0]).Output()
		var g []string
		for _, k := range []string{"Absolute upper-left X", "Absolute upper-left Y", "Width", "Height"} {
			m := regexp.MustCompile(`(?m)^\s*` + k + `:\s*(\d+)`).FindStringSubmatch(string(out))
			if m == nil {
				return ""
			}
			g = append(g, m[1])
		}
		return strings.Join(g, " ")
	}
	t.Setenv("DISPLAY", display)
	const want = "0 0 1366 728"
	got := ""
	waitFor(t, 10*time.Second, func() bool { got = geometry(); return got == want },
		func() string { return fmt.Sprintf("window at x y width height %q, want %q", got, want) })
}
