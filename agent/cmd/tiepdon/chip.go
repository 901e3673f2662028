package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers"
	"github.com/tiepdon/tiepdon/drivers/cccd"
	"github.com/tiepdon/tiepdon/drivers/chip"
	"github.com/tiepdon/tiepdon/drivers/emrtd"
	"github.com/tiepdon/tiepdon/drivers/virtual"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
)

// chipSource returns the source that reads chip CCCDs on PC/SC readers.
// The key comes from the agent: the last CCCD QR scanned (QR then tap) or,
// in the window, the last 6 digits staff type when asked.
func (s *stack) chipSource() (drivers.Source, error) {
	paths := cscaPaths(s.cfg, "")
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
	return &chip.Source{CSCA: csca, Log: s.log, Reader: s.cfg.Reader.Name, EarlyEmit: true}, nil
}

// crossCheck is the agent's QR/chip comparison (drivers/cccd).
func crossCheck(qr, chipID patient.Identity) (code, message string, disagree bool) {
	msg, ok := cccd.Disagreement(cccd.CrossCheck(qr, chipID))
	return cccd.AlertCode, msg, ok
}

// ProvideCAN implements ui.CANProvider.
func (w *windowActions) ProvideCAN(can string) error { return w.s.agent.ProvideCAN(can) }

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
		s.log.Warn("The demo's virtual chip card could not be made; the demo runs without chip reads", "err", err)
		return
	}
	go func() {
		select {
		case <-ctx.Done():
			return
		case <-time.After(1500 * time.Millisecond):
		}
		if err := virtual.Tap(ctx, virtual.DefaultVPCDAddr, card, 4*time.Second); err != nil && ctx.Err() == nil {
			s.log.Warn("The demo's virtual chip tap failed; scan again, or restart the demo", "err", err)
		}
	}()
}
