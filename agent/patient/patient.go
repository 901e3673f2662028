// Package patient holds the value types that flow through tiepdon: who the
// patient is (Identity), what the national gateway says about their health
// insurance (Eligibility), and how far the identity can be trusted
// (Authenticity).
//
// Every type that carries personal data redacts itself when logged with
// log/slog, so a log line can never hold a full citizen ID or a name
// (Decree 13/2023/ND-CP). Use String() or the field itself only where the
// value must be shown to reception staff or sent to the HIS.
package patient

import (
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// CitizenID is the 12-digit personal identification number printed on the
// chip citizen-ID card (CCCD) and stored in its chip.
type CitizenID string

// Valid reports whether id has the shape of a CCCD number: exactly 12 digits.
func (id CitizenID) Valid() bool {
	if len(id) != 12 {
		return false
	}
	for _, c := range []byte(id) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Masked returns the ID with all but its first four and last two digits
// replaced by '*', the form shown on screen until staff ask for more.
func (id CitizenID) Masked() string { return mask(string(id), 4, 2) }

// LogValue implements slog.LogValuer: logs only ever see the masked form.
func (id CitizenID) LogValue() slog.Value { return slog.StringValue(id.Masked()) }

// CAN returns the card access number used for PACE: the last six digits of
// the ID. It returns "" if id is not valid.
func (id CitizenID) CAN() string {
	if !id.Valid() {
		return ""
	}
	return string(id[6:])
}

// DocumentNumber returns the MRZ document number used for BAC: the last nine
// digits of the ID. It returns "" if id is not valid.
func (id CitizenID) DocumentNumber() string {
	if !id.Valid() {
		return ""
	}
	return string(id[3:])
}

// CardNumber is a health-insurance (BHYT) card number: the 15-character form
// printed on older cards (e.g. "DN4010123456789") or the 10-digit
// social-insurance number (mã số BHXH) that newer cards show.
type CardNumber string

// LogValue implements slog.LogValuer.
func (n CardNumber) LogValue() slog.Value { return slog.StringValue(mask(string(n), 3, 2)) }

// Masked returns the card number with its middle hidden.
func (n CardNumber) Masked() string { return mask(string(n), 3, 2) }

// Name is a person's full name as printed on their card, in Unicode NFC.
type Name string

// LogValue implements slog.LogValuer: only the initials reach a log.
func (n Name) LogValue() slog.Value { return slog.StringValue(n.Initials()) }

// Initials returns the first letter of each word followed by a dot,
// e.g. "N.V.A." for "Nguyễn Văn An".
func (n Name) Initials() string {
	var b strings.Builder
	for _, w := range strings.Fields(string(n)) {
		r, _ := utf8.DecodeRuneInString(w)
		b.WriteRune(unicode.ToUpper(r))
		b.WriteByte('.')
	}
	return b.String()
}

func mask(s string, head, tail int) string {
	if len(s) <= head+tail {
		return strings.Repeat("*", len(s))
	}
	return s[:head] + strings.Repeat("*", len(s)-head-tail) + s[len(s)-tail:]
}

// Sex is the sex printed on a card.
type Sex string

// Sex values.
const (
	SexUnknown Sex = ""
	Male       Sex = "M"
	Female     Sex = "F"
)

// Vietnamese returns the word printed on Vietnamese cards ("Nam", "Nữ").
func (s Sex) Vietnamese() string {
	switch s {
	case Male:
		return "Nam"
	case Female:
		return "Nữ"
	}
	return ""
}

// Date is a calendar date that may be partial: cards and the gateway give
// dates of birth as dd/MM/yyyy, MM/yyyy or only yyyy. A zero Day or Month
// means that part is unknown.
type Date struct {
	Year  int `json:"year"`
	Month int `json:"month,omitempty"`
	Day   int `json:"day,omitempty"`
}

// IsZero reports whether d holds no date at all.
func (d Date) IsZero() bool { return d.Year == 0 }

// Full reports whether day, month and year are all known.
func (d Date) Full() bool { return d.Year != 0 && d.Month != 0 && d.Day != 0 }

// String formats d as the gateway does: dd/MM/yyyy, MM/yyyy or yyyy.
func (d Date) String() string {
	switch {
	case d.IsZero():
		return ""
	case d.Month == 0:
		return fmt.Sprintf("%04d", d.Year)
	case d.Day == 0:
		return fmt.Sprintf("%02d/%04d", d.Month, d.Year)
	}
	return fmt.Sprintf("%02d/%02d/%04d", d.Day, d.Month, d.Year)
}

// LogValue implements slog.LogValuer: a date of birth is personal data, so
// only the year is logged.
func (d Date) LogValue() slog.Value { return slog.IntValue(d.Year) }

// Time returns d as midnight UTC; a partial date takes the first day of its
// month or year.
func (d Date) Time() time.Time {
	m, day := d.Month, d.Day
	if m == 0 {
		m = 1
	}
	if day == 0 {
		day = 1
	}
	return time.Date(d.Year, time.Month(m), day, 0, 0, 0, 0, time.UTC)
}

// MarshalText implements encoding.TextMarshaler using String.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler using ParseDate.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// DateOf returns the full date of t.
func DateOf(t time.Time) Date { return Date{Year: t.Year(), Month: int(t.Month()), Day: t.Day()} }

// ParseDate reads a date written as dd/MM/yyyy, MM/yyyy, yyyy, ddMMyyyy or
// MMyyyy (the forms seen on cards, QR codes and gateway answers), checking
// that it is a real calendar date.
func ParseDate(s string) (Date, error) {
	s = strings.TrimSpace(s)
	digits := strings.ReplaceAll(strings.ReplaceAll(s, "/", ""), "-", "")
	for _, c := range []byte(digits) {
		if c < '0' || c > '9' {
			return Date{}, fmt.Errorf("date %q: not a number", s)
		}
	}
	var d Date
	switch {
	case len(digits) == 8 && !strings.Contains(s, "-"):
		d = Date{Day: atoi(digits[0:2]), Month: atoi(digits[2:4]), Year: atoi(digits[4:8])}
	case len(digits) == 6:
		d = Date{Month: atoi(digits[0:2]), Year: atoi(digits[2:6])}
	case len(digits) == 4:
		d = Date{Year: atoi(digits)}
	default:
		return Date{}, fmt.Errorf("date %q: want dd/MM/yyyy, MM/yyyy or yyyy", s)
	}
	if err := d.check(); err != nil {
		return Date{}, fmt.Errorf("date %q: %w", s, err)
	}
	return d, nil
}

func (d Date) check() error {
	if d.Year < 1850 || d.Year > 2200 {
		return fmt.Errorf("year %d out of range", d.Year)
	}
	if d.Month == 0 {
		if d.Day != 0 {
			return fmt.Errorf("day without month")
		}
		return nil
	}
	if d.Month < 1 || d.Month > 12 {
		return fmt.Errorf("month %d out of range", d.Month)
	}
	if d.Day == 0 {
		return nil
	}
	if t := d.Time(); t.Day() != d.Day || int(t.Month()) != d.Month {
		return fmt.Errorf("no day %d in month %d", d.Day, d.Month)
	}
	return nil
}

func atoi(s string) int {
	n := 0
	for _, c := range []byte(s) {
		n = n*10 + int(c-'0')
	}
	return n
}
