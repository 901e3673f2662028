package emrtd

import (
	"errors"
	"fmt"
)

// Command is a command APDU (ISO/IEC 7816-4).
type Command struct {
	CLA, INS, P1, P2 byte
	Data             []byte
	// Ne is the number of response bytes expected: 0 means no Le field,
	// 256 is short Le '00', 65536 is extended Le '0000'.
	Ne int
	// Extended forces extended-length encoding even when short would do.
	Extended bool
}

// IsExtended reports whether c needs (or asks for) extended length.
func (c Command) IsExtended() bool { return c.Extended || len(c.Data) > 255 || c.Ne > 256 }

// Bytes encodes the command, choosing short or extended length.
func (c Command) Bytes() []byte {
	out := make([]byte, 0, 4+len(c.Data)+6)
	out = append(out, c.CLA, c.INS, c.P1, c.P2)
	ext := c.IsExtended()
	if len(c.Data) > 0 {
		if ext {
			out = append(out, 0, byte(len(c.Data)>>8), byte(len(c.Data)))
		} else {
			out = append(out, byte(len(c.Data)))
		}
		out = append(out, c.Data...)
	}
	if c.Ne > 0 {
		ne := c.Ne
		if ext {
			if ne >= 65536 {
				ne = 0
			}
			if len(c.Data) == 0 {
				out = append(out, 0)
			}
			out = append(out, byte(ne>>8), byte(ne))
		} else {
			if ne >= 256 {
				ne = 0
			}
			out = append(out, byte(ne))
		}
	}
	return out
}

// ParseCommand decodes a command APDU in any of the ISO 7816-4 cases, short
// or extended.
func ParseCommand(b []byte) (Command, error) {
	if len(b) < 4 {
		return Command{}, malformed("command APDU of %d bytes", len(b))
	}
	c := Command{CLA: b[0], INS: b[1], P1: b[2], P2: b[3]}
	body := b[4:]
	switch {
	case len(body) == 0: // case 1
	case len(body) == 1: // case 2 short
		c.Ne = int(body[0])
		if c.Ne == 0 {
			c.Ne = 256
		}
	case body[0] != 0: // case 3 or 4 short
		lc := int(body[0])
		switch len(body) {
		case 1 + lc:
		case 2 + lc:
			c.Ne = int(body[1+lc])
			if c.Ne == 0 {
				c.Ne = 256
			}
		default:
			return Command{}, malformed("short Lc %d with %d body bytes", lc, len(body))
		}
		c.Data = body[1 : 1+lc]
	default: // extended: body[0] == 0
		c.Extended = true
		if len(body) == 3 { // case 2 extended
			c.Ne = int(body[1])<<8 | int(body[2])
			if c.Ne == 0 {
				c.Ne = 65536
			}
			break
		}
		if len(body) < 3 {
			return Command{}, malformed("extended length field of %d bytes", len(body))
		}
		lc := int(body[1])<<8 | int(body[2])
		if lc == 0 {
			return Command{}, malformed("extended Lc of 0")
		}
		switch len(body) {
		case 3 + lc:
		case 5 + lc:
			c.Ne = int(body[3+lc])<<8 | int(body[4+lc])
			if c.Ne == 0 {
				c.Ne = 65536
			}
		default:
			return Command{}, malformed("extended Lc %d with %d body bytes", lc, len(body))
		}
		c.Data = body[3 : 3+lc]
	}
	return c, nil
}

// Response is a response APDU: data and status word.
type Response struct {
	Data []byte
	SW   uint16
}

// ParseResponse splits a response APDU into data and status word.
func ParseResponse(b []byte) (Response, error) {
	if len(b) < 2 {
		return Response{}, malformed("response APDU of %d bytes", len(b))
	}
	n := len(b) - 2
	return Response{Data: b[:n], SW: uint16(b[n])<<8 | uint16(b[n+1])}, nil
}

// Bytes encodes the response as data followed by SW1 SW2.
func (r Response) Bytes() []byte {
	out := make([]byte, len(r.Data)+2)
	copy(out, r.Data)
	out[len(r.Data)] = byte(r.SW >> 8)
	out[len(r.Data)+1] = byte(r.SW)
	return out
}

// OK reports whether the status word is 9000 (or a 61xx "more data").
func (r Response) OK() bool { return r.SW == 0x9000 || r.SW>>8 == 0x61 }

// Err returns nil for 9000 and a *StatusError otherwise.
func (r Response) Err() error {
	if r.SW == 0x9000 {
		return nil
	}
	return &StatusError{SW: r.SW}
}

// Status-word sentinels. A *StatusError unwraps to one of them, so callers
// write errors.Is(err, emrtd.ErrFileNotFound).
var (
	ErrWrongLength          = errors.New("emrtd: wrong length")                            // 6700, 6Cxx
	ErrSecurityNotSatisfied = errors.New("emrtd: security status not satisfied")           // 6982
	ErrAuthMethodBlocked    = errors.New("emrtd: authentication method blocked")           // 6983
	ErrConditionsNotMet     = errors.New("emrtd: conditions of use not satisfied")         // 6985
	ErrSMDataMissing        = errors.New("emrtd: secure messaging data objects missing")   // 6987
	ErrSMDataIncorrect      = errors.New("emrtd: secure messaging data objects incorrect") // 6988
	ErrWrongData            = errors.New("emrtd: incorrect parameters in data field")      // 6A80
	ErrFunctionNotSupported = errors.New("emrtd: function not supported")                  // 6A81
	ErrFileNotFound         = errors.New("emrtd: file or application not found")           // 6A82
	ErrWrongP1P2            = errors.New("emrtd: incorrect P1 P2")                         // 6A86, 6B00
	ErrReferenceNotFound    = errors.New("emrtd: referenced data not found")               // 6A88
	ErrINSNotSupported      = errors.New("emrtd: instruction not supported")               // 6D00
	ErrCLANotSupported      = errors.New("emrtd: class not supported")                     // 6E00
	ErrEndOfFile            = errors.New("emrtd: end of file reached before Le bytes")     // 6282
	ErrVerificationFailed   = errors.New("emrtd: verification failed")                     // 6300, 63Cx
	ErrCardError            = errors.New("emrtd: card error")                              // anything else
)

// StatusError is a status word other than 9000 from the card.
type StatusError struct {
	SW uint16
}

// Error implements error.
func (e *StatusError) Error() string {
	return fmt.Sprintf("card answered %04X (%v)", e.SW, e.Unwrap())
}

// Unwrap maps the status word to a sentinel.
func (e *StatusError) Unwrap() error {
	switch {
	case e.SW == 0x6700 || e.SW>>8 == 0x6C:
		return ErrWrongLength
	case e.SW == 0x6982:
		return ErrSecurityNotSatisfied
	case e.SW == 0x6983:
		return ErrAuthMethodBlocked
	case e.SW == 0x6985:
		return ErrConditionsNotMet
	case e.SW == 0x6987:
		return ErrSMDataMissing
	case e.SW == 0x6988:
		return ErrSMDataIncorrect
	case e.SW == 0x6A80:
		return ErrWrongData
	case e.SW == 0x6A81:
		return ErrFunctionNotSupported
	case e.SW == 0x6A82:
		return ErrFileNotFound
	case e.SW == 0x6A86 || e.SW == 0x6B00:
		return ErrWrongP1P2
	case e.SW == 0x6A88:
		return ErrReferenceNotFound
	case e.SW == 0x6D00:
		return ErrINSNotSupported
	case e.SW == 0x6E00:
		return ErrCLANotSupported
	case e.SW == 0x6282:
		return ErrEndOfFile
	case e.SW == 0x6300 || e.SW>>4 == 0x63C:
		return ErrVerificationFailed
	}
	return ErrCardError
}
