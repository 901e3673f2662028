// Package pcsctest runs a real pcscd with Debian's vsmartcard vpcd driver
// for tests: Start writes a temporary reader configuration, starts
// `pcscd -f -c DIR` in the foreground, waits until the virtual readers are
// listening and stops pcscd by PID when the test ends.
//
// Only one pcscd can run on a machine, so Start takes an exclusive flock on
// LockPath first: tests of several packages (go test runs them in parallel
// processes) never start two pcscd at once; the second waits.
//
// When pcscd or the vpcd driver is missing, Start fails the test if the CI
// environment variable is set and skips it with a loud message otherwise.
// A virtual card (drivers/virtual.ServeVPCD) connects to Rig.CardAddr.
package pcsctest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/drivers/virtual"
)

// Paths of the Debian packages pcscd and vsmartcard-vpcd.
const (
	PcscdPath = "/usr/sbin/pcscd"
	VPCDPath  = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
	// LockPath serialises pcscd across test processes.
	LockPath = "/tmp/tiepdon-pcscd.lock"
	// SocketPath is where pcscd listens for clients (libpcsclite).
	SocketPath = "/run/pcscd/pcscd.comm"
	pidPath    = "/run/pcscd/pcscd.pid"
)

// DefaultPort is the first vpcd port the rig uses; vpcd opens two readers,
// on DefaultPort and DefaultPort+1. It differs from Debian's 35963 so that
// the rig's readers are recognisably its own.
const DefaultPort = 35990

// ReaderName is the name pcscd gives vpcd's reader number slot.
func ReaderName(slot int) string { return fmt.Sprintf("%s 00 %02d", friendlyName, slot) }

const friendlyName = "Tiepdon Virtual PCD"

// Rig is one running pcscd.
type Rig struct {
	Dir  string // temporary directory: conf/ and pcscd.log
	Port int    // vpcd port of slot 0

	tb      testing.TB
	lock    *os.File
	readers bool // the vpcd readers are configured
	cmd     *exec.Cmd
	done    chan struct{}
	err     error // of cmd.Wait, valid once done is closed
}

// errNotLinux: pcscd and vpcd are Linux-only here.
var errNotLinux = errors.New("the pcscd+vpcd rig runs on Linux only")

// Available reports why the rig cannot run here, or nil if it can.
func Available() error {
	if runtime.GOOS != "linux" {
		return errNotLinux
	}
	for _, p := range []string{PcscdPath, VPCDPath} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s missing (apt-get install pcscd vsmartcard-vpcd): %w", p, err)
		}
	}
	return nil
}

// Start starts pcscd with vpcd readers on DefaultPort and registers its
// stop with tb.Cleanup. It blocks while another test process holds the rig.
func Start(tb testing.TB) *Rig {
	tb.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") != "" && !errors.Is(err, errNotLinux) {
			tb.Fatalf("PC/SC RIG UNAVAILABLE IN CI: %v", err)
		}
		tb.Skipf("SKIPPING PC/SC TEST: %v", err)
	}
	lock, err := os.OpenFile(LockPath, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		tb.Fatalf("pcsc rig: opening lock: %v", err)
	}
	if err := lockFile(lock); err != nil {
		lock.Close()
		tb.Fatalf("pcsc rig: locking %s: %v", LockPath, err)
	}
	r := &Rig{Dir: tb.TempDir(), Port: DefaultPort, tb: tb, lock: lock}
	tb.Cleanup(func() {
		r.Stop()
		unlockFile(r.lock)
		r.lock.Close()
	})
	if pid := livePcscd(); pid != 0 {
		msg := fmt.Sprintf("another pcscd (pid %d) is running and not ours; stop it to run PC/SC tests", pid)
		if os.Getenv("CI") != "" {
			tb.Fatal(msg)
		}
		tb.Skip("SKIPPING PC/SC TEST: " + msg)
	}
	if err := r.configure(true); err != nil {
		tb.Fatal(err)
	}
	if err := r.start(); err != nil {
		tb.Fatalf("pcsc rig: %v", err)
	}
	return r
}

// configure writes the reader configuration: the vpcd readers, or none.
func (r *Rig) configure(readers bool) error {
	conf := filepath.Join(r.Dir, "conf")
	if err := os.MkdirAll(conf, 0o755); err != nil {
		return err
	}
	path := filepath.Join(conf, "vpcd")
	r.readers = readers
	if !readers {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	cfg := fmt.Sprintf("FRIENDLYNAME \"%s\"\nDEVICENAME   /dev/null:%d\nLIBPATH      %s\nCHANNELID    %d\n",
		friendlyName, r.Port, VPCDPath, r.Port)
	return os.WriteFile(path, []byte(cfg), 0o644)
}

// RestartWith restarts pcscd with the vpcd readers (true) or with no
// reader at all (false), as when the only reader is unplugged.
func (r *Rig) RestartWith(readers bool) {
	r.tb.Helper()
	r.Stop()
	if err := r.configure(readers); err != nil {
		r.tb.Fatal(err)
	}
	if err := r.start(); err != nil {
		r.tb.Fatalf("pcsc rig restart: %v", err)
	}
}

// start launches pcscd and waits until it serves clients and vpcd listens.
func (r *Rig) start() error {
	logf, err := os.OpenFile(filepath.Join(r.Dir, "pcscd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(PcscdPath, "-f", "-c", filepath.Join(r.Dir, "conf"))
	if os.Getenv("TIEPDON_PCSCD_DEBUG") != "" {
		cmd.Args = append(cmd.Args, "-d", "-a")
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting pcscd: %w", err)
	}
	r.cmd = cmd
	r.done = make(chan struct{})
	go func() {
		r.err = cmd.Wait()
		logf.Close()
		close(r.done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(SocketPath); err == nil && (!r.readers || listening(r.Port) && listening(r.Port+1)) {
			return nil
		}
		select {
		case <-r.done:
			return fmt.Errorf("pcscd exited at start (%v); log:\n%s", r.err, r.Log())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pcscd not ready after 10 s; log:\n%s", r.Log())
		}
	}
}

// CardAddr is the address a virtual card dials to be inserted in slot
// (0 or 1).
func (r *Rig) CardAddr(slot int) string { return fmt.Sprintf("127.0.0.1:%d", r.Port+slot) }

// Reader is the PC/SC name of slot's reader.
func (r *Rig) Reader(slot int) string { return ReaderName(slot) }

// PID is pcscd's process id, or 0 when it is not running.
func (r *Rig) PID() int {
	if r.cmd == nil || r.cmd.Process == nil {
		return 0
	}
	select {
	case <-r.done:
		return 0
	default:
		return r.cmd.Process.Pid
	}
}

// Log returns what pcscd printed so far.
func (r *Rig) Log() string {
	b, _ := os.ReadFile(filepath.Join(r.Dir, "pcscd.log"))
	return string(b)
}

// Stop stops pcscd with SIGTERM (SIGKILL after 5 s) and waits for it.
func (r *Rig) Stop() { r.signal(syscall.SIGTERM) }

// Kill kills pcscd with SIGKILL, as a crash would, leaving its stale
// socket and pid files behind.
func (r *Rig) Kill() { r.signal(syscall.SIGKILL) }

func (r *Rig) signal(sig syscall.Signal) {
	if r.PID() == 0 {
		return
	}
	_ = r.cmd.Process.Signal(sig)
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

// Restart starts pcscd again after Stop or Kill, with the same readers.
func (r *Rig) Restart() {
	r.tb.Helper()
	r.Stop()
	if err := r.start(); err != nil {
		r.tb.Fatalf("pcsc rig restart: %v", err)
	}
}

// livePcscd returns the pid of a running pcscd from its pid file, or 0.
func livePcscd() int {
	b, err := os.ReadFile(pidPath)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(string(bytes.TrimRight(bytes.TrimSpace(b), "\x00")))
	if err != nil || pid <= 0 {
		return 0
	}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil || bytes.Contains(st, []byte("\nState:\tZ")) {
		return 0
	}
	comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if strings.TrimSpace(string(comm)) != "pcscd" {
		return 0
	}
	return pid
}

// listening reports whether something listens on TCP port, without
// connecting: to vpcd a connection is a card insertion.
func listening(port int) bool { return virtual.VPCDListening(fmt.Sprintf("127.0.0.1:%d", port)) }

// Insert serves card in slot as if tapped on the reader until the test ends
// or remove is called (which first unstalls the card, so that pcscd's reader
// thread is released).
func (r *Rig) Insert(t testing.TB, slot int, card *virtual.Card) (remove func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- virtual.ServeVPCD(ctx, r.CardAddr(slot), card) }()
	var once bool
	remove = func() {
		if once {
			return
		}
		once = true
		card.Unstall()
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("The virtual card did not leave the reader within 5 s of removal; the pcscd rig may be stuck")
		}
	}
	t.Cleanup(remove)
	return remove
}
