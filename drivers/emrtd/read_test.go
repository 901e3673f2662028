package emrtd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/tiepdon/tiepdon/agent/patient"
)

func TestReadPACE(t *testing.T) {
	f := testFixture(t)
	for _, tc := range []struct {
		name    string
		cipher  Cipher
		paramID int
		key     Key
	}{
		{"P-256 AES-128 CAN", AES128, 12, Key{CAN: testCAN}},
		{"brainpoolP256r1 AES-256 CAN", AES256, 13, Key{CAN: testCAN}},
		{"brainpoolP384r1 AES-192 MRZ", AES192, 16, Key{DocumentNumber: testDocNum, BirthDate: testBirth, ExpiryDate: testExpiry}},
		{"P-384 3DES CAN", TDES, 15, Key{CAN: testCAN}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			card := newTestCard(t, tc.cipher, tc.paramID)
			var steps []string
			verifiedEarly := false
			doc, err := Read(context.Background(), card, tc.key, Options{
				CSCA:     f.csca,
				Progress: func(step string, pct int) { steps = append(steps, step) },
				OnVerified: func(d *Document) {
					verifiedEarly = d.PA.Level == patient.Verified && d.Face == nil && d.DG[13] != nil
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if doc.Protocol != "PACE" {
				t.Errorf("protocol %s", doc.Protocol)
			}
			if doc.MRZ.DocumentNumber != testDocNum || doc.MRZ.OptionalData1[:12] != testID || !doc.MRZ.CheckDigitsOK ||
				doc.MRZ.Format != "TD1" || doc.MRZ.Primary != "NGUYEN" || doc.MRZ.Secondary != "VAN AN" {
				t.Errorf("MRZ = %+v", doc.MRZ)
			}
			if !bytes.Equal(doc.DG13(), f.files[FIDDG(13)]) {
				t.Error("DG13 differs from the chip's")
			}
			if doc.Face == nil || !bytes.Equal(doc.Face.Data, f.faceJPEG) || doc.Face.MIME != "image/jpeg" || doc.Face.Width != 120 {
				t.Fatalf("face = %+v", doc.Face)
			}
			if img, err := doc.Face.Decode(); err != nil || img.Bounds().Dx() != 120 {
				t.Errorf("decode face: %v", err)
			}
			if doc.PA.Level != patient.Verified || len(doc.PA.Matched) != 5 {
				t.Errorf("PA = %+v", doc.PA)
			}
			if !doc.ChipAuth.OK || !doc.ActiveAuth.OK || doc.Clone() != patient.ClonePassed {
				t.Errorf("CA %+v AA %+v", doc.ChipAuth, doc.ActiveAuth)
			}
			if a := doc.Authenticity(); a.Level != patient.Verified || a.Clone != patient.ClonePassed {
				t.Errorf("authenticity %+v", a)
			}
			if !verifiedEarly {
				t.Error("OnVerified did not see verified DG1/DG13/SOD before the photo")
			}
			if steps[0] != "authenticating" || steps[len(steps)-1] != "done" {
				t.Errorf("progress steps %v", steps)
			}
			// Goal: ≤ 12 APDUs from card present to verdict-ready data.
			if doc.VerdictStats.APDUs > 12 {
				t.Errorf("%d APDUs to verdict, want ≤ 12", doc.VerdictStats.APDUs)
			}
		})
	}
}

func TestReadWithoutCSCA(t *testing.T) {
	doc, err := Read(context.Background(), newTestCard(t, AES128, 12), testKey(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if doc.PA.Level != patient.IntactIssuerUnknown || !doc.PA.SignatureOK {
		t.Errorf("PA = %+v", doc.PA)
	}
	// A store holding some other CSCA gives the same verdict.
	other := NewCSCAStore()
	other.Add(must(ParseCertificate(testFixture(t).dsCertDER)))
	doc, err = Read(context.Background(), newTestCard(t, AES128, 12), testKey(), Options{CSCA: other, SkipPhoto: true})
	if err != nil {
		t.Fatal(err)
	}
	if doc.PA.Level != patient.IntactIssuerUnknown {
		t.Errorf("foreign CSCA: PA = %+v", doc.PA)
	}
}

func TestBACFallback(t *testing.T) {
	// PACE refused with 6982: BAC with the MRZ.
	card := newTestCard(t, AES128, 12)
	card.refuse = true
	doc, err := Read(context.Background(), card, testKey(), Options{CSCA: testFixture(t).csca})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Protocol != "BAC" || doc.PA.Level != patient.Verified {
		t.Errorf("protocol %s, PA %+v", doc.Protocol, doc.PA)
	}
	// No EF.CardAccess at all: BAC.
	card = newTestCard(t, AES128, 12)
	card.access = nil
	s, err := Open(context.Background(), card, testKey())
	if err != nil {
		t.Fatal(err)
	}
	if s.Protocol != "BAC" || !errors.Is(s.PACEError, ErrPACERefused) || !errors.Is(s.PACEError, ErrFileNotFound) {
		t.Errorf("protocol %s, PACE error %v", s.Protocol, s.PACEError)
	}
	// PACE refused and only a CAN: no way in.
	card = newTestCard(t, AES128, 12)
	card.refuse = true
	if _, err := Open(context.Background(), card, Key{CAN: testCAN}); !errors.Is(err, ErrNoKey) {
		t.Errorf("CAN only, PACE refused: %v", err)
	}
}

func TestWrongKeys(t *testing.T) {
	card := newTestCard(t, AES128, 13)
	_, err := Open(context.Background(), card, Key{CAN: "999999"})
	if !errors.Is(err, ErrAuthentication) {
		t.Errorf("wrong CAN: %v", err)
	}
	// Wrong CAN but right MRZ: BAC opens it.
	card = newTestCard(t, AES128, 13)
	k := testKey()
	k.CAN = "999999"
	s, err := Open(context.Background(), card, k)
	if err != nil || s.Protocol != "BAC" {
		t.Fatalf("wrong CAN, right MRZ: %v", err)
	}
	card = newTestCard(t, AES128, 13)
	card.refuse = true
	k = testKey()
	k.BirthDate = "900513"
	if _, err := Open(context.Background(), card, k); !errors.Is(err, ErrAuthentication) {
		t.Errorf("wrong MRZ: %v", err)
	}
}

func TestChipEnforcesAccess(t *testing.T) {
	card := newTestCard(t, AES128, 12)
	s := &Session{tx: card, maxShort: 223, opts: SessionOptions{}}
	ctx := context.Background()
	if _, err := s.do(ctx, Command{INS: 0xA4, P1: 0x00, P2: 0x0C, Data: []byte{0x3F, 0x00}}); !errors.Is(err, ErrINSNotSupported) {
		t.Errorf("SELECT MF: %v", err)
	}
	s.do(ctx, Command{INS: 0xA4, P1: 0x04, P2: 0x0C, Data: AID})
	if _, err := s.do(ctx, Command{INS: 0xB0, P1: 0x81, Ne: 256}); !errors.Is(err, ErrSecurityNotSatisfied) {
		t.Errorf("plain read of DG1: %v", err)
	}
	var se *StatusError
	_, err := s.do(ctx, Command{INS: 0xB0, P1: 0x81, Ne: 256})
	if !errors.As(err, &se) || se.SW != 0x6982 {
		t.Errorf("status error %v", err)
	}
}

func TestTamperedDG13(t *testing.T) {
	card := newTestCard(t, AES128, 12)
	dg := append([]byte(nil), card.files[FIDDG(13)]...)
	dg[len(dg)-1] ^= 1
	card.files[FIDDG(13)] = dg
	doc, err := Read(context.Background(), card, testKey(), Options{CSCA: testFixture(t).csca, SkipPhoto: true})
	if err != nil {
		t.Fatal(err)
	}
	if doc.PA.Level != patient.Failed || len(doc.PA.Mismatched) != 1 || doc.PA.Mismatched[0] != 13 {
		t.Errorf("PA = %+v", doc.PA)
	}
	if doc.Authenticity().Level != patient.Failed {
		t.Error("authenticity not failed")
	}
}

func TestCloneChecksFail(t *testing.T) {
	// A chip that signs with another AA key and has another CA key.
	card := newTestCard(t, AES128, 12)
	card.aaEC, _, _ = P256().GenerateKey(card.rand)
	doc, err := Read(context.Background(), card, testKey(), Options{CSCA: testFixture(t).csca, SkipPhoto: true})
	if err != nil {
		t.Fatal(err)
	}
	if doc.ActiveAuth.OK || !errors.Is(doc.ActiveAuth.Err, ErrCloneCheck) || doc.Clone() != patient.CloneFailed {
		t.Errorf("AA = %+v", doc.ActiveAuth)
	}
	if a := doc.Authenticity(); a.Level != patient.Failed {
		t.Errorf("authenticity %+v", a)
	}

	card = newTestCard(t, AES128, 12)
	card.caPriv, _, _ = BrainpoolP256r1().GenerateKey(card.rand)
	doc, err = Read(context.Background(), card, testKey(), Options{CSCA: testFixture(t).csca, SkipPhoto: true})
	if err != nil {
		t.Fatal(err)
	}
	if doc.ChipAuth.OK || !errors.Is(doc.ChipAuth.Err, ErrCloneCheck) || doc.Clone() != patient.CloneFailed {
		t.Errorf("CA = %+v", doc.ChipAuth)
	}
}

func TestExtendedLengthDetection(t *testing.T) {
	full := len(testFixture(t).files[FIDDG(2)])
	for _, tc := range []struct {
		name               string
		chipExt, noATRInfo bool
		noSFI, exactLe     bool
		opt                ExtendedLength
		wantExt            bool
	}{
		{name: "EF.ATR/INFO", chipExt: true, opt: ExtendedAuto, wantExt: true},
		{name: "probe accepted", chipExt: true, noATRInfo: true, opt: ExtendedAuto, wantExt: true},
		{name: "probe refused", noATRInfo: true, opt: ExtendedAuto},
		{name: "EF.ATR/INFO lies", opt: ExtendedAuto},
		{name: "forced off", chipExt: true, opt: ExtendedOff},
		{name: "no SFI", noSFI: true, noATRInfo: true, opt: ExtendedAuto},
		{name: "exact Le only", exactLe: true, noATRInfo: true, opt: ExtendedOff},
	} {
		t.Run(tc.name, func(t *testing.T) {
			card := newTestCard(t, AES128, 12)
			card.extended, card.noSFI, card.exactLe = tc.chipExt, tc.noSFI, tc.exactLe
			if tc.noATRInfo {
				card.atrInfo = nil
			}
			s, err := OpenWithOptions(context.Background(), card, testKey(), SessionOptions{Extended: tc.opt})
			if err != nil {
				t.Fatal(err)
			}
			before := s.Stats.APDUs
			dg2, err := s.ReadFile(context.Background(), FIDDG(2))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(dg2, testFixture(t).files[FIDDG(2)]) {
				t.Fatal("DG2 differs")
			}
			if s.ExtendedLength() != tc.wantExt {
				t.Errorf("extended length = %v", s.ExtendedLength())
			}
			n := s.Stats.APDUs - before
			if tc.wantExt && n > 4 || !tc.wantExt && n < full/223 {
				t.Errorf("%d APDUs for %d bytes", n, full)
			}
		})
	}
}

type removedTx struct {
	tx    *testCard
	after int
	n     int
}

var errRemoved = errors.New("card removed")

func (r *removedTx) Transmit(b []byte) ([]byte, error) {
	r.n++
	if r.n > r.after {
		return nil, errRemoved
	}
	return r.tx.Transmit(b)
}

func TestRemovalMidRead(t *testing.T) {
	for _, after := range []int{0, 3, 9, 14, 20} {
		tx := &removedTx{tx: newTestCard(t, AES128, 12), after: after}
		_, err := Read(context.Background(), tx, testKey(), Options{SessionOptions: SessionOptions{Extended: ExtendedOff}})
		if !errors.Is(err, errRemoved) {
			t.Errorf("removed after %d APDUs: %v", after, err)
		}
	}
}

func TestContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Read(ctx, newTestCard(t, AES128, 12), testKey(), Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

// Decree 13: no CAN, MRZ data or ID in error strings or key logs.
func TestNoPersonalDataInErrors(t *testing.T) {
	secrets := []string{testCAN, "999999", testDocNum, testBirth, testExpiry, testID}
	check := func(what, s string) {
		t.Helper()
		for _, sec := range secrets {
			if strings.Contains(s, sec) {
				t.Errorf("%s leaks %q: %s", what, sec, s)
			}
		}
	}
	card := newTestCard(t, AES128, 12)
	_, err := Open(context.Background(), card, Key{CAN: "999999"})
	check("wrong CAN", fmt.Sprint(err))
	card = newTestCard(t, AES128, 12)
	card.refuse = true
	k := testKey()
	k.BirthDate = "900513"
	_, err = Open(context.Background(), card, k)
	check("wrong MRZ", fmt.Sprint(err))
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("opening", "key", testKey())
	check("slog", buf.String())
	check("String", testKey().String())
}
