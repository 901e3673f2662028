package virtual

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/asn1"

	"github.com/tiepdon/tiepdon/drivers/emrtd"
)

// Chip Authentication (ICAO 9303-11 §6.2), version 1, ECDH on P-256 with
// AES-128 (or 3DES through MSE:Set KAT): the chip's static key is in DG14;
// the answer to the key exchange is protected with the old session keys,
// then secure messaging restarts under keys from the new shared secret.

var (
	oidCAECDHAES128 = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 3, 2, 2}
	oidPKECDH       = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 1, 2}
)

// caInfos returns the ChipAuthenticationInfo and
// ChipAuthenticationPublicKeyInfo of DG14 for the card's CA key.
func caInfos(key *ecdsa.PrivateKey) ([]byte, error) {
	info, err := asn1.Marshal(struct {
		Protocol asn1.ObjectIdentifier
		Version  int
	}{oidCAECDHAES128, 1})
	if err != nil {
		return nil, err
	}
	spki, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, err
	}
	pk, err := asn1.Marshal(struct {
		Protocol asn1.ObjectIdentifier
		Key      asn1.RawValue
	}{oidPKECDH, asn1.RawValue{FullBytes: spki}})
	if err != nil {
		return nil, err
	}
	return concat(info, pk), nil
}

// chipAuthSetAT records the CA protocol chosen by MSE:Set AT (41A4).
func (c *Card) chipAuthSetAT(cmd emrtd.Command, protected bool) ([]byte, uint16) {
	if !protected || c.caKey == nil {
		return nil, swConditionsNotMet
	}
	oidObj, ok := findDO(cmd.Data, 0x80)
	der, _ := asn1.Marshal(oidCAECDHAES128)
	if !ok || string(oidObj) != string(der[2:]) {
		return nil, swReferenceNotFound
	}
	c.caPending = true
	return nil, swOK
}

// chipAuthKeyAgreement computes the new session from the terminal's
// ephemeral key; the caller protects the answer with the old session.
func (c *Card) chipAuthKeyAgreement(raw []byte, cipher emrtd.Cipher) ([]byte, uint16) {
	curve := emrtd.P256()
	pub, err := curve.Unmarshal(raw)
	if err != nil {
		return nil, swWrongData
	}
	priv := c.caKey.D.FillBytes(make([]byte, 32))
	if c.p.Options.WrongCAKey {
		priv[31] ^= 0x01
	}
	k, err := curve.ECDH(priv, pub)
	if err != nil {
		return nil, swWrongData
	}
	sm, err := emrtd.PACESession(cipher, curve.SharedSecret(k))
	if err != nil {
		return nil, swConditionsNotMet
	}
	c.sm = sm // processProtected wraps this answer with the old session
	c.stats.ChipAuth++
	return nil, swOK
}
