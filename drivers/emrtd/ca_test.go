package emrtd

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/asn1"
	"math/big"
	"testing"
)

// explicitSPKI encodes an EC key with explicit domain parameters, as many
// chips' DG14 do.
func explicitSPKI(c *Curve, p Point) []byte {
	seq := func(parts ...[]byte) []byte { return EncodeTLV(0x30, bytes.Join(parts, nil)) }
	n := c.Size()
	params := seq(
		EncodeTLV(0x02, []byte{1}),
		seq(must(asn1.Marshal(oidPrime)), must(asn1.Marshal(c.P))),
		seq(EncodeTLV(0x04, c.A.FillBytes(make([]byte, n))), EncodeTLV(0x04, c.B.FillBytes(make([]byte, n)))),
		EncodeTLV(0x04, c.Marshal(c.G)),
		must(asn1.Marshal(c.N)),
		must(asn1.Marshal(big.NewInt(1))),
	)
	pt := c.Marshal(p)
	return seq(seq(must(asn1.Marshal(oidECPubKey)), params), must(asn1.Marshal(asn1.BitString{Bytes: pt, BitLength: 8 * len(pt)})))
}

func TestExplicitECParameters(t *testing.T) {
	for _, c := range []*Curve{BrainpoolP256r1(), P256(), BrainpoolP384r1()} {
		_, pub := must2(c.GenerateKey(rand.Reader))
		k, err := ParsePublicKeyInfo(explicitSPKI(c, pub))
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if k.Curve != c || !k.Point.Equal(pub) {
			t.Errorf("%s: parsed as %s", c.Name, k.Curve.Name)
		}
	}
	// A curve no one names still works.
	c := BrainpoolP256r1().WithGenerator(BrainpoolP256r1().ScalarBaseMult([]byte{7}))
	c.OID = nil
	_, pub := must2(c.GenerateKey(rand.Reader))
	k, err := ParsePublicKeyInfo(explicitSPKI(c, pub))
	if err != nil || k.Curve.Name != "explicit" || !k.Point.Equal(pub) {
		t.Errorf("unnamed curve: %v", err)
	}
}

func TestChipAuthVariants(t *testing.T) {
	for _, tc := range []struct {
		name     string
		curve    *Curve
		cipher   Cipher
		explicit bool
		keyID    int
	}{
		{"brainpoolP256r1 AES-128 explicit parameters", BrainpoolP256r1(), AES128, true, -1},
		{"P-256 AES-256 with key ID", P256(), AES256, false, 3},
		{"brainpoolP256r1 3DES (MSE:Set KAT)", BrainpoolP256r1(), TDES, false, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			card := newTestCard(t, AES128, 12)
			var pub Point
			card.caCurve, card.caCipher = tc.curve, tc.cipher
			card.caPriv, pub = must2(tc.curve.GenerateKey(rand.Reader))
			spki := must(MarshalPublicKeyInfo(tc.curve, pub))
			if tc.explicit {
				spki = explicitSPKI(tc.curve, pub)
			}
			seq := func(parts ...[]byte) []byte { return EncodeTLV(0x30, bytes.Join(parts, nil)) }
			version := []byte{2}
			if tc.cipher == TDES {
				version = []byte{1}
			}
			caInfo := seq(must(asn1.Marshal(CAOID(true, tc.cipher))), EncodeTLV(0x02, version))
			pkInfo := seq(must(asn1.Marshal(oidPKECDH)), spki)
			if tc.keyID >= 0 {
				caInfo = seq(must(asn1.Marshal(CAOID(true, tc.cipher))), EncodeTLV(0x02, version), EncodeTLV(0x02, []byte{byte(tc.keyID)}))
				pkInfo = seq(must(asn1.Marshal(oidPKECDH)), spki, EncodeTLV(0x02, []byte{byte(tc.keyID)}))
			}
			dg14 := EncodeTLV(0x6E, EncodeTLV(0x31, append(caInfo, pkInfo...)))
			si, err := ParseSecurityInfos(dg14)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			s, err := Open(ctx, card, Key{CAN: testCAN})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.ChipAuth(ctx, si); err != nil {
				t.Fatal(err)
			}
			if s.SecureMessaging().Cipher != tc.cipher {
				t.Errorf("session cipher %v after CA", s.SecureMessaging().Cipher)
			}
			dg1, err := s.ReadFile(ctx, FIDDG(1))
			if err != nil || !bytes.Equal(dg1, card.files[FIDDG(1)]) {
				t.Errorf("DG1 under the CA keys: %v", err)
			}
		})
	}
}

// Files past 32767 bytes are read with READ BINARY odd INS (B1).
func TestReadBinaryOddINS(t *testing.T) {
	card := newTestCard(t, AES128, 12)
	big := bytes.Repeat([]byte{0x5A}, 40000)
	card.files[FIDDG(5)] = EncodeTLV(0x65, big)
	s, err := OpenWithOptions(context.Background(), card, Key{CAN: testCAN}, SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadFile(context.Background(), FIDDG(5))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, card.files[FIDDG(5)]) {
		t.Errorf("read %d bytes, want %d", len(got), len(card.files[FIDDG(5)]))
	}
}
