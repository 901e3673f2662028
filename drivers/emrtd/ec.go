package emrtd

import (
	"crypto/elliptic"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"
)

// Curve is a short-Weierstrass curve y² = x³ + ax + b over GF(p), with any
// a (brainpool curves have a != -3, which crypto/elliptic cannot do) and a
// generator that can be replaced (PACE generic mapping).
//
// The arithmetic uses math/big in Jacobian coordinates and is not constant
// time.
type Curve struct {
	Name    string
	OID     asn1.ObjectIdentifier // named-curve OID, if any
	P, A, B *big.Int
	N       *big.Int // order of G
	H       *big.Int // cofactor
	G       Point

	// std is crypto/elliptic's implementation of a NIST curve: its
	// constant-time point operations serve any generator, so P-256 PACE
	// runs at native speed (crypto/ecdh cannot take a mapped generator).
	std elliptic.Curve
}

// Point is an affine point; X == nil is the point at infinity.
type Point struct {
	X, Y *big.Int
}

// IsInfinity reports whether p is the point at infinity.
func (p Point) IsInfinity() bool { return p.X == nil }

// Equal reports whether two points are the same.
func (p Point) Equal(q Point) bool {
	if p.IsInfinity() || q.IsInfinity() {
		return p.IsInfinity() == q.IsInfinity()
	}
	return p.X.Cmp(q.X) == 0 && p.Y.Cmp(q.Y) == 0
}

// Size returns the length in bytes of a field element.
func (c *Curve) Size() int { return (c.P.BitLen() + 7) / 8 }

// WithGenerator returns a copy of c whose generator is g (the mapped
// generator of PACE). The order and cofactor are kept.
func (c *Curve) WithGenerator(g Point) *Curve {
	d := *c
	d.G = g
	d.Name = c.Name + " (mapped)"
	return &d
}

// IsOnCurve reports whether p satisfies the curve equation (infinity does not).
func (c *Curve) IsOnCurve(p Point) bool {
	if p.IsInfinity() || p.X.Sign() < 0 || p.Y.Sign() < 0 || p.X.Cmp(c.P) >= 0 || p.Y.Cmp(c.P) >= 0 {
		return false
	}
	y2 := new(big.Int).Mul(p.Y, p.Y)
	y2.Mod(y2, c.P)
	r := new(big.Int).Mul(p.X, p.X)
	r.Add(r, c.A)
	r.Mul(r, p.X)
	r.Add(r, c.B)
	r.Mod(r, c.P)
	return r.Cmp(y2) == 0
}

// Add returns p + q.
func (c *Curve) Add(p, q Point) Point {
	if c.std != nil && c.IsOnCurve(p) && c.IsOnCurve(q) {
		return fromStd(c.std.Add(p.X, p.Y, q.X, q.Y)) //nolint:staticcheck // arbitrary points: see Curve.std
	}
	f := c.newField()
	var r jac
	jp, jq := f.toJac(p), f.toJac(q)
	f.add(&r, &jp, &jq)
	return f.toAffine(&r)
}

func fromStd(x, y *big.Int) Point {
	if x.Sign() == 0 && y.Sign() == 0 {
		return Point{}
	}
	return Point{x, y}
}

// ScalarMult returns k·p, k a big-endian integer. NIST curves use
// crypto/elliptic; others a fixed 4-bit window over math/big in Jacobian
// coordinates (not constant time).
func (c *Curve) ScalarMult(p Point, k []byte) Point {
	if c.std != nil {
		if !c.IsOnCurve(p) {
			return Point{}
		}
		if c.std.Params().Gx.Cmp(p.X) == 0 && c.std.Params().Gy.Cmp(p.Y) == 0 {
			return fromStd(c.std.ScalarBaseMult(k)) //nolint:staticcheck // see Curve.std
		}
		return fromStd(c.std.ScalarMult(p.X, p.Y, k)) //nolint:staticcheck // see Curve.std
	}
	if p.IsInfinity() {
		return Point{}
	}
	f := c.newField()
	return f.toAffine(f.scalarMult(f.toJac(p), new(big.Int).SetBytes(k)))
}

// ScalarBaseMult returns k·G.
func (c *Curve) ScalarBaseMult(k []byte) Point { return c.ScalarMult(c.G, k) }

// Marshal encodes p uncompressed: 04 || X || Y, each of Size bytes.
func (c *Curve) Marshal(p Point) []byte {
	n := c.Size()
	out := make([]byte, 1+2*n)
	out[0] = 4
	p.X.FillBytes(out[1 : 1+n])
	p.Y.FillBytes(out[1+n:])
	return out
}

// ErrPointNotOnCurve is returned for public keys that are not valid points.
var ErrPointNotOnCurve = errors.New("emrtd: point not on curve")

// Unmarshal decodes an uncompressed point and checks it is on the curve
// and not infinity.
func (c *Curve) Unmarshal(b []byte) (Point, error) {
	n := c.Size()
	if len(b) != 1+2*n || b[0] != 4 {
		return Point{}, fmt.Errorf("%w: encoding of %d bytes", ErrPointNotOnCurve, len(b))
	}
	p := Point{new(big.Int).SetBytes(b[1 : 1+n]), new(big.Int).SetBytes(b[1+n:])}
	if !c.IsOnCurve(p) {
		return Point{}, ErrPointNotOnCurve
	}
	return p, nil
}

// GenerateKey returns a random private key in [1, N-1] and its public key
// on c's generator.
func (c *Curve) GenerateKey(rand io.Reader) (priv []byte, pub Point, err error) {
	nb := (c.N.BitLen() + 7) / 8
	buf := make([]byte, nb+8)
	if _, err := io.ReadFull(rand, buf); err != nil {
		return nil, Point{}, fmt.Errorf("generating EC key: %w", err)
	}
	k := new(big.Int).SetBytes(buf)
	nm1 := new(big.Int).Sub(c.N, big.NewInt(1))
	k.Mod(k, nm1)
	k.Add(k, big.NewInt(1))
	priv = k.FillBytes(make([]byte, nb))
	return priv, c.ScalarBaseMult(priv), nil
}

// PublicKey returns priv·G.
func (c *Curve) PublicKey(priv []byte) Point { return c.ScalarBaseMult(priv) }

// ECDH returns priv·pub after checking pub, and fails if the result is
// infinity. The shared secret of ICAO 9303 is the X coordinate, of Size
// bytes (SharedSecret).
func (c *Curve) ECDH(priv []byte, pub Point) (Point, error) {
	if !c.IsOnCurve(pub) {
		return Point{}, ErrPointNotOnCurve
	}
	s := c.ScalarMult(pub, priv)
	if s.IsInfinity() {
		return Point{}, errors.New("emrtd: ECDH result is infinity")
	}
	return s, nil
}

// SharedSecret returns the X coordinate of p as Size bytes.
func (c *Curve) SharedSecret(p Point) []byte { return p.X.FillBytes(make([]byte, c.Size())) }

func hexInt(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 16)
	if !ok {
		panic("emrtd: bad curve constant " + s)
	}
	return v
}

func brainpool(name string, oid asn1.ObjectIdentifier, p, a, b, gx, gy, n string) *Curve {
	return &Curve{Name: name, OID: oid, P: hexInt(p), A: hexInt(a), B: hexInt(b), N: hexInt(n), H: big.NewInt(1),
		G: Point{hexInt(gx), hexInt(gy)}}
}

func fromNIST(name string, oid asn1.ObjectIdentifier, e elliptic.Curve) *Curve {
	pa := e.Params()
	return &Curve{Name: name, OID: oid, P: pa.P, A: new(big.Int).Sub(pa.P, big.NewInt(3)), B: pa.B, N: pa.N,
		H: big.NewInt(1), G: Point{pa.Gx, pa.Gy}, std: e}
}

var curves = sync.OnceValue(func() map[string]*Curve {
	bp := func(n int) asn1.ObjectIdentifier { return asn1.ObjectIdentifier{1, 3, 36, 3, 3, 2, 8, 1, 1, n} }
	m := map[string]*Curve{
		"P-224": fromNIST("P-224", asn1.ObjectIdentifier{1, 3, 132, 0, 33}, elliptic.P224()),
		"P-256": fromNIST("P-256", asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}, elliptic.P256()),
		"P-384": fromNIST("P-384", asn1.ObjectIdentifier{1, 3, 132, 0, 34}, elliptic.P384()),
		"P-521": fromNIST("P-521", asn1.ObjectIdentifier{1, 3, 132, 0, 35}, elliptic.P521()),
		"brainpoolP256r1": brainpool("brainpoolP256r1", bp(7),
			"A9FB57DBA1EEA9BC3E660A909D838D726E3BF623D52620282013481D1F6E5377",
			"7D5A0975FC2C3057EEF67530417AFFE7FB8055C126DC5C6CE94A4B44F330B5D9",
			"26DC5C6CE94A4B44F330B5D9BBD77CBF958416295CF7E1CE6BCCDC18FF8C07B6",
			"8BD2AEB9CB7E57CB2C4B482FFC81B7AFB9DE27E1E3BD23C23A4453BD9ACE3262",
			"547EF835C3DAC4FD97F8461A14611DC9C27745132DED8E545C1D54C72F046997",
			"A9FB57DBA1EEA9BC3E660A909D838D718C397AA3B561A6F7901E0E82974856A7"),
		"brainpoolP320r1": brainpool("brainpoolP320r1", bp(9),
			"D35E472036BC4FB7E13C785ED201E065F98FCFA6F6F40DEF4F92B9EC7893EC28FCD412B1F1B32E27",
			"3EE30B568FBAB0F883CCEBD46D3F3BB8A2A73513F5EB79DA66190EB085FFA9F492F375A97D860EB4",
			"520883949DFDBC42D3AD198640688A6FE13F41349554B49ACC31DCCD884539816F5EB4AC8FB1F1A6",
			"43BD7E9AFB53D8B85289BCC48EE5BFE6F20137D10A087EB6E7871E2A10A599C710AF8D0D39E20611",
			"14FDD05545EC1CC8AB4093247F77275E0743FFED117182EAA9C77877AAAC6AC7D35245D1692E8EE1",
			"D35E472036BC4FB7E13C785ED201E065F98FCFA5B68F12A32D482EC7EE8658E98691555B44C59311"),
		"brainpoolP384r1": brainpool("brainpoolP384r1", bp(11),
			"8CB91E82A3386D280F5D6F7E50E641DF152F7109ED5456B412B1DA197FB71123ACD3A729901D1A71874700133107EC53",
			"7BC382C63D8C150C3C72080ACE05AFA0C2BEA28E4FB22787139165EFBA91F90F8AA5814A503AD4EB04A8C7DD22CE2826",
			"04A8C7DD22CE28268B39B55416F0447C2FB77DE107DCD2A62E880EA53EEB62D57CB4390295DBC9943AB78696FA504C11",
			"1D1C64F068CF45FFA2A63A81B7C13F6B8847A3E77EF14FE3DB7FCAFE0CBD10E8E826E03436D646AAEF87B2E247D4AF1E",
			"8ABE1D7520F9C2A45CB1EB8E95CFD55262B70B29FEEC5864E19C054FF99129280E4646217791811142820341263C5315",
			"8CB91E82A3386D280F5D6F7E50E641DF152F7109ED5456B31F166E6CAC0425A7CF3AB6AF6B7FC3103B883202E9046565"),
		"brainpoolP512r1": brainpool("brainpoolP512r1", bp(13),
			"AADD9DB8DBE9C48B3FD4E6AE33C9FC07CB308DB3B3C9D20ED6639CCA703308717D4D9B009BC66842AECDA12AE6A380E62881FF2F2D82C68528AA6056583A48F3",
			"7830A3318B603B89E2327145AC234CC594CBDD8D3DF91610A83441CAEA9863BC2DED5D5AA8253AA10A2EF1C98B9AC8B57F1117A72BF2C7B9E7C1AC4D77FC94CA",
			"3DF91610A83441CAEA9863BC2DED5D5AA8253AA10A2EF1C98B9AC8B57F1117A72BF2C7B9E7C1AC4D77FC94CADC083E67984050B75EBAE5DD2809BD638016F723",
			"81AEE4BDD82ED9645A21322E9C4C6A9385ED9F70B5D916C1B43B62EEF4D0098EFF3B1F78E2D0D48D50D1687B93B97D5F7C6D5047406A5E688B352209BCB9F822",
			"7DDE385D566332ECC0EABFA9CF7822FDF209F70024A57B1AA000C55B881F8111B2DCDE494A5F485E5BCA4BD88A2763AED1CA2B2FA8F0540678CD1E0F3AD80892",
			"AADD9DB8DBE9C48B3FD4E6AE33C9FC07CB308DB3B3C9D20ED6639CCA70330870553E5C414CA92619418661197FAC10471DB1D381085DDADDB58796829CA90069"),
	}
	return m
})

// P224 returns NIST P-224 (secp224r1, PACE parameter ID 10).
func P224() *Curve { return curves()["P-224"] }

// P256 returns NIST P-256 (secp256r1, PACE parameter ID 12).
func P256() *Curve { return curves()["P-256"] }

// P384 returns NIST P-384 (secp384r1, PACE parameter ID 15).
func P384() *Curve { return curves()["P-384"] }

// P521 returns NIST P-521 (secp521r1, PACE parameter ID 18).
func P521() *Curve { return curves()["P-521"] }

// BrainpoolP256r1 returns brainpoolP256r1 (RFC 5639, PACE parameter ID 13).
func BrainpoolP256r1() *Curve { return curves()["brainpoolP256r1"] }

// BrainpoolP320r1 returns brainpoolP320r1 (PACE parameter ID 14).
func BrainpoolP320r1() *Curve { return curves()["brainpoolP320r1"] }

// BrainpoolP384r1 returns brainpoolP384r1 (PACE parameter ID 16).
func BrainpoolP384r1() *Curve { return curves()["brainpoolP384r1"] }

// BrainpoolP512r1 returns brainpoolP512r1 (PACE parameter ID 17).
func BrainpoolP512r1() *Curve { return curves()["brainpoolP512r1"] }

// CurveByParameterID returns the standardized elliptic curve of a PACE
// domain parameter ID (ICAO 9303-11 §9.5.1), or nil for IDs this package
// does not support (the MODP groups 0-2, and the 192-bit and 224-bit
// brainpool curves).
func CurveByParameterID(id int) *Curve {
	switch id {
	case 10:
		return P224()
	case 12:
		return P256()
	case 13:
		return BrainpoolP256r1()
	case 14:
		return BrainpoolP320r1()
	case 15:
		return P384()
	case 16:
		return BrainpoolP384r1()
	case 17:
		return BrainpoolP512r1()
	case 18:
		return P521()
	}
	return nil
}

// CurveByOID returns the named curve with the given OID, or nil.
func CurveByOID(oid asn1.ObjectIdentifier) *Curve {
	for _, c := range curves() {
		if c.OID.Equal(oid) {
			return c
		}
	}
	return nil
}

// curveByParams returns a named curve with the same p, a, b and G, or a new
// unnamed curve built from explicit parameters.
func curveByParams(p, a, b, n, h *big.Int, g Point) *Curve {
	for _, c := range curves() {
		if c.P.Cmp(p) == 0 && c.A.Cmp(a) == 0 && c.B.Cmp(b) == 0 && c.G.Equal(g) {
			return c
		}
	}
	if h == nil {
		h = big.NewInt(1)
	}
	return &Curve{Name: "explicit", P: p, A: a, B: b, N: n, H: h, G: g}
}
