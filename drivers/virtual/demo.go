package virtual

import (
	"fmt"
	"strings"

	"github.com/tiepdon/tiepdon/agent/patient"
)

// QR returns the payload of the QR code printed on p's CCCD:
// ID|old ID|name|ddMMyyyy|Nam/Nữ|address|issue ddMMyyyy. Demo mode has the
// virtual scanner send it before the card is tapped (QR-then-tap).
func (p Profile) QR() string {
	date := func(d patient.Date) string { return fmt.Sprintf("%02d%02d%04d", d.Day, d.Month, d.Year) }
	return strings.Join([]string{
		string(p.CitizenID), p.OldID, string(p.Name), date(p.BirthDate), p.Sex.Vietnamese(), p.Address, date(p.IssueDate),
	}, "|")
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
