package virtual

import (
	"bytes"
	"fmt"

	"github.com/tiepdon/tiepdon/drivers/emrtd"
)

// berSOD re-encodes the CMS structure inside EF.SOD (tag 77 stays
// definite) with indefinite lengths on every constructed object (ITU-T
// X.690 §8.1.3.6), as some chips' CMS encoders write it. The certificate
// (keep) and every primitive value are left as they are, so the signed
// bytes do not change.
func berSOD(sod, keep []byte, file bool) ([]byte, error) {
	outer, _, err := emrtd.ParseTLV(sod)
	if err != nil {
		return nil, err
	}
	ci, rest, err := emrtd.ParseTLV(outer.Value)
	if err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("EF.SOD content: %v", err)
	}
	inner, err := indefinite(ci, keep, 0)
	if err != nil {
		return nil, err
	}
	if file {
		out := append([]byte{0x77, 0x80}, inner...)
		return append(out, 0, 0), nil
	}
	return tlv(0x77, inner), nil
}

func indefinite(t emrtd.TLV, keep []byte, depth int) ([]byte, error) {
	if !t.Constructed() || bytes.Equal(t.Raw, keep) || depth > 16 {
		return t.Raw, nil
	}
	kids, err := emrtd.ParseTLVs(t.Value)
	if err != nil {
		return nil, err
	}
	out := emrtd.EncodeTLV(t.Tag, nil)
	out = append(out[:len(out)-1], 0x80)
	for _, k := range kids {
		b, err := indefinite(k, keep, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return append(out, 0, 0), nil
}
