package emrtd

import (
	"bytes"
	"os"
	"testing"
	"time"
)

// Every parser of bytes from the card, fuzzed from the table tests' inputs.
// They must not panic, and what they accept must be self-consistent.

func FuzzTLV(f *testing.F) {
	for _, s := range []string{"5F1F03414243", "7F618182", "0400", "8E080102030405060708", "77820003010203", "1F8101",
		"3080020101000005", "308030800201010000000001", "2480040141040142000030840000000100"} {
		f.Add(unhex(f, s))
	}
	for _, b := range testFixture(f).files {
		f.Add(b[:min(len(b), 64)])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tl, rest, err := ParseTLV(b)
		if err != nil {
			return
		}
		indefinite := bytes.HasSuffix(tl.Raw, append(bytes.Clone(tl.Value), 0, 0)) && tl.Constructed()
		if len(tl.Raw)+len(rest) != len(b) || !(bytes.HasSuffix(tl.Raw, tl.Value) || indefinite) {
			t.Fatalf("inconsistent TLV %+v rest %d of %d", tl, len(rest), len(b))
		}
		if der, err := toDER(tl.Raw); err == nil {
			// The DER form is itself one DER object, and stable.
			again, err := toDER(der)
			if err != nil || !bytes.Equal(again, der) {
				t.Fatalf("toDER not idempotent: %X then %X (%v)", der, again, err)
			}
		}
		if n, err := tlvTotalLen(b); err == nil && len(tl.Raw) != n && tl.Tag <= 0xFFFF {
			t.Fatalf("tlvTotalLen %d, ParseTLV %d", n, len(tl.Raw))
		}
		ParseTLVs(b)
		FindTLV(b, 0x5F1F)
	})
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"00A40400", "00B0000004", "00A4020C02011E", "00860000027C0000", "00B00000000FF0", "00880000000002010201 00",
		"0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800"} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCommand(b)
		if err != nil {
			return
		}
		// What parses re-encodes to a command that parses the same way.
		c2, err := ParseCommand(c.Bytes())
		if err != nil || !bytes.Equal(c2.Data, c.Data) || c2.Ne != c.Ne {
			t.Fatalf("round trip of %X: %+v vs %+v (%v)", b, c, c2, err)
		}
	})
}

func FuzzCOM(f *testing.F) {
	f.Add(testFixture(f).files[FIDCOM])
	f.Add(unhex(f, "60145F0104303130365F36063034303030305C026175"))
	f.Fuzz(func(t *testing.T, b []byte) { ParseCOM(b) })
}

func FuzzDG1(f *testing.F) {
	f.Add(testFixture(f).files[FIDDG(1)])
	f.Add(EncodeTLV(0x61, EncodeTLV(0x5F1F, []byte("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10"))))
	f.Add(EncodeTLV(0x61, EncodeTLV(0x5F1F, []byte("IDVNM0930470641001093047064<<29301054M3301052VNM<<<<<<<<<<<8UNG<<HOANG<HIEP<<<<<<<<<<<<<<<"))))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseDG1(b)
		if err == nil && m.Format == "" {
			t.Fatal("MRZ without format")
		}
	})
}

func FuzzDG2(f *testing.F) {
	f.Add(testFixture(f).files[FIDDG(2)][:400])
	for _, name := range []string{"face.jpg", "face.jp2", "face.j2k"} {
		img, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(buildDG2(img, map[bool]byte{true: 0, false: 1}[name == "face.jpg"], 48, 64))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		face, err := ParseDG2(b)
		if err != nil {
			return
		}
		if len(face.Data) == 0 || face.MIME == "" {
			t.Fatalf("face %+v", face)
		}
		face.Decode() // JPEG and libopenjp2 decoding of hostile data must not crash
	})
}

func FuzzSecurityInfos(f *testing.F) {
	f.Add(unhex(f, "31143012060A04007F0007020204020202010202010D"))
	f.Add(cardAccess(AES256, 13))
	f.Add(testFixture(f).files[FIDDG(14)])
	f.Fuzz(func(t *testing.T, b []byte) {
		si, err := ParseSecurityInfos(b)
		if err != nil {
			return
		}
		if p, ok := si.PreferredPACE(); ok && CurveByParameterID(p.ParameterID) == nil {
			t.Fatal("preferred PACE on an unknown curve")
		}
	})
}

func FuzzPublicKeyInfo(f *testing.F) {
	f.Add(testFixture(f).files[FIDDG(15)])
	f.Add(must(MarshalPublicKeyInfo(BrainpoolP256r1(), BrainpoolP256r1().G)))
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseDG15(b)
		if k, err := ParsePublicKeyInfo(b); err == nil && k.Curve != nil && !k.Curve.IsOnCurve(k.Point) {
			t.Fatal("accepted a point off its curve")
		}
	})
}

func FuzzSOD(f *testing.F) {
	fx := testFixture(f)
	f.Add(fx.files[FIDSOD])
	f.Add(fx.dsCertDER)
	// The BER forms of TestSODBER.
	keep := func(t TLV) bool { return bytes.Equal(t.Raw, fx.dsCertDER) }
	inner, _, _ := ParseTLV(fx.files[FIDSOD])
	for _, form := range []berForm{{keep: keep}, {keep: keep, segments: true}, {keep: keep, segments: true, longLengths: true}} {
		f.Add(EncodeTLV(0x77, form.of(f, inner.Value)))
	}
	// A signed master list, and the store it is checked against.
	pki := newMLPKI(f)
	f.Add(pki.list(fx.cscaDER))
	roots := []*Certificate{must(ParseCertificate(pki.rootDER))}
	dgs := dgMap(fx.files, 1, 13)
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseCertificate(b)
		NewCSCAStore().AddBytes(b)
		if _, signer, err := ParseMasterList(b, roots); err == nil && (signer == nil || signer.CheckSignatureFrom(roots[0]) != nil) {
			t.Fatal("master list trusted without a signer the root issued")
		}
		r := PassiveAuth(b, dgs, fx.csca, time.Now())
		if r.Level == "" {
			t.Fatal("no verdict")
		}
		if !bytes.Equal(b, fx.files[FIDSOD]) && r.Level == "verified" {
			// Only a re-encoding of the same signed content may verify.
			s, err := ParseSOD(b)
			if err != nil || s.signerCert() == nil {
				t.Fatal("verified without a parsable SOD")
			}
		}
	})
}

// The terminal's response unwrapping and the card's command unwrapping see
// attacker-controlled bytes; neither may accept a forgery.
func FuzzUnprotectResponse(f *testing.F) {
	for _, s := range []string{"990290008E08FA855A5D4C50A8ED9000", "8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000",
		"871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D749000", "6A82", "9000"} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sm := d4Session(t)
		sm.SSC = unhex(t, "887022120C06C227")
		out, err := sm.UnprotectResponse(b)
		if err != nil {
			return
		}
		r, _ := ParseResponse(out)
		// Only the genuine objects verify (the trailing SW is not MACed,
		// DO'99' is what counts); plain answers pass only as errors.
		if len(b) > 2 && (!bytes.HasPrefix(b, unhex(t, "990290008E08FA855A5D4C50A8ED")) || !bytes.Equal(out, []byte{0x90, 0})) {
			t.Fatalf("accepted a forged protected response: %X → %X", b, out)
		}
		if len(b) == 2 && r.SW == 0x9000 {
			t.Fatal("accepted a plain 9000")
		}
	})
}

func FuzzUnprotectCommand(f *testing.F) {
	for _, s := range []string{"0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800", "0CB000000D9701048E08ED6705417E96BA5500", "00A4020C02011E"} {
		f.Add(unhex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sm := d4Session(t)
		// Lc/Le encodings are not MACed; the plain command must be the genuine one.
		if plain, err := sm.UnprotectCommand(b); err == nil && !bytes.Equal(plain, unhex(t, "00A4020C02011E")) {
			t.Fatalf("card accepted a forged command %X → %X", b, plain)
		}
	})
}
