package emrtd

import (
	"errors"
	"fmt"
)

// ErrMalformed is wrapped by every error about bytes from the card that do
// not parse (TLV, LDS files, SOD, secure-messaging responses).
var ErrMalformed = errors.New("emrtd: malformed data")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// TLV is one BER-TLV data object. Tag holds the tag bytes as a number
// (e.g. 0x5F1F, 0x7F61).
type TLV struct {
	Tag   uint32
	Value []byte // aliases the parsed buffer
	Raw   []byte // the whole object: tag, length and value
}

// Constructed reports whether the tag is a constructed encoding.
func (t TLV) Constructed() bool {
	first := t.Tag
	for first > 0xFF {
		first >>= 8
	}
	return first&0x20 != 0
}

// ParseTLV parses the first BER-TLV object in b and returns it with the
// bytes after it. Definite lengths of up to 4 bytes are accepted.
func ParseTLV(b []byte) (TLV, []byte, error) {
	if len(b) == 0 {
		return TLV{}, nil, malformed("empty TLV")
	}
	i := 0
	tag := uint32(b[0])
	i++
	if b[0]&0x1F == 0x1F {
		for {
			if i >= len(b) {
				return TLV{}, nil, malformed("truncated tag")
			}
			if i >= 4 {
				return TLV{}, nil, malformed("tag too long")
			}
			tag = tag<<8 | uint32(b[i])
			i++
			if b[i-1]&0x80 == 0 {
				break
			}
		}
	}
	if i >= len(b) {
		return TLV{}, nil, malformed("missing length after tag %X", tag)
	}
	l := int(b[i])
	i++
	if l&0x80 != 0 {
		n := l & 0x7F
		if n == 0 || n > 4 {
			return TLV{}, nil, malformed("length form %02X", b[i-1])
		}
		if i+n > len(b) {
			return TLV{}, nil, malformed("truncated length")
		}
		l = 0
		for _, c := range b[i : i+n] {
			l = l<<8 | int(c)
		}
		i += n
		if l < 0 {
			return TLV{}, nil, malformed("length overflow")
		}
	}
	if l > len(b)-i {
		return TLV{}, nil, malformed("tag %X: length %d exceeds %d bytes left", tag, l, len(b)-i)
	}
	return TLV{Tag: tag, Value: b[i : i+l], Raw: b[:i+l]}, b[i+l:], nil
}

// ParseTLVs parses a concatenation of BER-TLV objects.
func ParseTLVs(b []byte) ([]TLV, error) {
	var out []TLV
	for len(b) > 0 {
		t, rest, err := ParseTLV(b)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
		b = rest
	}
	return out, nil
}

// FindTLV returns the first object with the given tag among the top-level
// objects in b.
func FindTLV(b []byte, tag uint32) (TLV, bool) {
	for len(b) > 0 {
		t, rest, err := ParseTLV(b)
		if err != nil {
			return TLV{}, false
		}
		if t.Tag == tag {
			return t, true
		}
		b = rest
	}
	return TLV{}, false
}

// tlvHeaderLen returns the total length of the object whose first bytes are
// b (tag, length and value), for sizing a file read from its first bytes.
func tlvTotalLen(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, malformed("empty file header")
	}
	i := 1
	if b[0]&0x1F == 0x1F {
		for i < len(b) && i < 4 && b[i]&0x80 != 0 {
			i++
		}
		i++
	}
	if i >= len(b) {
		return 0, malformed("truncated file header")
	}
	l := int(b[i])
	i++
	if l&0x80 != 0 {
		n := l & 0x7F
		if n == 0 || n > 3 || i+n > len(b) {
			return 0, malformed("file length form")
		}
		l = 0
		for _, c := range b[i : i+n] {
			l = l<<8 | int(c)
		}
		i += n
	}
	return i + l, nil
}

// EncodeTLV encodes one BER-TLV object with a definite length.
func EncodeTLV(tag uint32, value []byte) []byte {
	out := make([]byte, 0, len(value)+8)
	switch {
	case tag > 0xFFFFFF:
		out = append(out, byte(tag>>24), byte(tag>>16), byte(tag>>8), byte(tag))
	case tag > 0xFFFF:
		out = append(out, byte(tag>>16), byte(tag>>8), byte(tag))
	case tag > 0xFF:
		out = append(out, byte(tag>>8), byte(tag))
	default:
		out = append(out, byte(tag))
	}
	out = appendLength(out, len(value))
	return append(out, value...)
}

func appendLength(out []byte, l int) []byte {
	switch {
	case l < 0x80:
		return append(out, byte(l))
	case l <= 0xFF:
		return append(out, 0x81, byte(l))
	case l <= 0xFFFF:
		return append(out, 0x82, byte(l>>8), byte(l))
	default:
		return append(out, 0x83, byte(l>>16), byte(l>>8), byte(l))
	}
}
