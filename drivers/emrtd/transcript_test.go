package emrtd

import (
	"bytes"
	"context"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"
)

// scripted is a chip that answers a fixed transcript and fails the test on
// any command that differs from the script.
type scripted struct {
	t     *testing.T
	steps []step
	i     int
}

type step struct {
	cmd  string                  // expected command (hex), "" = any
	resp string                  // response (hex)
	fn   func(cmd []byte) []byte // or a computed response
}

func (s *scripted) Transmit(cmd []byte) ([]byte, error) {
	s.t.Helper()
	if s.i >= len(s.steps) {
		s.t.Fatalf("unexpected command %X after the script", cmd)
	}
	st := s.steps[s.i]
	s.i++
	if st.cmd != "" && !strings.EqualFold(hex.EncodeToString(cmd), strings.ReplaceAll(st.cmd, " ", "")) {
		s.t.Fatalf("step %d: command\n %X\nwant\n %s", s.i, cmd, st.cmd)
	}
	if st.fn != nil {
		return st.fn(cmd), nil
	}
	return unhex(s.t, st.resp), nil
}

// scalarRand yields bytes that make Curve.GenerateKey return the given
// private keys, then the given raw bytes.
type scalarRand struct{ buf []byte }

func newScalarRand(t *testing.T, n *big.Int, keys ...string) *scalarRand {
	r := &scalarRand{}
	nb := (n.BitLen() + 7) / 8
	for _, k := range keys {
		v := new(big.Int).SetBytes(unhex(t, k))
		v.Sub(v, big.NewInt(1))
		r.buf = append(r.buf, make([]byte, 8)...)
		r.buf = append(r.buf, v.FillBytes(make([]byte, nb))...)
	}
	return r
}

func (r *scalarRand) Read(p []byte) (int, error) {
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	for i := n; i < len(p); i++ {
		p[i] = 0
	}
	return len(p), nil
}

// The whole PACE exchange of ICAO 9303-11 Appendix G.1, APDU for APDU,
// from the terminal side, then the first protected command under the
// derived AES session.
func TestAppendixG1PACETranscript(t *testing.T) {
	card, _ := NewSecureMessaging(AES128, unhex(t, "F5F0E35C0D7161EE6724EE513A0D9A7F"), unhex(t, "FE251C7858B356B24514B3BD5F4297D1"), nil)
	chip := &scripted{t: t, steps: []step{
		{cmd: "00A4020C02011C", resp: "9000"},
		{cmd: "00B0000000", resp: "31143012060A04007F0007020204020202010202010D 9000"},
		{cmd: "00B0810000", resp: "6A82"}, // no EF.ATR/INFO
		{cmd: "0022C1A4 12 800A04007F00070202040202 830101 84010D", resp: "9000"},
		{cmd: "10860000 02 7C00 00", resp: "7C12 8010 95A3A016522EE98D01E76CB6B98B42C3 9000"},
		{cmd: "10860000 45 7C43 8141 04" +
			"7ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E" +
			"544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D 00",
			resp: "7C43 8241 04" +
				"824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57" +
				"30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54 9000"},
		{cmd: "10860000 45 7C43 8341 04" +
			"2DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C" +
			"3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462 00",
			resp: "7C43 8441 04" +
				"9E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB" +
				"7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094 9000"},
		{cmd: "00860000 0C 7C0A 8508 C2B0BD78D94BA866 00", resp: "7C0A 8608 3ABB9674BCE93C08 9000"},
		{fn: func(cmd []byte) []byte {
			plain, err := card.UnprotectCommand(cmd)
			if err != nil || !bytes.Equal(plain, unhex(t, "00A4040C07A0000002471001")) {
				t.Errorf("SELECT of the application under the PACE keys: %X, %v", plain, err)
			}
			r, _ := card.ProtectResponse(nil, 0x9000)
			return r
		}},
	}}
	key := Key{DocumentNumber: "T22000129", BirthDate: "640812", ExpiryDate: "101031"}
	rnd := newScalarRand(t, BrainpoolP256r1().N,
		"7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99",
		"A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595")
	s, err := OpenWithOptions(context.Background(), chip, key, SessionOptions{Rand: rnd})
	if err != nil {
		t.Fatal(err)
	}
	if s.Protocol != "PACE" || chip.i != len(chip.steps) {
		t.Errorf("protocol %s after %d steps", s.Protocol, chip.i)
	}
	eqHex(t, "SSC after SELECT", s.SecureMessaging().SSC, "00000000000000000000000000000002")
}

// BAC and the first protected commands of ICAO 9303-11 Appendix D, from the
// terminal side: GET CHALLENGE, EXTERNAL AUTHENTICATE with the example's
// nonces, the protected SELECT of EF.COM, then EF.COM read under the session.
func TestAppendixDBACTranscript(t *testing.T) {
	card := d4Session(t)
	card.SSC = unhex(t, "887022120C06C228") // after the example's SELECT
	com := unhex(t, "60145F0104303130365F36063034303030305C026175")
	chip := &scripted{t: t, steps: []step{
		{cmd: "00A4020C02011C", resp: "6A82"},
		{cmd: "00A4040C07A0000002471001", resp: "9000"},
		{cmd: "0084000008", resp: "4608F91988702212 9000"},
		{cmd: "0082000028 72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F25F1448EEA8AD90A7 28",
			resp: "46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F2F2D235D074D7449 9000"},
		{cmd: "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800", resp: "990290008E08FA855A5D4C50A8ED9000"},
		{fn: func(cmd []byte) []byte {
			plain, err := card.UnprotectCommand(cmd)
			if err != nil {
				t.Fatalf("READ BINARY: %v", err)
			}
			c, _ := ParseCommand(plain)
			if c.INS != 0xB0 || c.P1 != 0 || c.P2 != 0 {
				t.Errorf("READ BINARY %X", plain)
			}
			r, _ := card.ProtectResponse(com, 0x6282)
			return r
		}},
	}}
	rnd := &scalarRand{buf: unhex(t, "781723860C06C226 0B795240CB7049B01C19B33E32804F0B")}
	s, err := OpenWithOptions(context.Background(), chip, Key{DocumentNumber: "L898902C", BirthDate: "690806", ExpiryDate: "940623"},
		SessionOptions{Rand: rnd, NoSFI: true, Extended: ExtendedOff})
	if err != nil {
		t.Fatal(err)
	}
	if s.Protocol != "BAC" {
		t.Errorf("protocol %s", s.Protocol)
	}
	got, err := s.ReadFile(context.Background(), FIDCOM)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, com) {
		t.Errorf("EF.COM = %X", got)
	}
	c, err := ParseCOM(got)
	if err != nil || c.LDSVersion != "0106" || len(c.DataGroups) != 2 || c.DataGroups[0] != 1 || c.DataGroups[1] != 2 {
		t.Errorf("COM = %+v, %v", c, err)
	}
}
