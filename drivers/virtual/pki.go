package virtual

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"os"
	"slices"
	"time"
)

// PKI is a test country signing CA (CSCA) and a Document Signer (DS) it
// issued. The virtual card signs its SOD with the DS key; a reader that
// trusts CSCA verifies the card as genuine.
type PKI struct {
	CSCA    *x509.Certificate
	CSCAKey *ecdsa.PrivateKey
	DS      *x509.Certificate
	DSKey   *ecdsa.PrivateKey
}

// NewPKI generates a CSCA (ECDSA P-384) and a DS (ECDSA P-256), valid from
// a day ago for ten years.
func NewPKI() (*PKI, error) {
	cscaKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		return nil, err
	}
	dsKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	csca := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{Country: []string{"VN"}, Organization: []string{"Tiepdon Test"}, CommonName: "Tiepdon Test CSCA"},
		NotBefore:             now.Add(-24 * time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	cscaDER, err := x509.CreateCertificate(rand.Reader, csca, csca, cscaKey.Public(), cscaKey)
	if err != nil {
		return nil, fmt.Errorf("creating CSCA: %w", err)
	}
	if csca, err = x509.ParseCertificate(cscaDER); err != nil {
		return nil, err
	}
	ds := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano() + 1),
		Subject:      pkix.Name{Country: []string{"VN"}, Organization: []string{"Tiepdon Test"}, CommonName: "Tiepdon Test Document Signer"},
		NotBefore:    now.Add(-24 * time.Hour),
		NotAfter:     now.AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	dsDER, err := x509.CreateCertificate(rand.Reader, ds, csca, dsKey.Public(), cscaKey)
	if err != nil {
		return nil, fmt.Errorf("creating DS: %w", err)
	}
	if ds, err = x509.ParseCertificate(dsDER); err != nil {
		return nil, err
	}
	return &PKI{CSCA: csca, CSCAKey: cscaKey, DS: ds, DSKey: dsKey}, nil
}

// CSCAPEM returns the CSCA certificate in PEM form, for a CSCA store.
func (p *PKI) CSCAPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.CSCA.Raw})
}

// WriteCSCA writes the CSCA certificate (PEM) to path.
func (p *PKI) WriteCSCA(path string) error { return os.WriteFile(path, p.CSCAPEM(), 0o644) }

// Object identifiers of the SOD.
var (
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidECDSAWithSHA  = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidLDSSecurity   = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 1}
)

type algorithmID struct {
	Algorithm asn1.ObjectIdentifier
}

type dataGroupHash struct {
	Number int
	Hash   []byte
}

type ldsSecurityObject struct {
	Version       int
	HashAlgorithm algorithmID
	Hashes        []dataGroupHash
}

// SignSOD builds EF.SOD (tag 77): a CMS SignedData (version 3) over an
// LDSSecurityObject holding the SHA-256 hash of each data group, signed by
// the DS with ECDSA-SHA256 over signed attributes (content type, signing
// time, message digest), with the DS certificate included.
func (p *PKI) SignSOD(dataGroups map[int][]byte, rnd io.Reader) ([]byte, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	nums := make([]int, 0, len(dataGroups))
	for n := range dataGroups {
		nums = append(nums, n)
	}
	slices.Sort(nums)
	lso := ldsSecurityObject{HashAlgorithm: algorithmID{oidSHA256}}
	for _, n := range nums {
		h := sha256.Sum256(dataGroups[n])
		lso.Hashes = append(lso.Hashes, dataGroupHash{n, h[:]})
	}
	content, err := asn1.Marshal(lso)
	if err != nil {
		return nil, fmt.Errorf("encoding LDSSecurityObject: %w", err)
	}
	digest := sha256.Sum256(content)

	attr := func(oid asn1.ObjectIdentifier, value []byte) []byte {
		o, _ := asn1.Marshal(oid)
		return tlv(0x30, append(o, tlv(0x31, value)...))
	}
	ctOID, _ := asn1.Marshal(oidLDSSecurity)
	md, _ := asn1.Marshal(digest[:])
	st, _ := asn1.MarshalWithParams(time.Now().UTC().Truncate(time.Second), "utc")
	attrs := [][]byte{attr(oidContentType, ctOID), attr(oidSigningTime, st), attr(oidMessageDigest, md)}
	slices.SortFunc(attrs, bytes.Compare) // DER SET OF order
	signedAttrs := bytes.Join(attrs, nil)

	h := sha256.Sum256(tlv(0x31, signedAttrs))
	sig, err := p.DSKey.Sign(rnd, h[:], crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("signing SOD: %w", err)
	}

	integer := func(n int) []byte { b, _ := asn1.Marshal(n); return b }
	alg := func(oid asn1.ObjectIdentifier) []byte { b, _ := asn1.Marshal(algorithmID{oid}); return b }
	serial, _ := asn1.Marshal(p.DS.SerialNumber)
	octets, _ := asn1.Marshal(sig)

	signerInfo := tlv(0x30, concat(
		integer(1),
		tlv(0x30, concat(p.DS.RawIssuer, serial)),
		alg(oidSHA256),
		tlvN(0xA0, signedAttrs),
		alg(oidECDSAWithSHA),
		octets,
	))
	econtent, _ := asn1.Marshal(content) // OCTET STRING
	ldsOID, _ := asn1.Marshal(oidLDSSecurity)
	signedData := tlv(0x30, concat(
		integer(3),
		tlv(0x31, alg(oidSHA256)),
		tlv(0x30, concat(ldsOID, tlvN(0xA0, econtent))),
		tlvN(0xA0, p.DS.Raw),
		tlv(0x31, signerInfo),
	))
	sdOID, _ := asn1.Marshal(oidSignedData)
	contentInfo := tlv(0x30, concat(sdOID, tlvN(0xA0, signedData)))
	return tlv(0x77, contentInfo), nil
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// tlv encodes a one-byte tag with a DER length.
func tlv(tag byte, v []byte) []byte { return tlvN(uint16(tag), v) }

// tlvN encodes a one- or two-byte tag with a DER length.
func tlvN(tag uint16, v []byte) []byte {
	out := make([]byte, 0, len(v)+6)
	if tag > 0xFF {
		out = append(out, byte(tag>>8))
	}
	out = append(out, byte(tag))
	switch n := len(v); {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	case n < 0x10000:
		out = append(out, 0x82, byte(n>>8), byte(n))
	default:
		out = append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, v...)
}
