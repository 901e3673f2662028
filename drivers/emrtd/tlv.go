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

// maxTLVDepth bounds the nesting of indefinite-length objects followed.
const maxTLVDepth = 32

// ParseTLV parses the first BER-TLV object in b and returns it with the
// bytes after it. Definite lengths of up to 4 bytes (minimal or not) are
// accepted, and the indefinite length (0x80 … 00 00) of a constructed
// object, which CMS encoders in the field use for the SOD's SignedData
// (ITU-T X.690 §8.1.3.6). For an indefinite object, Value is its contents
// without the end-of-contents octets, and Raw ends with them.
func ParseTLV(b []byte) (TLV, []byte, error) { return parseTLV(b, 0) }

func parseTLV(b []byte, depth int) (TLV, []byte, error) {
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
	if l == 0x80 {
		return parseIndefinite(b, i, tag, depth)
	}
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

// parseIndefinite reads the contents of the indefinite-length object whose
// header (tag and 0x80) ends at b[i:]: objects up to the end-of-contents
// octets 00 00.
func parseIndefinite(b []byte, i int, tag uint32, depth int) (TLV, []byte, error) {
	if !(TLV{Tag: tag}).Constructed() {
		return TLV{}, nil, malformed("tag %X: indefinite length on a primitive object", tag)
	}
	if depth >= maxTLVDepth {
		return TLV{}, nil, malformed("tag %X: indefinite lengths nested too deep", tag)
	}
	start := i
	for {
		if len(b)-i < 2 {
			return TLV{}, nil, malformed("tag %X: no end-of-contents", tag)
		}
		if b[i] == 0 && b[i+1] == 0 {
			return TLV{Tag: tag, Value: b[start:i], Raw: b[:i+2]}, b[i+2:], nil
		}
		_, rest, err := parseTLV(b[i:], depth+1)
		if err != nil {
			return TLV{}, nil, err
		}
		i = len(b) - len(rest)
	}
}

// toDER re-encodes one BER object and everything in it with minimal
// definite lengths, and constructed OCTET STRINGs as primitive ones (X.690
// §10), for decoders that take DER only. Signed bytes are never taken from
// its output: they stay as on the chip.
func toDER(b []byte) ([]byte, error) {
	t, rest, err := ParseTLV(b)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, malformed("tag %X: %d bytes after the object", t.Tag, len(rest))
	}
	return appendDER(nil, t, 0)
}

func appendDER(out []byte, t TLV, depth int) ([]byte, error) {
	if depth >= maxTLVDepth {
		return nil, malformed("tag %X: nested too deep", t.Tag)
	}
	if !t.Constructed() {
		return append(out, EncodeTLV(t.Tag, t.Value)...), nil
	}
	if t.Tag == 0x24 {
		v, err := octets(t, depth)
		if err != nil {
			return nil, err
		}
		return append(out, EncodeTLV(0x04, v)...), nil
	}
	kids, err := ParseTLVs(t.Value)
	if err != nil {
		return nil, err
	}
	var inner []byte
	for _, k := range kids {
		if inner, err = appendDER(inner, k, depth+1); err != nil {
			return nil, err
		}
	}
	return append(out, EncodeTLV(t.Tag, inner)...), nil
}

// octets returns the contents of an OCTET STRING, primitive (tag 04) or
// constructed from segments (tag 24, X.690 §8.7.3): the bytes a signer
// hashed either way.
func octets(t TLV, depth int) ([]byte, error) {
	switch {
	case t.Tag == 0x04:
		return t.Value, nil
	case t.Tag != 0x24:
		return nil, malformed("tag %X is not an OCTET STRING", t.Tag)
	case depth >= maxTLVDepth:
		return nil, malformed("OCTET STRING segments nested too deep")
	}
	segs, err := ParseTLVs(t.Value)
	if err != nil {
		return nil, err
	}
	var out []byte
	for _, s := range segs {
		v, err := octets(s, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, v...)
	}
	return out, nil
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

// errIndefiniteFile reports a file whose outer object has an indefinite
// length (BER, X.690 §8.1.3.6): its size is known only once its
// end-of-contents octets are read.
var errIndefiniteFile = errors.New("indefinite length")

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
	if l == 0x80 && b[0]&0x20 != 0 {
		return 0, errIndefiniteFile
	}
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
