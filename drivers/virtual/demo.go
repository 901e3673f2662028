package virtual

import (
	"fmt"

	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers/cccd"
)

// QR returns the payload of the QR code printed on p's CCCD:
// ID|old ID|name|ddMMyyyy|Nam/Nữ|address|issue ddMMyyyy. Demo mode has the
// virtual scanner send it before the card is tapped (QR-then-tap).
func (p Profile) QR() string {
	return cccd.QRPayload(patient.Identity{CitizenID: p.CitizenID, OldID: p.OldID, Name: p.Name,
		BirthDate: p.BirthDate, Sex: p.Sex, Address: p.Address, IssueDate: p.IssueDate})
}

// DemoCard makes demo mode's virtual CCCD: Synthetic(n) with a fresh test
// PKI. If cscaPath is not empty the PKI's CSCA certificate is written
// there (PEM) so that the agent's CSCA store can trust the card: its reads
// then show "verified".
//
// Wiring: when VPCDListening(DefaultVPCDAddr) (pcscd runs with Debian's
// vpcd reader), Tap(ctx, DefaultVPCDAddr, card, hold) presents the card to
// the reader for hold, as a patient tapping it; the chip source reads it.
func DemoCard(n int, cscaPath string) (*Card, error) {
	pki, err := NewPKI()
	if err != nil {
		return nil, err
	}
	if cscaPath != "" {
		if err := pki.WriteCSCA(cscaPath); err != nil {
			return nil, fmt.Errorf("writing the demo CSCA: %w", err)
		}
	}
	p := Synthetic(n)
	p.Options.PKI = pki
	return NewCard(p)
}
