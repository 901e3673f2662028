package virtual

import (
	"io"

	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers/emrtd"
)

// Profile is the person and chip a virtual Card plays.
type Profile struct {
	CitizenID   patient.CitizenID
	OldID       string // 9-digit CMND, written to DG13 field 15
	Name        patient.Name
	BirthDate   patient.Date
	Sex         patient.Sex
	Nationality string
	Ethnicity   string
	Religion    string
	Hometown    string
	Address     string // DG13 field 9
	Marks       string
	IssueDate   patient.Date
	ExpiryDate  patient.Date
	Father      patient.Name
	Mother      patient.Name
	Spouse      patient.Name
	Field16     string

	// Photo is the face image (JPEG) for DG2; nil draws a synthetic face.
	Photo []byte

	Options Options
}

// Options choose the chip's protocols and its faults. The zero value is a
// well-behaved CCCD with PACE on P-256 and AES-128.
type Options struct {
	// PACECurve is "P-256" (default) or "brainpoolP256r1".
	PACECurve string
	// PACECipher is emrtd.AES128 (default), AES192 or AES256.
	PACECipher emrtd.Cipher
	// NoPACE leaves out EF.CardAccess: the chip offers BAC only.
	NoPACE bool
	// RefusePACE answers MSE:Set AT for PACE with 6982, as some CCCDs do;
	// readers must fall back to BAC.
	RefusePACE bool
	// SelectMFWorks answers SELECT MF with 9000 instead of the CCCD's 6D00.
	SelectMFWorks bool
	// ShortOnly refuses extended-length APDUs with 6700.
	ShortOnly bool
	// MaxRead caps the bytes one READ BINARY returns (default 4096 with
	// extended length, 256 without).
	MaxRead int

	// BadMAC corrupts the MAC of every protected response.
	BadMAC bool
	// TamperDG13 changes DG13 after the SOD was signed (hash mismatch).
	TamperDG13 bool
	// BERSOD writes the SOD's CMS with indefinite lengths (BER), as some
	// chips in the field do; the signed bytes are the same.
	BERSOD bool
	// BERFile also gives the EF.SOD file's own 77 tag an indefinite
	// length, so a reader cannot size the file from its first bytes.
	BERFile bool
	// AARSA gives the chip an RSA-2048 Active Authentication key (ISO/IEC
	// 9796-2 signatures) instead of ECDSA P-256.
	AARSA bool
	// NoChipAuth leaves Chip Authentication out of DG14.
	NoChipAuth bool
	// WrongCAKey answers Chip Authentication with a key other than DG14's
	// (a clone that copied the data groups).
	WrongCAKey bool
	// WrongAAKey signs Active Authentication with a key other than DG15's.
	WrongAAKey bool
	// StallAfter makes the Nth APDU (counting from 1, ATR polls excluded)
	// hang until Unstall or Remove; 0 never stalls.
	StallAfter int
	// RemoveAfter removes the card at the Nth APDU: Transmit fails with
	// ErrRemoved and ServeVPCD drops the connection; 0 never.
	RemoveAfter int

	// PKI signs the SOD; nil generates a fresh test PKI.
	PKI *PKI
	// Rand is the randomness for nonces and keys; nil is crypto/rand.
	Rand io.Reader
}

// Synthetic returns a made-up person with Vietnamese diacritics in every
// text field, a valid 12-digit ID and dates that give a valid MRZ. n picks
// one of a few variants (any n works).
func Synthetic(n int) Profile {
	people := []Profile{{
		CitizenID: "001190012345", OldID: "012345678",
		Name: "Nguyễn Thị Ánh Hồng", BirthDate: patient.Date{Year: 1990, Month: 3, Day: 15}, Sex: patient.Female,
		Hometown: "Xã Đông Hưng, Huyện Đông Hưng, Thái Bình",
		Address:  "Số 12 Phố Huế, Phường Hàng Bài, Quận Hoàn Kiếm, Hà Nội",
		Marks:    "Nốt ruồi C:2cm trên trước mày trái",
		Father:   "Nguyễn Văn Bình", Mother: "Trần Thị Cúc",
		IssueDate: patient.Date{Year: 2021, Month: 4, Day: 10}, ExpiryDate: patient.Date{Year: 2030, Month: 3, Day: 15},
	}, {
		CitizenID: "079085004321",
		Name:      "Trần Đức Thắng", BirthDate: patient.Date{Year: 1985, Month: 11, Day: 2}, Sex: patient.Male,
		Hometown: "Phường Vĩnh Ninh, Thành phố Huế, Thừa Thiên Huế",
		Address:  "45/7 Đường Nguyễn Thị Minh Khai, Phường Đa Kao, Quận 1, TP. Hồ Chí Minh",
		Marks:    "Sẹo chấm C:1cm dưới sau đuôi mắt phải",
		Father:   "Trần Văn Lộc", Mother: "Lê Thị Huệ", Spouse: "Phạm Thị Ngọc Ánh",
		IssueDate: patient.Date{Year: 2024, Month: 8, Day: 1}, ExpiryDate: patient.Date{Year: 2045, Month: 11, Day: 2},
	}}
	p := people[((n%len(people))+len(people))%len(people)]
	p.Nationality, p.Ethnicity, p.Religion = "Việt Nam", "Kinh", "Không"
	p.Field16 = "1a2b3c4d5e6f7081"
	return p
}
