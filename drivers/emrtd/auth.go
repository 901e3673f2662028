package emrtd

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"math/big"
)

// ErrCloneCheck means Active or Chip Authentication failed: the chip does
// not hold the private key its signed data groups name (a clone).
var ErrCloneCheck = errors.New("emrtd: chip failed the clone check")

// ParseDG15 parses DG15 (tag '6F' holding the Active Authentication public
// key as SubjectPublicKeyInfo).
func ParseDG15(b []byte) (*PublicKey, error) {
	t, _, err := ParseTLV(b)
	if err != nil {
		return nil, fmt.Errorf("DG15: %w", err)
	}
	if t.Tag != 0x6F {
		return nil, malformed("DG15 tag %X", t.Tag)
	}
	return ParsePublicKeyInfo(t.Value)
}

// ActiveAuth runs Active Authentication (ICAO 9303-11 §6.1): INTERNAL
// AUTHENTICATE with a random 8-byte challenge, and checks the signature
// with the DG15 key: RSA with ISO/IEC 9796-2 scheme 1, or ECDSA (plain
// r||s) with the hash named in DG14's ActiveAuthenticationInfo (SHA-256 if
// none). A wrong signature gives an error wrapping ErrCloneCheck.
func (s *Session) ActiveAuth(ctx context.Context, key *PublicKey, dg14 *SecurityInfos) error {
	challenge, err := s.random(8)
	if err != nil {
		return err
	}
	ne := 256
	if s.extended > 0 {
		ne = 65536
	}
	sig, err := s.do(ctx, Command{INS: 0x88, Data: challenge, Ne: ne})
	if err != nil {
		return fmt.Errorf("INTERNAL AUTHENTICATE: %w", err)
	}
	return VerifyActiveAuth(key, dg14, challenge, sig)
}

// VerifyActiveAuth checks an Active Authentication signature over a
// challenge (usable by tests and by a card's own self-check).
func VerifyActiveAuth(key *PublicKey, dg14 *SecurityInfos, challenge, sig []byte) error {
	switch {
	case key.RSA != nil:
		if err := verifyISO9796(key, challenge, sig); err != nil {
			return fmt.Errorf("%w: %v", ErrCloneCheck, err)
		}
		return nil
	case key.Curve != nil:
		alg := algorithmIdentifier{Algorithm: asn1OID(1, 2, 840, 10045, 4, 3, 2)}
		if dg14 != nil && dg14.AA != nil && dg14.AA.SignatureAlgorithm != nil {
			alg.Algorithm = dg14.AA.SignatureAlgorithm
		}
		_, h, ok := sigAlgorithm(alg.Algorithm)
		if !ok || h == 0 {
			return fmt.Errorf("emrtd: Active Authentication algorithm %v", alg.Algorithm)
		}
		d := h.New()
		d.Write(challenge)
		digest := d.Sum(nil)
		var r, ss *big.Int
		if n := key.Curve.Size(); len(sig) == 2*n {
			r, ss = new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])
		} else if err := verifySignature(key, alg, h, challenge, sig); err == nil {
			return nil // some chips answer a DER signature
		} else {
			return fmt.Errorf("%w: %v", ErrCloneCheck, err)
		}
		if !key.Curve.VerifyECDSA(key.Point, digest, r, ss) {
			return fmt.Errorf("%w: ECDSA signature", ErrCloneCheck)
		}
		return nil
	}
	return errors.New("emrtd: Active Authentication key of unknown type")
}

var iso9796Hashes = map[byte]crypto.Hash{0x33: crypto.SHA1, 0x34: crypto.SHA256, 0x35: crypto.SHA512, 0x36: crypto.SHA384, 0x38: crypto.SHA224}

// verifyISO9796 checks an ISO/IEC 9796-2 digital signature scheme 1
// signature with partial message recovery, M2 being the challenge.
func verifyISO9796(key *PublicKey, m2, sig []byte) error {
	n := key.RSA.N
	k := (n.BitLen() + 7) / 8
	sv := new(big.Int).SetBytes(sig)
	if sv.Cmp(n) >= 0 || len(sig) > k {
		return errors.New("signature out of range")
	}
	mv := new(big.Int).Exp(sv, big.NewInt(int64(key.RSA.E)), n)
	try := func(mv *big.Int) error {
		m := mv.FillBytes(make([]byte, k))
		var h crypto.Hash
		var t int
		switch {
		case m[k-1] == 0xBC:
			h, t = crypto.SHA1, 1
		case m[k-1] == 0xCC:
			var ok bool
			if h, ok = iso9796Hashes[m[k-2]]; !ok {
				return fmt.Errorf("trailer %02X%02X", m[k-2], m[k-1])
			}
			t = 2
		default:
			return fmt.Errorf("trailer %02X", m[k-1])
		}
		if m[0]&0xC0 != 0x40 {
			return fmt.Errorf("header %02X", m[0])
		}
		// Skip padding nibbles/bytes up to the border: '6A' is the usual
		// header of partial recovery without padding.
		i := 0
		if m[0] != 0x6A {
			for i < k && m[i]&0x0F != 0x0A && m[i] != 0x6A {
				i++
			}
		}
		l := h.Size()
		if k-t-l <= i+1 {
			return errors.New("message too short")
		}
		m1 := m[i+1 : k-t-l]
		d := h.New()
		d.Write(m1)
		d.Write(m2)
		if !bytes.Equal(d.Sum(nil), m[k-t-l:k-t]) {
			return errors.New("digest mismatch")
		}
		return nil
	}
	err := try(mv)
	if err != nil {
		// Some signers return min(s, n-s) (ISO 9796-2 / X9.31 variant).
		if err2 := try(new(big.Int).Sub(n, mv)); err2 == nil {
			return nil
		}
	}
	return err
}

// ChipAuth runs Chip Authentication (ICAO 9303-11 §6.2) with the chip's
// ECDH key from DG14: an ephemeral key pair on the chip's curve, MSE:Set KAT
// (3DES) or MSE:Set AT plus GENERAL AUTHENTICATE (AES), then secure
// messaging restarts under keys from the new shared secret, and one
// protected command (SELECT of the eMRTD application) proves the chip
// derived them. A chip that cannot gives an error wrapping ErrCloneCheck.
func (s *Session) ChipAuth(ctx context.Context, dg14 *SecurityInfos) error {
	if s.sm == nil {
		return ErrSessionLost
	}
	var info *ChipAuthenticationInfo
	for i := range dg14.ChipAuth {
		ca := &dg14.ChipAuth[i]
		if ca.ECDH && ca.Cipher.Valid() && (info == nil || ca.Cipher > info.Cipher) {
			info = ca
		}
	}
	var pk *ChipAuthenticationPublicKeyInfo
	for i := range dg14.ChipKeys {
		k := &dg14.ChipKeys[i]
		if k.PublicKey.Curve == nil {
			continue
		}
		if info == nil || info.KeyID < 0 || k.KeyID < 0 || k.KeyID == info.KeyID {
			pk = k
			break
		}
	}
	if pk == nil {
		return errors.New("emrtd: DG14 has no ECDH chip authentication key")
	}
	cipher, version, keyID := TDES, 1, pk.KeyID
	var oid []int
	if info != nil {
		cipher, version, oid = info.Cipher, info.Version, info.Protocol
		if info.KeyID >= 0 {
			keyID = info.KeyID
		}
	}
	curve := pk.PublicKey.Curve
	sk, pub, err := curve.GenerateKey(s.opts.Rand)
	if err != nil {
		return err
	}
	var keyRef []byte
	if keyID >= 0 {
		keyRef = EncodeTLV(0x84, big.NewInt(int64(keyID)).Bytes())
	}
	if cipher == TDES && (version == 1 || info == nil) {
		data := append(EncodeTLV(0x91, curve.Marshal(pub)), keyRef...)
		if _, err := s.do(ctx, Command{INS: 0x22, P1: 0x41, P2: 0xA6, Data: data}); err != nil {
			return fmt.Errorf("MSE:Set KAT: %w", err)
		}
	} else {
		data := append(EncodeTLV(0x80, mustOIDBody(oid)), keyRef...)
		if _, err := s.do(ctx, Command{INS: 0x22, P1: 0x41, P2: 0xA4, Data: data}); err != nil {
			return fmt.Errorf("MSE:Set AT (CA): %w", err)
		}
		if _, err := s.do(ctx, Command{INS: 0x86, Data: DynamicAuthData(EncodeTLV(0x80, curve.Marshal(pub))), Ne: 256}); err != nil {
			return fmt.Errorf("GENERAL AUTHENTICATE (CA): %w", err)
		}
	}
	k, err := curve.ECDH(sk, pk.PublicKey.Point)
	if err != nil {
		return err
	}
	sm, err := PACESession(cipher, curve.SharedSecret(k))
	if err != nil {
		return err
	}
	s.sm = sm
	s.chipAuthed = true
	if err := s.selectAID(ctx); err != nil {
		if errors.Is(err, ErrSessionLost) {
			return fmt.Errorf("%w: chip did not derive the CA keys: %v", ErrCloneCheck, err)
		}
		return fmt.Errorf("selecting eMRTD application after CA: %w", err)
	}
	return nil
}

func asn1OID(parts ...int) []int { return parts }
