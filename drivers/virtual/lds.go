package virtual

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers/cccd"
	"github.com/tiepdon/tiepdon/drivers/emrtd"
)

// File identifiers and short file identifiers of the LDS (ICAO 9303-10).
const (
	FIDCardAccess = 0x011C
	FIDATRInfo    = 0x2F01
	FIDCOM        = 0x011E
	FIDSOD        = 0x011D
	FIDDG1        = 0x0101
	FIDDG2        = 0x0102
	FIDDG3        = 0x0103
	FIDDG13       = 0x010D
	FIDDG14       = 0x010E
	FIDDG15       = 0x010F
)

// AID is the eMRTD application identifier.
var AID = []byte{0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01}

// file is one elementary file of the card.
type file struct {
	fid     uint16
	sfi     byte
	data    []byte
	inApp   bool // inside the eMRTD application (else at MF level)
	open    bool // readable without access control
	refused bool // never readable (DG3: needs Terminal Authentication)
}

// MRZ returns the three 30-character lines of the TD1 MRZ for p: document
// number = last 9 digits of the ID, optional data = the full ID and its
// check digit, names transliterated without diacritics.
func MRZ(p Profile) ([3]string, error) {
	if !p.CitizenID.Valid() {
		return [3]string{}, fmt.Errorf("profile: citizen ID is not 12 digits")
	}
	if !p.BirthDate.Full() || !p.ExpiryDate.Full() {
		return [3]string{}, fmt.Errorf("profile: birth and expiry dates must be full dates")
	}
	doc := p.CitizenID.DocumentNumber()
	id := string(p.CitizenID)
	opt := id + "<<" + string(checkDigit(id))
	l1 := "IDVNM" + doc + string(checkDigit(doc)) + opt
	dob, exp := yymmdd(p.BirthDate), yymmdd(p.ExpiryDate)
	sex := "<"
	switch p.Sex {
	case patient.Male:
		sex = "M"
	case patient.Female:
		sex = "F"
	}
	l2 := dob + string(checkDigit(dob)) + sex + exp + string(checkDigit(exp)) + "VNM" + strings.Repeat("<", 11)
	composite := l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]
	l2 += string(checkDigit(composite))
	l3 := pad(MRZName(p.Name), 30)
	return [3]string{pad(l1, 30), l2, l3}, nil
}

// MRZName writes a Vietnamese name the MRZ way: upper case, no diacritics,
// the first word as the primary identifier: "Nguyễn Thị Ánh Hồng" →
// "NGUYEN<<THI<ANH<HONG".
func MRZName(n patient.Name) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	s, _, err := transform.String(t, string(n))
	if err != nil {
		s = string(n)
	}
	s = strings.NewReplacer("đ", "D", "Đ", "D").Replace(s)
	words := strings.Fields(strings.ToUpper(s))
	for i, w := range words {
		words[i] = strings.Map(func(r rune) rune {
			if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
				return r
			}
			return '<'
		}, w)
	}
	if len(words) == 0 {
		return ""
	}
	out := words[0] + "<<" + strings.Join(words[1:], "<")
	if len(out) > 30 {
		out = out[:30]
	}
	return out
}

func pad(s string, n int) string {
	if len(s) >= n {
		return s[:n]
	}
	return s + strings.Repeat("<", n-len(s))
}

func yymmdd(d patient.Date) string { return fmt.Sprintf("%02d%02d%02d", d.Year%100, d.Month, d.Day) }

// checkDigit is the ICAO 9303-3 check digit, written here independently of
// emrtd.CheckDigit so that the two cross-check.
func checkDigit(s string) byte {
	sum := 0
	for i, c := range []byte(s) {
		v := 0
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		}
		sum += v * []int{7, 3, 1}[i%3]
	}
	return byte('0' + sum%10)
}

// Object identifiers of the security infos.
var (
	oidPACEECDHGM = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 4, 2} // + cipher arc
	oidAA         = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 5}
	oidECDSAPlain = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 3} // ecdsa-plain-SHA256
)

// Standardized domain parameter IDs (BSI TR-03110-3 / ICAO 9303-11 §9.5.1).
var paceParamIDs = map[string]int{"P-256": 12, "brainpoolP256r1": 13}

// paceOID is id-PACE-ECDH-GM-<cipher>.
func paceOID(c emrtd.Cipher) asn1.ObjectIdentifier {
	return append(append(asn1.ObjectIdentifier{}, oidPACEECDHGM...), int(c))
}

func paceInfo(c emrtd.Cipher, curve string) ([]byte, error) {
	return asn1.Marshal(struct {
		Protocol    asn1.ObjectIdentifier
		Version     int
		ParameterID int
	}{paceOID(c), 2, paceParamIDs[curve]})
}

func aaInfo() ([]byte, error) {
	return asn1.Marshal(struct {
		Protocol  asn1.ObjectIdentifier
		Version   int
		Algorithm asn1.ObjectIdentifier
	}{oidAA, 1, oidECDSAPlain})
}

// buildFiles writes every file of the card for profile p.
func (c *Card) buildFiles() error {
	p := c.p
	o := p.Options
	files := map[uint16]*file{}
	add := func(fid uint16, sfi byte, inApp, open bool, data []byte) {
		files[fid] = &file{fid: fid, sfi: sfi, data: data, inApp: inApp, open: open}
	}

	var pace []byte
	if !o.NoPACE {
		pi, err := paceInfo(o.PACECipher, o.PACECurve)
		if err != nil {
			return err
		}
		pace = pi
		add(FIDCardAccess, 0x1C, false, true, tlv(0x31, pi))
	}

	if !o.ShortOnly {
		// EF.ATR/INFO: extended length information '7F66' { max command, max response }.
		info := tlvN(0x7F66, concat(tlv(0x02, []byte{0x04, 0x00}), tlv(0x02, []byte{byte((o.MaxRead + 64) >> 8), byte(o.MaxRead + 64)})))
		add(FIDATRInfo, 0x01, false, true, info)
	}

	mrz, err := MRZ(p)
	if err != nil {
		return err
	}
	dg1 := tlv(0x61, tlvN(0x5F1F, []byte(mrz[0]+mrz[1]+mrz[2])))

	photo := p.Photo
	if photo == nil {
		photo = SyntheticFace(int(p.CitizenID[len(p.CitizenID)-1]))
	}
	bht := tlv(0xA1, concat(
		tlv(0x80, []byte{0x01, 0x01}), // ICAO header version 1.1
		tlv(0x81, []byte{0x02}),       // biometric type: facial features
		tlv(0x87, []byte{0x01, 0x01}), // format owner: ISO/IEC JTC 1/SC 37
		tlv(0x88, []byte{0x00, 0x08}), // format type: face image
	))
	bit := tlvN(0x7F60, concat(bht, tlvN(0x5F2E, faceRecord(photo, p.Sex == patient.Female))))
	dg2 := tlv(0x75, tlvN(0x7F61, concat(tlv(0x02, []byte{0x01}), bit)))

	dg3 := tlv(0x63, tlvN(0x7F61, tlv(0x02, []byte{0x00})))

	d13 := &cccd.DG13{
		CitizenID: p.CitizenID, Name: p.Name, BirthDate: p.BirthDate, Sex: p.Sex,
		Nationality: p.Nationality, Ethnicity: p.Ethnicity, Religion: p.Religion, Hometown: p.Hometown,
		Residence: p.Address, Marks: p.Marks, IssueDate: p.IssueDate, ExpiryDate: p.ExpiryDate,
		Father: p.Father, Mother: p.Mother, Spouse: p.Spouse, Field15: p.OldID, Field16: p.Field16,
	}
	dg13, err := cccd.MarshalDG13(d13)
	if err != nil {
		return err
	}

	var aa []byte // ActiveAuthenticationInfo: ECDSA keys only (ICAO 9303-11 §9.2.7)
	if c.aaRSA == nil {
		if aa, err = aaInfo(); err != nil {
			return err
		}
	}
	var ca []byte
	if c.caKey != nil {
		if ca, err = caInfos(c.caKey); err != nil {
			return err
		}
	}
	dg14 := tlv(0x6E, tlv(0x31, concat(pace, ca, aa)))

	spki, err := x509.MarshalPKIXPublicKey(c.aaPublic())
	if err != nil {
		return err
	}
	dg15 := tlv(0x6F, spki)

	com := tlv(0x60, concat(
		tlvN(0x5F01, []byte("0107")),
		tlvN(0x5F36, []byte("040000")),
		tlv(0x5C, []byte{0x61, 0x75, 0x63, 0x6D, 0x6E, 0x6F}),
	))

	sod, err := c.pki.SignSOD(map[int][]byte{1: dg1, 2: dg2, 3: dg3, 13: dg13, 14: dg14, 15: dg15}, c.rand)
	if err != nil {
		return err
	}
	if o.BERSOD || o.BERFile {
		if sod, err = berSOD(sod, c.pki.DS.Raw, o.BERFile); err != nil {
			return fmt.Errorf("BER SOD: %w", err)
		}
	}
	if o.TamperDG13 {
		d13.Residence = "Số 99 Đường Giả Mạo, Hà Nội"
		if dg13, err = cccd.MarshalDG13(d13); err != nil {
			return err
		}
	}

	add(FIDCOM, 0x1E, true, false, com)
	add(FIDDG1, 0x01, true, false, dg1)
	add(FIDDG2, 0x02, true, false, dg2)
	add(FIDDG3, 0x03, true, false, dg3)
	files[FIDDG3].refused = true
	add(FIDDG13, 0x0D, true, false, dg13)
	add(FIDDG14, 0x0E, true, false, dg14)
	add(FIDDG15, 0x0F, true, false, dg15)
	add(FIDSOD, 0x1D, true, false, sod)
	c.files = files
	return nil
}
