package virtual_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"image/jpeg"
	"math/big"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers"
	"github.com/tiepdon/tiepdon/drivers/cccd"
	"github.com/tiepdon/tiepdon/drivers/emrtd"
	"github.com/tiepdon/tiepdon/drivers/virtual"
)

var _ drivers.Transmitter = (*virtual.Card)(nil)

// The MRZ of a real CCCD published in docs/sources.md §5, rebuilt from
// its holder's data: every check digit must come out the same.
func TestMRZRealSample(t *testing.T) {
	p := virtual.Profile{
		CitizenID: "001093047064", Name: "Ung Hoàng Hiệp", Sex: patient.Male,
		BirthDate: patient.Date{Year: 1993, Month: 1, Day: 5}, ExpiryDate: patient.Date{Year: 2033, Month: 1, Day: 5},
	}
	got, err := virtual.MRZ(p)
	if err != nil {
		t.Fatal(err)
	}
	want := [3]string{
		"IDVNM0930470641001093047064<<2",
		"9301054M3301052VNM<<<<<<<<<<<8",
		"UNG<<HOANG<HIEP<<<<<<<<<<<<<<<",
	}
	if got != want {
		t.Errorf("MRZ\n got %q\nwant %q", got, want)
	}
	// emrtd's check digit (written separately) agrees.
	if emrtd.CheckDigit("093047064") != '1' || emrtd.CheckDigit("001093047064") != '2' {
		t.Error("emrtd.CheckDigit disagrees with the sample")
	}
	if n := virtual.MRZName("Đặng Thị Ngọc Ánh"); n != "DANG<<THI<NGOC<ANH" {
		t.Errorf("MRZName = %q", n)
	}
}

func TestAccessControlBeforeAuthentication(t *testing.T) {
	tm := newTerm(t, virtual.Options{})
	// SELECT MF: 6D00 like a real CCCD.
	tm.mustSW("SELECT MF", tm.plain(selectMF), 0x6D00)
	tm.mustSW("SELECT MF (empty)", tm.plain(emrtd.Command{INS: 0xA4, P2: 0x0C}), 0x6D00)
	// EF.CardAccess is readable in plain, straight away.
	tm.mustSW("SELECT EF.CardAccess", tm.plain(selectEF(virtual.FIDCardAccess)), 0x9000)
	r := tm.plain(readBinary(0, 256))
	want, _ := tm.c.File(virtual.FIDCardAccess)
	if r.SW != 0x6282 || !bytes.Equal(r.Data, want) {
		t.Errorf("READ EF.CardAccess: % X %04X", r.Data, r.SW)
	}
	infos, err := emrtd.ParseSecurityInfos(want)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := infos.PreferredPACE(); !ok || p.ParameterID != 12 || p.Cipher != emrtd.AES128 || p.Mapping != emrtd.MappingGM {
		t.Errorf("PACEInfo %+v", p)
	}
	// Data groups need authentication; before the application they do not exist.
	tm.mustSW("SELECT DG1 outside the application", tm.plain(selectEF(virtual.FIDDG1)), 0x6A82)
	tm.mustSW("SELECT application", tm.plain(selectApp), 0x9000)
	tm.mustSW("SELECT DG1", tm.plain(selectEF(virtual.FIDDG1)), 0x6982)
	tm.mustSW("READ DG1 by SFI", tm.plain(emrtd.Command{INS: 0xB0, P1: 0x81, Ne: 4}), 0x6982)
	tm.mustSW("READ SOD by SFI", tm.plain(emrtd.Command{INS: 0xB0, P1: 0x9D, Ne: 4}), 0x6982)
	tm.mustSW("INTERNAL AUTHENTICATE", tm.plain(emrtd.Command{INS: 0x88, Data: random(8), Ne: 256}), 0x6982)
	// A protected command with no session.
	tm.mustSW("SM without session", tm.plain(emrtd.Command{CLA: 0x0C, INS: 0xB0, Data: []byte{0x97, 0x01, 0x04, 0x8E, 0x08, 1, 2, 3, 4, 5, 6, 7, 8}}), 0x6987)
	// EXTERNAL AUTHENTICATE without a challenge, then with a wrong key.
	tm.mustSW("EXTERNAL AUTHENTICATE first", tm.plain(emrtd.Command{INS: 0x82, Data: random(40), Ne: 40}), 0x6985)
	k := key(t, tm.c)
	k.BirthDate = "010101"
	if sw := tm.bac(k); sw != 0x6300 {
		t.Errorf("BAC with wrong dates: %04X, want 6300", sw)
	}
	// Unknown instruction, wrong class.
	tm.mustSW("unknown INS", tm.plain(emrtd.Command{INS: 0xCA, Ne: 256}), 0x6D00)
	tm.mustSW("wrong CLA", tm.plain(emrtd.Command{CLA: 0x80, INS: 0xB0, Ne: 4}), 0x6E00)

	// SelectMFWorks makes SELECT MF answer 9000.
	tm2 := newTerm(t, virtual.Options{SelectMFWorks: true})
	tm2.mustSW("SELECT MF", tm2.plain(selectMF), 0x9000)
}

func TestBACAndSecureMessaging(t *testing.T) {
	tm := newTerm(t, virtual.Options{})
	if sw := tm.bac(key(t, tm.c)); sw != 0x9000 {
		t.Fatalf("BAC: %04X", sw)
	}
	if len(tm.sm.SSC) != 8 || tm.sm.Cipher != emrtd.TDES {
		t.Errorf("BAC session: %v SSC %d bytes", tm.sm.Cipher, len(tm.sm.SSC))
	}
	dg1 := tm.readFile(virtual.FIDDG1, 0xDF)
	want, _ := tm.c.File(virtual.FIDDG1)
	if !bytes.Equal(dg1, want) {
		t.Fatalf("DG1 over BAC differs")
	}
	mrz, _ := virtual.MRZ(tm.c.Profile())
	if !bytes.Contains(dg1, []byte(mrz[0]+mrz[1]+mrz[2])) {
		t.Error("DG1 does not hold the MRZ")
	}
	// Errors come back protected too (DO'99' and a MAC): UnprotectResponse accepts them.
	r, err := tm.prot(selectEF(0x0142))
	if err != nil || r.SW != 0x6A82 {
		t.Errorf("protected SELECT of a missing file: %04X %v", r.SW, err)
	}
	r, err = tm.prot(selectEF(virtual.FIDDG3))
	if err != nil || r.SW != 0x9000 {
		t.Fatalf("SELECT DG3: %04X %v", r.SW, err)
	}
	r, err = tm.prot(readBinary(0, 16))
	if err != nil || r.SW != 0x6982 {
		t.Errorf("READ DG3 (needs Terminal Authentication): %04X %v", r.SW, err)
	}
	tm.prot(selectEF(virtual.FIDCOM))
	r, err = tm.prot(readBinary(1000, 16))
	if err != nil || r.SW != 0x6B00 {
		t.Errorf("READ past the end: %04X %v", r.SW, err)
	}
	// Read by SFI.
	r, err = tm.prot(emrtd.Command{INS: 0xB0, P1: 0x80 | 0x0D, P2: 0, Ne: 4})
	if err != nil || r.SW != 0x9000 || r.Data[0] != 0x6D {
		t.Errorf("READ DG13 by SFI: % X %04X %v", r.Data, r.SW, err)
	}
	// Active Authentication under SM.
	r, err = tm.prot(emrtd.Command{INS: 0x88, Data: random(8), Ne: 256})
	if err != nil || r.SW != 0x9000 || len(r.Data) != 64 {
		t.Errorf("INTERNAL AUTHENTICATE: %d bytes %04X %v", len(r.Data), r.SW, err)
	}
}

func TestSessionDropped(t *testing.T) {
	cases := []struct {
		name  string
		abort func(tm *term)
	}{
		{"reset", func(tm *term) { tm.c.Reset() }},
		{"power off", func(tm *term) { tm.c.PowerOff() }},
		{"plain command", func(tm *term) { tm.plain(selectApp) }},
		{"bad command MAC", func(tm *term) {
			w, _ := tm.sm.ProtectCommand(selectEF(virtual.FIDDG1).Bytes())
			w[len(w)-2] ^= 1
			raw, _ := tm.c.Transmit(w)
			if !bytes.Equal(raw, []byte{0x69, 0x88}) {
				t.Errorf("bad MAC: % X, want 6988 in plain", raw)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tm := newTerm(t, virtual.Options{})
			tm.t = t
			if sw := tm.pace(key(t, tm.c), emrtd.P256(), emrtd.AES128); sw != 0x9000 {
				t.Fatalf("PACE: %04X", sw)
			}
			tc.abort(tm)
			w, _ := tm.sm.ProtectCommand(selectEF(virtual.FIDDG1).Bytes())
			raw, err := tm.c.Transmit(w)
			if err != nil || !bytes.Equal(raw, []byte{0x69, 0x87}) {
				t.Errorf("protected command after %s: % X %v, want 6987", tc.name, raw, err)
			}
		})
	}
}

func TestPACE(t *testing.T) {
	for _, tc := range []struct {
		curve  string
		c      *emrtd.Curve
		cipher emrtd.Cipher
	}{
		{"P-256", emrtd.P256(), emrtd.AES128},
		{"brainpoolP256r1", emrtd.BrainpoolP256r1(), emrtd.AES128},
		{"P-256", emrtd.P256(), emrtd.AES256},
		{"brainpoolP256r1", emrtd.BrainpoolP256r1(), emrtd.AES192},
	} {
		t.Run(tc.curve+"/"+tc.cipher.String(), func(t *testing.T) {
			tm := newTerm(t, virtual.Options{PACECurve: tc.curve, PACECipher: tc.cipher})
			tm.t = t
			if sw := tm.pace(emrtd.Key{CAN: tm.c.Profile().CitizenID.CAN()}, tc.c, tc.cipher); sw != 0x9000 {
				t.Fatalf("PACE-CAN: %04X", sw)
			}
			if len(tm.sm.SSC) != 16 {
				t.Errorf("SSC of %d bytes", len(tm.sm.SSC))
			}
			dg13 := tm.readFile(virtual.FIDDG13, 0x400)
			d, err := cccd.DecodeDG13(dg13)
			if err != nil {
				t.Fatal(err)
			}
			p := tm.c.Profile()
			if d.CitizenID != p.CitizenID || d.Name != p.Name || d.BirthDate != p.BirthDate || d.Residence != p.Address ||
				d.Field15 != p.OldID || d.Father != p.Father {
				t.Errorf("DG13 %+v", d)
			}
		})
	}
	// A wrong CAN fails at mutual authentication.
	tm := newTerm(t, virtual.Options{})
	if sw := tm.pace(emrtd.Key{CAN: "000000"}, emrtd.P256(), emrtd.AES128); sw != 0x6300 {
		t.Errorf("PACE with a wrong CAN: %04X, want 6300", sw)
	}
	// PACE with the MRZ works too.
	tm = newTerm(t, virtual.Options{})
	k := key(t, tm.c)
	k.CAN = ""
	if sw := tm.pace(k, emrtd.P256(), emrtd.AES128); sw != 0x9000 {
		t.Errorf("PACE-MRZ: %04X", sw)
	}
	// RefusePACE answers 6982; BAC still works.
	tm = newTerm(t, virtual.Options{RefusePACE: true})
	if sw := tm.pace(key(t, tm.c), emrtd.P256(), emrtd.AES128); sw != 0x6982 {
		t.Errorf("refused PACE: %04X, want 6982", sw)
	}
	if sw := tm.bac(key(t, tm.c)); sw != 0x9000 {
		t.Errorf("BAC after refused PACE: %04X", sw)
	}
	// NoPACE: no EF.CardAccess.
	tm = newTerm(t, virtual.Options{NoPACE: true})
	tm.mustSW("SELECT EF.CardAccess", tm.plain(selectEF(virtual.FIDCardAccess)), 0x6A82)
}

func TestBadMAC(t *testing.T) {
	tm := newTerm(t, virtual.Options{BadMAC: true})
	if sw := tm.pace(key(t, tm.c), emrtd.P256(), emrtd.AES128); sw != 0 || !errors.Is(tm.err, emrtd.ErrSMMAC) {
		t.Fatalf("protected SELECT with a bad MAC: %04X %v, want ErrSMMAC", sw, tm.err)
	}
}

func TestPACEFailsCleanly(t *testing.T) {
	tm := newTerm(t, virtual.Options{})
	k := key(t, tm.c)
	// GENERAL AUTHENTICATE before MSE, garbage data, a point off the curve.
	tm.mustSW("GA without MSE", tm.plain(emrtd.Command{CLA: 0x10, INS: 0x86, Data: []byte{0x7C, 0}, Ne: 256}), 0x6985)
	if sw := tm.pace(k, emrtd.BrainpoolP256r1(), emrtd.AES128); sw != 0x6A80 {
		t.Errorf("PACE on the wrong curve: %04X, want 6A80", sw)
	}
}

// sodParts is the SOD as this test reads it with encoding/asn1 alone.
type sodParts struct {
	hashes    map[int][]byte
	ds        *x509.Certificate
	signed    []byte // DER of the signed attributes as a SET
	signature []byte
	digest    []byte // messageDigest attribute
	content   []byte // eContent
}

func parseSOD(t *testing.T, sod []byte) sodParts {
	t.Helper()
	var outer asn1.RawValue
	if _, err := asn1.Unmarshal(sod, &outer); err != nil || outer.Tag != 23 {
		t.Fatalf("SOD wrapper: %v tag %d", err, outer.Tag)
	}
	var ci struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue `asn1:"explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(outer.Bytes, &ci); err != nil {
		t.Fatal(err)
	}
	var sd struct {
		Version int
		Digests asn1.RawValue
		Encap   struct {
			Type    asn1.ObjectIdentifier
			Content []byte `asn1:"explicit,tag:0"`
		}
		Certs       asn1.RawValue `asn1:"tag:0"`
		SignerInfos []struct {
			Version     int
			SID         asn1.RawValue
			Digest      asn1.RawValue
			SignedAttrs asn1.RawValue `asn1:"tag:0"`
			SigAlg      asn1.RawValue
			Signature   []byte
		} `asn1:"set"`
	}
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		t.Fatal(err)
	}
	if sd.Version != 3 || len(sd.SignerInfos) != 1 {
		t.Fatalf("SignedData version %d, %d signers", sd.Version, len(sd.SignerInfos))
	}
	ds, err := x509.ParseCertificate(sd.Certs.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	var lso struct {
		Version int
		Alg     asn1.RawValue
		Hashes  []struct {
			N int
			H []byte
		}
	}
	if _, err := asn1.Unmarshal(sd.Encap.Content, &lso); err != nil {
		t.Fatal(err)
	}
	out := sodParts{hashes: map[int][]byte{}, ds: ds, content: sd.Encap.Content}
	for _, h := range lso.Hashes {
		out.hashes[h.N] = h.H
	}
	si := sd.SignerInfos[0]
	out.signed = append([]byte{0x31}, si.SignedAttrs.FullBytes[1:]...)
	out.signature = si.Signature
	var attrs []struct {
		Type   asn1.ObjectIdentifier
		Values []asn1.RawValue `asn1:"set"`
	}
	if _, err := asn1.UnmarshalWithParams(out.signed, &attrs, "set"); err != nil {
		t.Fatal(err)
	}
	for _, a := range attrs {
		if a.Type.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}) {
			out.digest = a.Values[0].Bytes
		}
	}
	return out
}

func TestSOD(t *testing.T) {
	pki, err := virtual.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	for _, tamper := range []bool{false, true} {
		p := virtual.Synthetic(1)
		p.Options = virtual.Options{PKI: pki, TamperDG13: tamper}
		c, err := virtual.NewCard(p)
		if err != nil {
			t.Fatal(err)
		}
		sod, _ := c.File(virtual.FIDSOD)
		parts := parseSOD(t, sod)
		// The DS chains to the CSCA.
		roots := x509.NewCertPool()
		roots.AddCert(pki.CSCA)
		if _, err := parts.ds.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: time.Now()}); err != nil {
			t.Errorf("DS does not chain to the CSCA: %v", err)
		}
		// The signature covers the signed attributes, whose digest is the content's.
		h := sha256.Sum256(parts.signed)
		if !ecdsa.VerifyASN1(parts.ds.PublicKey.(*ecdsa.PublicKey), h[:], parts.signature) {
			t.Error("SOD signature does not verify")
		}
		if d := sha256.Sum256(parts.content); !bytes.Equal(d[:], parts.digest) {
			t.Error("messageDigest is not the content's")
		}
		for n, fid := range map[int]uint16{1: virtual.FIDDG1, 2: virtual.FIDDG2, 3: virtual.FIDDG3,
			13: virtual.FIDDG13, 14: virtual.FIDDG14, 15: virtual.FIDDG15} {
			b, _ := c.File(fid)
			sum := sha256.Sum256(b)
			match := bytes.Equal(sum[:], parts.hashes[n])
			if wantMatch := !(tamper && n == 13); match != wantMatch {
				t.Errorf("tamper=%v: DG%d hash match %v, want %v", tamper, n, match, wantMatch)
			}
		}
	}
}

func TestActiveAuthentication(t *testing.T) {
	for _, wrong := range []bool{false, true} {
		tm := newTerm(t, virtual.Options{WrongAAKey: wrong})
		if sw := tm.bac(key(t, tm.c)); sw != 0x9000 {
			t.Fatal(sw)
		}
		dg15 := tm.readFile(virtual.FIDDG15, 0xDF)
		tl, _, err := emrtd.ParseTLV(dg15)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := x509.ParsePKIXPublicKey(tl.Value)
		if err != nil {
			t.Fatal(err)
		}
		challenge := random(8)
		r, err := tm.prot(emrtd.Command{INS: 0x88, Data: challenge, Ne: 256})
		if err != nil || r.SW != 0x9000 {
			t.Fatalf("INTERNAL AUTHENTICATE: %04X %v", r.SW, err)
		}
		h := sha256.Sum256(challenge)
		ok := ecdsa.Verify(pub.(*ecdsa.PublicKey), h[:], new(big.Int).SetBytes(r.Data[:32]), new(big.Int).SetBytes(r.Data[32:]))
		if ok == wrong {
			t.Errorf("WrongAAKey=%v: signature verifies %v", wrong, ok)
		}
		infos, err := emrtd.ParseSecurityInfos(tm.readFile(virtual.FIDDG14, 0xDF))
		if err != nil || infos.AA == nil || len(infos.PACE) != 1 {
			t.Errorf("DG14: %+v %v", infos, err)
		}
	}
}

func TestFace(t *testing.T) {
	c, err := virtual.NewCard(virtual.Synthetic(0))
	if err != nil {
		t.Fatal(err)
	}
	dg2, _ := c.File(virtual.FIDDG2)
	i := bytes.Index(dg2, []byte("FAC\x00010\x00"))
	if i < 0 {
		t.Fatal("no ISO 19794-5 record in DG2")
	}
	rec := dg2[i:]
	img := rec[14+20+12:]
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(img))
	if err != nil || cfg.Width != 240 || cfg.Height != 320 {
		t.Errorf("face JPEG: %+v %v", cfg, err)
	}
	if rec[14+20] != 1 || rec[14+21] != 0 {
		t.Errorf("image type %d data type %d", rec[14+20], rec[14+21])
	}
}

func TestStallAndRemove(t *testing.T) {
	c, _ := virtual.NewCard(func() virtual.Profile { p := virtual.Synthetic(0); p.Options.StallAfter = 2; return p }())
	c.Transmit(selectApp.Bytes())
	done := make(chan error, 1)
	go func() { _, err := c.Transmit(selectApp.Bytes()); done <- err }()
	select {
	case <-done:
		t.Fatal("stalled command returned")
	case <-time.After(50 * time.Millisecond):
	}
	c.Unstall()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	c.Remove()
	if _, err := c.Transmit(selectApp.Bytes()); !errors.Is(err, virtual.ErrRemoved) {
		t.Errorf("after Remove: %v", err)
	}
	c2, _ := virtual.NewCard(func() virtual.Profile { p := virtual.Synthetic(0); p.Options.RemoveAfter = 2; return p }())
	c2.Transmit(selectApp.Bytes())
	if _, err := c2.Transmit(selectApp.Bytes()); !errors.Is(err, virtual.ErrRemoved) {
		t.Errorf("RemoveAfter: %v", err)
	}
	select {
	case <-c2.Removed():
	default:
		t.Error("Removed not closed")
	}
}

func FuzzTransmit(f *testing.F) {
	f.Add(selectApp.Bytes())
	f.Add(selectEF(virtual.FIDCardAccess).Bytes())
	f.Add(readBinary(0, 256).Bytes())
	f.Add([]byte{0x00, 0x84, 0x00, 0x00, 0x08})
	f.Add([]byte{0x10, 0x86, 0x00, 0x00, 0x02, 0x7C, 0x00, 0x00})
	f.Add([]byte{0x0C, 0xB0, 0x00, 0x00, 0x0D, 0x97, 0x01, 0x04, 0x8E, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0x00})
	f.Add([]byte{0x00, 0x22, 0xC1, 0xA4, 0x0F, 0x80, 0x0A, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04, 0x02, 0x02, 0x83, 0x01, 0x02})
	pki, err := virtual.NewPKI()
	if err != nil {
		f.Fatal(err)
	}
	p := virtual.Synthetic(0)
	p.Options.PKI = pki
	c, err := virtual.NewCard(p)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, cmd []byte) {
		r, err := c.Transmit(cmd)
		if err != nil || len(r) < 2 {
			t.Fatalf("response % X, %v", r, err)
		}
	})
}

func TestATRAndATRInfo(t *testing.T) {
	for _, short := range []bool{false, true} {
		tm := newTerm(t, virtual.Options{ShortOnly: short})
		atr := tm.c.ATR()
		tck := byte(0)
		for _, b := range atr[1:] {
			tck ^= b
		}
		if tck != 0 {
			t.Errorf("ATR % X: bad TCK", atr)
		}
		// card capabilities: compact-TLV 73, third byte bit 7 = extended Lc/Le
		i := bytes.Index(atr, []byte{0x80, 0x73})
		if i < 0 || (atr[i+4]&0x40 != 0) == short {
			t.Errorf("short=%v: ATR % X", short, atr)
		}
		// EF.ATR/INFO by SFI 01 at MF level, in plain.
		r := tm.plain(emrtd.Command{INS: 0xB0, P1: 0x81, Ne: 256})
		if short {
			tm.mustSW("EF.ATR/INFO on a short-only card", r, 0x6A82)
			tm.mustSW("extended APDU", tm.plain(emrtd.Command{INS: 0xB0, P1: 0x9C, Ne: 1000}), 0x6700)
			continue
		}
		if _, ok := emrtd.FindTLV(r.Data, 0x7F66); !ok || r.SW != 0x6282 {
			t.Errorf("EF.ATR/INFO: % X %04X", r.Data, r.SW)
		}
	}
}

func TestDemoCardAndQR(t *testing.T) {
	path := t.TempDir() + "/csca.pem"
	c, err := virtual.DemoCard(1, path)
	if err != nil {
		t.Fatal(err)
	}
	store, err := emrtd.LoadCSCAStore(path)
	if err != nil || store.Len() != 1 {
		t.Fatalf("CSCA store from the demo file: %v", err)
	}
	q := c.Profile().QR()
	fields := bytes.Split([]byte(q), []byte("|"))
	if len(fields) != 7 || string(fields[0]) != "079085004321" || string(fields[3]) != "02111985" ||
		string(fields[4]) != "Nam" || string(fields[6]) != "01082024" {
		t.Errorf("QR %q", q)
	}
	id, err := cccd.ParseQR(q)
	if err != nil || id.CitizenID != c.Profile().CitizenID || id.Name != c.Profile().Name {
		t.Errorf("cccd.ParseQR: %+v %v", id, err)
	}
}
