// Package drivers holds the small interfaces between tiepdon's core and its
// devices: a Source reports what patients present (a QR line, a chip read)
// and how its device is doing to a Reporter, and a Transmitter carries
// APDUs to a smart card.
//
// The agent implements Reporter (and ChipKeys); it owns every check from
// the moment a source reports a presentation. Drivers never publish on the
// event bus: they report here, with failure reasons as codes (the Failure*
// constants) that the window and the HIS documentation put into words.
//
// Concrete drivers live in subpackages (pcsc, chip, emrtd, cccd, bhytqr,
// payload, serialqr, virtual). The agent core imports only this package.
package drivers

import (
	"context"
	"errors"
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

	// CheckID, if set, is the check this presentation belongs to, as
	// returned by Reporter.Begin (a chip source reports progress under it
	// before the identity is ready).
	CheckID string

	// Refines marks a later, fuller identity for a check already presented
	// under CheckID (the chip's photo, read after the verdict was asked
	// for). It starts no new check.
	Refines bool
}

// DeviceKind says what sort of device a Device report is about.
type DeviceKind string

// Device kinds.
const (
	Reader  DeviceKind = "reader"  // PC/SC card reader
	Scanner DeviceKind = "scanner" // serial or keyboard-wedge QR scanner
)

// DeviceState is a device's condition.
type DeviceState string

// Device states.
const (
	DeviceReady   DeviceState = "ready"   // present and usable
	DeviceCard    DeviceState = "card"    // reader with a card in its field
	DeviceMissing DeviceState = "missing" // unplugged or not found; the source keeps trying
	DeviceError   DeviceState = "error"
)

// Device is the state of one device, as its source reports it.
type Device struct {
	Kind   DeviceKind
	Name   string // reader name or port path
	State  DeviceState
	Detail string // safe to show; no personal data
}

// Failure codes: why a presentation could not be read. They are stable
// names that the window's catalogue and the HIS API documentation
// (docs/his-api.md, "Failure codes") turn into words.
const (
	FailureChipNoKey     = "chip-no-key"     // no CAN: scan the card's QR or type its last 6 digits
	FailureChipWrongKey  = "chip-wrong-key"  // the CAN does not open this card
	FailureChipRemoved   = "chip-removed"    // the card left the reader during the read
	FailureReaderTimeout = "reader-timeout"  // the reader did not answer in time
	FailureNoPCSC        = "pcsc-no-service" // the PC/SC service is not running
	FailureChipUnread    = "chip-unreadable" // any other chip read failure
	FailureScanTooLong   = "scan-too-long"   // a scanned line overflowed: check the scanner's line ending
	FailureScanNotUTF8   = "scan-not-utf8"   // a scanned line is not UTF-8: check the scanner's character set
	FailureScanCutOff    = "scan-cut-off"    // the scanner was unplugged in the middle of a line
	FailureScanUnread    = "scan-unreadable" // the payload reader could not read a scan (Detail says why)
)

// Failure is a presentation that could not be read.
type Failure struct {
	CheckID string // from Begin, if the source had begun a check
	Medium  patient.Medium
	Device  string
	Code    string // one of the Failure* codes
	// Detail is an English description for the log and the HIS, safe to
	// show: it holds no personal data.
	Detail string
}

// Reporter receives what a Source sees. The agent implements it; its
// methods are safe for concurrent use and return quickly.
type Reporter interface {
	// Begin starts a check for something presented whose identity comes
	// later (a chip being read) and returns its check ID, the one to put
	// in Progress, Failed and the Presentation.
	Begin(medium patient.Medium, device string) (checkID string)
	// Present hands over one presentation.
	Present(p Presentation)
	// Progress reports how far the read of checkID has come (0..100).
	Progress(checkID, step string, percent int)
	// Failed reports a presentation that could not be read.
	Failed(f Failure)
	// Device reports a device's state; repeating an unchanged state is
	// allowed.
	Device(d Device)
}

// ChipKey is what opens a CCCD chip: the identity read from the same
// card's QR code (the chip's CAN and MRZ key derive from its citizen ID and
// dates), or the CAN staff typed.
type ChipKey struct {
	Identity *patient.Identity
	CAN      string // 6 digits, or the whole 12-digit ID
}

// ErrNoKey is returned (wrapped) by ChipKeys when there is no key for the
// chip.
var ErrNoKey = errors.New("no key for the chip")

// ChipKeys supplies the key for the chip just inserted in reader. It may
// block (waiting for a QR scan, or for staff to type the CAN) until ctx
// ends, which happens when the card is removed. The agent implements it
// (QR then tap); a chip source finds it on its Reporter by type assertion.
type ChipKeys interface {
	ChipKey(ctx context.Context, reader string) (ChipKey, error)
}

// Source is a device that reports presentations until ctx ends. Run
// returns nil when ctx is cancelled; a source that loses its device keeps
// trying to get it back rather than returning.
type Source interface {
	Run(ctx context.Context, r Reporter) error
}
