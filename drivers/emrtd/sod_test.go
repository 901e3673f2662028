package emrtd

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent/patient"
)

func lds(t *testing.T) map[uint16][]byte { return testFixture(t).files }

func dgMap(files map[uint16][]byte, ns ...int) map[int][]byte {
	m := map[int][]byte{}
	for _, n := range ns {
		m[n] = files[FIDDG(n)]
	}
	return m
}

var (
	oidSHA256RSA  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidECDSA256   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidSHA256     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	rsaKey1       = sync.OnceValue(func() *rsa.PrivateKey { return must(rsa.GenerateKey(rand.Reader, 2048)) })
	rsaKey2       = sync.OnceValue(func() *rsa.PrivateKey { return must(rsa.GenerateKey(rand.Reader, 2048)) })
	testValidFrom = time.Now().Add(-time.Hour)
)

func rsaPKI(t *testing.T) (cscaDER, dsDER []byte, dsKey *rsa.PrivateKey) {
	csca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "RSA CSCA", Country: []string{"VN"}},
		NotBefore: testValidFrom, NotAfter: testValidFrom.Add(48 * time.Hour), IsCA: true, BasicConstraintsValid: true}
	cscaDER = must(x509.CreateCertificate(rand.Reader, csca, csca, &rsaKey1().PublicKey, rsaKey1()))
	ds := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "RSA DS", Country: []string{"VN"}},
		NotBefore: testValidFrom, NotAfter: testValidFrom.Add(48 * time.Hour), SignatureAlgorithm: x509.SHA256WithRSAPSS}
	dsDER = must(x509.CreateCertificate(rand.Reader, ds, must(x509.ParseCertificate(cscaDER)), &rsaKey2().PublicKey, rsaKey1()))
	return cscaDER, dsDER, rsaKey2()
}

func TestPassiveAuthRSA(t *testing.T) {
	files := lds(t)
	cscaDER, dsDER, dsKey := rsaPKI(t)
	store := NewCSCAStore()
	store.AddBytes(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cscaDER}))
	pss := must(asn1.Marshal(struct {
		Hash algorithmIdentifier `asn1:"explicit,tag:0"`
		MGF  algorithmIdentifier `asn1:"explicit,tag:1"`
		Salt int                 `asn1:"explicit,tag:2"`
	}{
		algorithmIdentifier{Algorithm: oidSHA256, Parameters: asn1.NullRawValue},
		algorithmIdentifier{Algorithm: oidMGF1, Parameters: asn1.RawValue{FullBytes: must(asn1.Marshal(algorithmIdentifier{Algorithm: oidSHA256, Parameters: asn1.NullRawValue}))}},
		32,
	}))
	for _, tc := range []struct {
		name string
		sign func([]byte) ([]byte, []byte)
	}{
		{"PKCS#1 v1.5", func(m []byte) ([]byte, []byte) {
			h := sha256.Sum256(m)
			return must(rsa.SignPKCS1v15(rand.Reader, dsKey, crypto.SHA256, h[:])), algID(oidSHA256RSA)
		}},
		{"PSS", func(m []byte) ([]byte, []byte) {
			h := sha256.Sum256(m)
			return must(rsa.SignPSS(rand.Reader, dsKey, crypto.SHA256, h[:], &rsa.PSSOptions{SaltLength: 32})),
				EncodeTLV(0x30, append(must(asn1.Marshal(oidRSAPSS)), pss...))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sod := buildSOD(files, dsDER, tc.sign)
			r := PassiveAuth(sod, dgMap(files, 1, 2, 13), store, time.Now())
			if r.Level != patient.Verified || !r.SignatureOK || r.CSCA == "" {
				t.Fatalf("PA = %+v", r)
			}
			if r.Signer != "CN=RSA DS,C=VN" {
				t.Errorf("signer %q", r.Signer)
			}
		})
	}
}

// brainpoolCert builds a certificate with a brainpoolP256r1 key, which
// crypto/x509 can neither create nor parse.
func brainpoolCert(t *testing.T, subject, issuer string, pub Point, signer []byte, serial int64) []byte {
	c := BrainpoolP256r1()
	name := func(cn string) asn1.RawValue {
		return asn1.RawValue{FullBytes: must(asn1.Marshal(pkix.Name{CommonName: cn, Country: []string{"VN"}}.ToRDNSequence()))}
	}
	spki := must(MarshalPublicKeyInfo(c, pub))
	tbs := must(asn1.Marshal(struct {
		Version  int `asn1:"explicit,tag:0"`
		Serial   *big.Int
		Alg      algorithmIdentifier
		Issuer   asn1.RawValue
		Validity struct{ From, To time.Time }
		Subject  asn1.RawValue
		SPKI     asn1.RawValue
	}{2, big.NewInt(serial), algorithmIdentifier{Algorithm: oidECDSA256}, name(issuer),
		struct{ From, To time.Time }{testValidFrom.UTC().Truncate(time.Second), testValidFrom.Add(48 * time.Hour).UTC().Truncate(time.Second)},
		name(subject), asn1.RawValue{FullBytes: spki}}))
	h := sha256.Sum256(tbs)
	r, s := must2(c.SignECDSA(rand.Reader, signer, h[:]))
	sig := must(asn1.Marshal(struct{ R, S *big.Int }{r, s}))
	return must(asn1.Marshal(struct {
		TBS asn1.RawValue
		Alg algorithmIdentifier
		Sig asn1.BitString
	}{asn1.RawValue{FullBytes: tbs}, algorithmIdentifier{Algorithm: oidECDSA256}, asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}}))
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

func TestPassiveAuthBrainpool(t *testing.T) {
	c := BrainpoolP256r1()
	cscaPriv, cscaPub := must2(c.GenerateKey(rand.Reader))
	dsPriv, dsPub := must2(c.GenerateKey(rand.Reader))
	cscaDER := brainpoolCert(t, "BP CSCA", "BP CSCA", cscaPub, cscaPriv, 1)
	dsDER := brainpoolCert(t, "BP DS", "BP CSCA", dsPub, cscaPriv, 2)
	if _, err := x509.ParseCertificate(dsDER); err == nil {
		t.Log("crypto/x509 parsed a brainpool certificate (newer Go?)")
	}
	files := lds(t)
	sign := func(m []byte) ([]byte, []byte) {
		h := sha256.Sum256(m)
		r, s := must2(c.SignECDSA(rand.Reader, dsPriv, h[:]))
		return must(asn1.Marshal(struct{ R, S *big.Int }{r, s})), algID(oidECDSA256)
	}
	sod := buildSOD(files, dsDER, sign)

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "csca.der"), cscaDER, 0o644)
	os.WriteFile(filepath.Join(dir, "other.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: testFixture(t).cscaDER}), 0o644)
	os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not a certificate"), 0o644)
	store, err := LoadCSCAStore(dir)
	if err != nil || store.Len() != 2 {
		t.Fatalf("store: %v, %d", err, store.Len())
	}
	r := PassiveAuth(sod, dgMap(files, 1, 13), store, time.Now())
	if r.Level != patient.Verified || r.CSCA != "CN=BP CSCA,C=VN" {
		t.Fatalf("PA = %+v", r)
	}

	// A DS signed by another brainpool key claiming the same CSCA name.
	fakePriv, _ := must2(c.GenerateKey(rand.Reader))
	forged := brainpoolCert(t, "BP DS", "BP CSCA", dsPub, fakePriv, 2)
	r = PassiveAuth(buildSOD(files, forged, sign), dgMap(files, 1, 13), store, time.Now())
	if r.Level != patient.Failed || !r.SignatureOK {
		t.Errorf("forged DS: %+v", r)
	}
	// A corrupted SOD signature.
	bad := buildSOD(files, dsDER, func(m []byte) ([]byte, []byte) { return sign([]byte("something else")) })
	if r := PassiveAuth(bad, dgMap(files, 1, 13), store, time.Now()); r.Level != patient.Failed || r.SignatureOK {
		t.Errorf("bad signature: %+v", r)
	}
	// A data group the SOD does not cover.
	extra := dgMap(files, 1)
	extra[11] = []byte{0x6B, 0}
	if r := PassiveAuth(sod, extra, store, time.Now()); r.Level != patient.Failed || len(r.NotInSOD) != 1 {
		t.Errorf("uncovered DG: %+v", r)
	}
	// Garbage.
	if r := PassiveAuth([]byte{0x77, 0x01, 0x00}, extra, store, time.Now()); r.Level != patient.Failed {
		t.Errorf("garbage SOD: %+v", r)
	}
}

func TestActiveAuthRSA(t *testing.T) {
	card := newTestCard(t, AES128, 12)
	card.aaEC = nil
	card.aaRSA = rsaKey1()
	spki := must(x509.MarshalPKIXPublicKey(&rsaKey1().PublicKey))
	pub, err := ParseDG15(EncodeTLV(0x6F, spki))
	if err != nil {
		t.Fatal(err)
	}
	challenge := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	sig, sw := card.internalAuth(Command{INS: 0x88, Data: challenge})
	if sw != 0x9000 {
		t.Fatalf("SW %04X", sw)
	}
	if err := VerifyActiveAuth(pub, nil, challenge, sig); err != nil {
		t.Errorf("good signature: %v", err)
	}
	if err := VerifyActiveAuth(pub, nil, []byte{1, 2, 3, 4, 5, 6, 7, 9}, sig); !errors.Is(err, ErrCloneCheck) {
		t.Errorf("other challenge: %v", err)
	}
	other := must(x509.MarshalPKIXPublicKey(&rsaKey2().PublicKey))
	pub2, _ := ParseDG15(EncodeTLV(0x6F, other))
	if err := VerifyActiveAuth(pub2, nil, challenge, sig); !errors.Is(err, ErrCloneCheck) {
		t.Errorf("other key: %v", err)
	}
}

// mlPKI is a master list publisher: a root CSCA and the list signer it
// issued (ECDSA P-256), with the list signer's extra extensions.
type mlPKI struct {
	rootDER, signerDER []byte
	signerKey          *ecdsa.PrivateKey
}

func newMLPKI(t testing.TB, signerExt ...pkix.Extension) mlPKI {
	rootKey := must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	root := &x509.Certificate{SerialNumber: big.NewInt(10), Subject: pkix.Name{Country: []string{"DE"}, CommonName: "test ML root CSCA"},
		NotBefore: testValidFrom, NotAfter: testValidFrom.Add(48 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	p := mlPKI{rootDER: must(x509.CreateCertificate(rand.Reader, root, root, rootKey.Public(), rootKey))}
	p.signerKey = must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	signer := &x509.Certificate{SerialNumber: big.NewInt(11), Subject: pkix.Name{Country: []string{"DE"}, CommonName: "test master list signer"},
		NotBefore: testValidFrom, NotAfter: testValidFrom.Add(48 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature, ExtraExtensions: signerExt}
	p.signerDER = must(x509.CreateCertificate(rand.Reader, signer, must(x509.ParseCertificate(p.rootDER)), p.signerKey.Public(), rootKey))
	return p
}

// list returns a master list of the certificates in cscas, signed by p.
func (p mlPKI) list(cscas ...[]byte) []byte {
	content := EncodeTLV(0x30, append(EncodeTLV(0x02, []byte{0}), EncodeTLV(0x31, bytes.Join(cscas, nil))...))
	return signedData(oidCSCAMasterList, content, p.signerDER, func(m []byte) ([]byte, []byte) {
		h := sha256.Sum256(m)
		return must(ecdsa.SignASN1(rand.Reader, p.signerKey, h[:])), algID(oidECDSA256)
	})
}

// TestCSCAMasterList: a master list's CSCAs are trusted only when its own
// signature verifies and its signer was issued by a CSCA installed on its
// own (the root), and then vouch for document signers.
func TestCSCAMasterList(t *testing.T) {
	fx := testFixture(t)
	_, rsaCSCA, _ := rsaPKI(t)
	pki := newMLPKI(t)
	ml := pki.list(fx.cscaDER, rsaCSCA)
	rootPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pki.rootDER})

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "icao.ml"), ml, 0o644)
	if _, err := LoadCSCAStore(dir); !errors.Is(err, ErrMasterListUntrusted) {
		t.Fatalf("master list without its root: %v, want ErrMasterListUntrusted", err)
	}
	os.WriteFile(filepath.Join(dir, "root.pem"), rootPEM, 0o644) // read before the list, whatever the order
	store, err := LoadCSCAStore(dir)
	if err != nil || store.Len() != 3 {
		t.Fatalf("master list with its root: %v, %d certificates, want 3", err, store.Len())
	}
	r := PassiveAuth(fx.files[FIDSOD], dgMap(fx.files, 1, 2, 13, 14, 15), store, time.Now())
	if r.Level != patient.Verified {
		t.Errorf("PA with the master list = %+v", r)
	}

	// AddBytes takes the roots already in the store.
	s := NewCSCAStore()
	if _, err := s.AddBytes(ml); !errors.Is(err, ErrMasterListUntrusted) {
		t.Errorf("AddBytes without the root: %v", err)
	}
	s.AddBytes(rootPEM)
	if n, err := s.AddBytes(ml); err != nil || n != 2 {
		t.Errorf("AddBytes with the root: %d, %v", n, err)
	}

	// A list changed after signing, signed by an untrusted signer, or by a
	// signer with an unknown critical extension, adds nothing.
	roots := []*Certificate{must(ParseCertificate(pki.rootDER))}
	bad := bytes.Clone(ml)
	i := bytes.Index(bad, fx.cscaDER[len(fx.cscaDER)-20:])
	bad[i] ^= 1
	if c, _, err := ParseMasterList(bad, roots); err == nil || len(c) > 0 {
		t.Errorf("tampered list: %d certificates, %v", len(c), err)
	}
	other := newMLPKI(t)
	if _, _, err := ParseMasterList(other.list(fx.cscaDER), roots); !errors.Is(err, ErrMasterListUntrusted) {
		t.Errorf("list by another publisher: %v", err)
	}
	odd := newMLPKI(t, pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: true, Value: []byte{5, 0}})
	if _, _, err := ParseMasterList(odd.list(fx.cscaDER), []*Certificate{must(ParseCertificate(odd.rootDER))}); err == nil || !strings.Contains(err.Error(), "critical") {
		t.Errorf("signer with an unknown critical extension: %v", err)
	}
	if _, err := NewCSCAStore().AddBytes([]byte("junk")); err == nil {
		t.Error("junk accepted")
	}
}

// TestSignerValidityAndExtensions: a document signer must have been valid
// when it signed (signingTime), issued while its CSCA was valid, and carry
// no critical extension the reader does not know.
func TestSignerValidityAndExtensions(t *testing.T) {
	fx := testFixture(t)
	dgs := dgMap(fx.files, 1, 2, 13)
	cscaKey := must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	cscaTmpl := &x509.Certificate{SerialNumber: big.NewInt(20), Subject: pkix.Name{Country: []string{"VN"}, CommonName: "validity CSCA"},
		NotBefore: testValidFrom, NotAfter: testValidFrom.Add(48 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	cscaDER := must(x509.CreateCertificate(rand.Reader, cscaTmpl, cscaTmpl, cscaKey.Public(), cscaKey))
	store := NewCSCAStore()
	store.AddBytes(cscaDER)
	dsKey := must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	ds := func(from time.Time, ext ...pkix.Extension) []byte {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(21), Subject: pkix.Name{Country: []string{"VN"}, CommonName: "validity DS"},
			NotBefore: from, NotAfter: from.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature, ExtraExtensions: ext}
		return must(x509.CreateCertificate(rand.Reader, tmpl, must(x509.ParseCertificate(cscaDER)), dsKey.Public(), cscaKey))
	}
	sign := func(m []byte) ([]byte, []byte) {
		h := sha256.Sum256(m)
		return must(ecdsa.SignASN1(rand.Reader, dsKey, h[:])), algID(oidECDSA256)
	}
	signedAt := func(at time.Time) []byte {
		return EncodeTLV(0x30, append(must(asn1.Marshal(oidAttrSigningTime)), EncodeTLV(0x31, must(asn1.Marshal(at.UTC())))...))
	}
	for _, tc := range []struct {
		name string
		sod  []byte
		want patient.AuthLevel
		why  string
	}{
		{"signed while valid", buildSOD(fx.files, ds(testValidFrom), sign, signedAt(testValidFrom.Add(time.Hour))), patient.Verified, ""},
		{"no signing time", buildSOD(fx.files, ds(testValidFrom), sign), patient.Verified, ""},
		{"signed after the signer expired", buildSOD(fx.files, ds(testValidFrom), sign, signedAt(testValidFrom.Add(30*time.Hour))), patient.Failed, "not valid when"},
		{"signed before the signer was valid", buildSOD(fx.files, ds(testValidFrom), sign, signedAt(testValidFrom.Add(-time.Hour))), patient.Failed, "not valid when"},
		{"signer issued before its CSCA was valid", buildSOD(fx.files, ds(testValidFrom.Add(-2*time.Hour)), sign), patient.Failed, "not valid when it issued"},
		{"unknown critical extension", buildSOD(fx.files, ds(testValidFrom, pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 2}, Critical: true, Value: []byte{5, 0}}), sign), patient.Failed, "critical"},
		{"unknown extension, not critical", buildSOD(fx.files, ds(testValidFrom, pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 2}, Value: []byte{5, 0}}), sign), patient.Verified, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := PassiveAuth(tc.sod, dgs, store, time.Now())
			if r.Level != tc.want || !strings.Contains(r.Detail, tc.why) {
				t.Fatalf("PA = %s %q, want %s with %q", r.Level, r.Detail, tc.want, tc.why)
			}
		})
	}
}
