package emrtd

import (
	"bytes"
	"encoding/asn1"
	"reflect"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent/patient"
)

// BER test vectors are built from the DER fixtures by re-encoding, never by
// hand: berOf walks a DER object and writes every constructed object with
// the indefinite length (tag, 0x80, contents, 00 00; ITU-T X.690 §8.1.3.6),
// optionally every definite length in the 4-byte long form (0x84 …, §8.1.3.5)
// and the SOD's eContent OCTET STRING as a constructed one in 16-byte
// segments (§8.7.3). Objects keep picks as they are: the certificates,
// whose signed bytes must stay DER, and the primitive values, whose
// contents are never touched. So a BER vector carries exactly the signed
// content of its DER source, as a chip's CMS encoder would write it.
type berForm struct {
	longLengths bool
	segments    bool // the eContent OCTET STRING in 16-byte segments
	keep        func(TLV) bool
}

func (f berForm) of(tb testing.TB, der []byte) []byte {
	tb.Helper()
	t, rest, err := ParseTLV(der)
	if err != nil || len(rest) > 0 {
		tb.Fatalf("berOf: %v (%d bytes left)", err, len(rest))
	}
	return f.encode(tb, t, false)
}

func (f berForm) header(tag uint32, n int) []byte {
	h := EncodeTLV(tag, nil)
	h = h[:len(h)-1] // drop the zero length
	if f.longLengths {
		return append(h, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return appendLength(h, n)
}

func (f berForm) encode(tb testing.TB, t TLV, inEncap bool) []byte {
	if f.keep != nil && f.keep(t) {
		return t.Raw
	}
	if !t.Constructed() {
		if t.Tag == 0x04 && inEncap && f.segments {
			var segs []byte
			for v := t.Value; len(v) > 0; v = v[min(16, len(v)):] {
				seg := v[:min(16, len(v))]
				segs = append(append(segs, f.header(0x04, len(seg))...), seg...)
			}
			return append(append([]byte{0x24, 0x80}, segs...), 0, 0)
		}
		return append(f.header(t.Tag, len(t.Value)), t.Value...)
	}
	kids, err := ParseTLVs(t.Value)
	if err != nil {
		tb.Fatalf("berOf: %v", err)
	}
	out := append(EncodeTLV(t.Tag, nil)[:len(EncodeTLV(t.Tag, nil))-1], 0x80)
	encap := false
	for i, k := range kids {
		// encapContentInfo: SEQUENCE { OID id-icao-ldsSecurityObject, [0] { OCTET STRING } }
		if i == 0 && bytes.Equal(k.Raw, must(asn1.Marshal(oidLDSSecurityObject))) {
			encap = true
		}
		out = append(out, f.encode(tb, k, inEncap || (encap && k.Tag == 0xA0))...)
	}
	return append(out, 0, 0)
}

// TestSODBER: SODs in the BER forms real chips use verify exactly as their
// DER originals, with the signed bytes as on the chip; a changed byte in a
// BER SOD still fails.
func TestSODBER(t *testing.T) {
	fx := testFixture(t)
	der := fx.files[FIDSOD]
	dgs := dgMap(fx.files, 1, 2, 13, 14, 15)
	keepCert := func(t TLV) bool { return bytes.Equal(t.Raw, fx.dsCertDER) }
	want, err := ParseSOD(der)
	if err != nil {
		t.Fatal(err)
	}
	inner, _, _ := ParseTLV(der) // 77 { ContentInfo }
	for _, tc := range []struct {
		name  string
		form  berForm
		outer bool // the 77 wrapper itself indefinite
	}{
		{"indefinite lengths", berForm{keep: keepCert}, false},
		{"indefinite lengths, 77 too", berForm{keep: keepCert}, true},
		{"eContent in segments", berForm{keep: keepCert, segments: true}, false},
		{"long-form lengths", berForm{keep: keepCert, longLengths: true}, false},
		{"all of them", berForm{keep: keepCert, segments: true, longLengths: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ci := tc.form.of(t, inner.Value)
			var ber []byte
			if tc.outer {
				ber = append(append([]byte{0x77, 0x80}, ci...), 0, 0)
			} else {
				ber = EncodeTLV(0x77, ci)
			}
			if bytes.Equal(ber, der) || !bytes.Contains(ber, []byte{0x30, 0x80}) {
				t.Fatalf("the BER vector is not BER")
			}
			s, err := ParseSOD(ber)
			if err != nil {
				t.Fatalf("ParseSOD: %v", err)
			}
			if !bytes.Equal(s.eContent, want.eContent) || s.HashAlgorithm != want.HashAlgorithm || len(s.Hashes) != len(want.Hashes) {
				t.Fatalf("signed content differs from the DER original")
			}
			r := PassiveAuth(ber, dgs, fx.csca, time.Now())
			if r.Level != patient.Verified || !r.SignatureOK {
				t.Fatalf("PA of a BER SOD = %+v", r)
			}
			// The same SOD with one hash byte changed (a tampered chip)
			// fails in BER as in DER.
			h := want.Hashes[1]
			i := bytes.Index(der, h)
			if i < 0 {
				t.Fatal("hash of DG1 not found in the SOD")
			}
			badDER := bytes.Clone(der)
			badDER[i] ^= 1
			badInner, _, _ := ParseTLV(badDER)
			bad := EncodeTLV(0x77, tc.form.of(t, badInner.Value))
			if r := PassiveAuth(bad, dgs, fx.csca, time.Now()); r.Level != patient.Failed {
				t.Fatalf("tampered BER SOD = %+v", r)
			}
		})
	}
}

// TestTLVIndefinite: the indefinite form's edges.
func TestTLVIndefinite(t *testing.T) {
	for _, tc := range []struct {
		hex  string
		ok   bool
		val  string
		rest int
	}{
		{"3080020101000005", true, "020101", 1},
		{"30800000", true, "", 0},
		{"308030800201010000000001", true, "30800201010000", 1},
		{"0480010000", false, "", 0}, // primitive: no indefinite form
		{"3080020101", false, "", 0}, // no end-of-contents
		{"30800201", false, "", 0},
	} {
		tl, rest, err := ParseTLV(unhex(t, tc.hex))
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", tc.hex, err)
			continue
		}
		if err == nil && (len(rest) != tc.rest || !bytes.Equal(tl.Value, unhex(t, tc.val))) {
			t.Errorf("%s: value %X rest %d", tc.hex, tl.Value, len(rest))
		}
	}
	deep := bytes.Repeat([]byte{0x30, 0x80}, maxTLVDepth+2)
	deep = append(deep, bytes.Repeat([]byte{0, 0}, maxTLVDepth+2)...)
	if _, _, err := ParseTLV(deep); err == nil {
		t.Error("indefinite lengths nested past the limit accepted")
	}
}

// TestDG14DG15BER: the security infos and the Active Authentication key
// read the same from BER as from DER.
func TestDG14DG15BER(t *testing.T) {
	fx := testFixture(t)
	for _, form := range []berForm{{}, {longLengths: true}} {
		dg14 := fx.files[FIDDG(14)]
		want, err := ParseSecurityInfos(dg14)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseSecurityInfos(form.of(t, dg14))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("DG14 in BER: %+v, %v; want %+v", got, err, want)
		}
		dg15 := fx.files[FIDDG(15)]
		k1, err1 := ParseDG15(dg15)
		k2, err2 := ParseDG15(form.of(t, dg15))
		if err1 != nil || err2 != nil || !reflect.DeepEqual(k1, k2) {
			t.Fatalf("DG15 in BER: %v %v", err1, err2)
		}
	}
}
