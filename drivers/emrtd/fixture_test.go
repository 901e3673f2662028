package emrtd

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"math/big"
	mrand "math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

// A synthetic CCCD holder (not a real person).
const (
	testID     = "079200001234"
	testCAN    = "001234"
	testDocNum = "200001234"
	testBirth  = "900512"
	testExpiry = "300512"
)

func testKey() Key {
	return Key{CAN: testCAN, DocumentNumber: testDocNum, BirthDate: testBirth, ExpiryDate: testExpiry}
}

func td1MRZ() string {
	opt := testID + "<<"
	opt += string(CheckDigit(opt))
	l1 := "IDVNM" + testDocNum + string(CheckDigit(testDocNum)) + opt
	l2 := testBirth + string(CheckDigit(testBirth)) + "M" + testExpiry + string(CheckDigit(testExpiry)) + "VNM" + strings.Repeat("<", 11)
	l2 += string(CheckDigit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]))
	l3 := "NGUYEN<<VAN<AN"
	l3 += strings.Repeat("<", 30-len(l3))
	return l1 + l2 + l3
}

// fixture is the content and keys of one synthetic chip.
type fixture struct {
	files     map[uint16][]byte
	csca      *CSCAStore
	cscaDER   []byte
	aaEC      []byte
	aaCurve   *Curve
	caPriv    []byte
	caCurve   *Curve
	faceJPEG  []byte
	dsKey     *ecdsa.PrivateKey
	dsCertDER []byte
}

var (
	fixtureOnce sync.Once
	theFixture  *fixture
)

// testFixture builds (once) a chip with COM, DG1, DG2 (a ~15 kB JPEG in an
// ISO 19794-5 record), DG13, DG14 (CA on brainpoolP256r1, AA ECDSA), DG15
// (AA key on P-256) and an SOD signed by a test document signer under a
// test CSCA.
func testFixture(t testing.TB) *fixture {
	fixtureOnce.Do(func() { theFixture = buildFixture(t) })
	return theFixture
}

func noiseJPEG(t testing.TB, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := mrand.New(mrand.NewPCG(1, 2))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(r.IntN(256)), uint8(y * 255 / h), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 70}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// faceRecord wraps an image in an ISO/IEC 19794-5 facial record and DG2.
func buildDG2(img []byte, dataType byte, w, h int) []byte {
	var rec bytes.Buffer
	block := 20 + 12 + len(img)
	rec.WriteString("FAC\x00010\x00")
	binary.Write(&rec, binary.BigEndian, uint32(14+block))
	binary.Write(&rec, binary.BigEndian, uint16(1))
	binary.Write(&rec, binary.BigEndian, uint32(block))
	rec.Write(make([]byte, 2+1+1+1+3+2+3+3)) // no feature points, unspecified attributes
	rec.Write([]byte{1, dataType})
	binary.Write(&rec, binary.BigEndian, uint16(w))
	binary.Write(&rec, binary.BigEndian, uint16(h))
	rec.Write([]byte{1, 2, 0, 0, 0, 0})
	rec.Write(img)
	bht := EncodeTLV(0xA1, EncodeTLV(0x80, []byte{1, 1}))
	inst := EncodeTLV(0x7F60, append(bht, EncodeTLV(0x5F2E, rec.Bytes())...))
	group := EncodeTLV(0x7F61, append(EncodeTLV(0x02, []byte{1}), inst...))
	return EncodeTLV(0x75, group)
}

func buildDG13() []byte {
	field := func(n int, v string, tag uint32) []byte {
		return EncodeTLV(0x30, append(EncodeTLV(0x02, []byte{byte(n)}), EncodeTLV(tag, []byte(v))...))
	}
	oid, _ := asn1.Marshal(asn1.ObjectIdentifier{1, 0, 10646, 1, 0, 8})
	set := EncodeTLV(0x31, bytes.Join([][]byte{
		field(1, testID, 0x13), field(2, "Nguyễn Văn An", 0x0C), field(3, "12/05/1990", 0x13),
	}, nil))
	return EncodeTLV(0x6D, EncodeTLV(0x30, bytes.Join([][]byte{EncodeTLV(0x02, []byte{1}), oid, set}, nil)))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func buildFixture(t testing.TB) *fixture {
	f := &fixture{files: map[uint16][]byte{}}
	f.faceJPEG = noiseJPEG(t, 120, 160)
	f.files[FIDDG(1)] = EncodeTLV(0x61, EncodeTLV(0x5F1F, []byte(td1MRZ())))
	f.files[FIDDG(2)] = buildDG2(f.faceJPEG, 0, 120, 160)
	f.files[FIDDG(13)] = buildDG13()
	f.files[FIDCOM] = EncodeTLV(0x60, bytes.Join([][]byte{
		EncodeTLV(0x5F01, []byte("0107")), EncodeTLV(0x5F36, []byte("040000")),
		EncodeTLV(0x5C, []byte{0x61, 0x75, 0x63, 0x6D, 0x6E, 0x6F}),
	}, nil))

	// Chip Authentication on brainpoolP256r1 (AES-128), AA with ECDSA P-256.
	f.caCurve = BrainpoolP256r1()
	var caPub Point
	f.caPriv, caPub, _ = f.caCurve.GenerateKey(rand.Reader)
	f.aaCurve = P256()
	var aaPub Point
	f.aaEC, aaPub, _ = f.aaCurve.GenerateKey(rand.Reader)
	caSPKI := must(MarshalPublicKeyInfo(f.caCurve, caPub))
	aaSPKI := must(MarshalPublicKeyInfo(f.aaCurve, aaPub))
	seq := func(parts ...[]byte) []byte { return EncodeTLV(0x30, bytes.Join(parts, nil)) }
	oidDER := func(o asn1.ObjectIdentifier) []byte { return must(asn1.Marshal(o)) }
	one := EncodeTLV(0x02, []byte{1})
	f.files[FIDDG(14)] = EncodeTLV(0x6E, EncodeTLV(0x31, bytes.Join([][]byte{
		seq(oidDER(CAOID(true, AES128)), one),
		seq(oidDER(oidPKECDH), caSPKI),
		seq(oidDER(oidAA), one, oidDER(asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2})),
	}, nil)))
	f.files[FIDDG(15)] = EncodeTLV(0x6F, aaSPKI)

	// Test PKI: CSCA → document signer, ECDSA P-256.
	cscaKey := must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	now := time.Now()
	cscaTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{Country: []string{"VN"}, CommonName: "tiepdon test CSCA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, SubjectKeyId: []byte{1, 2, 3, 4},
	}
	f.cscaDER = must(x509.CreateCertificate(rand.Reader, cscaTmpl, cscaTmpl, cscaKey.Public(), cscaKey))
	cscaCert := must(x509.ParseCertificate(f.cscaDER))
	f.dsKey = must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	dsTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(77), Subject: pkix.Name{Country: []string{"VN"}, CommonName: "tiepdon test document signer"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
	}
	f.dsCertDER = must(x509.CreateCertificate(rand.Reader, dsTmpl, cscaCert, f.dsKey.Public(), cscaKey))
	f.files[FIDSOD] = buildSOD(f.files, f.dsCertDER, func(msg []byte) ([]byte, []byte) {
		h := sha256.Sum256(msg)
		return must(ecdsa.SignASN1(rand.Reader, f.dsKey, h[:])), algID(asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2})
	})
	f.csca = NewCSCAStore()
	must(f.csca.AddBytes(f.cscaDER))
	return f
}

// algID encodes an AlgorithmIdentifier without parameters.
func algID(oid asn1.ObjectIdentifier) []byte { return EncodeTLV(0x30, must(asn1.Marshal(oid))) }

// buildSOD signs SHA-256 hashes of the data groups in files; sign returns
// the signature and its DER AlgorithmIdentifier; extra are more signed
// attributes (DER Attribute SEQUENCEs).
func buildSOD(files map[uint16][]byte, certDER []byte, sign func([]byte) ([]byte, []byte), extra ...[]byte) []byte {
	seq := func(parts ...[]byte) []byte { return EncodeTLV(0x30, bytes.Join(parts, nil)) }
	oidDER := func(o asn1.ObjectIdentifier) []byte { return must(asn1.Marshal(o)) }
	sha256ID := seq(oidDER(asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}))
	var hashes [][]byte
	for n := 1; n <= 16; n++ {
		b, ok := files[FIDDG(n)]
		if !ok {
			continue
		}
		h := sha256.Sum256(b)
		hashes = append(hashes, seq(EncodeTLV(0x02, []byte{byte(n)}), EncodeTLV(0x04, h[:])))
	}
	eContent := seq(EncodeTLV(0x02, []byte{0}), sha256ID, seq(hashes...))
	return EncodeTLV(0x77, signedData(oidLDSSecurityObject, eContent, certDER, sign, extra...))
}

// signedData returns a CMS ContentInfo holding SignedData over eContent of
// type ct, signed with SHA-256 signed attributes (content type, message
// digest, then extra) by sign; certDER is the signer's certificate and any
// more certificates after it.
func signedData(ct asn1.ObjectIdentifier, eContent []byte, certDER []byte, sign func([]byte) ([]byte, []byte), extra ...[]byte) []byte {
	seq := func(parts ...[]byte) []byte { return EncodeTLV(0x30, bytes.Join(parts, nil)) }
	set := func(parts ...[]byte) []byte { return EncodeTLV(0x31, bytes.Join(parts, nil)) }
	oidDER := func(o asn1.ObjectIdentifier) []byte { return must(asn1.Marshal(o)) }
	sha256ID := seq(oidDER(asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}))
	md := sha256.Sum256(eContent)
	attrs := bytes.Join(append([][]byte{
		seq(oidDER(oidAttrContentType), set(oidDER(ct))),
		seq(oidDER(oidAttrMessageDigest), set(EncodeTLV(0x04, md[:]))),
	}, extra...), nil)
	sig, sigAlg := sign(EncodeTLV(0x31, attrs))
	first, _, _ := ParseTLV(certDER)
	cert := must(ParseCertificate(first.Raw))
	signer := seq(
		EncodeTLV(0x02, []byte{1}),
		seq(cert.RawIssuer, must(asn1.Marshal(cert.SerialNumber))),
		sha256ID,
		EncodeTLV(0xA0, attrs),
		sigAlg,
		EncodeTLV(0x04, sig),
	)
	signedData := seq(
		EncodeTLV(0x02, []byte{3}),
		set(sha256ID),
		seq(oidDER(ct), EncodeTLV(0xA0, EncodeTLV(0x04, eContent))),
		EncodeTLV(0xA0, certDER),
		set(signer),
	)
	return seq(oidDER(oidSignedData), EncodeTLV(0xA0, signedData))
}

// cardAccess returns EF.CardAccess naming one PACE protocol.
func cardAccess(c Cipher, paramID int) []byte {
	oid := must(asn1.Marshal(PACEOID(true, MappingGM, c)))
	return EncodeTLV(0x31, EncodeTLV(0x30, bytes.Join([][]byte{oid, EncodeTLV(0x02, []byte{2}), EncodeTLV(0x02, []byte{byte(paramID)})}, nil)))
}

// newTestCard returns a chip over the fixture, offering PACE with c on the
// given curve, with extended length.
func newTestCard(t testing.TB, c Cipher, paramID int) *testCard {
	f := testFixture(t)
	files := make(map[uint16][]byte, len(f.files))
	for k, v := range f.files {
		files[k] = v
	}
	return &testCard{
		can: testCAN, mrz: Key{DocumentNumber: testDocNum, BirthDate: testBirth, ExpiryDate: testExpiry},
		access: cardAccess(c, paramID), files: files, extended: true,
		// Extended length information: commands and responses up to 4 kB.
		atrInfo: EncodeTLV(0x7F66, append(EncodeTLV(0x02, []byte{0x10, 0x00}), EncodeTLV(0x02, []byte{0x10, 0x00})...)),
		aaEC:    f.aaEC, aaCurve: f.aaCurve, caPriv: f.caPriv, caCurve: f.caCurve, caCipher: AES128,
		rand: rand.Reader,
	}
}

var _ = rsa.GenerateKey
