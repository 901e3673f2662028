package emrtd

import (
	"bytes"
	"encoding/asn1"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func eqHex(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	if w := strings.ReplaceAll(want, " ", ""); !strings.EqualFold(hex.EncodeToString(got), w) {
		t.Errorf("%s = %X, want %s", what, got, w)
	}
}

// ICAO 9303-11 Appendix D.2: BAC key derivation from the MRZ of the
// specimen passport (L898902C<3, 690806, 940623).
func TestAppendixD2KeyDerivation(t *testing.T) {
	if got := MRZInformation("L898902C", "690806", "940623"); got != "L898902C<369080619406236" {
		t.Errorf("MRZ information = %q", got)
	}
	seed := BACKeySeed("L898902C<", "690806", "940623")
	eqHex(t, "Kseed", seed, "239AB9CB282DAF66231DC5A4DF6BFBAE")
	kEnc, kMAC := BACKeys(seed)
	eqHex(t, "Kenc", kEnc, "AB94FDECF2674FDFB9B391F85D7F76F2")
	eqHex(t, "Kmac", kMAC, "7962D9ECE03D1ACD4C76089DCE131543")
}

// ICAO 9303-11 Appendix D.3: mutual authentication, both sides.
func TestAppendixD3MutualAuthentication(t *testing.T) {
	kEnc := unhex(t, "AB94FDECF2674FDFB9B391F85D7F76F2")
	kMAC := unhex(t, "7962D9ECE03D1ACD4C76089DCE131543")
	rndICC := unhex(t, "4608F91988702212")
	rndIFD := unhex(t, "781723860C06C226")
	kIFD := unhex(t, "0B795240CB7049B01C19B33E32804F0B")
	kICC := unhex(t, "0B4F80323EB3191CB04970CB4052790B")

	cmd, err := BACTerminalCryptogram(kEnc, kMAC, rndIFD, rndICC, kIFD)
	if err != nil {
		t.Fatal(err)
	}
	eqHex(t, "cmd_data (E_IFD||M_IFD)", cmd,
		"72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2 5F1448EEA8AD90A7")

	// Card side: check the terminal, answer.
	gotIFD, gotK, err := BACCardCheck(kEnc, kMAC, rndICC, cmd)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gotIFD, rndIFD) || !bytes.Equal(gotK, kIFD) {
		t.Errorf("card recovered RND.IFD %X K.IFD %X", gotIFD, gotK)
	}
	resp, err := BACCardCryptogram(kEnc, kMAC, rndICC, rndIFD, kICC)
	if err != nil {
		t.Fatal(err)
	}
	eqHex(t, "resp_data (E_ICC||M_ICC)", resp,
		"46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F 2F2D235D074D7449")

	sm, err := BACTerminalFinish(kEnc, kMAC, rndIFD, rndICC, kIFD, resp)
	if err != nil {
		t.Fatal(err)
	}
	eqHex(t, "KSenc", sm.KEnc, "979EC13B1CBFE9DCD01AB0FED307EAE5")
	eqHex(t, "KSmac", sm.KMAC, "F1CB1F1FB5ADF208806B89DC579DC1F8")
	eqHex(t, "SSC", sm.SSC, "887022120C06C226")

	// A flipped bit anywhere must be refused by both sides.
	bad := append([]byte(nil), cmd...)
	bad[3] ^= 1
	if _, _, err := BACCardCheck(kEnc, kMAC, rndICC, bad); err == nil {
		t.Error("card accepted a tampered cryptogram")
	}
	if _, _, err := BACCardCheck(kEnc, kMAC, rndIFD, cmd); err == nil {
		t.Error("card accepted a cryptogram for another challenge")
	}
	bad = append([]byte(nil), resp...)
	bad[39] ^= 1
	if _, err := BACTerminalFinish(kEnc, kMAC, rndIFD, rndICC, kIFD, bad); err == nil {
		t.Error("terminal accepted a tampered answer")
	}
}

func d4Session(t *testing.T) *SecureMessaging {
	sm, err := NewSecureMessaging(TDES, unhex(t, "979EC13B1CBFE9DCD01AB0FED307EAE5"),
		unhex(t, "F1CB1F1FB5ADF208806B89DC579DC1F8"), unhex(t, "887022120C06C226"))
	if err != nil {
		t.Fatal(err)
	}
	return sm
}

// ICAO 9303-11 Appendix D.4: secure messaging of SELECT EF.COM and two READ
// BINARY commands, checked on the terminal side and on the card side with
// the SSC after every step.
func TestAppendixD4SecureMessaging(t *testing.T) {
	steps := []struct {
		plain, protected, resp, ssc, respSSC, plainResp string
		respData                                        []byte
	}{
		{ // SELECT EF.COM
			plain:     "00A4020C02011E",
			protected: "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800",
			ssc:       "887022120C06C227",
			resp:      "990290008E08FA855A5D4C50A8ED9000",
			respSSC:   "887022120C06C228",
			plainResp: "9000",
		},
		{ // READ BINARY of the first 4 bytes
			plain:     "00B0000004",
			protected: "0CB000000D9701048E08ED6705417E96BA5500",
			ssc:       "887022120C06C229",
			resp:      "8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000",
			respSSC:   "887022120C06C22A",
			plainResp: "60145F019000",
		},
		{ // READ BINARY of the remaining 18 bytes
			plain:     "00B0000412",
			protected: "0CB000040D9701128E082EA28A70F3C7B53500",
			ssc:       "887022120C06C22B",
			resp:      "871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D749000",
			respSSC:   "887022120C06C22C",
			plainResp: "04303130365F36063034303030305C0261759000",
		},
	}
	terminal, card := d4Session(t), d4Session(t)
	for _, s := range steps {
		got, err := terminal.ProtectCommand(unhex(t, s.plain))
		if err != nil {
			t.Fatal(err)
		}
		eqHex(t, "protected "+s.plain, got, s.protected)
		eqHex(t, "terminal SSC after command", terminal.SSC, s.ssc)

		plain, err := card.UnprotectCommand(got)
		if err != nil {
			t.Fatalf("card: %v", err)
		}
		eqHex(t, "card's plain command", plain, s.plain)

		r, _ := ParseResponse(unhex(t, s.plainResp))
		resp, err := card.ProtectResponse(r.Data, r.SW)
		if err != nil {
			t.Fatal(err)
		}
		eqHex(t, "card's protected response", resp, s.resp)
		eqHex(t, "card SSC after response", card.SSC, s.respSSC)

		out, err := terminal.UnprotectResponse(unhex(t, s.resp))
		if err != nil {
			t.Fatalf("terminal: %v", err)
		}
		eqHex(t, "unprotected response", out, s.plainResp)
		eqHex(t, "terminal SSC after response", terminal.SSC, s.respSSC)
	}

	// A wrong MAC on either side is refused.
	sm := d4Session(t)
	sm.SSC = unhex(t, "887022120C06C227")
	bad := unhex(t, "990290008E08FA855A5D4C50A8EE9000")
	if _, err := sm.UnprotectResponse(bad); err != ErrSMMAC {
		t.Errorf("tampered response: err = %v, want ErrSMMAC", err)
	}
	card = d4Session(t)
	if _, err := card.UnprotectCommand(unhex(t, "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F900")); err != ErrSMMAC {
		t.Errorf("tampered command: err = %v, want ErrSMMAC", err)
	}
	// A plain 9000 during a session is refused.
	if _, err := d4Session(t).UnprotectResponse([]byte{0x90, 0}); err != ErrSMNotProtected {
		t.Errorf("plain 9000: err = %v", err)
	}
}

// ICAO 9303-11 Appendix G.1: PACE ECDH generic mapping on brainpoolP256r1
// with AES-128, MRZ T22000129, 640812, 101031.
func TestAppendixG1PACEGenericMapping(t *testing.T) {
	c := BrainpoolP256r1()
	key := Key{DocumentNumber: "T22000129", BirthDate: "640812", ExpiryDate: "101031"}
	if got := MRZInformation(key.DocumentNumber, key.BirthDate, key.ExpiryDate); got != "T22000129364081251010318" {
		t.Errorf("MRZ information = %q", got)
	}
	ref, kpi, err := PACEPasswordKey(key, AES128)
	if err != nil || ref != PasswordMRZ {
		t.Fatalf("password key: ref %d err %v", ref, err)
	}
	eqHex(t, "K_pi", kpi, "89DED1B26624EC1E634C1989302849DD")

	s := unhex(t, "3F00C4D39D153F2B2A214A078D899B22")
	z, err := EncryptNonce(AES128, kpi, s)
	if err != nil {
		t.Fatal(err)
	}
	eqHex(t, "encrypted nonce z", z, "95A3A016522EE98D01E76CB6B98B42C3")
	s2, _ := DecryptNonce(AES128, kpi, z)
	eqHex(t, "decrypted nonce s", s2, "3F00C4D39D153F2B2A214A078D899B22")

	pt := func(x, y string) Point {
		return Point{new(big.Int).SetBytes(unhex(t, x)), new(big.Int).SetBytes(unhex(t, y))}
	}
	eqPoint := func(what string, got Point, x, y string) {
		t.Helper()
		if !got.Equal(pt(x, y)) {
			t.Errorf("%s = (%X, %X), want (%s, %s)", what, got.X, got.Y, x, y)
		}
	}
	skMapPCD := unhex(t, "7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99")
	skMapPICC := unhex(t, "498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560")
	pkMapPCD := c.PublicKey(skMapPCD)
	eqPoint("PK_Map,PCD", pkMapPCD,
		"7ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E",
		"544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D")
	pkMapPICC := c.PublicKey(skMapPICC)
	eqPoint("PK_Map,PICC", pkMapPICC,
		"824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57",
		"30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54")
	h, err := c.ECDH(skMapPCD, pkMapPICC)
	if err != nil {
		t.Fatal(err)
	}
	eqPoint("H", h,
		"60332EF2450B5D247EF6D3868397D398852ED6E8CAF6FFEEF6BF85CA57057FD5",
		"0840CA7415BAF3E43BD414D35AA4608B93A2CAF3A4E3EA4E82C9C13D03EB7181")
	h2, _ := c.ECDH(skMapPICC, pkMapPCD)
	if !h.Equal(h2) {
		t.Error("H differs between the two sides")
	}
	mapped, err := MapGM(c, s, h)
	if err != nil {
		t.Fatal(err)
	}
	eqPoint("mapped generator", mapped.G,
		"8CED63C91426D4F0EB1435E7CB1D74A46723A0AF21C89634F65A9AE87A9265E2",
		"8C879506743F8611AC33645C5B985C80B5F09A0B83407C1B6A4D857AE76FE522")

	skPCD := unhex(t, "A73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595")
	skPICC := unhex(t, "107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A")
	pkPCD := mapped.PublicKey(skPCD)
	eqPoint("PK_PCD", pkPCD,
		"2DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C",
		"3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462")
	pkPICC := mapped.PublicKey(skPICC)
	eqPoint("PK_PICC", pkPICC,
		"9E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB",
		"7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094")
	k, err := mapped.ECDH(skPCD, pkPICC)
	if err != nil {
		t.Fatal(err)
	}
	shared := mapped.SharedSecret(k)
	eqHex(t, "shared secret K", shared, "28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925")
	sm, err := PACESession(AES128, shared)
	if err != nil {
		t.Fatal(err)
	}
	eqHex(t, "KSenc", sm.KEnc, "F5F0E35C0D7161EE6724EE513A0D9A7F")
	eqHex(t, "KSmac", sm.KMAC, "FE251C7858B356B24514B3BD5F4297D1")
	eqHex(t, "SSC", sm.SSC, "00000000000000000000000000000000")

	oid := PACEOID(true, MappingGM, AES128)
	if !oid.Equal(asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 4, 2, 2}) {
		t.Errorf("OID = %v", oid)
	}
	tPCD, err := AuthToken(AES128, sm.KMAC, oid, mapped, pkPICC)
	if err != nil {
		t.Fatal(err)
	}
	eqHex(t, "T_PCD", tPCD, "C2B0BD78D94BA866")
	tPICC, _ := AuthToken(AES128, sm.KMAC, oid, mapped, pkPCD)
	eqHex(t, "T_PICC", tPICC, "3ABB9674BCE93C08")

	// The EF.CardAccess of the example names this protocol on brainpoolP256r1.
	infos, err := ParseSecurityInfos(unhex(t, "31143012060A04007F0007020204020202010202010D"))
	if err != nil {
		t.Fatal(err)
	}
	p, ok := infos.PreferredPACE()
	if !ok || !p.Protocol.Equal(oid) || p.ParameterID != 13 || p.Cipher != AES128 || p.Version != 2 {
		t.Errorf("PACEInfo = %+v, %v", p, ok)
	}
}

// The curves are what their names say: G on the curve and N·G = infinity.
func TestCurves(t *testing.T) {
	for id := 0; id < 20; id++ {
		c := CurveByParameterID(id)
		if c == nil {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			if !c.IsOnCurve(c.G) {
				t.Fatal("G not on curve")
			}
			if !c.ScalarBaseMult(c.N.Bytes()).IsInfinity() {
				t.Error("N·G is not infinity")
			}
			two := c.ScalarBaseMult([]byte{2})
			if !two.Equal(c.Add(c.G, c.G)) || !c.IsOnCurve(two) {
				t.Error("2·G != G+G")
			}
			if CurveByOID(c.OID) != c {
				t.Error("OID lookup")
			}
		})
	}
}

// AES-CMAC against NIST SP 800-38B (RFC 4493) example vectors.
func TestCMAC(t *testing.T) {
	key := unhex(t, "2b7e151628aed2a6abf7158809cf4f3c")
	msg := unhex(t, "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411")
	for _, tc := range []struct {
		n    int
		want string
	}{
		{0, "bb1d6929e95937287fa37d129b756746"},
		{16, "070a16b46b4d4144f79bdd9dd04a287c"},
		{40, "dfa66747de9ae63030ca32611497c827"},
	} {
		got, err := AES128.CMAC(key, msg[:tc.n])
		if err != nil {
			t.Fatal(err)
		}
		eqHex(t, "CMAC", got, tc.want)
	}
}

func TestPadUnpad(t *testing.T) {
	for n := 0; n < 40; n++ {
		data := bytes.Repeat([]byte{0xAB}, n)
		for _, bs := range []int{8, 16} {
			p := Pad(data, bs)
			if len(p)%bs != 0 || len(p) <= n {
				t.Fatalf("Pad(%d, %d) has %d bytes", n, bs, len(p))
			}
			u, err := Unpad(p)
			if err != nil || !bytes.Equal(u, data) {
				t.Fatalf("Unpad(Pad(%d)) = %X, %v", n, u, err)
			}
		}
	}
	if _, err := Unpad([]byte{1, 2, 0}); err != ErrBadPadding {
		t.Errorf("Unpad without 80: %v", err)
	}
}
