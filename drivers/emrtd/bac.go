package emrtd

import (
	"bytes"
	"crypto/sha1"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// ErrAuthentication means mutual authentication (BAC or PACE) failed: the
// key (CAN or MRZ data) is probably wrong, or the chip is not genuine.
var ErrAuthentication = errors.New("emrtd: mutual authentication failed")

// CheckDigit returns the ICAO 9303-3 check digit ('0'..'9') of an MRZ field:
// weights 7, 3, 1; digits count as themselves, A..Z as 10..35, '<' as 0.
func CheckDigit(s string) byte {
	weights := [3]int{7, 3, 1}
	sum := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		v := 0
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		case c >= 'a' && c <= 'z':
			v = int(c-'a') + 10
		}
		sum += v * weights[i%3]
	}
	return byte('0' + sum%10)
}

// MRZInformation returns the MRZ information used for BAC and PACE-MRZ:
// document number (padded with '<' to at least 9 characters), birth date
// YYMMDD and expiry date YYMMDD, each followed by its check digit.
func MRZInformation(docNumber, birthYYMMDD, expiryYYMMDD string) string {
	doc := strings.ToUpper(docNumber)
	for len(doc) < 9 {
		doc += "<"
	}
	var b strings.Builder
	for _, f := range []string{doc, birthYYMMDD, expiryYYMMDD} {
		b.WriteString(f)
		b.WriteByte(CheckDigit(f))
	}
	return b.String()
}

func mrzHash(docNumber, birthYYMMDD, expiryYYMMDD string) []byte {
	h := sha1.Sum([]byte(MRZInformation(docNumber, birthYYMMDD, expiryYYMMDD)))
	return h[:]
}

// BACKeySeed returns K_seed, the first 16 bytes of SHA-1 over the MRZ
// information (ICAO 9303-11 §9.7.2); check digits are computed here.
func BACKeySeed(docNumber, birthYYMMDD, expiryYYMMDD string) []byte {
	return mrzHash(docNumber, birthYYMMDD, expiryYYMMDD)[:16]
}

// BACKeys derives the document basic access keys K_Enc and K_MAC from K_seed.
func BACKeys(seed []byte) (kEnc, kMAC []byte) {
	return KDF(seed, KDFEnc, TDES), KDF(seed, KDFMAC, TDES)
}

// BACTerminalCryptogram builds the EXTERNAL AUTHENTICATE data of BAC
// (terminal side): E_IFD || M_IFD over S = RND.IFD || RND.ICC || K.IFD.
func BACTerminalCryptogram(kEnc, kMAC, rndIFD, rndICC, kIFD []byte) ([]byte, error) {
	if len(rndIFD) != 8 || len(rndICC) != 8 || len(kIFD) != 16 {
		return nil, errors.New("emrtd: BAC needs 8-byte nonces and a 16-byte key part")
	}
	return bacCryptogram(kEnc, kMAC, rndIFD, rndICC, kIFD)
}

func bacCryptogram(kEnc, kMAC, a, b, k []byte) ([]byte, error) {
	s := make([]byte, 0, 32)
	s = append(append(append(s, a...), b...), k...)
	e, err := TDES.Encrypt(kEnc, nil, s)
	if err != nil {
		return nil, err
	}
	m, err := TDES.MAC(kMAC, Pad(e, 8))
	if err != nil {
		return nil, err
	}
	return append(e, m...), nil
}

// bacOpen checks the MAC of a 40-byte cryptogram, decrypts it and checks
// that bytes 8..16 are the expected nonce. It returns the 32-byte plaintext.
func bacOpen(kEnc, kMAC, data, nonce []byte) ([]byte, error) {
	if len(data) != 40 {
		return nil, fmt.Errorf("%w: BAC cryptogram of %d bytes", ErrAuthentication, len(data))
	}
	m, err := TDES.MAC(kMAC, Pad(data[:32], 8))
	if err != nil {
		return nil, err
	}
	if !macEqual(m, data[32:]) {
		return nil, fmt.Errorf("%w: MAC", ErrAuthentication)
	}
	p, err := TDES.Decrypt(kEnc, nil, data[:32])
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(p[8:16], nonce) != 1 {
		return nil, fmt.Errorf("%w: nonce", ErrAuthentication)
	}
	return p, nil
}

// BACCardCheck checks the terminal's EXTERNAL AUTHENTICATE data (card
// side) against the challenge RND.ICC the card gave, and returns RND.IFD
// and K.IFD.
func BACCardCheck(kEnc, kMAC, rndICC, cmdData []byte) (rndIFD, kIFD []byte, err error) {
	p, err := bacOpen(kEnc, kMAC, cmdData, rndICC)
	if err != nil {
		return nil, nil, err
	}
	return p[:8], p[16:32], nil
}

// BACCardCryptogram builds the card's answer E_ICC || M_ICC over
// R = RND.ICC || RND.IFD || K.ICC.
func BACCardCryptogram(kEnc, kMAC, rndICC, rndIFD, kICC []byte) ([]byte, error) {
	if len(rndIFD) != 8 || len(rndICC) != 8 || len(kICC) != 16 {
		return nil, errors.New("emrtd: BAC needs 8-byte nonces and a 16-byte key part")
	}
	return bacCryptogram(kEnc, kMAC, rndICC, rndIFD, kICC)
}

// BACTerminalFinish checks the card's answer (terminal side) and returns the
// secure-messaging session.
func BACTerminalFinish(kEnc, kMAC, rndIFD, rndICC, kIFD, resp []byte) (*SecureMessaging, error) {
	p, err := bacOpen(kEnc, kMAC, resp, rndIFD)
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(p[:8], rndICC) {
		return nil, fmt.Errorf("%w: RND.ICC", ErrAuthentication)
	}
	return BACSession(kIFD, p[16:32], rndICC, rndIFD)
}

// BACSession derives the BAC session: KS_seed = K.IFD xor K.ICC, KS_Enc and
// KS_MAC by KDF, SSC = RND.ICC[4:8] || RND.IFD[4:8].
func BACSession(kIFD, kICC, rndICC, rndIFD []byte) (*SecureMessaging, error) {
	if len(kIFD) != 16 || len(kICC) != 16 || len(rndICC) != 8 || len(rndIFD) != 8 {
		return nil, errors.New("emrtd: BAC session needs 16-byte key parts and 8-byte nonces")
	}
	seed := make([]byte, 16)
	subtle.XORBytes(seed, kIFD, kICC)
	ssc := append(append([]byte(nil), rndICC[4:8]...), rndIFD[4:8]...)
	return NewSecureMessaging(TDES, KDF(seed, KDFEnc, TDES), KDF(seed, KDFMAC, TDES), ssc)
}

// Key is what the reader knows to open the chip: the CAN (for PACE), the
// MRZ data (for BAC or PACE-MRZ), or both. For a CCCD the CAN is the last 6
// digits of the citizen ID and the document number the last 9.
type Key struct {
	CAN            string
	DocumentNumber string
	BirthDate      string // YYMMDD
	ExpiryDate     string // YYMMDD
}

// HasCAN reports whether k carries a CAN.
func (k Key) HasCAN() bool { return k.CAN != "" }

// HasMRZ reports whether k carries MRZ data.
func (k Key) HasMRZ() bool {
	return k.DocumentNumber != "" && len(k.BirthDate) == 6 && len(k.ExpiryDate) == 6
}

// LogValue implements slog.LogValuer: logs see only which kind of key it
// is, never the CAN or MRZ data (they are derived from the citizen ID).
func (k Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

// String describes the kind of key and never prints key material.
func (k Key) String() string {
	switch {
	case k.HasCAN() && k.HasMRZ():
		return "CAN+MRZ key"
	case k.HasCAN():
		return "CAN key"
	case k.HasMRZ():
		return "MRZ key"
	}
	return "empty key"
}
