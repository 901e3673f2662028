package virtual

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/creack/pty"
)

// ErrUnplugged is returned by Scanner.Scan and Write while the virtual
// scanner is unplugged.
var ErrUnplugged = errors.New("virtual: scanner unplugged")

// ScannerOptions configure a virtual QR scanner.
type ScannerOptions struct {
	// Dir holds the stable symlink to the pty (required): the path the
	// agent opens, the same across Unplug and Replug.
	Dir string
	// Name is the symlink's name in Dir; default "ttyQR0".
	Name string
	// Terminator is written after each Scan; default "\r" (the factory
	// setting of most scanners). "" sends none.
	Terminator *string
}

// Scanner is a virtual serial QR scanner: a real pseudo-terminal pair whose
// slave end the agent opens like a USB CDC scanner (through a stable
// symlink), and whose master end this type writes scans to. Unplug closes
// the pty and removes the link; Replug makes a new pty at the same path.
// It is what demo mode and the serialqr tests scan with. Linux only; on
// other systems NewScanner returns errors.ErrUnsupported.
type Scanner struct {
	path string

	mu     sync.Mutex
	term   string
	master *os.File
	slave  *os.File // kept open so the pty and its raw mode outlive the agent's opens
}

// NewScanner makes a plugged-in virtual scanner.
func NewScanner(o ScannerOptions) (*Scanner, error) {
	if o.Dir == "" {
		return nil, errors.New("virtual: ScannerOptions.Dir is required")
	}
	if o.Name == "" {
		o.Name = "ttyQR0"
	}
	term := "\r"
	if o.Terminator != nil {
		term = *o.Terminator
	}
	s := &Scanner{path: filepath.Join(o.Dir, o.Name), term: term}
	if err := s.Replug(); err != nil {
		return nil, err
	}
	return s, nil
}

// Path returns the stable path the agent should open.
func (s *Scanner) Path() string { return s.path }

// Device returns the pty the path currently points to ("/dev/pts/7"), or
// "" while unplugged.
func (s *Scanner) Device() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.slave == nil {
		return ""
	}
	return s.slave.Name()
}

// SetTerminator changes what is written after each Scan ("\r", "\n",
// "\r\n", or "" for none).
func (s *Scanner) SetTerminator(t string) {
	s.mu.Lock()
	s.term = t
	s.mu.Unlock()
}

// Scan sends payload followed by the terminator in one write, as a scanner
// sends one decoded code.
func (s *Scanner) Scan(payload string) error {
	s.mu.Lock()
	b := make([]byte, 0, len(payload)+len(s.term))
	b = append(append(b, payload...), s.term...)
	s.mu.Unlock()
	_, err := s.Write(b)
	return err
}

// Write sends raw bytes: partial lines, invalid UTF-8, several scans at once.
func (s *Scanner) Write(b []byte) (int, error) {
	s.mu.Lock()
	m := s.master
	s.mu.Unlock()
	if m == nil {
		return 0, ErrUnplugged
	}
	n, err := m.Write(b)
	if err != nil {
		return n, fmt.Errorf("virtual scanner: %w", err)
	}
	return n, nil
}

// Pending returns how many written bytes wait unread at the port: what a
// reader that opens it now would find buffered.
func (s *Scanner) Pending() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.slave == nil {
		return 0, ErrUnplugged
	}
	return inputQueue(s.slave)
}

// Plugged reports whether the scanner is plugged in.
func (s *Scanner) Plugged() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.master != nil
}

// Unplug removes the path and closes the pty, as when a USB scanner is
// pulled out: a reader's next read fails. Unplugging twice is a no-op.
func (s *Scanner) Unplug() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.master == nil {
		return nil
	}
	err := os.Remove(s.path)
	err = errors.Join(err, s.master.Close(), s.slave.Close())
	s.master, s.slave = nil, nil
	if err != nil {
		return fmt.Errorf("virtual scanner unplug: %w", err)
	}
	return nil
}

// Replug makes a new pty and points the path at it, as when the scanner
// is plugged back in. Replugging a plugged scanner is a no-op.
func (s *Scanner) Replug() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.master != nil {
		return nil
	}
	master, slave, err := pty.Open()
	if err != nil {
		return fmt.Errorf("virtual scanner: opening a pty: %w", err)
	}
	if err := makeRaw(slave); err != nil {
		master.Close()
		slave.Close()
		return fmt.Errorf("virtual scanner: raw mode: %w", err)
	}
	// Make the link under a temporary name, then rename it over the path,
	// so a reader never sees a half-made link.
	tmp := s.path + ".new"
	os.Remove(tmp)
	if err := os.Symlink(slave.Name(), tmp); err != nil {
		master.Close()
		slave.Close()
		return fmt.Errorf("virtual scanner: %w", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		master.Close()
		slave.Close()
		os.Remove(tmp)
		return fmt.Errorf("virtual scanner: %w", err)
	}
	s.master, s.slave = master, slave
	return nil
}

// Close unplugs the scanner for good.
func (s *Scanner) Close() error { return s.Unplug() }
