package pcsc

import (
	"errors"
	"fmt"

	"github.com/ebfe/scard"
)

// Sentinel errors. Errors returned by this package wrap one of them (and
// the underlying scard.Error, where there is one) so that callers can
// branch with errors.Is.
var (
	// ErrNoService means the PC/SC service is not running or was restarted
	// under us; the caller should retry later with a fresh context.
	ErrNoService = errors.New("pcsc: service not available")
	// ErrNoReader means the named reader does not exist (any more).
	ErrNoReader = errors.New("pcsc: reader not found")
	// ErrNoCard means no card is in the reader.
	ErrNoCard = errors.New("pcsc: no card in reader")
	// ErrCardRemoved means the card left the reader during the session.
	ErrCardRemoved = errors.New("pcsc: card removed")
	// ErrMute means the card stopped answering in the middle of an
	// exchange (no response, or the exchange failed): usually a card
	// pulled out before the reader noticed.
	ErrMute = errors.New("pcsc: card did not answer")
	// ErrCardReset means another process reset the card; secure messaging
	// must be set up again.
	ErrCardReset = errors.New("pcsc: card was reset")
	// ErrTimeout means a PC/SC call did not return in time (a hung reader or
	// card). The Card is unusable afterwards.
	ErrTimeout = errors.New("pcsc: timed out")
	// ErrClosed means the Card was closed or abandoned after a timeout.
	ErrClosed = errors.New("pcsc: card closed")
)

// Error is a PC/SC failure: the step that failed and the PC/SC status.
// It unwraps to the matching sentinel and to the scard.Error.
type Error struct {
	Op   string // "connect", "transmit", "status change", …
	Code scard.Error
}

// Error describes the failure with the PC/SC code in hex.
func (e *Error) Error() string {
	return fmt.Sprintf("pcsc %s: %s (0x%08X)", e.Op, e.Code.Error(), uint32(e.Code))
}

// Unwrap returns the sentinel that matches the status code, if any, and
// the scard.Error itself.
func (e *Error) Unwrap() []error {
	errs := []error{e.Code}
	if s := sentinel(e.Code); s != nil {
		errs = append(errs, s)
	}
	return errs
}

func sentinel(code scard.Error) error {
	switch code {
	case scard.ErrNoService, scard.ErrServiceStopped, scard.ErrCommError, scard.ErrInvalidHandle:
		return ErrNoService
	case scard.ErrUnknownReader, scard.ErrReaderUnavailable, scard.ErrNoReadersAvailable:
		return ErrNoReader
	case scard.ErrNoSmartcard:
		return ErrNoCard
	case scard.ErrRemovedCard:
		return ErrCardRemoved
	case scard.ErrResetCard:
		return ErrCardReset
	case scard.ErrTimeout:
		return ErrTimeout
	}
	return nil
}

// wrap turns an error from ebfe/scard into an *Error for op.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var code scard.Error
	if errors.As(err, &code) {
		return &Error{Op: op, Code: code}
	}
	return fmt.Errorf("pcsc %s: %w", op, err)
}

// serviceLost reports whether err means the context is no longer usable
// and must be re-established.
func serviceLost(err error) bool {
	var code scard.Error
	if !errors.As(err, &code) {
		return false
	}
	switch code {
	case scard.ErrNoService, scard.ErrServiceStopped, scard.ErrCommError, scard.ErrInvalidHandle:
		return true
	}
	return false
}
