package cccd

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/tiepdon/tiepdon/agent/patient"
)

// Errors returned (wrapped) by ParseQR. A *QRFieldError wraps ErrQRInvalid.
var (
	// ErrQRNotCCCD means the payload does not have the shape of a CCCD QR
	// code at all (no 12-digit first field followed by '|').
	ErrQRNotCCCD = errors.New("cccd: not a CCCD QR code")
	// ErrQRTruncated means the payload starts like a CCCD QR code but
	// ends too early: a partial scan.
	ErrQRTruncated = errors.New("cccd: CCCD QR code is cut short")
	// ErrQRInvalid means a field of a CCCD QR code has an impossible value.
	ErrQRInvalid = errors.New("cccd: CCCD QR code has an invalid field")
)

// QRFieldError names the field of a CCCD QR payload that could not be read.
// It never holds the field's value, which is personal data.
type QRFieldError struct {
	Field   int    // 0-based position in the payload
	Name    string // e.g. "birth date"
	Problem string // e.g. "is not a date"
}

// Error implements error.
func (e *QRFieldError) Error() string {
	return fmt.Sprintf("cccd: QR field %d (%s) %s", e.Field+1, e.Name, e.Problem)
}

// Unwrap returns ErrQRInvalid.
func (e *QRFieldError) Unwrap() error { return ErrQRInvalid }

// Field positions of the CCCD QR payload:
//
//	ID(12)|old CMND(9, may be empty)|name|birth ddMMyyyy|Nam/Nữ|address|issue ddMMyyyy
const (
	qrID = iota
	qrOldID
	qrName
	qrBirth
	qrSex
	qrAddress
	qrIssue
	qrFields // fields a complete payload has; later ones are ignored
)

// qrMaxFields bounds how many fields are looked at; extras beyond the
// seven known ones (the 2024 card may add some) are ignored.
const qrMaxFields = 16

var qrFieldNames = [qrFields]string{"citizen ID", "old ID", "name", "birth date", "sex", "address", "issue date"}

// QRUnverified is the Authenticity detail of every identity read from a QR.
const QRUnverified = "QR code: unsigned, not verified until the chip is read"

// LooksLikeQR reports whether payload has the shape of a CCCD QR code: a
// first field of exactly 12 digits followed by '|'. It is cheap and does
// not check the other fields.
func LooksLikeQR(payload string) bool {
	payload = strings.TrimLeft(payload, " \t\ufeff")
	id, _, ok := strings.Cut(payload, "|")
	return ok && patient.CitizenID(strings.TrimSpace(id)).Valid()
}

// ParseQR reads the QR code printed on a chip CCCD (front of the 2021 card,
// back of the 2024 Căn cước):
//
//	001090123456|012345678|Nguyễn Văn An|01011990|Nam|Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh|15042021
//
// It accepts seven or more fields (extra fields are ignored), dates as
// ddMMyyyy, MMyyyy or yyyy (slashes allowed), an empty old-ID field, and
// the six-field variant without the old ID that one source documents.
// Names and addresses come back in Unicode NFC with runs of spaces
// collapsed. The identity is patient.Unverified: the QR code is not signed.
//
// Errors wrap ErrQRNotCCCD, ErrQRTruncated or ErrQRInvalid and name the
// field, never its value.
func ParseQR(payload string) (patient.Identity, error) {
	s := strings.TrimSpace(strings.TrimPrefix(payload, "\ufeff"))
	if !utf8.ValidString(s) {
		return patient.Identity{}, fmt.Errorf("%w: not UTF-8 text", ErrQRInvalid)
	}
	var f [qrMaxFields]string
	n := qrSplit(s, f[:])
	if n < 2 || !patient.CitizenID(strings.TrimSpace(f[qrID])).Valid() {
		return patient.Identity{}, ErrQRNotCCCD
	}
	for i := range min(n, qrMaxFields) {
		f[i] = strings.TrimSpace(f[i])
	}
	if n < qrFields {
		if n == qrFields-1 && qrSixFieldVariant(f[:n]) {
			// ID|name|birth|sex|address|issue: shift into place.
			copy(f[qrName:qrFields], f[qrOldID:qrFields-1])
			f[qrOldID] = ""
		} else {
			return patient.Identity{}, fmt.Errorf("%w: %d of %d fields", ErrQRTruncated, n, qrFields)
		}
	}

	id := patient.Identity{
		Medium:       patient.MediumQRCCCD,
		CitizenID:    patient.CitizenID(f[qrID]),
		Authenticity: patient.Authenticity{Level: patient.Unverified, Detail: QRUnverified},
	}
	if old := f[qrOldID]; old != "" {
		if !qrDigits(old) || (len(old) != 9 && len(old) != 12) {
			return patient.Identity{}, qrFieldErr(qrOldID, "is not a 9- or 12-digit number")
		}
		id.OldID = old
	}
	name := qrText(f[qrName])
	if !qrPlausibleName(name) {
		return patient.Identity{}, qrFieldErr(qrName, "is not a name")
	}
	id.Name = patient.Name(name)

	var err error
	if id.BirthDate, err = patient.ParseDate(f[qrBirth]); err != nil {
		return patient.Identity{}, qrFieldErr(qrBirth, "is not a date")
	}
	id.Sex, _ = qrSexOf(f[qrSex])
	id.Address = qrText(f[qrAddress])
	if issue := f[qrIssue]; issue != "" {
		if id.IssueDate, err = patient.ParseDate(issue); err != nil {
			if n == qrFields && qrDigits(issue) && len(issue) < 8 {
				// The last field stops short of ddMMyyyy: a partial scan.
				return patient.Identity{}, fmt.Errorf("%w: issue date incomplete", ErrQRTruncated)
			}
			return patient.Identity{}, qrFieldErr(qrIssue, "is not a date")
		}
	}
	if d := qrIDConsistency(id.CitizenID, id.BirthDate, id.Sex); d != "" {
		id.Authenticity.Detail += "; " + d
	}
	return id, nil
}

func qrFieldErr(i int, problem string) error {
	return &QRFieldError{Field: i, Name: qrFieldNames[i], Problem: problem}
}

// qrSplit splits s at '|' into dst without allocating and returns the
// total number of fields, which may exceed len(dst): fields past the end of
// dst are counted but not kept.
func qrSplit(s string, dst []string) int {
	n := 0
	for {
		before, after, found := strings.Cut(s, "|")
		if n < len(dst) {
			dst[n] = before
		}
		n++
		if !found {
			return n
		}
		s = after
	}
}

// qrSixFieldVariant reports whether f is ID|name|birth|sex|address|issue.
func qrSixFieldVariant(f []string) bool {
	if f[1] == "" || qrDigits(f[1]) {
		return false
	}
	if _, err := patient.ParseDate(f[2]); err != nil {
		return false
	}
	_, ok := qrSexOf(f[3])
	return ok
}

// qrSexOf reads the sex as written on Vietnamese cards and QR codes: "Nam" or
// "Nữ" (any case, with or without diacritics, NFC or NFD), "1" or "2" (BHYT
// QR), or the English words and letters. ok is false for anything else.
func qrSexOf(s string) (sex patient.Sex, ok bool) {
	s = strings.TrimSpace(s)
	if !norm.NFC.IsNormalString(s) {
		s = norm.NFC.String(s)
	}
	switch strings.ToLower(s) {
	case "nam", "1", "m", "male":
		return patient.Male, true
	case "nữ", "nu", "nư", "2", "f", "female":
		return patient.Female, true
	}
	return patient.SexUnknown, false
}

// qrText returns s in Unicode NFC with leading and trailing space
// removed and every run of white space collapsed to one space: the form
// names and addresses are compared and stored in.
func qrText(s string) string {
	if !norm.NFC.IsNormalString(s) {
		s = norm.NFC.String(s)
	}
	s = strings.TrimSpace(s)
	clean := true
	prevSpace := false
	for _, r := range s {
		sp := unicode.IsSpace(r)
		if sp && (prevSpace || r != ' ') {
			clean = false
			break
		}
		prevSpace = sp
	}
	if clean {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// qrPlausibleName reports whether s could be a person's name: it has a
// letter and no digits or control characters.
func qrPlausibleName(s string) bool {
	letter := false
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			letter = true
		case unicode.IsDigit(r), unicode.IsControl(r):
			return false
		}
	}
	return letter
}

func qrDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// qrIDConsistency checks the 12-digit ID against the birth date and sex: its
// fourth digit codes sex and century (0/1: men/women born 1900–1999, 2/3:
// 2000–2099, 4/5: 2100–2199, 6/7: 2200–2299, 8/9: 1800–1899 by the same
// rule) and its fifth and sixth digits are the last two of the birth year
// (Circular 07/2016/TT-BCA). A disagreement is reported, not rejected: it
// tells staff to look at the card.
func qrIDConsistency(id patient.CitizenID, birth patient.Date, sex patient.Sex) string {
	if !id.Valid() || birth.IsZero() {
		return ""
	}
	code := int(id[3] - '0')
	century := []int{1900, 2000, 2100, 2200, 1800}[code/2]
	year := century + int(id[4]-'0')*10 + int(id[5]-'0')
	var out []string
	if year != birth.Year {
		out = append(out, "birth year differs from the ID's digits")
	}
	if want := []patient.Sex{patient.Male, patient.Female}[code%2]; sex != patient.SexUnknown && sex != want {
		out = append(out, "sex differs from the ID's digits")
	}
	return strings.Join(out, "; ")
}

// QRPayload encodes id as the QR code of a CCCD (seven fields, dates as
// ddMMyyyy, MMyyyy or yyyy): the inverse of ParseQR, for the simulator,
// the virtual scanner and tests.
func QRPayload(id patient.Identity) string {
	date := func(d patient.Date) string { return strings.ReplaceAll(d.String(), "/", "") }
	return strings.Join([]string{
		string(id.CitizenID), id.OldID, string(id.Name), date(id.BirthDate),
		id.Sex.Vietnamese(), id.Address, date(id.IssueDate),
	}, "|")
}
