package virtual_test

import (
	"bytes"
	"crypto/rand"
	"encoding/asn1"
	"testing"

	"github.com/tiepdon/tiepdon/drivers/emrtd"
	"github.com/tiepdon/tiepdon/drivers/virtual"
)

// term is a minimal ICAO terminal written on emrtd's primitives, for
// driving the virtual card APDU by APDU in tests.
type term struct {
	t   *testing.T
	c   *virtual.Card
	sm  *emrtd.SecureMessaging
	err error // of the last protected exchange in pace
}

func newTerm(t *testing.T, o virtual.Options) *term {
	t.Helper()
	p := virtual.Synthetic(0)
	p.Options = o
	c, err := virtual.NewCard(p)
	if err != nil {
		t.Fatal(err)
	}
	return &term{t: t, c: c}
}

// plain sends cmd without secure messaging.
func (tm *term) plain(cmd emrtd.Command) emrtd.Response {
	tm.t.Helper()
	raw, err := tm.c.Transmit(cmd.Bytes())
	if err != nil {
		tm.t.Fatalf("Transmit: %v", err)
	}
	r, err := emrtd.ParseResponse(raw)
	if err != nil {
		tm.t.Fatal(err)
	}
	return r
}

// prot sends cmd under secure messaging and unwraps the answer.
func (tm *term) prot(cmd emrtd.Command) (emrtd.Response, error) {
	tm.t.Helper()
	if tm.sm == nil {
		tm.t.Fatal("no session")
	}
	wrapped, err := tm.sm.ProtectCommand(cmd.Bytes())
	if err != nil {
		tm.t.Fatal(err)
	}
	raw, err := tm.c.Transmit(wrapped)
	if err != nil {
		tm.t.Fatalf("Transmit: %v", err)
	}
	plain, err := tm.sm.UnprotectResponse(raw)
	if err != nil {
		r, _ := emrtd.ParseResponse(raw)
		return r, err
	}
	return emrtd.ParseResponse(plain)
}

func (tm *term) mustSW(what string, r emrtd.Response, sw uint16) {
	tm.t.Helper()
	if r.SW != sw {
		tm.t.Errorf("%s: SW %04X, want %04X", what, r.SW, sw)
	}
}

var (
	selectApp = emrtd.Command{CLA: 0x00, INS: 0xA4, P1: 0x04, P2: 0x0C, Data: virtual.AID}
	selectMF  = emrtd.Command{CLA: 0x00, INS: 0xA4, P1: 0x00, P2: 0x0C, Data: []byte{0x3F, 0x00}}
)

func selectEF(fid uint16) emrtd.Command {
	return emrtd.Command{CLA: 0x00, INS: 0xA4, P1: 0x02, P2: 0x0C, Data: []byte{byte(fid >> 8), byte(fid)}}
}

func readBinary(offset, ne int) emrtd.Command {
	return emrtd.Command{CLA: 0x00, INS: 0xB0, P1: byte(offset >> 8), P2: byte(offset), Ne: ne}
}

// key returns the CAN and MRZ information of the card's profile.
func key(t *testing.T, c *virtual.Card) emrtd.Key {
	t.Helper()
	mrz, err := virtual.MRZ(c.Profile())
	if err != nil {
		t.Fatal(err)
	}
	return emrtd.Key{CAN: c.Profile().CitizenID.CAN(), DocumentNumber: mrz[0][5:14], BirthDate: mrz[1][0:6], ExpiryDate: mrz[1][8:14]}
}

// bac runs Basic Access Control and keeps the session.
func (tm *term) bac(k emrtd.Key) uint16 {
	tm.t.Helper()
	tm.mustSW("SELECT application", tm.plain(selectApp), 0x9000)
	ch := tm.plain(emrtd.Command{INS: 0x84, Ne: 8})
	tm.mustSW("GET CHALLENGE", ch, 0x9000)
	kEnc, kMAC := emrtd.BACKeys(emrtd.BACKeySeed(k.DocumentNumber, k.BirthDate, k.ExpiryDate))
	rndIFD, kIFD := random(8), random(16)
	data, err := emrtd.BACTerminalCryptogram(kEnc, kMAC, rndIFD, ch.Data, kIFD)
	if err != nil {
		tm.t.Fatal(err)
	}
	r := tm.plain(emrtd.Command{INS: 0x82, Data: data, Ne: 40})
	if r.SW != 0x9000 {
		return r.SW
	}
	sm, err := emrtd.BACTerminalFinish(kEnc, kMAC, rndIFD, ch.Data, kIFD, r.Data)
	if err != nil {
		tm.t.Fatalf("BAC finish: %v", err)
	}
	tm.sm = sm
	return r.SW
}

// pace runs PACE-GM with the CAN (or MRZ when can is "") and keeps the
// session, then selects the application under secure messaging. It returns
// the first status word that is not 9000, or 0 when the protected SELECT's
// answer did not unwrap (tm.err says why).
func (tm *term) pace(k emrtd.Key, curve *emrtd.Curve, c emrtd.Cipher) uint16 {
	tm.t.Helper()
	oid := emrtd.PACEOID(true, emrtd.MappingGM, c)
	oidDER, _ := asn1.Marshal(oid)
	ref, kpi, err := emrtd.PACEPasswordKey(k, c)
	if err != nil {
		tm.t.Fatal(err)
	}
	mse := emrtd.Command{INS: 0x22, P1: 0xC1, P2: 0xA4,
		Data: append(emrtd.EncodeTLV(0x80, oidDER[2:]), emrtd.EncodeTLV(0x83, []byte{ref})...)}
	if r := tm.plain(mse); r.SW != 0x9000 {
		return r.SW
	}
	ga := func(last bool, tag uint32, v []byte, want uint32) ([]byte, uint16) {
		cla := byte(0x10)
		if last {
			cla = 0
		}
		body := []byte{}
		if v != nil {
			body = emrtd.EncodeTLV(tag, v)
		}
		r := tm.plain(emrtd.Command{CLA: cla, INS: 0x86, Data: emrtd.DynamicAuthData(body), Ne: 256})
		if r.SW != 0x9000 {
			return nil, r.SW
		}
		out, err := emrtd.ParseDynamicAuthData(r.Data, want)
		if err != nil {
			tm.t.Fatalf("GENERAL AUTHENTICATE answer: %v", err)
		}
		return out, r.SW
	}
	z, sw := ga(false, 0, nil, 0x80)
	if sw != 0x9000 {
		return sw
	}
	s, err := emrtd.DecryptNonce(c, kpi, z)
	if err != nil {
		tm.t.Fatal(err)
	}
	mapPriv, mapPub, _ := curve.GenerateKey(rand.Reader)
	pkMapICC, sw := ga(false, 0x81, curve.Marshal(mapPub), 0x82)
	if sw != 0x9000 {
		return sw
	}
	ptICC, err := curve.Unmarshal(pkMapICC)
	if err != nil {
		tm.t.Fatal(err)
	}
	h, _ := curve.ECDH(mapPriv, ptICC)
	mapped, err := emrtd.MapGM(curve, s, h)
	if err != nil {
		tm.t.Fatal(err)
	}
	ephPriv, ephPub, _ := mapped.GenerateKey(rand.Reader)
	pkICC, sw := ga(false, 0x83, mapped.Marshal(ephPub), 0x84)
	if sw != 0x9000 {
		return sw
	}
	ephICC, err := mapped.Unmarshal(pkICC)
	if err != nil {
		tm.t.Fatal(err)
	}
	k2, _ := mapped.ECDH(ephPriv, ephICC)
	sm, err := emrtd.PACESession(c, mapped.SharedSecret(k2))
	if err != nil {
		tm.t.Fatal(err)
	}
	tIFD, _ := emrtd.AuthToken(c, sm.KMAC, oid, mapped, ephICC)
	tICC, sw := ga(true, 0x85, tIFD, 0x86)
	if sw != 0x9000 {
		return sw
	}
	if want, _ := emrtd.AuthToken(c, sm.KMAC, oid, mapped, ephPub); !bytes.Equal(want, tICC) {
		tm.t.Fatal("card's authentication token does not verify")
	}
	tm.sm = sm
	r, err := tm.prot(selectApp)
	if err != nil {
		tm.err = err
		return 0
	}
	return r.SW
}

// readFile selects fid and reads it whole under secure messaging, in
// chunks of chunk bytes.
func (tm *term) readFile(fid uint16, chunk int) []byte {
	tm.t.Helper()
	tm.mustSW("SELECT", must(tm.prot(selectEF(fid))), 0x9000)
	var out []byte
	for {
		r, err := tm.prot(readBinary(len(out), chunk))
		if err != nil {
			tm.t.Fatalf("READ BINARY at %d: %v", len(out), err)
		}
		out = append(out, r.Data...)
		if r.SW == 0x6282 || r.SW == 0x6B00 {
			return out
		}
		if r.SW != 0x9000 {
			tm.t.Fatalf("READ BINARY at %d: SW %04X", len(out), r.SW)
		}
		if len(out) >= 4 {
			if n, ok := tlvLen(out); ok && len(out) >= n {
				return out[:n]
			}
		}
	}
}

// tlvLen returns the total length of the TLV at the start of b.
func tlvLen(b []byte) (int, bool) {
	t, _, err := emrtd.ParseTLV(b)
	if err != nil {
		return 0, false
	}
	return len(t.Raw), true
}

func must(r emrtd.Response, err error) emrtd.Response {
	if err != nil {
		panic(err)
	}
	return r
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
