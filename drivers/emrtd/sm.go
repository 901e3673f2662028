package emrtd

import (
	"errors"
	"fmt"
)

// SecureMessaging holds the session keys and the send sequence counter of
// an ICAO 9303 secure-messaging session (9303-11 §9.8). The same value
// serves the terminal (ProtectCommand, UnprotectResponse) and the card
// (UnprotectCommand, ProtectResponse); both sides keep their own copy and
// step the SSC once per command and once per response.
//
// A SecureMessaging is not safe for concurrent use.
type SecureMessaging struct {
	Cipher Cipher
	KEnc   []byte // KS_Enc
	KMAC   []byte // KS_MAC
	SSC    []byte // 8 bytes for 3DES, 16 for AES; big-endian counter
}

// NewSecureMessaging returns a session with copies of the keys. A nil ssc
// starts the counter at zero (PACE, Chip Authentication); BAC passes
// RND.ICC[4:8] || RND.IFD[4:8].
func NewSecureMessaging(c Cipher, kEnc, kMAC, ssc []byte) (*SecureMessaging, error) {
	if !c.Valid() {
		return nil, fmt.Errorf("emrtd: secure messaging with unknown cipher %d", int(c))
	}
	if len(kEnc) != c.KeyLen() || len(kMAC) != c.KeyLen() {
		return nil, fmt.Errorf("emrtd: %v session keys of %d and %d bytes", c, len(kEnc), len(kMAC))
	}
	if ssc == nil {
		ssc = make([]byte, c.BlockSize())
	}
	if len(ssc) != c.BlockSize() {
		return nil, fmt.Errorf("emrtd: %v SSC of %d bytes", c, len(ssc))
	}
	return &SecureMessaging{
		Cipher: c,
		KEnc:   append([]byte(nil), kEnc...),
		KMAC:   append([]byte(nil), kMAC...),
		SSC:    append([]byte(nil), ssc...),
	}, nil
}

// Errors of secure messaging.
var (
	// ErrSMMAC means a MAC did not verify: the session must be abandoned.
	ErrSMMAC = errors.New("emrtd: secure messaging MAC mismatch")
	// ErrSMNotProtected means a 9000 answer came without secure messaging
	// while a session was running.
	ErrSMNotProtected = errors.New("emrtd: response not protected by secure messaging")
)

func (sm *SecureMessaging) incSSC() {
	for i := len(sm.SSC) - 1; i >= 0; i-- {
		sm.SSC[i]++
		if sm.SSC[i] != 0 {
			return
		}
	}
}

// iv returns the CBC IV for the current SSC: zero for 3DES, E(KSenc, SSC)
// for AES.
func (sm *SecureMessaging) iv() ([]byte, error) {
	if sm.Cipher == TDES {
		return make([]byte, 8), nil
	}
	return sm.Cipher.encryptBlock(sm.KEnc, sm.SSC)
}

func (sm *SecureMessaging) mac(parts ...[]byte) ([]byte, error) {
	n := len(sm.SSC)
	for _, p := range parts {
		n += len(p)
	}
	buf := make([]byte, 0, n)
	buf = append(buf, sm.SSC...)
	for _, p := range parts {
		buf = append(buf, p...)
	}
	return sm.Cipher.MAC(sm.KMAC, Pad(buf, sm.Cipher.BlockSize()))
}

func (sm *SecureMessaging) encryptDO(ins byte, data []byte) ([]byte, error) {
	iv, err := sm.iv()
	if err != nil {
		return nil, err
	}
	ct, err := sm.Cipher.Encrypt(sm.KEnc, iv, Pad(data, sm.Cipher.BlockSize()))
	if err != nil {
		return nil, err
	}
	if ins&1 == 1 {
		return EncodeTLV(0x85, ct), nil
	}
	return EncodeTLV(0x87, append([]byte{0x01}, ct...)), nil
}

func (sm *SecureMessaging) decryptDO(do TLV) ([]byte, error) {
	ct := do.Value
	if do.Tag == 0x87 {
		if len(ct) < 1 || ct[0] != 0x01 {
			return nil, malformed("DO'87' padding indicator")
		}
		ct = ct[1:]
	}
	iv, err := sm.iv()
	if err != nil {
		return nil, err
	}
	pt, err := sm.Cipher.Decrypt(sm.KEnc, iv, ct)
	if err != nil {
		return nil, malformed("DO'%X': %v", do.Tag, err)
	}
	return Unpad(pt)
}

func encodeLe(ne int) []byte {
	switch {
	case ne <= 0:
		return nil
	case ne < 256:
		return []byte{byte(ne)}
	case ne == 256:
		return []byte{0}
	case ne >= 65536:
		return []byte{0, 0}
	}
	return []byte{byte(ne >> 8), byte(ne)}
}

func decodeLe(b []byte) int {
	switch len(b) {
	case 0:
		return 256
	case 1:
		if b[0] == 0 {
			return 256
		}
		return int(b[0])
	}
	n := int(b[len(b)-2])<<8 | int(b[len(b)-1])
	if n == 0 {
		return 65536
	}
	return n
}

// ProtectCommand wraps a plain command APDU for the card (terminal side):
// it steps the SSC, encrypts the data into DO'87' (DO'85' for odd INS),
// puts Le into DO'97', appends the MAC in DO'8E', and sets CLA bits '0C'.
// Extended length is used when the plain command or the result needs it.
func (sm *SecureMessaging) ProtectCommand(apdu []byte) ([]byte, error) {
	c, err := ParseCommand(apdu)
	if err != nil {
		return nil, err
	}
	if c.CLA&0x0C == 0x0C {
		return nil, fmt.Errorf("emrtd: command already protected (CLA %02X)", c.CLA)
	}
	sm.incSSC()
	bs := sm.Cipher.BlockSize()
	header := Pad([]byte{c.CLA | 0x0C, c.INS, c.P1, c.P2}, bs)
	var body []byte
	if len(c.Data) > 0 {
		do, err := sm.encryptDO(c.INS, c.Data)
		if err != nil {
			return nil, err
		}
		body = append(body, do...)
	}
	if c.Ne > 0 {
		body = append(body, EncodeTLV(0x97, encodeLe(c.Ne))...)
	}
	m, err := sm.mac(header, body)
	if err != nil {
		return nil, err
	}
	body = append(body, EncodeTLV(0x8E, m)...)
	ext := c.IsExtended() || len(body) > 255
	ne := 256
	if ext {
		ne = 65536
	}
	return Command{CLA: c.CLA | 0x0C, INS: c.INS, P1: c.P1, P2: c.P2, Data: body, Ne: ne, Extended: ext}.Bytes(), nil
}

// UnprotectResponse checks and decrypts a protected response APDU (terminal
// side) and returns the plain response: data followed by the status word
// from DO'99'. A response without DO'8E' is returned as it is when its
// status word is an error (the chip may answer errors in plain and, for
// 6987/6988, has then ended the session); a plain 9000 is refused with
// ErrSMNotProtected.
func (sm *SecureMessaging) UnprotectResponse(resp []byte) ([]byte, error) {
	r, err := ParseResponse(resp)
	if err != nil {
		return nil, err
	}
	sm.incSSC()
	if len(r.Data) == 0 {
		if r.SW == 0x9000 || r.SW>>8 == 0x61 {
			return nil, ErrSMNotProtected
		}
		return r.Bytes(), nil
	}
	var (
		macIn   []byte
		dataDO  *TLV
		swDO    *TLV
		macDO   *TLV
		rest    = r.Data
		objects []TLV
	)
	for len(rest) > 0 {
		t, next, err := ParseTLV(rest)
		if err != nil {
			return nil, fmt.Errorf("unwrapping response: %w", err)
		}
		objects = append(objects, t)
		rest = next
	}
	for i := range objects {
		t := &objects[i]
		if macDO != nil {
			return nil, malformed("data object %X after DO'8E'", t.Tag)
		}
		switch t.Tag {
		case 0x87, 0x85:
			if dataDO != nil || swDO != nil {
				return nil, malformed("unexpected DO'%X'", t.Tag)
			}
			dataDO = t
		case 0x99:
			if swDO != nil || len(t.Value) != 2 {
				return nil, malformed("DO'99'")
			}
			swDO = t
		case 0x8E:
			macDO = t
			continue
		default:
			return nil, malformed("unexpected DO'%X' in protected response", t.Tag)
		}
		macIn = append(macIn, t.Raw...)
	}
	if macDO == nil {
		return nil, malformed("protected response without DO'8E'")
	}
	want, err := sm.mac(macIn)
	if err != nil {
		return nil, err
	}
	if !macEqual(want, macDO.Value) {
		return nil, ErrSMMAC
	}
	sw := r.SW
	if swDO != nil {
		sw = uint16(swDO.Value[0])<<8 | uint16(swDO.Value[1])
	}
	var data []byte
	if dataDO != nil {
		data, err = sm.decryptDO(*dataDO)
		if err != nil {
			return nil, fmt.Errorf("unwrapping response: %w", err)
		}
	}
	return Response{Data: data, SW: sw}.Bytes(), nil
}

// UnprotectCommand checks and decrypts a protected command APDU (card
// side) and returns the plain command. A missing DO'8E' gives
// ErrSMDataMissing and a wrong MAC ErrSMMAC: the card should then answer
// 6987 or 6988 in plain and end the session.
func (sm *SecureMessaging) UnprotectCommand(apdu []byte) ([]byte, error) {
	c, err := ParseCommand(apdu)
	if err != nil {
		return nil, err
	}
	if c.CLA&0x0C != 0x0C {
		return nil, fmt.Errorf("%w: CLA %02X is not protected", ErrSMDataMissing, c.CLA)
	}
	sm.incSSC()
	var (
		dataDO, leDO, macDO *TLV
		macIn               []byte
		objects             []TLV
		rest                = c.Data
	)
	for len(rest) > 0 {
		t, next, err := ParseTLV(rest)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrSMDataIncorrect, err)
		}
		objects = append(objects, t)
		rest = next
	}
	for i := range objects {
		t := &objects[i]
		if macDO != nil {
			return nil, fmt.Errorf("%w: DO'%X' after DO'8E'", ErrSMDataIncorrect, t.Tag)
		}
		switch t.Tag {
		case 0x87, 0x85:
			if dataDO != nil || leDO != nil {
				return nil, fmt.Errorf("%w: unexpected DO'%X'", ErrSMDataIncorrect, t.Tag)
			}
			dataDO = t
		case 0x97:
			if leDO != nil || len(t.Value) > 3 {
				return nil, fmt.Errorf("%w: DO'97'", ErrSMDataIncorrect)
			}
			leDO = t
		case 0x8E:
			macDO = t
			continue
		default:
			return nil, fmt.Errorf("%w: unexpected DO'%X'", ErrSMDataIncorrect, t.Tag)
		}
		macIn = append(macIn, t.Raw...)
	}
	if macDO == nil {
		return nil, ErrSMDataMissing
	}
	header := Pad([]byte{c.CLA, c.INS, c.P1, c.P2}, sm.Cipher.BlockSize())
	want, err := sm.mac(header, macIn)
	if err != nil {
		return nil, err
	}
	if !macEqual(want, macDO.Value) {
		return nil, ErrSMMAC
	}
	plain := Command{CLA: c.CLA &^ 0x0C, INS: c.INS, P1: c.P1, P2: c.P2, Extended: c.Extended}
	if dataDO != nil {
		plain.Data, err = sm.decryptDO(*dataDO)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrSMDataIncorrect, err)
		}
	}
	if leDO != nil {
		plain.Ne = decodeLe(leDO.Value)
	}
	return plain.Bytes(), nil
}

// ProtectResponse wraps a plain response for the terminal (card side): it
// steps the SSC and returns DO'87' (if data), DO'99' (the status word),
// DO'8E' and the status word.
func (sm *SecureMessaging) ProtectResponse(data []byte, sw uint16) ([]byte, error) {
	sm.incSSC()
	var body []byte
	if len(data) > 0 {
		do, err := sm.encryptDO(0, data)
		if err != nil {
			return nil, err
		}
		body = append(body, do...)
	}
	body = append(body, 0x99, 0x02, byte(sw>>8), byte(sw))
	m, err := sm.mac(body)
	if err != nil {
		return nil, err
	}
	body = append(body, EncodeTLV(0x8E, m)...)
	return Response{Data: body, SW: sw}.Bytes(), nil
}

// Clone returns an independent copy of the session (keys and SSC).
func (sm *SecureMessaging) Clone() *SecureMessaging {
	c, _ := NewSecureMessaging(sm.Cipher, sm.KEnc, sm.KMAC, sm.SSC)
	return c
}
