package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/drivers"
	"github.com/tiepdon/tiepdon/drivers/cccd"
	"github.com/tiepdon/tiepdon/drivers/emrtd"
	"github.com/tiepdon/tiepdon/drivers/pcsc"
	"github.com/tiepdon/tiepdon/drivers/virtual"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
	"github.com/tiepdon/tiepdon/ui"
)

// chipSource returns the source that reads chip CCCDs on PC/SC readers.
// The key comes from the last CCCD QR scanned (QR then tap) or, in the
// window, from the last 6 digits staff type when asked.
func (s *stack) chipSource(window bool) (drivers.Source, error) {
	paths := append([]string(nil), s.cfg.Reader.CSCA...)
	if s.demo {
		pki, err := virtual.NewPKI()
		if err != nil {
			return nil, fmt.Errorf("demo document signer: %w", err)
		}
		f := filepath.Join(s.cfg.DataDir, "demo-csca.pem")
		if err := pki.WriteCSCA(f); err != nil {
			return nil, err
		}
		s.demoPKI = pki
		paths = append(paths, f)
	}
	var csca *emrtd.CSCAStore
	if len(paths) > 0 {
		var err error
		if csca, err = emrtd.LoadCSCAStore(paths...); err != nil {
			return nil, fmt.Errorf("loading CSCA certificates: %w", err)
		}
	}
	recent := &pcsc.RecentID{Window: 2 * time.Minute, WaitForQR: time.Minute}
	if window {
		s.can = make(chan string, 1)
		recent.Ask = s.askCAN
	}
	s.runs = append(s.runs, func(ctx context.Context) error { return recent.Follow(ctx, s.bus) })
	return &pcsc.ChipSource{Bus: s.bus, Keys: recent, CSCA: csca, Log: s.log, Reader: s.cfg.Reader.Name, EarlyEmit: true}, nil
}

// askCAN asks staff, through the window, for the last 6 digits of the
// citizen ID of a chip tapped without its QR.
func (s *stack) askCAN(ctx context.Context, reader string) (string, error) {
	select { // drop digits typed for an earlier card
	case <-s.can:
	default:
	}
	s.bus.Publish(events.Alert, events.AlertData{Code: ui.AlertCANRequired,
		Message: "Nhập 6 số cuối của số CCCD để đọc chip · Type the last 6 digits of the citizen ID to read the chip"})
	select {
	case can := <-s.can:
		return can, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// ProvideCAN implements ui.CANProvider.
func (w *windowActions) ProvideCAN(can string) error {
	if !cccd.ValidCAN(can) {
		return fmt.Errorf("need the last 6 digits of the citizen ID")
	}
	if w.s.can == nil {
		return fmt.Errorf("no chip reader is in use")
	}
	select {
	case w.s.can <- can:
	default:
	}
	return nil
}

// demoTap presents the chip CCCD of a synthetic person to the vpcd reader,
// as the patient tapping the card right after showing its QR. It does
// nothing unless a pcscd with vsmartcard's vpcd reader is running.
func (s *stack) demoTap(ctx context.Context, p bhxhsim.Person) {
	if s.demoPKI == nil || !p.BirthDate.Full() || !virtual.VPCDListening(virtual.DefaultVPCDAddr) {
		return
	}
	prof := virtual.Synthetic(p.Index)
	prof.CitizenID, prof.OldID, prof.Name, prof.BirthDate = p.CitizenID, p.OldID, p.Name, p.BirthDate
	prof.Sex, prof.Address, prof.IssueDate = p.Sex, p.Address, p.IssueDate
	if exp, ok := cccd.ExpiryFor(p.BirthDate, p.IssueDate); ok {
		prof.ExpiryDate = exp
	}
	prof.Options.PKI = s.demoPKI
	card, err := virtual.NewCard(prof)
	if err != nil {
		s.log.Warn("demo chip card", "err", err)
		return
	}
	go func() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(1500 * time.Millisecond):
		}
		if err := virtual.Tap(ctx, virtual.DefaultVPCDAddr, card, 4*time.Second); err != nil && ctx.Err() == nil {
			s.log.Warn("demo chip tap", "err", err)
		}
	}()
}
