package main

import (
	"errors"
	"os"

	"github.com/tiepdon/tiepdon/drivers"
	"github.com/tiepdon/tiepdon/drivers/serialqr"
	"github.com/tiepdon/tiepdon/drivers/virtual"
)

// scannerSource returns the serial QR scanner source the config asks for,
// or nil if scanning by serial port is off.
func (s *stack) scannerSource() drivers.Source {
	if s.cfg.Scanner.Port == "" {
		return nil
	}
	src, err := serialqr.New(serialqr.Options{
		Path: s.cfg.Scanner.Port, Baud: s.cfg.Scanner.Baud, Logger: s.log,
	})
	if err != nil {
		s.log.Error("The serial QR scanner could not be opened; check the cable and scanner.port (tiepdon doctor lists the ports); keyboard-wedge scans still work", "port", s.cfg.Scanner.Port, "err", err)
		return nil
	}
	return src
}

// newDemoScanner makes the demo's virtual QR scanner: a real pty pair whose
// path the serial driver opens like a USB scanner.
func newDemoScanner(dir string) (demoScanner, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	sc, err := virtual.NewScanner(virtual.ScannerOptions{Dir: dir})
	if errors.Is(err, errors.ErrUnsupported) {
		return nil, errors.New("virtual scanner needs Linux ptys")
	}
	return sc, err
}
