package virtual

import (
	"bytes"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"

	"github.com/tiepdon/tiepdon/drivers/emrtd"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantHex(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	if w := strings.ReplaceAll(want, " ", ""); !strings.EqualFold(hex.EncodeToString(got), w) {
		t.Errorf("%s:\n got %X\nwant %s", what, got, w)
	}
}

// privRand returns the bytes emrtd.Curve.GenerateKey turns into the
// private key d (it reads Size+8 bytes and computes x mod (N-1) + 1).
func privRand(c *emrtd.Curve, d []byte) []byte {
	x := new(big.Int).Sub(new(big.Int).SetBytes(d), big.NewInt(1))
	return x.FillBytes(make([]byte, (c.N.BitLen()+7)/8+8))
}

func xmit(t *testing.T, c *Card, cmd string) []byte {
	t.Helper()
	r, err := c.Transmit(unhex(t, cmd))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// ICAO 9303-11 Appendix D.3 and D.4, card side: given the example's
// RND.ICC and K.ICC, the card answers the example's EXTERNAL AUTHENTICATE
// with the example's cryptogram and then the example's protected SELECT
// and READ BINARY commands with the example's protected responses, value
// for value.
func TestICAOAppendixDCardSide(t *testing.T) {
	p := Synthetic(0)
	p.Options.Rand = bytes.NewReader(unhex(t, "4608F91988702212"+"0B4F80323EB3191CB04970CB4052790B"))
	c, err := NewCard(p)
	if err != nil {
		t.Fatal(err)
	}
	// The example's MRZ keys and EF.COM instead of the profile's.
	c.bacEnc, c.bacMAC = emrtd.BACKeys(emrtd.BACKeySeed("L898902C<", "690806", "940623"))
	wantHex(t, "Kenc", c.bacEnc, "AB94FDECF2674FDFB9B391F85D7F76F2")
	c.files[FIDCOM].data = unhex(t, "60145F0104303130365F36063034303030305C026175")

	wantHex(t, "SELECT eMRTD application", xmit(t, c, "00A4040C07A0000002471001"), "9000")
	wantHex(t, "GET CHALLENGE", xmit(t, c, "0084000008"), "4608F91988702212 9000")
	wantHex(t, "EXTERNAL AUTHENTICATE", xmit(t, c,
		"0082000028 72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2 5F1448EEA8AD90A7 28"),
		"46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F 2F2D235D074D7449 9000")
	wantHex(t, "session SSC", c.sm.SSC, "887022120C06C226")
	wantHex(t, "protected SELECT EF.COM", xmit(t, c, "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800"),
		"990290008E08FA855A5D4C50A8ED9000")
	wantHex(t, "protected READ BINARY 4", xmit(t, c, "0CB000000D9701048E08ED6705417E96BA5500"),
		"8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000")
	wantHex(t, "protected READ BINARY 18", xmit(t, c, "0CB000040D9701128E082EA28A70F3C7B53500"),
		"871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D749000")
}

// ICAO 9303-11 Appendix G.1 (PACE ECDH generic mapping, brainpoolP256r1,
// AES-128, MRZ password), card side: fed the example's nonce and private
// keys, the card answers the example's terminal messages with the
// example's encrypted nonce, mapping and ephemeral keys and token.
func TestICAOAppendixG1CardSide(t *testing.T) {
	bp := emrtd.BrainpoolP256r1()
	rnd := concat(
		unhex(t, "3F00C4D39D153F2B2A214A078D899B22"),
		privRand(bp, unhex(t, "498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560")),
		privRand(bp, unhex(t, "107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A")),
	)
	p := Synthetic(0)
	p.Options.PACECurve = "brainpoolP256r1"
	p.Options.Rand = bytes.NewReader(rnd)
	c, err := NewCard(p)
	if err != nil {
		t.Fatal(err)
	}
	// The example's MRZ (T22000129, 640812, 101031) instead of the profile's.
	c.key = emrtd.Key{DocumentNumber: "T22000129", BirthDate: "640812", ExpiryDate: "101031"}

	wantHex(t, "EF.CardAccess", c.files[FIDCardAccess].data, "31143012060A04007F0007020204020202010202010D")
	wantHex(t, "MSE:Set AT (MRZ)", xmit(t, c, "0022C1A40F800A04007F00070202040202830101"), "9000")
	wantHex(t, "GA 1: encrypted nonce", xmit(t, c, "10860000027C0000"), "7C12801095A3A016522EE98D01E76CB6B98B42C3 9000")
	wantHex(t, "GA 2: mapping", xmit(t, c, "10860000457C438141 04"+
		"7ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E"+
		"544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D 00"),
		"7C438241 04 824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57"+
			"30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54 9000")
	wantHex(t, "GA 3: key agreement", xmit(t, c, "10860000457C438341 04"+
		"2DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C"+
		"3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462 00"),
		"7C438441 04 9E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB"+
			"7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094 9000")
	wantHex(t, "GA 4: mutual authentication", xmit(t, c, "008600000C7C0A8508C2B0BD78D94BA866 00"),
		"7C0A86083ABB9674BCE93C08 9000")
	if c.sm == nil {
		t.Fatal("no secure messaging after PACE")
	}
	wantHex(t, "KSenc", c.sm.KEnc, "F5F0E35C0D7161EE6724EE513A0D9A7F")
	wantHex(t, "KSmac", c.sm.KMAC, "FE251C7858B356B24514B3BD5F4297D1")
}
