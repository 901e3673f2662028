package emrtd

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"
)

// PublicKey is an RSA or elliptic-curve public key from a certificate, DG14
// or DG15. EC keys may be on any curve, named or explicit (brainpool
// included), which crypto/x509 cannot parse.
type PublicKey struct {
	RSA   *rsa.PublicKey
	Curve *Curve
	Point Point
}

var (
	oidRSA    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidRSAPSS = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidPrime  = asn1.ObjectIdentifier{1, 2, 840, 10045, 1, 1}
)

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type subjectPublicKeyInfo struct {
	Algorithm algorithmIdentifier
	PublicKey asn1.BitString
}

type ecParameters struct {
	Version int
	FieldID struct {
		FieldType asn1.ObjectIdentifier
		Prime     *big.Int
	}
	Curve struct {
		A, B []byte
		Seed asn1.BitString `asn1:"optional"`
	}
	Base     []byte
	Order    *big.Int
	Cofactor *big.Int `asn1:"optional"`
}

// ParsePublicKeyInfo parses a SubjectPublicKeyInfo, DER or BER (RSA, RSA-PSS, or EC
// with a named curve or explicit parameters; id-PK-ECDH is read as EC).
func ParsePublicKeyInfo(der []byte) (*PublicKey, error) {
	if d, err := toDER(der); err == nil {
		der = d // DG15 and DG14 keys may come in BER
	}
	var spki subjectPublicKeyInfo
	rest, err := asn1.Unmarshal(der, &spki)
	if err != nil {
		return nil, malformed("SubjectPublicKeyInfo: %v", err)
	}
	if len(rest) > 0 {
		return nil, malformed("SubjectPublicKeyInfo: trailing bytes")
	}
	alg := spki.Algorithm.Algorithm
	key := spki.PublicKey.RightAlign()
	switch {
	case alg.Equal(oidRSA) || alg.Equal(oidRSAPSS):
		k, err := x509.ParsePKCS1PublicKey(key)
		if err != nil {
			return nil, malformed("RSA public key: %v", err)
		}
		return &PublicKey{RSA: k}, nil
	case alg.Equal(oidECPubKey) || alg.Equal(oidPKECDH):
		c, err := parseECParams(spki.Algorithm.Parameters)
		if err != nil {
			return nil, err
		}
		p, err := c.Unmarshal(key)
		if err != nil {
			return nil, fmt.Errorf("EC public key: %w", err)
		}
		return &PublicKey{Curve: c, Point: p}, nil
	}
	return nil, fmt.Errorf("emrtd: unsupported public key algorithm %v", alg)
}

func parseECParams(raw asn1.RawValue) (*Curve, error) {
	if len(raw.FullBytes) == 0 {
		return nil, malformed("EC key without domain parameters")
	}
	if raw.Tag == asn1.TagOID {
		var oid asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(raw.FullBytes, &oid); err != nil {
			return nil, malformed("EC curve OID: %v", err)
		}
		c := CurveByOID(oid)
		if c == nil {
			return nil, fmt.Errorf("emrtd: unsupported curve %v", oid)
		}
		return c, nil
	}
	var ep ecParameters
	if _, err := asn1.Unmarshal(raw.FullBytes, &ep); err != nil {
		return nil, malformed("explicit EC parameters: %v", err)
	}
	if !ep.FieldID.FieldType.Equal(oidPrime) || ep.FieldID.Prime == nil || ep.FieldID.Prime.Sign() <= 0 ||
		ep.Order == nil || ep.Order.Sign() <= 0 || ep.FieldID.Prime.BitLen() > 1024 {
		return nil, malformed("explicit EC parameters: not a prime field")
	}
	if !ep.FieldID.Prime.ProbablyPrime(16) || !ep.Order.ProbablyPrime(16) {
		return nil, malformed("explicit EC parameters: modulus or order not prime")
	}
	tmp := &Curve{P: ep.FieldID.Prime, A: new(big.Int).SetBytes(ep.Curve.A), B: new(big.Int).SetBytes(ep.Curve.B), N: ep.Order}
	g, err := tmp.Unmarshal(ep.Base)
	if err != nil {
		return nil, fmt.Errorf("explicit EC base point: %w", err)
	}
	return curveByParams(tmp.P, tmp.A, tmp.B, ep.Order, ep.Cofactor, g), nil
}

// MarshalPublicKeyInfo encodes an EC key as SubjectPublicKeyInfo with a
// named curve (used by test cards and DG14 builders).
func MarshalPublicKeyInfo(c *Curve, p Point) ([]byte, error) {
	if c.OID == nil {
		return nil, fmt.Errorf("emrtd: curve %s has no OID", c.Name)
	}
	params, err := asn1.Marshal(c.OID)
	if err != nil {
		return nil, err
	}
	pt := c.Marshal(p)
	return asn1.Marshal(subjectPublicKeyInfo{
		Algorithm: algorithmIdentifier{Algorithm: oidECPubKey, Parameters: asn1.RawValue{FullBytes: params}},
		PublicKey: asn1.BitString{Bytes: pt, BitLength: 8 * len(pt)},
	})
}
