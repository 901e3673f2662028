package emrtd

import (
	"bytes"

	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"sync"
)

// testCard is a minimal eMRTD chip for the terminal tests, built only on
// the package's side-neutral primitives. It enforces access like a real
// chip: 6982 before authentication, 6D00 to SELECT MF, the SM session
// dropped on any SM error or plain command.
type testCard struct {
	can      string
	mrz      Key
	access   []byte // EF.CardAccess
	atrInfo  []byte // EF.ATR/INFO (SFI 01 in the MF)
	files    map[uint16][]byte
	extended bool // accepts extended-length APDUs
	noSFI    bool
	exactLe  bool // answer 6Cxx unless Le is exactly what is left (up to 256)
	refuse   bool // answer 6982 to MSE:Set AT for PACE
	aaRSA    *rsa.PrivateKey
	aaEC     []byte // private scalar on aaCurve
	aaCurve  *Curve
	caPriv   []byte
	caCurve  *Curve
	caCipher Cipher
	rand     io.Reader

	mu        sync.Mutex
	app       bool
	current   uint16
	sm        *SecureMessaging
	challenge []byte
	pace      *cardPACE
	caOID     asn1.ObjectIdentifier
	pendingSM *SecureMessaging // PACE keys, in force after the last GA answer
	pendingCA *SecureMessaging // CA keys, in force after the answer under the old keys
	apdus     int
	trace     []string
}

type cardPACE struct {
	info    PACEInfo
	kpi     []byte
	nonce   []byte
	curve   *Curve
	mapped  *Curve
	sk      []byte
	pk      Point
	pcdPK   Point
	pending *SecureMessaging
	step    int
}

func (c *testCard) Transmit(cmd []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.apdus++
	c.trace = append(c.trace, fmt.Sprintf("%X", cmd))
	pc, err := ParseCommand(cmd)
	if err != nil {
		return []byte{0x67, 0x00}, nil
	}
	if pc.IsExtended() && !c.extended {
		return []byte{0x67, 0x00}, nil
	}
	if pc.CLA&0x0C == 0x0C {
		if c.sm == nil {
			return []byte{0x69, 0x87}, nil
		}
		plain, err := c.sm.UnprotectCommand(cmd)
		if err != nil {
			c.sm = nil
			if errors.Is(err, ErrSMDataMissing) {
				return []byte{0x69, 0x87}, nil
			}
			return []byte{0x69, 0x88}, nil
		}
		pc, _ = ParseCommand(plain)
		sm := c.sm
		data, sw := c.handle(pc, true)
		resp, err := sm.ProtectResponse(data, sw)
		if c.pendingCA != nil {
			c.sm, c.pendingCA = c.pendingCA, nil
		}
		return resp, err
	}
	c.sm = nil // a plain command ends secure messaging
	data, sw := c.handle(pc, false)
	if c.pendingSM != nil {
		c.sm, c.pendingSM = c.pendingSM, nil
	}
	return Response{Data: data, SW: sw}.Bytes(), nil
}

func (c *testCard) handle(cmd Command, protected bool) ([]byte, uint16) {
	switch cmd.INS {
	case 0xA4:
		return c.doSelect(cmd, protected)
	case 0xB0:
		return c.readBinary(cmd, protected)
	case 0xB1:
		// Odd INS: offset in DO'54', data in DO'53'.
		do, _, err := ParseTLV(cmd.Data)
		if err != nil || do.Tag != 0x54 || len(do.Value) > 3 {
			return nil, 0x6A80
		}
		off := 0
		for _, b := range do.Value {
			off = off<<8 | int(b)
		}
		cmd.P1, cmd.P2 = 0, 0
		data, sw := c.readAt(cmd, protected, off)
		if sw != 0x9000 && sw != 0x6282 {
			return nil, sw
		}
		return EncodeTLV(0x53, data), sw
	case 0x84:
		if !c.app {
			return nil, 0x6985
		}
		c.challenge = make([]byte, 8)
		io.ReadFull(c.rand, c.challenge)
		return c.challenge, 0x9000
	case 0x82:
		return c.externalAuth(cmd)
	case 0x22:
		return c.mse(cmd, protected)
	case 0x86:
		if protected {
			return c.caGA(cmd)
		}
		return c.paceGA(cmd)
	case 0x88:
		if !protected {
			return nil, 0x6982
		}
		return c.internalAuth(cmd)
	}
	return nil, 0x6D00
}

func (c *testCard) doSelect(cmd Command, protected bool) ([]byte, uint16) {
	switch cmd.P1 {
	case 0x04:
		if !bytes.Equal(cmd.Data, AID) {
			return nil, 0x6A82
		}
		c.app, c.current = true, 0
		return nil, 0x9000
	case 0x02:
		if len(cmd.Data) != 2 {
			return nil, 0x6700
		}
		fid := uint16(cmd.Data[0])<<8 | uint16(cmd.Data[1])
		if fid == FIDCardAccess && c.access != nil {
			c.current = fid
			return nil, 0x9000
		}
		if _, ok := c.files[fid]; !ok || !c.app {
			return nil, 0x6A82
		}
		if !protected {
			return nil, 0x6982
		}
		c.current = fid
		return nil, 0x9000
	}
	return nil, 0x6D00 // SELECT MF and the rest: as the CCCD does
}

func (c *testCard) readBinary(cmd Command, protected bool) ([]byte, uint16) {
	return c.readAt(cmd, protected, int(cmd.P1)<<8|int(cmd.P2))
}

func (c *testCard) readAt(cmd Command, protected bool, off int) ([]byte, uint16) {
	fid := c.current
	if cmd.P1&0x80 != 0 {
		if c.noSFI {
			return nil, 0x6A86
		}
		sfi := cmd.P1 & 0x1F
		off = int(cmd.P2)
		fid = 0
		if sfi == 0x1C && c.access != nil {
			fid = FIDCardAccess
		} else if sfi == 0x01 && !c.app && c.atrInfo != nil {
			fid = FIDATRInfo
		} else if _, ok := c.files[0x0100|uint16(sfi)]; ok && c.app {
			fid = 0x0100 | uint16(sfi)
		}
		if fid == 0 {
			return nil, 0x6A82
		}
		if fid != FIDCardAccess && fid != FIDATRInfo && !protected {
			return nil, 0x6982
		}
		c.current = fid
	}
	var data []byte
	switch {
	case fid == 0:
		return nil, 0x6986
	case fid == FIDCardAccess:
		data = c.access
	case fid == FIDATRInfo:
		data = c.atrInfo
	default:
		if !protected {
			return nil, 0x6982
		}
		data = c.files[fid]
	}
	if off > len(data) {
		return nil, 0x6B00
	}
	n := min(cmd.Ne, len(data)-off)
	if c.exactLe && n < cmd.Ne {
		return nil, 0x6C00 | uint16(n&0xFF)
	}
	if n < cmd.Ne {
		return data[off : off+n], 0x6282
	}
	return data[off : off+n], 0x9000
}

func (c *testCard) externalAuth(cmd Command) ([]byte, uint16) {
	if c.challenge == nil || !c.mrz.HasMRZ() {
		return nil, 0x6985
	}
	rndICC := c.challenge
	c.challenge = nil
	kEnc, kMAC := BACKeys(BACKeySeed(c.mrz.DocumentNumber, c.mrz.BirthDate, c.mrz.ExpiryDate))
	rndIFD, kIFD, err := BACCardCheck(kEnc, kMAC, rndICC, cmd.Data)
	if err != nil {
		return nil, 0x6300
	}
	kICC := make([]byte, 16)
	io.ReadFull(c.rand, kICC)
	resp, _ := BACCardCryptogram(kEnc, kMAC, rndICC, rndIFD, kICC)
	c.sm, _ = BACSession(kIFD, kICC, rndICC, rndIFD)
	return resp, 0x9000
}

func (c *testCard) mse(cmd Command, protected bool) ([]byte, uint16) {
	objs, err := ParseTLVs(cmd.Data)
	if err != nil {
		return nil, 0x6A80
	}
	get := func(tag uint32) []byte {
		for _, o := range objs {
			if o.Tag == tag {
				return o.Value
			}
		}
		return nil
	}
	switch {
	case cmd.P1 == 0xC1 && cmd.P2 == 0xA4 && !protected: // PACE
		if c.refuse {
			return nil, 0x6982
		}
		var oid asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(EncodeTLV(0x06, get(0x80)), &oid); err != nil {
			return nil, 0x6A80
		}
		infos, _ := ParseSecurityInfos(c.access)
		for _, p := range infos.PACE {
			if !p.Protocol.Equal(oid) {
				continue
			}
			ref := get(0x83)
			if len(ref) != 1 {
				return nil, 0x6A80
			}
			k := Key{}
			switch ref[0] {
			case PasswordCAN:
				k.CAN = c.can
			case PasswordMRZ:
				k = c.mrz
			default:
				return nil, 0x6A80
			}
			_, kpi, err := PACEPasswordKey(k, p.Cipher)
			if err != nil {
				return nil, 0x6A88
			}
			c.pace = &cardPACE{info: p, kpi: kpi, curve: CurveByParameterID(p.ParameterID)}
			c.app = false
			return nil, 0x9000
		}
		return nil, 0x6A80
	case cmd.P1 == 0x41 && cmd.P2 == 0xA6 && protected: // CA, 3DES: MSE:Set KAT
		pk, err := c.caCurve.Unmarshal(get(0x91))
		if err != nil {
			return nil, 0x6A80
		}
		return c.caSwitch(pk)
	case cmd.P1 == 0x41 && cmd.P2 == 0xA4 && protected: // CA, AES: MSE:Set AT
		c.caOID = nil
		asn1.Unmarshal(EncodeTLV(0x06, get(0x80)), &c.caOID)
		return nil, 0x9000
	}
	return nil, 0x6A86
}

// caSwitch answers under the old keys, then switches to the CA keys.
func (c *testCard) caSwitch(pk Point) ([]byte, uint16) {
	k, err := c.caCurve.ECDH(c.caPriv, pk)
	if err != nil {
		return nil, 0x6A80
	}
	c.pendingCA, _ = PACESession(c.caCipher, c.caCurve.SharedSecret(k))
	return nil, 0x9000
}

func (c *testCard) caGA(cmd Command) ([]byte, uint16) {
	if c.caOID == nil {
		return nil, 0x6985
	}
	b, err := ParseDynamicAuthData(cmd.Data, 0x80)
	if err != nil {
		return nil, 0x6A80
	}
	pk, err := c.caCurve.Unmarshal(b)
	if err != nil {
		return nil, 0x6A80
	}
	if _, sw := c.caSwitch(pk); sw != 0x9000 {
		return nil, sw
	}
	return DynamicAuthData(), 0x9000
}

func (c *testCard) paceGA(cmd Command) ([]byte, uint16) {
	p := c.pace
	if p == nil {
		return nil, 0x6985
	}
	fail := func(sw uint16) ([]byte, uint16) { c.pace = nil; return nil, sw }
	last := cmd.CLA&0x10 == 0
	switch p.step {
	case 0:
		p.nonce = make([]byte, 16)
		io.ReadFull(c.rand, p.nonce)
		z, _ := EncryptNonce(p.info.Cipher, p.kpi, p.nonce)
		p.step++
		return DynamicAuthData(EncodeTLV(0x80, z)), 0x9000
	case 1:
		b, err := ParseDynamicAuthData(cmd.Data, 0x81)
		if err != nil {
			return fail(0x6A80)
		}
		pcd, err := p.curve.Unmarshal(b)
		if err != nil {
			return fail(0x6A80)
		}
		sk, pk, _ := p.curve.GenerateKey(c.rand)
		h, err := p.curve.ECDH(sk, pcd)
		if err != nil {
			return fail(0x6A80)
		}
		if p.mapped, err = MapGM(p.curve, p.nonce, h); err != nil {
			return fail(0x6A80)
		}
		p.step++
		return DynamicAuthData(EncodeTLV(0x82, p.curve.Marshal(pk))), 0x9000
	case 2:
		b, err := ParseDynamicAuthData(cmd.Data, 0x83)
		if err != nil {
			return fail(0x6A80)
		}
		if p.pcdPK, err = p.mapped.Unmarshal(b); err != nil {
			return fail(0x6A80)
		}
		p.sk, p.pk, _ = p.mapped.GenerateKey(c.rand)
		k, err := p.mapped.ECDH(p.sk, p.pcdPK)
		if err != nil {
			return fail(0x6A80)
		}
		p.pending, _ = PACESession(p.info.Cipher, p.mapped.SharedSecret(k))
		p.step++
		return DynamicAuthData(EncodeTLV(0x84, p.mapped.Marshal(p.pk))), 0x9000
	case 3:
		if !last {
			return fail(0x6A80)
		}
		b, err := ParseDynamicAuthData(cmd.Data, 0x85)
		if err != nil {
			return fail(0x6A80)
		}
		want, _ := AuthToken(p.info.Cipher, p.pending.KMAC, p.info.Protocol, p.mapped, p.pk)
		if !bytes.Equal(want, b) {
			return fail(0x6300)
		}
		tok, _ := AuthToken(p.info.Cipher, p.pending.KMAC, p.info.Protocol, p.mapped, p.pcdPK)
		c.pendingSM = p.pending
		c.pace = nil
		return DynamicAuthData(EncodeTLV(0x86, tok)), 0x9000
	}
	return fail(0x6985)
}

func (c *testCard) internalAuth(cmd Command) ([]byte, uint16) {
	h := sha256.Sum256(cmd.Data)
	switch {
	case c.aaEC != nil:
		r, s, err := c.aaCurve.SignECDSA(c.rand, c.aaEC, h[:])
		if err != nil {
			return nil, 0x6F00
		}
		n := c.aaCurve.Size()
		return append(r.FillBytes(make([]byte, n)), s.FillBytes(make([]byte, n))...), 0x9000
	case c.aaRSA != nil:
		k := c.aaRSA.Size()
		m1 := make([]byte, k-2-sha1.Size)
		io.ReadFull(c.rand, m1)
		d := sha1.New()
		d.Write(m1)
		d.Write(cmd.Data)
		m := append(append(append([]byte{0x6A}, m1...), d.Sum(nil)...), 0xBC)
		s := new(big.Int).Exp(new(big.Int).SetBytes(m), c.aaRSA.D, c.aaRSA.N)
		return s.FillBytes(make([]byte, k)), 0x9000
	}
	return nil, 0x6D00
}
