package emrtd

import (
	"encoding/asn1"
	"errors"
	"fmt"
)

// PACE password references (the '83' data object of MSE:Set AT).
const (
	PasswordMRZ byte = 1
	PasswordCAN byte = 2
)

// PACEPasswordKey returns the password reference and K_pi for a key
// (ICAO 9303-11 §9.7.3): KDF(f(π), 3) with f(CAN) = the CAN in ASCII and
// f(MRZ) = SHA-1 of the MRZ information. The CAN is preferred when the key
// has both.
func PACEPasswordKey(k Key, c Cipher) (ref byte, kpi []byte, err error) {
	switch {
	case k.HasCAN():
		return PasswordCAN, KDF([]byte(k.CAN), KDFPI, c), nil
	case k.HasMRZ():
		return PasswordMRZ, KDF(mrzHash(k.DocumentNumber, k.BirthDate, k.ExpiryDate), KDFPI, c), nil
	}
	return 0, nil, errors.New("emrtd: PACE needs a CAN or MRZ data")
}

// EncryptNonce encrypts the PACE nonce s with K_pi (card side): CBC with a
// zero IV; len(s) must be a multiple of the block size (16 bytes in
// practice for every cipher).
func EncryptNonce(c Cipher, kpi, s []byte) ([]byte, error) { return c.Encrypt(kpi, nil, s) }

// DecryptNonce decrypts the encrypted nonce z with K_pi (terminal side).
func DecryptNonce(c Cipher, kpi, z []byte) ([]byte, error) { return c.Decrypt(kpi, nil, z) }

// MapGM is PACE generic mapping for elliptic curves (ICAO 9303-11
// §4.4.3.3.1): the new generator is s·G + H, where H is the ECDH point of
// the two mapping keys (Curve.ECDH). It returns the curve with the mapped
// generator.
func MapGM(c *Curve, s []byte, h Point) (*Curve, error) {
	if !c.IsOnCurve(h) {
		return nil, fmt.Errorf("generic mapping: %w", ErrPointNotOnCurve)
	}
	g := c.Add(c.ScalarBaseMult(s), h)
	if g.IsInfinity() {
		return nil, errors.New("emrtd: generic mapping gave infinity")
	}
	return c.WithGenerator(g), nil
}

// PACESession derives the secure-messaging session of PACE or Chip
// Authentication from the shared secret (X coordinate): KS_Enc = KDF(K, 1),
// KS_MAC = KDF(K, 2), SSC = 0.
func PACESession(c Cipher, shared []byte) (*SecureMessaging, error) {
	return NewSecureMessaging(c, KDF(shared, KDFEnc, c), KDF(shared, KDFMAC, c), nil)
}

// PublicKeyDataObject encodes an ephemeral EC public key as the '7F49'
// object the authentication token is computed over: 06 protocol OID, 86
// uncompressed point.
func PublicKeyDataObject(protocol asn1.ObjectIdentifier, c *Curve, pub Point) ([]byte, error) {
	oid, err := asn1.Marshal(protocol)
	if err != nil {
		return nil, err
	}
	body := append(oid, EncodeTLV(0x86, c.Marshal(pub))...)
	return EncodeTLV(0x7F49, body), nil
}

// AuthToken computes a PACE authentication token (ICAO 9303-11 §4.4.3.4):
// the MAC under KS_MAC of the other party's ephemeral public key data
// object. The terminal sends AuthToken(..., chip's key) and checks the
// chip's token against AuthToken(..., terminal's key); the card does the
// mirror image.
func AuthToken(c Cipher, kMAC []byte, protocol asn1.ObjectIdentifier, curve *Curve, pub Point) ([]byte, error) {
	do, err := PublicKeyDataObject(protocol, curve, pub)
	if err != nil {
		return nil, err
	}
	if c == TDES {
		return c.MAC(kMAC, Pad(do, 8))
	}
	return c.MAC(kMAC, do)
}

// DynamicAuthData wraps data objects into the '7C' template of GENERAL
// AUTHENTICATE.
func DynamicAuthData(objects ...[]byte) []byte {
	var body []byte
	for _, o := range objects {
		body = append(body, o...)
	}
	return EncodeTLV(0x7C, body)
}

// ParseDynamicAuthData returns the value of the object with the given tag
// inside a '7C' template.
func ParseDynamicAuthData(b []byte, tag uint32) ([]byte, error) {
	t, _, err := ParseTLV(b)
	if err != nil {
		return nil, err
	}
	if t.Tag != 0x7C {
		return nil, malformed("dynamic authentication data tag %X", t.Tag)
	}
	o, ok := FindTLV(t.Value, tag)
	if !ok {
		return nil, malformed("no '%X' in dynamic authentication data", tag)
	}
	return o.Value, nil
}

func marshalOID(oid asn1.ObjectIdentifier) []byte {
	b, err := asn1.Marshal(oid)
	if err != nil {
		panic(err)
	}
	return b
}
