package virtual_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/drivers/virtual"
)

func newScanner(t *testing.T, term *string) *virtual.Scanner {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("SKIPPED: the virtual scanner needs Linux ptys")
	}
	s, err := virtual.NewScanner(virtual.ScannerOptions{Dir: t.TempDir(), Terminator: term})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// readN reads n bytes from the port at path, as the agent would.
func readN(t *testing.T, f *os.File, n int) []byte {
	t.Helper()
	f.SetReadDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, n)
	if _, err := io.ReadFull(f, b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestScannerWritesToItsPath(t *testing.T) {
	crlf := "\r\n"
	s := newScanner(t, &crlf)
	if filepath.Base(s.Path()) != "ttyQR0" {
		t.Errorf("path %s", s.Path())
	}
	port, err := os.OpenFile(s.Path(), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	if err := s.Scan("0111077012|x|$"); err != nil {
		t.Fatal(err)
	}
	if got := readN(t, port, 16); string(got) != "0111077012|x|$\r\n" {
		t.Errorf("read %q", got)
	}
	// Raw mode from the start: no CR to LF translation, no echo.
	s.SetTerminator("\r")
	s.Write([]byte{0xff, 'a'})
	s.Scan("b")
	if got := readN(t, port, 4); !bytes.Equal(got, []byte{0xff, 'a', 'b', '\r'}) {
		t.Errorf("read %q", got)
	}
	if n, err := s.Pending(); n != 0 || err != nil {
		t.Errorf("pending %d %v", n, err)
	}
}

func TestScannerUnplugReplug(t *testing.T) {
	s := newScanner(t, nil)
	before := s.Device()
	port, err := os.OpenFile(s.Path(), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer port.Close()
	if err := s.Unplug(); err != nil {
		t.Fatal(err)
	}
	if err := s.Unplug(); err != nil {
		t.Errorf("second unplug: %v", err)
	}
	if _, err := os.Lstat(s.Path()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("path still there: %v", err)
	}
	if s.Plugged() || s.Device() != "" {
		t.Error("still plugged")
	}
	if err := s.Scan("x"); !errors.Is(err, virtual.ErrUnplugged) {
		t.Errorf("scan: %v", err)
	}
	if _, err := s.Pending(); !errors.Is(err, virtual.ErrUnplugged) {
		t.Errorf("pending: %v", err)
	}
	// The reader's open port is dead: its read ends instead of blocking.
	port.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := port.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read after unplug: %v", err)
	}
	if err := s.Replug(); err != nil {
		t.Fatal(err)
	}
	if !s.Plugged() || s.Device() == "" || before == "" {
		t.Errorf("replugged: %q (was %q)", s.Device(), before)
	}
	again, err := os.OpenFile(s.Path(), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	s.Scan("y")
	if got := readN(t, again, 2); string(got) != "y\r" {
		t.Errorf("read %q", got)
	}
}

func TestScannerPendingCountsUnread(t *testing.T) {
	s := newScanner(t, nil)
	s.Scan("12345")
	deadline := time.Now().Add(10 * time.Second)
	for n, _ := s.Pending(); n != 6; n, _ = s.Pending() {
		if time.Now().After(deadline) {
			t.Fatalf("pending %d, want 6", n)
		}
		runtime.Gosched()
	}
}

func TestScannerNeedsDir(t *testing.T) {
	if _, err := virtual.NewScanner(virtual.ScannerOptions{}); err == nil {
		t.Error("no Dir accepted")
	}
}
