package ui

import (
	"errors"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/tiepdon/tiepdon/agent/patient"
)

// FieldError is a validation error for one field of a form. Key names the
// message in the catalogue; Args fill it in.
type FieldError struct {
	Field string // "number", "name", "dob", "can", "staffName", "staffId", or a settings field
	Key   string
	Args  []any
}

func (e *FieldError) Error() string {
	return e.Field + ": " + catalogueFor(string(English)).t(e.Key, e.Args...)
}

// NumberKind is what a typed identifier is.
type NumberKind int

// Kinds of typed identifiers.
const (
	NumberUnknown   NumberKind = iota
	NumberCard                 // 15-character BHYT card number
	NumberSocialIns            // 10-digit social-insurance number (mã số BHXH)
	NumberCitizenID            // 12-digit CCCD number
)

// NumberCheck is the as-typed reading of the card-number field.
type NumberCheck struct {
	Norm     string // upper case, without spaces, dots and dashes
	Kind     NumberKind
	Complete bool        // a whole identifier of its kind
	Err      *FieldError // nil while the input is a valid prefix
	Benefit  int         // card: benefit level 1–5 (third character)
	Province string      // card: province code (characters 4–5)
}

// CheckNumber reads the card-number field as it is being typed: a
// 15-character BHYT card number (2 letters of object code, benefit level
// 1–5, 2-digit province code 01–99, then 10 letters or digits; see
// docs/sources.md §3), a 10-digit social-insurance number or a
// 12-digit citizen ID. A valid prefix of one of them is not an error.
func CheckNumber(s string) NumberCheck {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case ' ', '-', '.', '\t':
			continue
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	c := NumberCheck{Norm: b.String()}
	n := c.Norm
	if n == "" {
		return c
	}
	fail := func(key string, args ...any) NumberCheck {
		c.Err = &FieldError{Field: "number", Key: key, Args: args}
		return c
	}
	if isDigit(rune(n[0])) {
		for i, r := range n {
			if !isDigit(r) {
				return fail("err.number.digits", i+1)
			}
		}
		switch len(n) {
		case 10:
			c.Kind, c.Complete = NumberSocialIns, true
		case 12:
			c.Kind, c.Complete = NumberCitizenID, true
		case 11:
			c.Kind = NumberCitizenID
		default:
			if len(n) > 12 {
				return fail("err.number.long")
			}
		}
		return c
	}
	c.Kind = NumberCard
	for i, r := range n {
		switch {
		case i >= 15:
			return fail("err.card.long")
		case i < 2:
			if r < 'A' || r > 'Z' {
				return fail("err.card.object")
			}
		case i == 2:
			if r < '1' || r > '5' {
				return fail("err.card.benefit")
			}
			c.Benefit = int(r - '0')
		case i < 5:
			if !isDigit(r) {
				return fail("err.card.province")
			}
			if i == 4 {
				c.Province = n[3:5]
				if c.Province == "00" {
					return fail("err.card.province")
				}
			}
		default:
			if !isDigit(r) && (r < 'A' || r > 'Z') {
				return fail("err.card.tail", i+1)
			}
		}
	}
	c.Complete = len(n) == 15
	return c
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// CheckName normalises a typed name (Unicode NFC, single spaces) and
// reports whether it can be a person's name: letters, spaces and the
// apostrophes and hyphens some names carry.
func CheckName(s string) (patient.Name, *FieldError) {
	n := strings.Join(strings.Fields(norm.NFC.String(s)), " ")
	if n == "" {
		return "", &FieldError{Field: "name", Key: "err.name.empty"}
	}
	for _, r := range n {
		if !unicode.IsLetter(r) && !unicode.Is(unicode.Mn, r) && r != ' ' && r != '\'' && r != '-' {
			return "", &FieldError{Field: "name", Key: "err.name.chars"}
		}
	}
	return patient.Name(n), nil
}

// CheckDOB reads a typed date of birth (dd/MM/yyyy, ddMMyyyy, MM/yyyy or
// yyyy). partial reports input that is not a date yet but may become one;
// it is not an error while typing.
func CheckDOB(s string, today time.Time) (d patient.Date, partial bool, err *FieldError) {
	s = strings.TrimSpace(s)
	if s == "" {
		return d, true, &FieldError{Field: "dob", Key: "err.dob.empty"}
	}
	digits := 0
	for _, r := range s {
		switch {
		case isDigit(r):
			digits++
		case r == '/':
		default:
			return d, false, &FieldError{Field: "dob", Key: "err.dob.format"}
		}
	}
	v, perr := patient.ParseDate(s)
	if perr != nil {
		if digits < 8 {
			return d, true, &FieldError{Field: "dob", Key: "err.dob.format"}
		}
		return d, false, &FieldError{Field: "dob", Key: "err.dob.invalid"}
	}
	if v.Time().After(today) {
		return d, false, &FieldError{Field: "dob", Key: "err.dob.future"}
	}
	if v.Year < 1900 {
		return d, false, &FieldError{Field: "dob", Key: "err.dob.invalid"}
	}
	return v, false, nil
}

// ErrIncomplete is wrapped by ParseManual's errors for fields not filled in.
var ErrIncomplete = errors.New("incomplete")

// ParseManual turns the manual-entry form into an identity to check. The
// gateway needs the holder's name and date of birth with any identifier.
func ParseManual(number, name, dob string, today time.Time) (patient.Identity, error) {
	c := CheckNumber(number)
	switch {
	case c.Err != nil:
		return patient.Identity{}, c.Err
	case c.Norm == "":
		return patient.Identity{}, &FieldError{Field: "number", Key: "err.number.empty"}
	case !c.Complete:
		return patient.Identity{}, &FieldError{Field: "number", Key: "err.number.short"}
	}
	n, err := CheckName(name)
	if err != nil {
		return patient.Identity{}, err
	}
	d, _, derr := CheckDOB(dob, today)
	if derr != nil {
		return patient.Identity{}, derr
	}
	id := patient.Identity{Medium: patient.MediumTyped, Name: n, BirthDate: d,
		Authenticity: patient.Authenticity{Level: patient.Unverified}}
	switch c.Kind {
	case NumberCard:
		id.CardNumber = patient.CardNumber(c.Norm)
	case NumberSocialIns:
		id.SocialInsuranceNumber = c.Norm
	case NumberCitizenID:
		id.CitizenID = patient.CitizenID(c.Norm)
	}
	return id, nil
}

// CheckCAN validates the last 6 digits of a citizen ID typed for PACE.
func CheckCAN(s string) (string, *FieldError) {
	s = strings.TrimSpace(s)
	if len(s) != 6 {
		return "", &FieldError{Field: "can", Key: "err.can"}
	}
	for _, r := range s {
		if !isDigit(r) {
			return "", &FieldError{Field: "can", Key: "err.can"}
		}
	}
	return s, nil
}

// CheckStaff validates the shift sign-in: a name and a 12-digit CCCD.
func CheckStaff(name, id string) (patient.Staff, *FieldError) {
	n, err := CheckName(name)
	if err != nil {
		err.Field = "staffName"
		return patient.Staff{}, err
	}
	cid := patient.CitizenID(strings.TrimSpace(id))
	if !cid.Valid() {
		return patient.Staff{}, &FieldError{Field: "staffId", Key: "err.staff.id"}
	}
	return patient.Staff{Name: n, CitizenID: cid}, nil
}
