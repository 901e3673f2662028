// Package serialqr reads QR scanners attached as serial ports (USB CDC,
// USB-serial adapters, RS-232) with go.bug.st/serial, and yields each
// scanned line as a drivers.Presentation.
//
// A Source opens one configured port, or picks a known scanner among the
// machine's USB serial ports. It drops whatever the port buffered before it
// was opened (stale scans), cuts the byte stream into lines on CR, LF or
// CRLF or after a quiet gap for scanners that send no terminator, bounds
// the line length, and reports lines that are not UTF-8 instead of passing
// them on. When the port goes away (unplugged) it reports so to its
// drivers.Reporter and opens it again when it comes back, without a restart.
//
// Classifying and parsing the line is drivers/payload's job.
package serialqr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"go.bug.st/serial"

	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers"
)

// Parity is a serial parity setting as written in the configuration file.
type Parity string

// Parities. The zero value is None.
const (
	ParityNone  Parity = "none"
	ParityOdd   Parity = "odd"
	ParityEven  Parity = "even"
	ParityMark  Parity = "mark"
	ParitySpace Parity = "space"
)

func (p Parity) serial() (serial.Parity, error) {
	switch Parity(strings.ToLower(string(p))) {
	case "", ParityNone:
		return serial.NoParity, nil
	case ParityOdd:
		return serial.OddParity, nil
	case ParityEven:
		return serial.EvenParity, nil
	case ParityMark:
		return serial.MarkParity, nil
	case ParitySpace:
		return serial.SpaceParity, nil
	}
	return 0, fmt.Errorf("serialqr: parity %q: want none, odd, even, mark or space", string(p))
}

// Auto is the Path that picks a scanner among the machine's ports.
const Auto = "auto"

// Options configure a Source. Zero values take the defaults shown.
type Options struct {
	// Path is the port to open ("/dev/ttyACM0", "COM3", a symlink such as
	// /dev/serial/by-id/…); "" or "auto" picks one with Enumerator and Match.
	Path     string
	Baud     int    // default 9600 (USB CDC scanners ignore it)
	DataBits int    // default 8
	StopBits int    // 1 (default) or 2
	Parity   Parity // default none

	Terminator Terminator // default Any (CR, LF or CRLF)
	// InterByteTimeout ends a line after this long without a byte, for
	// scanners that send no terminator. Default 0 (off), or 50 ms when
	// Terminator is None.
	InterByteTimeout time.Duration
	MaxLine          int // longest line accepted, in bytes; default 4096

	// Settle is how long input is discarded after the port opens, on top
	// of dropping what the OS buffered: scans a scanner held while nobody
	// listened. Default 100 ms; negative for none.
	Settle time.Duration
	// Retry is how often a missing port is looked for. Default 500 ms.
	Retry time.Duration
	// Repeat drops a line identical to the previous one that arrives
	// within this time: scanners in continuous mode read the same code
	// again and again while it is held under them. Default 0 (off).
	Repeat time.Duration

	Enumerator Enumerator          // for auto mode; default System{}
	Match      func(PortInfo) bool // for auto mode; default KnownScanner
	Logger     *slog.Logger        // default slog.Default()
	Now        func() time.Time    // default time.Now
}

// Errors.
var (
	// ErrNoScanner is the detail of the missing state in auto mode when
	// no port looks like a scanner.
	ErrNoScanner = errors.New("no QR scanner found among the serial ports")
)

// Stats counts what a Source has seen since it was made.
type Stats struct {
	Lines   uint64 // lines passed on
	Stale   uint64 // bytes dropped as stale at open
	Invalid uint64 // lines dropped: not UTF-8
	TooLong uint64 // lines dropped: longer than MaxLine
	Repeats uint64 // lines dropped: same as the previous one within Repeat
	Opens   uint64 // successful opens (1 + reconnections)
}

// Source is a drivers.Source for one serial QR scanner.
type Source struct {
	o     Options
	mode  *serial.Mode
	log   *slog.Logger
	state drivers.Device // last reported

	lines, stale, invalid, tooLong, repeats, opens atomic.Uint64
}

// New returns a source for o. It checks the options but opens nothing:
// that happens in Run.
func New(o Options) (*Source, error) {
	if o.Baud == 0 {
		o.Baud = 9600
	}
	if o.DataBits == 0 {
		o.DataBits = 8
	}
	if o.MaxLine <= 0 {
		o.MaxLine = 4096
	}
	if o.InterByteTimeout == 0 && o.Terminator == None {
		o.InterByteTimeout = 50 * time.Millisecond
	}
	if o.Settle == 0 {
		o.Settle = 100 * time.Millisecond
	}
	if o.Retry <= 0 {
		o.Retry = 500 * time.Millisecond
	}
	if o.Enumerator == nil {
		o.Enumerator = System{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Terminator < Any || o.Terminator > None {
		return nil, fmt.Errorf("serialqr: unknown terminator %d", o.Terminator)
	}
	if o.Baud < 0 || o.InterByteTimeout < 0 {
		return nil, errors.New("serialqr: negative baud rate or timeout")
	}
	parity, err := o.Parity.serial()
	if err != nil {
		return nil, err
	}
	stop := serial.OneStopBit
	switch o.StopBits {
	case 0, 1:
	case 2:
		stop = serial.TwoStopBits
	default:
		return nil, fmt.Errorf("serialqr: %d stop bits: want 1 or 2", o.StopBits)
	}
	// Never set InitialStatusBits: on ptys and some CDC devices the
	// modem-bit ioctls fail and Open would fail with them.
	mode := &serial.Mode{BaudRate: o.Baud, DataBits: o.DataBits, Parity: parity, StopBits: stop}
	return &Source{o: o, mode: mode, log: o.Logger.With("device", "scanner")}, nil
}

// Stats returns the source's counters.
func (s *Source) Stats() Stats {
	return Stats{Lines: s.lines.Load(), Stale: s.stale.Load(), Invalid: s.invalid.Load(),
		TooLong: s.tooLong.Load(), Repeats: s.repeats.Load(), Opens: s.opens.Load()}
}

// Run reads the scanner until ctx ends, presenting each line to r and
// reporting the port's state and the lines it drops. It keeps looking for
// the port while it is missing and returns nil when ctx is cancelled. Run
// must not be called twice at once.
func (s *Source) Run(ctx context.Context, r drivers.Reporter) error {
	for {
		if ctx.Err() != nil {
			return nil
		}
		path, desc, err := s.locate()
		if err != nil {
			s.report(r, drivers.DeviceMissing, s.name(path), err.Error())
			if !s.wait(ctx) {
				return nil
			}
			continue
		}
		port, err := serial.Open(path, s.mode)
		if err != nil {
			state, detail := drivers.DeviceMissing, "not connected"
			var pe *serial.PortError
			if errors.As(err, &pe) && (pe.Code() == serial.PermissionDenied || pe.Code() == serial.PortBusy) {
				state, detail = drivers.DeviceError, pe.EncodedErrorString()
				if pe.Code() == serial.PermissionDenied && runtime.GOOS == "linux" {
					detail += ": add the user to the dialout group"
				}
			}
			if s.state.State != state {
				s.log.Info("scanner port unavailable", "port", path, "err", err)
			}
			s.report(r, state, path, detail)
			if !s.wait(ctx) {
				return nil
			}
			continue
		}
		s.opens.Add(1)
		err = s.serve(ctx, port, path, desc, r)
		port.Close()
		if ctx.Err() != nil {
			return nil
		}
		s.log.Info("scanner port lost", "port", path, "err", err)
		s.report(r, drivers.DeviceMissing, path, "unplugged: waiting for it to come back")
		// Wait before reopening, so a port that opens but fails at once
		// is not retried in a busy loop.
		if !s.wait(ctx) {
			return nil
		}
	}
}

// name is the device name shown while no port is open.
func (s *Source) name(path string) string {
	if path != "" {
		return path
	}
	if s.o.Path != "" {
		return s.o.Path
	}
	return Auto
}

// locate returns the port to open and a description of it.
func (s *Source) locate() (path, desc string, err error) {
	if s.o.Path != "" && s.o.Path != Auto {
		return s.o.Path, s.o.Path, nil
	}
	ports, err := s.o.Enumerator.Ports()
	if err != nil {
		return "", "", err
	}
	p, ok := Pick(ports, s.o.Match)
	if !ok {
		return "", "", ErrNoScanner
	}
	return p.Path, p.String(), nil
}

// wait sleeps for the retry interval; it reports false if ctx ended.
func (s *Source) wait(ctx context.Context) bool {
	t := time.NewTimer(s.o.Retry)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// report reports the device state if it changed.
func (s *Source) report(r drivers.Reporter, state drivers.DeviceState, name, detail string) {
	d := drivers.Device{Kind: drivers.Scanner, Name: name, State: state, Detail: detail}
	if d == s.state {
		return
	}
	s.state = d
	r.Device(d)
}

// fail reports a line that is not passed on. detail must hold no scanned
// data: it is logged and shown.
func (s *Source) fail(r drivers.Reporter, path, code, detail string) {
	s.log.Warn("A scan was dropped (see reason); staff are asked to scan again", "port", path, "reason", detail)
	r.Failed(drivers.Failure{Medium: patient.MediumQR, Device: path, Code: code, Detail: detail})
}

// serve reads one open port until it fails or ctx ends.
func (s *Source) serve(ctx context.Context, port serial.Port, path, desc string, r drivers.Reporter) error {
	stop := context.AfterFunc(ctx, func() { port.Close() })
	defer stop()

	// Stale input: what the OS buffered while nobody read, then whatever
	// still arrives during the settle time.
	if err := port.ResetInputBuffer(); err != nil {
		return fmt.Errorf("flushing input: %w", err)
	}
	buf := make([]byte, 4096)
	if s.o.Settle > 0 {
		deadline := s.o.Now().Add(s.o.Settle)
		for {
			left := deadline.Sub(s.o.Now())
			if left <= 0 {
				break
			}
			if err := port.SetReadTimeout(left); err != nil {
				return fmt.Errorf("setting read timeout: %w", err)
			}
			n, err := port.Read(buf)
			s.stale.Add(uint64(n))
			if err != nil {
				return fmt.Errorf("reading: %w", err)
			}
		}
	}
	s.report(r, drivers.DeviceReady, path, desc)

	var at, lastAt time.Time
	var last []byte
	f := framer{term: s.o.Terminator, max: s.o.MaxLine, line: func(b []byte, tooLong bool) {
		switch {
		case tooLong:
			s.tooLong.Add(1)
			s.fail(r, path, drivers.FailureScanTooLong, fmt.Sprintf("scan longer than %d bytes: check the scanner's line ending setting", s.o.MaxLine))
		case !utf8.Valid(b):
			s.invalid.Add(1)
			s.fail(r, path, drivers.FailureScanNotUTF8, "scan is not UTF-8 text: set the scanner's character set to UTF-8")
		case s.o.Repeat > 0 && bytes.Equal(b, last) && at.Sub(lastAt) < s.o.Repeat:
			s.repeats.Add(1)
			lastAt = at
		default:
			s.lines.Add(1)
			p := append([]byte(nil), b...)
			last, lastAt = p, at
			r.Present(drivers.Presentation{Medium: patient.MediumQR, Device: path, At: at, Payload: p})
		}
	}}
	timeout := time.Duration(-2) // not yet set
	for {
		want := serial.NoTimeout
		if s.o.InterByteTimeout > 0 && f.pending() {
			want = max(at.Add(s.o.InterByteTimeout).Sub(s.o.Now()), time.Millisecond)
		}
		if want != timeout || want != serial.NoTimeout {
			if err := port.SetReadTimeout(want); err != nil {
				return fmt.Errorf("setting read timeout: %w", err)
			}
			timeout = want
		}
		n, err := port.Read(buf)
		if n > 0 {
			at = s.o.Now()
			f.feed(buf[:n])
		}
		if err != nil {
			if f.pending() {
				s.fail(r, path, drivers.FailureScanCutOff, "scan cut off when the scanner was disconnected")
			}
			return fmt.Errorf("reading: %w", err)
		}
		if n == 0 && f.pending() && !s.o.Now().Before(at.Add(s.o.InterByteTimeout)) {
			f.end() // quiet gap: the line is complete
		}
	}
}
