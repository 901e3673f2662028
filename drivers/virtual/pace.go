package virtual

import (
	"bytes"
	"encoding/asn1"
	"io"

	"github.com/tiepdon/tiepdon/drivers/emrtd"
)

// paceState is a PACE run in progress (card side).
type paceState struct {
	step     int // GENERAL AUTHENTICATE steps done
	kpi      []byte
	s        []byte // nonce
	mapIFD   emrtd.Point
	curve    *emrtd.Curve // with the mapped generator after step 2
	ephPriv  []byte
	ephPub   emrtd.Point
	ephIFD   emrtd.Point
	shared   []byte
	protocol asn1.ObjectIdentifier
}

// MSE:Set AT (P1P2 = C1A4) chooses PACE and the password.
func (c *Card) manageSecurityEnvironment(cmd emrtd.Command, protected bool) ([]byte, uint16) {
	c.pace, c.caPending = nil, false
	switch {
	case cmd.P1 == 0x41 && cmd.P2 == 0xA4: // Chip Authentication, AES
		return c.chipAuthSetAT(cmd, protected)
	case cmd.P1 == 0x41 && cmd.P2 == 0xA6: // Chip Authentication, 3DES (MSE:Set KAT)
		if !protected || c.caKey == nil {
			return nil, swConditionsNotMet
		}
		raw, ok := findDO(cmd.Data, 0x91)
		if !ok {
			return nil, swWrongData
		}
		return c.chipAuthKeyAgreement(raw, emrtd.TDES)
	case cmd.P1 != 0xC1 || cmd.P2 != 0xA4:
		return nil, swWrongP1P2
	}
	o := c.p.Options
	if o.RefusePACE {
		return nil, swSecurityNotSatisfed
	}
	if o.NoPACE || protected {
		return nil, swConditionsNotMet
	}
	oidObj, ok := findDO(cmd.Data, 0x80)
	if !ok {
		return nil, swWrongData
	}
	want := paceOID(o.PACECipher)
	wantDER, _ := asn1.Marshal(want)
	if !bytes.Equal(oidObj, wantDER[2:]) {
		return nil, swReferenceNotFound
	}
	ref, ok := findDO(cmd.Data, 0x83)
	if !ok || len(ref) != 1 {
		return nil, swWrongData
	}
	key := emrtd.Key{}
	switch ref[0] {
	case emrtd.PasswordCAN:
		key.CAN = c.key.CAN
	case emrtd.PasswordMRZ:
		key.DocumentNumber, key.BirthDate, key.ExpiryDate = c.key.DocumentNumber, c.key.BirthDate, c.key.ExpiryDate
	default:
		return nil, swReferenceNotFound
	}
	_, kpi, err := emrtd.PACEPasswordKey(key, o.PACECipher)
	if err != nil {
		return nil, swConditionsNotMet
	}
	c.pace = &paceState{kpi: kpi, curve: c.paceCurve, protocol: want}
	return nil, swOK
}

// GENERAL AUTHENTICATE runs the four PACE steps (ICAO 9303-11 §4.4):
// encrypted nonce, mapping, key agreement, mutual authentication.
func (c *Card) generalAuthenticate(cmd emrtd.Command, protected bool) ([]byte, uint16) {
	if c.caPending && protected {
		c.caPending = false
		raw, err := emrtd.ParseDynamicAuthData(cmd.Data, 0x80)
		if err != nil {
			return nil, swWrongData
		}
		data, status := c.chipAuthKeyAgreement(raw, emrtd.AES128)
		if status != swOK {
			return nil, status
		}
		return append(data, 0x7C, 0x00), status
	}
	p := c.pace
	if p == nil || protected {
		return nil, swConditionsNotMet
	}
	fail := func(status uint16) ([]byte, uint16) {
		c.pace = nil
		return nil, status
	}
	if len(cmd.Data) < 2 || cmd.Data[0] != 0x7C {
		return fail(swWrongData)
	}
	o := c.p.Options
	switch p.step {
	case 0:
		p.s = make([]byte, 16)
		if _, err := io.ReadFull(c.rand, p.s); err != nil {
			return fail(swConditionsNotMet)
		}
		z, err := emrtd.EncryptNonce(o.PACECipher, p.kpi, p.s)
		if err != nil {
			return fail(swConditionsNotMet)
		}
		p.step++
		return emrtd.DynamicAuthData(emrtd.EncodeTLV(0x80, z)), swOK
	case 1:
		raw, err := emrtd.ParseDynamicAuthData(cmd.Data, 0x81)
		if err != nil {
			return fail(swWrongData)
		}
		pk, err := p.curve.Unmarshal(raw)
		if err != nil {
			return fail(swWrongData)
		}
		priv, pub, err := p.curve.GenerateKey(c.rand)
		if err != nil {
			return fail(swConditionsNotMet)
		}
		h, err := p.curve.ECDH(priv, pk)
		if err != nil {
			return fail(swWrongData)
		}
		mapped, err := emrtd.MapGM(p.curve, p.s, h)
		if err != nil {
			return fail(swWrongData)
		}
		p.mapIFD, p.curve = pk, mapped
		p.step++
		return emrtd.DynamicAuthData(emrtd.EncodeTLV(0x82, c.paceCurve.Marshal(pub))), swOK
	case 2:
		raw, err := emrtd.ParseDynamicAuthData(cmd.Data, 0x83)
		if err != nil {
			return fail(swWrongData)
		}
		pk, err := p.curve.Unmarshal(raw)
		if err != nil || pk.Equal(p.mapIFD) {
			return fail(swWrongData)
		}
		priv, pub, err := p.curve.GenerateKey(c.rand)
		if err != nil {
			return fail(swConditionsNotMet)
		}
		k, err := p.curve.ECDH(priv, pk)
		if err != nil {
			return fail(swWrongData)
		}
		p.ephPriv, p.ephPub, p.ephIFD, p.shared = priv, pub, pk, p.curve.SharedSecret(k)
		p.step++
		return emrtd.DynamicAuthData(emrtd.EncodeTLV(0x84, p.curve.Marshal(pub))), swOK
	case 3:
		tIFD, err := emrtd.ParseDynamicAuthData(cmd.Data, 0x85)
		if err != nil {
			return fail(swWrongData)
		}
		sm, err := emrtd.PACESession(o.PACECipher, p.shared)
		if err != nil {
			return fail(swConditionsNotMet)
		}
		want, err := emrtd.AuthToken(o.PACECipher, sm.KMAC, p.protocol, p.curve, p.ephPub)
		if err != nil || !bytes.Equal(want, tIFD) {
			return fail(swVerificationFailed)
		}
		tICC, err := emrtd.AuthToken(o.PACECipher, sm.KMAC, p.protocol, p.curve, p.ephIFD)
		if err != nil {
			return fail(swConditionsNotMet)
		}
		c.pace = nil
		c.sm = sm
		c.stats.Sessions++
		c.stats.PACE++
		return emrtd.DynamicAuthData(emrtd.EncodeTLV(0x86, tICC)), swOK
	}
	return fail(swConditionsNotMet)
}

// findDO returns the value of the first data object with a one-byte tag.
func findDO(b []byte, tag uint32) ([]byte, bool) {
	t, ok := emrtd.FindTLV(b, tag)
	if !ok {
		return nil, false
	}
	return t.Value, true
}
