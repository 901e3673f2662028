package emrtd

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	_ "crypto/sha1" // registers crypto.SHA1
	"crypto/sha256"
	_ "crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tiepdon/tiepdon/agent/patient"
)

var (
	oidSignedData        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidLDSSecurityObject = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 1}
	oidAttrContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidAttrMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidMGF1              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidAttrSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidSKI               = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidAKI               = asn1.ObjectIdentifier{2, 5, 29, 35}
	oidKeyUsage          = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidBasicConstraints  = asn1.ObjectIdentifier{2, 5, 29, 19}
)

var hashOIDs = []struct {
	oid asn1.ObjectIdentifier
	h   crypto.Hash
}{
	{asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}, crypto.SHA1},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}, crypto.SHA224},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}, crypto.SHA256},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}, crypto.SHA384},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}, crypto.SHA512},
}

func hashByOID(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	for _, h := range hashOIDs {
		if h.oid.Equal(oid) {
			return h.h, true
		}
	}
	return 0, false
}

// signature algorithms: scheme and hash (0 = from the digest algorithm).
type sigScheme int

const (
	schemePKCS1 sigScheme = iota + 1
	schemePSS
	schemeECDSA      // DER SEQUENCE { r, s }
	schemeECDSAPlain // r || s (BSI TR-03111)
)

func sigAlgorithm(oid asn1.ObjectIdentifier) (sigScheme, crypto.Hash, bool) {
	rsa := asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1}
	ec := asn1.ObjectIdentifier{1, 2, 840, 10045, 4}
	plain := asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1}
	switch {
	case hasPrefix(oid, rsa) && len(oid) == 7:
		switch oid[6] {
		case 1:
			return schemePKCS1, 0, true
		case 5:
			return schemePKCS1, crypto.SHA1, true
		case 10:
			return schemePSS, 0, true
		case 11:
			return schemePKCS1, crypto.SHA256, true
		case 12:
			return schemePKCS1, crypto.SHA384, true
		case 13:
			return schemePKCS1, crypto.SHA512, true
		case 14:
			return schemePKCS1, crypto.SHA224, true
		}
	case oid.Equal(append(ec[:len(ec):len(ec)], 1)):
		return schemeECDSA, crypto.SHA1, true
	case hasPrefix(oid, ec) && len(oid) == 7 && oid[5] == 3:
		h := map[int]crypto.Hash{1: crypto.SHA224, 2: crypto.SHA256, 3: crypto.SHA384, 4: crypto.SHA512}[oid[6]]
		return schemeECDSA, h, h != 0
	case oid.Equal(oidECPubKey):
		return schemeECDSA, 0, true
	case hasPrefix(oid, plain) && len(oid) == 11:
		h := map[int]crypto.Hash{1: crypto.SHA1, 2: crypto.SHA224, 3: crypto.SHA256, 4: crypto.SHA384, 5: crypto.SHA512}[oid[10]]
		return schemeECDSAPlain, h, h != 0
	}
	return 0, 0, false
}

type pssParams struct {
	Hash       algorithmIdentifier `asn1:"optional,explicit,tag:0"`
	MGF        algorithmIdentifier `asn1:"optional,explicit,tag:1"`
	SaltLength int                 `asn1:"optional,explicit,tag:2,default:20"`
	Trailer    int                 `asn1:"optional,explicit,tag:3,default:1"`
}

// ErrSignature means a signature did not verify.
var ErrSignature = errors.New("emrtd: signature does not verify")

// verifySignature checks sig over msg with pub under the algorithm alg;
// digest is the hash to use when alg does not name one.
func verifySignature(pub *PublicKey, alg algorithmIdentifier, digest crypto.Hash, msg, sig []byte) error {
	scheme, h, ok := sigAlgorithm(alg.Algorithm)
	if !ok {
		return fmt.Errorf("emrtd: unsupported signature algorithm %v", alg.Algorithm)
	}
	if h == 0 {
		h = digest
	}
	var pss pssParams
	if scheme == schemePSS {
		pss.SaltLength = 20
		if len(alg.Parameters.FullBytes) > 0 {
			if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &pss); err != nil {
				return malformed("RSASSA-PSS parameters: %v", err)
			}
		}
		h = crypto.SHA1
		if pss.Hash.Algorithm != nil {
			if h, ok = hashByOID(pss.Hash.Algorithm); !ok {
				return fmt.Errorf("emrtd: PSS hash %v", pss.Hash.Algorithm)
			}
		}
		if pss.MGF.Algorithm != nil {
			var mh algorithmIdentifier
			if !pss.MGF.Algorithm.Equal(oidMGF1) {
				return fmt.Errorf("emrtd: PSS mask generation %v", pss.MGF.Algorithm)
			}
			if _, err := asn1.Unmarshal(pss.MGF.Parameters.FullBytes, &mh); err != nil {
				return malformed("PSS MGF1 parameters: %v", err)
			}
			if m, _ := hashByOID(mh.Algorithm); m != h {
				return fmt.Errorf("emrtd: PSS with MGF1 hash %v differing from %v", mh.Algorithm, h)
			}
		}
	}
	if h == 0 || !h.Available() {
		return fmt.Errorf("emrtd: no hash for signature algorithm %v", alg.Algorithm)
	}
	hh := h.New()
	hh.Write(msg)
	d := hh.Sum(nil)
	switch scheme {
	case schemePKCS1, schemePSS:
		if pub.RSA == nil {
			return fmt.Errorf("emrtd: RSA signature with a non-RSA key")
		}
		var err error
		if scheme == schemePSS {
			err = rsa.VerifyPSS(pub.RSA, h, d, sig, &rsa.PSSOptions{SaltLength: pss.SaltLength, Hash: h})
		} else {
			err = rsa.VerifyPKCS1v15(pub.RSA, h, d, sig)
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrSignature, err)
		}
		return nil
	case schemeECDSA, schemeECDSAPlain:
		if pub.Curve == nil {
			return fmt.Errorf("emrtd: ECDSA signature with a non-EC key")
		}
		var r, s *big.Int
		if scheme == schemeECDSA {
			var rs struct{ R, S *big.Int }
			if rest, err := asn1.Unmarshal(sig, &rs); err != nil || len(rest) > 0 {
				return fmt.Errorf("%w: ECDSA signature encoding", ErrSignature)
			}
			r, s = rs.R, rs.S
		} else {
			if len(sig) == 0 || len(sig)%2 != 0 {
				return fmt.Errorf("%w: plain ECDSA signature of %d bytes", ErrSignature, len(sig))
			}
			r, s = new(big.Int).SetBytes(sig[:len(sig)/2]), new(big.Int).SetBytes(sig[len(sig)/2:])
		}
		if !pub.Curve.VerifyECDSA(pub.Point, d, r, s) {
			return ErrSignature
		}
		return nil
	}
	return fmt.Errorf("emrtd: unsupported signature scheme")
}

// VerifyECDSA checks an ECDSA signature (r, s) over a message digest with
// public key q. NIST curves go through crypto/ecdsa, others (brainpool)
// through this package's arithmetic.
func (c *Curve) VerifyECDSA(q Point, digest []byte, r, s *big.Int) bool {
	if r == nil || s == nil || r.Sign() <= 0 || s.Sign() <= 0 || r.Cmp(c.N) >= 0 || s.Cmp(c.N) >= 0 || !c.IsOnCurve(q) {
		return false
	}
	var std elliptic.Curve
	switch c.Name {
	case "P-224":
		std = elliptic.P224()
	case "P-256":
		std = elliptic.P256()
	case "P-384":
		std = elliptic.P384()
	case "P-521":
		std = elliptic.P521()
	}
	if std != nil {
		return ecdsa.Verify(&ecdsa.PublicKey{Curve: std, X: q.X, Y: q.Y}, digest, r, s)
	}
	e := hashToInt(digest, c.N)
	w := new(big.Int).ModInverse(s, c.N)
	if w == nil {
		return false
	}
	u1 := new(big.Int).Mul(e, w)
	u1.Mod(u1, c.N)
	u2 := new(big.Int).Mul(r, w)
	u2.Mod(u2, c.N)
	x := c.Add(c.ScalarBaseMult(u1.Bytes()), c.ScalarMult(q, u2.Bytes()))
	if x.IsInfinity() {
		return false
	}
	v := new(big.Int).Mod(x.X, c.N)
	return v.Cmp(r) == 0
}

// SignECDSA signs a digest with private key d (for test chips and test
// document signers on curves crypto/ecdsa lacks). It is not constant time.
func (c *Curve) SignECDSA(rand interface{ Read([]byte) (int, error) }, d []byte, digest []byte) (r, s *big.Int, err error) {
	e := hashToInt(digest, c.N)
	dk := new(big.Int).SetBytes(d)
	for {
		k, _, err := c.GenerateKey(rand)
		if err != nil {
			return nil, nil, err
		}
		p := c.ScalarBaseMult(k)
		r = new(big.Int).Mod(p.X, c.N)
		if r.Sign() == 0 {
			continue
		}
		ki := new(big.Int).ModInverse(new(big.Int).SetBytes(k), c.N)
		s = new(big.Int).Mul(r, dk)
		s.Add(s, e)
		s.Mul(s, ki)
		s.Mod(s, c.N)
		if s.Sign() != 0 {
			return r, s, nil
		}
	}
}

func hashToInt(digest []byte, n *big.Int) *big.Int {
	bits := n.BitLen()
	if len(digest) > (bits+7)/8 {
		digest = digest[:(bits+7)/8]
	}
	e := new(big.Int).SetBytes(digest)
	if excess := len(digest)*8 - bits; excess > 0 {
		e.Rsh(e, uint(excess))
	}
	return e
}

// SOD is a parsed EF.SOD: the LDS security object and its CMS signature.
type SOD struct {
	HashAlgorithm crypto.Hash
	Hashes        map[int][]byte // data-group number → hash
	LDSVersion    string

	eContent       []byte
	eContentType   asn1.ObjectIdentifier
	certs          []*Certificate
	signer         signerInfo
	signedAttrs    []byte // as on the chip, re-tagged as SET for hashing; nil if absent
	signedAttrsDER []byte // the same in DER, when the chip's encoding is not
	digestAlg      crypto.Hash
	messageDigest  []byte
	contentType    asn1.ObjectIdentifier

	// SigningTime is the signingTime attribute (RFC 5652 §11.3), zero
	// when the signer left it out.
	SigningTime time.Time
}

type signerInfo struct {
	sidIssuer []byte
	sidSerial *big.Int
	sidSKI    []byte
	digestAlg algorithmIdentifier
	sigAlg    algorithmIdentifier
	signature []byte
}

type ldsSecurityObject struct {
	Version       int
	HashAlgorithm algorithmIdentifier
	Hashes        []struct {
		Number int
		Hash   []byte
	}
	LDSVersionInfo struct {
		LDSVersion     string
		UnicodeVersion string
	} `asn1:"optional"`
}

// unmarshalBER decodes b into v with encoding/asn1, which reads DER only:
// BER forms (indefinite or long lengths, OCTET STRINGs in segments) are
// re-encoded first. Only parsed values come from the copy; bytes that are
// hashed or verified are taken from the original.
func unmarshalBER(b []byte, v any) error {
	rest, err := asn1.Unmarshal(b, v)
	if err == nil && len(rest) == 0 {
		return nil
	}
	der, derr := toDER(b)
	if derr != nil {
		if err == nil {
			return derr
		}
		return err
	}
	if rest, err = asn1.Unmarshal(der, v); err == nil && len(rest) > 0 {
		err = errors.New("trailing data")
	}
	return err
}

func children(b []byte, tag uint32, what string) ([]TLV, error) {
	t, rest, err := ParseTLV(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if t.Tag != tag || len(rest) > 0 {
		return nil, malformed("%s: tag %X", what, t.Tag)
	}
	return ParseTLVs(t.Value)
}

// ParseSOD parses EF.SOD (tag '77' holding a CMS ContentInfo with
// SignedData over an LDSSecurityObject). It does not verify anything.
func ParseSOD(b []byte) (*SOD, error) {
	if len(b) > 0 && b[0] == 0x77 {
		t, _, err := ParseTLV(b)
		if err != nil {
			return nil, fmt.Errorf("EF.SOD: %w", err)
		}
		b = t.Value
	}
	ci, err := children(b, 0x30, "ContentInfo")
	if err != nil {
		return nil, err
	}
	if len(ci) != 2 || ci[0].Tag != 0x06 || ci[1].Tag != 0xA0 {
		return nil, malformed("ContentInfo shape")
	}
	var ct asn1.ObjectIdentifier
	if err := unmarshalBER(ci[0].Raw, &ct); err != nil || !ct.Equal(oidSignedData) {
		return nil, malformed("ContentInfo type %v", ct)
	}
	s := &SOD{}
	sis, err := s.parseSignedData(ci[1].Value)
	if err != nil {
		return nil, err
	}
	if len(sis) == 0 {
		return nil, malformed("signerInfos")
	}
	if err := s.parseSignerInfo(sis[0]); err != nil {
		return nil, err
	}
	// LDSSecurityObject
	var lso ldsSecurityObject
	if err := unmarshalBER(s.eContent, &lso); err != nil {
		return nil, malformed("LDSSecurityObject: %v", err)
	}
	h, ok := hashByOID(lso.HashAlgorithm.Algorithm)
	if !ok {
		return nil, fmt.Errorf("emrtd: SOD hash algorithm %v", lso.HashAlgorithm.Algorithm)
	}
	s.HashAlgorithm = h
	s.Hashes = make(map[int][]byte, len(lso.Hashes))
	for _, dh := range lso.Hashes {
		if dh.Number < 1 || dh.Number > 16 {
			return nil, malformed("SOD hash for data group %d", dh.Number)
		}
		s.Hashes[dh.Number] = dh.Hash
	}
	s.LDSVersion = lso.LDSVersionInfo.LDSVersion
	return s, nil
}

// parseSignedData reads a CMS SignedData: encapsulated content and
// certificates into s; it returns the SignerInfos.
func (s *SOD) parseSignedData(b []byte) ([]TLV, error) {
	sd, err := children(b, 0x30, "SignedData")
	if err != nil {
		return nil, err
	}
	if len(sd) < 4 || sd[0].Tag != 0x02 || sd[1].Tag != 0x31 || sd[2].Tag != 0x30 {
		return nil, malformed("SignedData shape")
	}
	enc, err := ParseTLVs(sd[2].Value)
	if err != nil || len(enc) != 2 || enc[0].Tag != 0x06 || enc[1].Tag != 0xA0 {
		return nil, malformed("encapContentInfo")
	}
	if err := unmarshalBER(enc[0].Raw, &s.eContentType); err != nil {
		return nil, malformed("eContentType: %v", err)
	}
	oct, _, err := ParseTLV(enc[1].Value)
	if err != nil {
		return nil, malformed("eContent")
	}
	// Primitive or in segments: the content octets are what was signed.
	if s.eContent, err = octets(oct, 0); err != nil {
		return nil, malformed("eContent: %v", err)
	}
	i := 3
	for ; i < len(sd) && sd[i].Tag != 0x31; i++ {
		if sd[i].Tag != 0xA0 {
			continue // CRLs
		}
		certs, err := ParseTLVs(sd[i].Value)
		if err != nil {
			return nil, fmt.Errorf("SignedData certificates: %w", err)
		}
		for _, c := range certs {
			if c.Tag != 0x30 {
				continue // attribute certificates and others
			}
			cert, err := ParseCertificate(c.Raw)
			if err != nil {
				return nil, fmt.Errorf("signer certificate: %w", err)
			}
			s.certs = append(s.certs, cert)
		}
	}
	if i >= len(sd) {
		return nil, malformed("SignedData without signerInfos")
	}
	return ParseTLVs(sd[i].Value)
}

var oidCSCAMasterList = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 2}

// ErrMasterListUntrusted means a CSCA master list's signer was not issued
// by a CSCA already trusted (installed on its own), so its content is not
// trusted either.
var ErrMasterListUntrusted = errors.New("emrtd: the master list's signer is not issued by a trusted CSCA")

// masterListData reads the SignedData of a master list, checking only
// that its content is one.
func masterListData(b []byte) (*SOD, []TLV, error) {
	ci, err := children(b, 0x30, "ContentInfo")
	if err != nil {
		return nil, nil, err
	}
	if len(ci) != 2 || ci[0].Tag != 0x06 || ci[1].Tag != 0xA0 {
		return nil, nil, malformed("ContentInfo shape")
	}
	s := &SOD{}
	sis, err := s.parseSignedData(ci[1].Value)
	if err != nil {
		return nil, nil, err
	}
	if !s.eContentType.Equal(oidCSCAMasterList) {
		return nil, nil, fmt.Errorf("emrtd: CMS content %v is not a CSCA master list", s.eContentType)
	}
	return s, sis, nil
}

// ParseMasterList returns the CSCA certificates of an ICAO CSCA master list
// (ICAO 9303-12 §9: CMS SignedData over a CscaMasterList) after checking
// the list's own signature with its signer certificate, that signer's key
// usage and validity when it signed, and that one of roots (CSCAs trusted
// on their own, e.g. the publishing country's) issued the signer. It also
// returns the signer.
func ParseMasterList(b []byte, roots []*Certificate) ([]*Certificate, *Certificate, error) {
	s, sis, err := masterListData(b)
	if err != nil {
		return nil, nil, err
	}
	if len(sis) == 0 {
		return nil, nil, fmt.Errorf("%w: the master list is not signed", ErrSignature)
	}
	if err := s.parseSignerInfo(sis[0]); err != nil {
		return nil, nil, err
	}
	signer, err := s.verifyCMS(oidCSCAMasterList, "master list")
	if err != nil {
		return nil, signer, fmt.Errorf("master list signature: %w", err)
	}
	if err := signer.usableAs(false); err != nil {
		return nil, signer, fmt.Errorf("master list signer: %w", err)
	}
	if !s.SigningTime.IsZero() && !signer.validAt(s.SigningTime) {
		return nil, signer, fmt.Errorf("master list signer %s was not valid when the list was signed", signer.Subject())
	}
	var trusted bool
	for _, r := range roots {
		if !sameName(r.RawSubject, signer.RawIssuer) || r.usableAs(true) != nil || !r.validAt(signer.NotBefore) {
			continue
		}
		if signer.CheckSignatureFrom(r) == nil {
			trusted = true
			break
		}
	}
	if !trusted {
		return nil, signer, fmt.Errorf("%w (signer %s, issuer %s)", ErrMasterListUntrusted, signer.Subject(), signer.Issuer())
	}
	ml, err := children(s.eContent, 0x30, "CscaMasterList")
	if err != nil || len(ml) != 2 || ml[1].Tag != 0x31 {
		return nil, signer, malformed("CscaMasterList")
	}
	list, err := ParseTLVs(ml[1].Value)
	if err != nil {
		return nil, signer, err
	}
	var out []*Certificate
	for _, c := range list {
		cert, err := ParseCertificate(c.Raw)
		if err != nil {
			continue // a certificate this package cannot read: skip it
		}
		out = append(out, cert)
	}
	return out, signer, nil
}

func (s *SOD) parseSignerInfo(t TLV) error {
	if t.Tag != 0x30 {
		return malformed("SignerInfo tag %X", t.Tag)
	}
	f, err := ParseTLVs(t.Value)
	if err != nil || len(f) < 5 {
		return malformed("SignerInfo shape")
	}
	si := &s.signer
	switch f[1].Tag {
	case 0x30:
		var ias struct {
			Issuer asn1.RawValue
			Serial *big.Int
		}
		if err := unmarshalBER(f[1].Raw, &ias); err != nil {
			return malformed("SignerInfo sid: %v", err)
		}
		si.sidIssuer, si.sidSerial = ias.Issuer.FullBytes, ias.Serial
	case 0x80:
		si.sidSKI = f[1].Value
	default:
		return malformed("SignerInfo sid tag %X", f[1].Tag)
	}
	if err := unmarshalBER(f[2].Raw, &si.digestAlg); err != nil {
		return malformed("SignerInfo digestAlgorithm: %v", err)
	}
	j := 3
	if f[j].Tag == 0xA0 {
		attrs := append([]byte(nil), f[j].Raw...)
		attrs[0] = 0x31
		s.signedAttrs = attrs
		// RFC 5652 §5.4 signs the DER encoding; chips that send BER
		// were signed over either, so both are tried.
		if der, err := toDER(attrs); err == nil && !bytes.Equal(der, attrs) {
			s.signedAttrsDER = der
		}
		list, err := ParseTLVs(f[j].Value)
		if err != nil {
			return malformed("signedAttrs: %v", err)
		}
		for _, a := range list {
			var attr struct {
				Type   asn1.ObjectIdentifier
				Values asn1.RawValue
			}
			if err := unmarshalBER(a.Raw, &attr); err != nil {
				return malformed("signed attribute: %v", err)
			}
			switch {
			case attr.Type.Equal(oidAttrMessageDigest):
				v, _, err := ParseTLV(attr.Values.Bytes)
				if err != nil || v.Tag != 0x04 {
					return malformed("messageDigest attribute")
				}
				s.messageDigest = v.Value
			case attr.Type.Equal(oidAttrSigningTime):
				var st time.Time
				if err := unmarshalBER(attr.Values.Bytes, &st); err == nil {
					s.SigningTime = st
				}
			case attr.Type.Equal(oidAttrContentType):
				if _, err := asn1.Unmarshal(attr.Values.Bytes, &s.contentType); err != nil {
					return malformed("contentType attribute: %v", err)
				}
			}
		}
		j++
	}
	if j+1 >= len(f) || (f[j+1].Tag != 0x04 && f[j+1].Tag != 0x24) {
		return malformed("SignerInfo signature")
	}
	if err := unmarshalBER(f[j].Raw, &si.sigAlg); err != nil {
		return malformed("SignerInfo signatureAlgorithm: %v", err)
	}
	if si.signature, err = octets(f[j+1], 0); err != nil {
		return malformed("SignerInfo signature: %v", err)
	}
	h, ok := hashByOID(si.digestAlg.Algorithm)
	if !ok {
		return fmt.Errorf("emrtd: SignerInfo digest algorithm %v", si.digestAlg.Algorithm)
	}
	s.digestAlg = h
	return nil
}

// Certificates returns the certificates carried in the SOD (normally the
// document signer).
func (s *SOD) Certificates() []*Certificate { return s.certs }

// signerCert returns the certificate named by the SignerInfo.
func (s *SOD) signerCert() *Certificate {
	for _, c := range s.certs {
		if s.signer.sidSKI != nil && bytes.Equal(c.SubjectKeyID, s.signer.sidSKI) {
			return c
		}
		if s.signer.sidSerial != nil && c.SerialNumber.Cmp(s.signer.sidSerial) == 0 && sameName(c.RawIssuer, s.signer.sidIssuer) {
			return c
		}
	}
	if len(s.certs) == 1 {
		return s.certs[0]
	}
	return nil
}

// VerifySignature checks the CMS signature of the SOD with the document
// signer certificate it carries and returns that certificate.
func (s *SOD) VerifySignature() (*Certificate, error) {
	return s.verifyCMS(oidLDSSecurityObject, "SOD")
}

// verifyCMS checks a SignedData whose content must be of type want with
// the signer certificate it carries, and returns that certificate.
func (s *SOD) verifyCMS(want asn1.ObjectIdentifier, what string) (*Certificate, error) {
	cert := s.signerCert()
	if cert == nil {
		return nil, fmt.Errorf("emrtd: %s carries no signer certificate", what)
	}
	if !s.eContentType.Equal(want) {
		return cert, fmt.Errorf("emrtd: %s content type %v", what, s.eContentType)
	}
	msg := s.eContent
	if s.signedAttrs != nil {
		h := s.digestAlg.New()
		h.Write(s.eContent)
		if !bytes.Equal(h.Sum(nil), s.messageDigest) {
			return cert, fmt.Errorf("%w: messageDigest attribute does not match the security object", ErrSignature)
		}
		if s.contentType != nil && !s.contentType.Equal(s.eContentType) {
			return cert, fmt.Errorf("%w: contentType attribute", ErrSignature)
		}
		msg = s.signedAttrs
	}
	err := verifySignature(cert.PublicKey, s.signer.sigAlg, s.digestAlg, msg, s.signer.signature)
	if err != nil && s.signedAttrsDER != nil {
		err = verifySignature(cert.PublicKey, s.signer.sigAlg, s.digestAlg, s.signedAttrsDER, s.signer.signature)
	}
	if err != nil {
		return cert, err
	}
	return cert, nil
}

// Certificate is an X.509 certificate parsed far enough for passive
// authentication, including keys on curves crypto/x509 rejects (brainpool).
type Certificate struct {
	Raw            []byte
	RawTBS         []byte
	RawIssuer      []byte
	RawSubject     []byte
	SerialNumber   *big.Int
	NotBefore      time.Time
	NotAfter       time.Time
	PublicKey      *PublicKey
	SubjectKeyID   []byte
	AuthorityKeyID []byte

	// IsCA and KeyUsage come from the basicConstraints and keyUsage
	// extensions; HasKeyUsage is false when the certificate has none.
	IsCA        bool
	KeyUsage    x509.KeyUsage
	HasKeyUsage bool
	// UnknownCritical lists critical extensions this package does not
	// read: such a certificate must not be trusted (RFC 5280 §4.2).
	UnknownCritical []asn1.ObjectIdentifier

	sigAlg algorithmIdentifier
	sig    []byte
}

// knownExtensions are the extensions whose criticality this package can
// honour: it reads them, or they do not narrow what a CSCA or document
// signer may sign (ICAO 9303-12 §7.1 certificate profiles).
var knownExtensions = []asn1.ObjectIdentifier{
	oidSKI, oidAKI, oidKeyUsage, oidBasicConstraints,
	{2, 5, 29, 16},           // privateKeyUsagePeriod
	{2, 5, 29, 17},           // subjectAltName
	{2, 5, 29, 18},           // issuerAltName
	{2, 5, 29, 31},           // cRLDistributionPoints
	{2, 5, 29, 32},           // certificatePolicies
	{2, 5, 29, 37},           // extKeyUsage (master list signers)
	{2, 23, 136, 1, 1, 6, 2}, // ICAO documentTypeList
}

// Subject returns the subject name as a string (a document signer or CSCA
// name: no personal data).
func (c *Certificate) Subject() string { return nameString(c.RawSubject) }

// Country returns the subject's country (C=) attribute, e.g. "VN", or "".
func (c *Certificate) Country() string {
	var n pkix.RDNSequence
	if _, err := asn1.Unmarshal(c.RawSubject, &n); err != nil {
		return ""
	}
	for _, rdn := range n {
		for _, a := range rdn {
			if a.Type.Equal(asn1.ObjectIdentifier{2, 5, 4, 6}) {
				if v, ok := a.Value.(string); ok {
					return strings.ToUpper(v)
				}
			}
		}
	}
	return ""
}

// Issuer returns the issuer name as a string.
func (c *Certificate) Issuer() string { return nameString(c.RawIssuer) }

func nameString(raw []byte) string {
	var n pkix.RDNSequence
	if _, err := asn1.Unmarshal(raw, &n); err != nil {
		return fmt.Sprintf("%X", raw)
	}
	return n.String()
}

func sameName(a, b []byte) bool {
	return bytes.Equal(a, b) || strings.EqualFold(nameString(a), nameString(b))
}

type extension struct {
	ID       asn1.ObjectIdentifier
	Critical bool `asn1:"optional"`
	Value    []byte
}

// ParseCertificate parses a DER X.509 certificate.
func ParseCertificate(der []byte) (*Certificate, error) {
	var outer struct {
		TBS    asn1.RawValue
		SigAlg algorithmIdentifier
		Sig    asn1.BitString
	}
	rest, err := asn1.Unmarshal(der, &outer)
	if err != nil {
		return nil, malformed("certificate: %v", err)
	}
	if len(rest) > 0 {
		return nil, malformed("certificate: trailing bytes")
	}
	var tbs struct {
		Version  int `asn1:"optional,explicit,default:0,tag:0"`
		Serial   *big.Int
		SigAlg   algorithmIdentifier
		Issuer   asn1.RawValue
		Validity struct {
			NotBefore, NotAfter time.Time
		}
		Subject    asn1.RawValue
		SPKI       asn1.RawValue
		IssuerUID  asn1.BitString `asn1:"optional,tag:1"`
		SubjectUID asn1.BitString `asn1:"optional,tag:2"`
		Extensions []extension    `asn1:"optional,explicit,tag:3"`
	}
	if _, err := asn1.Unmarshal(outer.TBS.FullBytes, &tbs); err != nil {
		return nil, malformed("TBSCertificate: %v", err)
	}
	pub, err := ParsePublicKeyInfo(tbs.SPKI.FullBytes)
	if err != nil {
		return nil, fmt.Errorf("certificate key: %w", err)
	}
	c := &Certificate{
		Raw: der, RawTBS: outer.TBS.FullBytes, RawIssuer: tbs.Issuer.FullBytes, RawSubject: tbs.Subject.FullBytes,
		SerialNumber: tbs.Serial, NotBefore: tbs.Validity.NotBefore, NotAfter: tbs.Validity.NotAfter,
		PublicKey: pub, sigAlg: outer.SigAlg, sig: outer.Sig.RightAlign(),
	}
	for _, e := range tbs.Extensions {
		switch {
		case e.ID.Equal(oidSKI):
			var ski []byte
			if _, err := asn1.Unmarshal(e.Value, &ski); err == nil {
				c.SubjectKeyID = ski
			}
		case e.ID.Equal(oidAKI):
			var aki struct {
				ID []byte `asn1:"optional,tag:0"`
			}
			if _, err := asn1.Unmarshal(e.Value, &aki); err == nil {
				c.AuthorityKeyID = aki.ID
			}
		case e.ID.Equal(oidBasicConstraints):
			var bc struct {
				IsCA bool `asn1:"optional"`
				Len  int  `asn1:"optional,default:-1"`
			}
			if _, err := asn1.Unmarshal(e.Value, &bc); err != nil {
				return nil, malformed("basicConstraints: %v", err)
			}
			c.IsCA = bc.IsCA
		case e.ID.Equal(oidKeyUsage):
			var bits asn1.BitString
			if _, err := asn1.Unmarshal(e.Value, &bits); err != nil {
				return nil, malformed("keyUsage: %v", err)
			}
			for i := 0; i < 9; i++ {
				if bits.At(i) != 0 {
					c.KeyUsage |= 1 << uint(i)
				}
			}
			c.HasKeyUsage = true
		}
		if e.Critical && !slices.ContainsFunc(knownExtensions, e.ID.Equal) {
			c.UnknownCritical = append(c.UnknownCritical, e.ID)
		}
	}
	return c, nil
}

// SHA256Fingerprint returns the SHA-256 of the certificate's DER in
// upper-case hex: the fingerprint national PKDs publish.
func (c *Certificate) SHA256Fingerprint() string {
	sum := sha256.Sum256(c.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// usableAs says why c cannot be trusted as a CA (ca) or as a document or
// list signer, or returns nil.
func (c *Certificate) usableAs(ca bool) error {
	if len(c.UnknownCritical) > 0 {
		return fmt.Errorf("certificate %s has a critical extension this reader does not know (%v)", c.Subject(), c.UnknownCritical[0])
	}
	if ca && c.HasKeyUsage && c.KeyUsage&x509.KeyUsageCertSign == 0 {
		return fmt.Errorf("certificate %s may not sign certificates (keyUsage)", c.Subject())
	}
	if !ca && c.HasKeyUsage && c.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return fmt.Errorf("certificate %s may not sign documents (keyUsage)", c.Subject())
	}
	return nil
}

// validAt reports whether t is within c's validity period.
func (c *Certificate) validAt(t time.Time) bool {
	return !t.Before(c.NotBefore) && !t.After(c.NotAfter)
}

// CheckSignatureFrom verifies that parent signed c.
func (c *Certificate) CheckSignatureFrom(parent *Certificate) error {
	return verifySignature(parent.PublicKey, c.sigAlg, crypto.SHA256, c.RawTBS, c.sig)
}

// PAResult is the outcome of passive authentication.
type PAResult struct {
	// Level is the verdict: patient.Verified, patient.IntactIssuerUnknown
	// or patient.Failed.
	Level patient.AuthLevel
	// Detail says why, for staff and logs (no personal data).
	Detail string
	// Matched lists the data groups whose hash matched the SOD.
	Matched []int
	// Mismatched lists the data groups whose hash did not match.
	Mismatched []int
	// NotInSOD lists data groups read but absent from the SOD.
	NotInSOD []int
	// SignatureOK is true when the SOD signature verified with its
	// document signer certificate.
	SignatureOK bool
	// Signer is the document signer's subject, if known.
	Signer string
	// CSCA is the subject of the CSCA that vouched for the signer, if any.
	CSCA string
}

// PassiveAuth checks the data groups read against EF.SOD (ICAO 9303-11
// §5.1): every data group's hash, the SOD signature with the document
// signer certificate, and that certificate against the CSCA store (nil:
// none). It never returns an error: a broken SOD is a Failed verdict.
func PassiveAuth(sod []byte, dgs map[int][]byte, store *CSCAStore, now time.Time) *PAResult {
	r := &PAResult{}
	fail := func(format string, args ...any) *PAResult {
		r.Level = patient.Failed
		r.Detail = fmt.Sprintf(format, args...)
		return r
	}
	s, err := ParseSOD(sod)
	if err != nil {
		return fail("SOD unreadable: %v", err)
	}
	nums := make([]int, 0, len(dgs))
	for n := range dgs {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	for _, n := range nums {
		want, ok := s.Hashes[n]
		if !ok {
			r.NotInSOD = append(r.NotInSOD, n)
			continue
		}
		h := s.HashAlgorithm.New()
		h.Write(dgs[n])
		if bytes.Equal(h.Sum(nil), want) {
			r.Matched = append(r.Matched, n)
		} else {
			r.Mismatched = append(r.Mismatched, n)
		}
	}
	if len(r.Mismatched) > 0 {
		return fail("data group hash mismatch: DG%v", r.Mismatched)
	}
	if len(r.NotInSOD) > 0 {
		return fail("data groups not covered by the SOD: DG%v", r.NotInSOD)
	}
	ds, err := s.VerifySignature()
	if ds != nil {
		r.Signer = ds.Subject()
	}
	if err != nil {
		if ds == nil {
			r.Level = patient.IntactIssuerUnknown
			r.Detail = "data matches the SOD; no document signer certificate to check its signature"
			return r
		}
		return fail("SOD signature: %v", err)
	}
	r.SignatureOK = true
	if store == nil || store.Len() == 0 {
		r.Level = patient.IntactIssuerUnknown
		r.Detail = "data and SOD signature intact; no CSCA store configured"
		return r
	}
	// Documents outlive their signers: the signer must have been valid
	// when it signed (the signingTime attribute, when present), not now.
	csca, err := store.Verify(ds, s.SigningTime)
	switch {
	case err == nil:
		r.CSCA = csca.Subject()
		r.Level = patient.Verified
		r.Detail = "data, SOD signature and document signer verified against CSCA"
	case errors.Is(err, ErrUnknownIssuer):
		r.Level = patient.IntactIssuerUnknown
		r.Detail = "data and SOD signature intact; issuer not in the CSCA store"
	default:
		return fail("document signer: %v", err)
	}
	return r
}
