package virtual

import (
	"crypto/ecdsa"
	"crypto/sha1"
	"crypto/sha256"
	"io"
	"math/big"

	"github.com/tiepdon/tiepdon/drivers/emrtd"
)

// INTERNAL AUTHENTICATE is Active Authentication (ICAO 9303-11 §6.1): an
// ECDSA-SHA256 signature over the challenge in plain r||s, or with an RSA
// key (Options.AARSA) an ISO/IEC 9796-2 digital signature scheme 1
// signature (SHA-1, trailer 'BC', partial message recovery).
func (c *Card) internalAuthenticate(cmd emrtd.Command, protected bool) ([]byte, uint16) {
	if !protected {
		return nil, swSecurityNotSatisfed
	}
	if len(cmd.Data) != 8 {
		return nil, swWrongData
	}
	var sig []byte
	var err error
	if c.aaRSA != nil {
		sig, err = c.signISO9796(cmd.Data)
	} else {
		sig, err = c.signECDSA(cmd.Data)
	}
	if err != nil {
		return nil, swConditionsNotMet
	}
	c.stats.AA++
	return sig, swOK
}

func (c *Card) signECDSA(challenge []byte) ([]byte, error) {
	h := sha256.Sum256(challenge)
	r, s, err := ecdsa.Sign(c.rand, c.aaKey, h[:])
	if err != nil {
		return nil, err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return sig, nil
}

// signISO9796 builds M = '6A' || M1 || SHA-1(M1 || challenge) || 'BC' with
// a random M1 filling the modulus, and returns M^d mod n.
func (c *Card) signISO9796(challenge []byte) ([]byte, error) {
	k := c.aaRSA.Size()
	m := make([]byte, k)
	m[0] = 0x6A
	m1 := m[1 : k-21]
	if _, err := io.ReadFull(c.rand, m1); err != nil {
		return nil, err
	}
	h := sha1.New()
	h.Write(m1)
	h.Write(challenge)
	copy(m[k-21:k-1], h.Sum(nil))
	if c.p.Options.WrongAAKey {
		m[k-2] ^= 0x01 // what a signature by another key decrypts to: garbage
	}
	m[k-1] = 0xBC
	s := new(big.Int).Exp(new(big.Int).SetBytes(m), c.aaRSA.D, c.aaRSA.N)
	return s.FillBytes(make([]byte, k)), nil
}

// aaPublic is the key DG15 publishes.
func (c *Card) aaPublic() any {
	if c.aaRSA != nil {
		return &c.aaRSA.PublicKey
	}
	return c.aaKey.Public()
}
