// Package drivers holds the small interfaces between tiepdon's core and its
// devices: a Source yields Presentations (a QR line, a chip read, a typed
// entry), and a Transmitter carries APDUs to a smart card.
//
// Concrete drivers live in subpackages (pcsc, emrtd, cccd, bhytqr, serialqr,
// virtual). The agent core imports only this package.
package drivers

import (
	"context"
	"time"

	"github.com/tiepdon/tiepdon/agent/patient"
)

// Transmitter sends one command APDU to a card and returns its response
// APDU (data followed by SW1 SW2). *scard.Card satisfies it.
type Transmitter interface {
	Transmit(cmd []byte) ([]byte, error)
}

// Presentation is one thing a patient presented at the counter.
type Presentation struct {
	Medium patient.Medium
	Device string    // e.g. "/dev/ttyACM0", "wedge", "ACS ACR1252 00 00"
	At     time.Time // when the device delivered it

	// Payload is the raw text of a QR scan or typed entry (Medium QR*/typed).
	// It is parsed by the agent's Identifier.
	Payload []byte

	// Identity is set by sources that read and check the identity
	// themselves (the chip reader).
	Identity *patient.Identity

	// CheckID, if set, is the check this presentation belongs to (a chip
	// source reports progress under it before the identity is ready).
	CheckID string
}

// Source is a device that yields presentations until ctx ends. Run returns
// nil when ctx is cancelled; a source that loses its device keeps trying to
// get it back rather than returning.
type Source interface {
	Run(ctx context.Context, emit func(Presentation)) error
}
