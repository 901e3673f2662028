// Package bhytqr reads the QR code of a Vietnamese health-insurance (BHYT)
// card: the paper card, and the e-card shown by the VssID and VNeID apps.
//
// The payload is a '|'-separated list of fields. Names and addresses are
// hex-encoded UTF-8, dates are dd/MM/yyyy, and the last field is a "$"
// terminator ("#" in one sample seen). Older cards put the 15-character card
// number first; cards issued since 2021 put the 10-digit social-insurance
// number (mã số BHXH) there. An older layout stops after the nine core
// fields (card number to issue date) and its terminator. Field 14 is an unknown checksum: it is kept as
// it is and never checked. Real samples are in testdata/qr at the root of
// the module.
//
// Parse is pure and allocation-light; errors name the field, never its
// value, so they are safe to log and show.
package bhytqr

import (
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/tiepdon/tiepdon/agent/patient"
)

// Errors returned (wrapped) by Parse. A *FieldError wraps ErrInvalid.
var (
	// ErrNotBHYT means the payload does not start with a BHYT card number
	// or social-insurance number followed by '|'.
	ErrNotBHYT = errors.New("bhytqr: not a BHYT card QR code")
	// ErrTruncated means the payload starts like a BHYT QR code but ends
	// too early: a partial scan.
	ErrTruncated = errors.New("bhytqr: BHYT QR code is cut short")
	// ErrInvalid means a field has an impossible value.
	ErrInvalid = errors.New("bhytqr: BHYT QR code has an invalid field")
)

// FieldError names the field of a BHYT QR payload that could not be read.
// It never holds the field's value.
type FieldError struct {
	Field   int    // 0-based position in the payload
	Name    string // e.g. "holder name"
	Problem string // e.g. "is not hex-encoded UTF-8"
}

// Error implements error.
func (e *FieldError) Error() string {
	return fmt.Sprintf("bhytqr: field %d (%s) %s", e.Field+1, e.Name, e.Problem)
}

// Unwrap returns ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Field positions (0-based).
const (
	FieldNumber       = iota // 15-char card number or 10-digit mã số BHXH
	FieldName                // hex UTF-8
	FieldBirthDate           // dd/MM/yyyy or yyyy
	FieldSex                 // 1 = Nam, 2 = Nữ
	FieldAddress             // hex UTF-8 or "-"
	FieldFacility            // registered facility "PP - CCC"
	FieldValidFrom           // dd/MM/yyyy
	FieldValidTo             // dd/MM/yyyy or "-" (open-ended)
	FieldIssueDate           // dd/MM/yyyy
	FieldManagerCode         // 14 digits; its last 10 are the mã số BHXH in every sample seen
	FieldParentName          // hex UTF-8 or "-"
	FieldAreaCode            // "4" in every sample seen (Inventec: LiveAreaCode)
	FieldFiveYearDate        // date of 5 years' continuous cover, may have a leading space
	FieldCheck               // "<hex>-<4 digits>": unknown checksum, kept opaque
	FieldUnknown14           // new cards: "4", meaning unknown
	FieldIssuePlace          // new cards: hex UTF-8 "nơi cấp, đổi thẻ"

	requiredFields = FieldFiveYearDate + 1
	// coreFields is the older layout's length: the nine fields up to
	// the issue date, then the terminator.
	coreFields = FieldIssueDate + 1
)

var fieldNames = [...]string{
	"card number", "holder name", "birth date", "sex", "address", "registered facility",
	"valid from", "valid to", "issue date", "manager code", "parent name", "area code",
	"five-year date", "check field", "field 15", "issuing place",
}

// Format says which generation of card a QR code comes from.
type Format string

// Formats.
const (
	FormatOld Format = "old" // 15-character card number first (cards before 2021)
	FormatNew Format = "new" // 10-digit social-insurance number first
)

// Card is what a BHYT QR code says. Dates a card leaves open are zero.
type Card struct {
	Format Format
	// Number is the first field as printed (upper-cased): the 15-char card
	// number (old cards) or the 10-digit mã số BHXH (new cards).
	Number string
	// CardNumber is the 15-character card number, when the card prints one.
	CardNumber patient.CardNumber
	// SocialInsuranceNumber is the 10-digit mã số BHXH: the first field of
	// a new card, or the last 10 digits of the manager code on an old one.
	SocialInsuranceNumber string

	Name      patient.Name
	BirthDate patient.Date
	Sex       patient.Sex
	Address   string

	Facility     string       // nơi ĐKBĐ without separators, e.g. "01043"
	ValidFrom    patient.Date // start of the card's validity
	ValidTo      patient.Date // end of validity; zero when open-ended ("-")
	IssueDate    patient.Date
	ManagerCode  string // field 10 as printed
	ParentName   patient.Name
	AreaCode     string       // field 12 as printed
	FiveYearDate patient.Date // "đủ 5 năm liên tục" date
	Check        string       // field 14, opaque: never verified
	IssuePlace   string       // new cards: where the card was issued, decoded

	// Extra holds fields 15 on as printed (before the terminator),
	// including the still hex-encoded issuing place: nothing is dropped.
	Extra []string
	// Terminator is the last field: "$", "#", or "" when the scan had
	// none but was otherwise complete.
	Terminator string
	// Core is set for the older layout that ends after the nine core
	// fields (card number to issue date) with its terminator: the manager
	// code, parent name, area code and five-year date are absent, not
	// empty.
	Core bool
}

// LogValue implements slog.LogValuer: only the format and the masked card
// number reach a log.
func (c Card) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("format", string(c.Format)),
		slog.String("number", patient.CardNumber(c.Number).Masked()),
	)
}

// Unverified is the Authenticity detail of identities read from a BHYT QR.
const Unverified = "BHYT QR code: unsigned, check with the gateway"

// Identity returns the holder's identity as printed on the card, with the
// card number and the social-insurance number set so that the gateway is
// asked with the card number first.
func (c Card) Identity() patient.Identity {
	return patient.Identity{
		Medium:                patient.MediumQRBHYT,
		Name:                  c.Name,
		BirthDate:             c.BirthDate,
		Sex:                   c.Sex,
		Address:               c.Address,
		CardNumber:            c.CardNumber,
		SocialInsuranceNumber: c.SocialInsuranceNumber,
		RegisteredFacility:    c.Facility,
		CardValidFrom:         c.ValidFrom,
		CardValidTo:           c.ValidTo,
		FiveYearDate:          c.FiveYearDate,
		Authenticity:          patient.Authenticity{Level: patient.Unverified, Detail: Unverified},
	}
}

// maxFields bounds the fields looked at; the rest are kept in Extra only
// up to this count.
const maxFields = 32

// LooksLike reports whether payload starts like a BHYT QR code: a card
// number or a 10-digit social-insurance number followed by '|'. It is cheap
// and checks nothing else.
func LooksLike(payload string) bool {
	payload = strings.TrimLeft(payload, " \t\ufeff")
	first, _, ok := strings.Cut(payload, "|")
	_, valid := numberFormat(strings.TrimSpace(first))
	return ok && valid
}

// Parse reads a BHYT card QR payload, old or new. Surrounding white space
// is ignored; the terminator may be "$", "#" or missing. The older layout
// of nine fields (card number to issue date) is accepted when its
// terminator shows the scan is complete (Card.Core); without one it is a
// cut-short scan. Errors wrap ErrNotBHYT, ErrTruncated or ErrInvalid.
func Parse(payload string) (Card, error) {
	s := strings.TrimSpace(strings.TrimPrefix(payload, "\ufeff"))
	if !utf8.ValidString(s) {
		return Card{}, fmt.Errorf("%w: not UTF-8 text", ErrInvalid)
	}
	var f [maxFields]string
	n := split(s, f[:])
	if n > maxFields {
		return Card{}, fmt.Errorf("%w: %d fields", ErrInvalid, n)
	}
	number := strings.ToUpper(strings.TrimSpace(f[FieldNumber]))
	format, ok := numberFormat(number)
	if n < 2 || !ok {
		return Card{}, ErrNotBHYT
	}
	var c Card
	if t := strings.TrimSpace(f[n-1]); t == "$" || t == "#" {
		c.Terminator = t
		n--
	}
	c.Core = n == coreFields && c.Terminator != ""
	if n < requiredFields && !c.Core {
		return Card{}, fmt.Errorf("%w: %d of %d fields", ErrTruncated, n, requiredFields)
	}
	c.Format, c.Number = format, number
	if err := c.fill(f[:n]); err != nil {
		var fe *FieldError
		if c.Terminator == "" && errors.As(err, &fe) && fe.Field == n-1 {
			// No terminator and the last field unreadable: cut mid-field.
			return Card{}, fmt.Errorf("%w: %s incomplete", ErrTruncated, fe.Name)
		}
		return Card{}, err
	}
	return c, nil
}

// fill reads the fields of f (terminator removed) into c.
func (c *Card) fill(f []string) error {
	if c.Format == FormatOld {
		c.CardNumber = patient.CardNumber(c.Number)
	} else {
		c.SocialInsuranceNumber = c.Number
	}
	var err error
	name, err := hexText(f, FieldName)
	if err != nil {
		return err
	}
	if !plausibleName(name) {
		return fieldErr(FieldName, "is not a name")
	}
	c.Name = patient.Name(name)
	if c.BirthDate, err = date(f, FieldBirthDate, true); err != nil {
		return err
	}
	switch strings.TrimSpace(f[FieldSex]) {
	case "1":
		c.Sex = patient.Male
	case "2":
		c.Sex = patient.Female
	case "", "0", "-":
	default:
		return fieldErr(FieldSex, "is not 1 or 2")
	}
	if c.Address, err = hexText(f, FieldAddress); err != nil {
		return err
	}
	if c.Facility, err = facility(f); err != nil {
		return err
	}
	if c.ValidFrom, err = date(f, FieldValidFrom, false); err != nil {
		return err
	}
	if c.ValidTo, err = date(f, FieldValidTo, false); err != nil {
		return err
	}
	if !c.ValidTo.IsZero() && !c.ValidFrom.IsZero() && c.ValidTo.Time().Before(c.ValidFrom.Time()) {
		return fieldErr(FieldValidTo, "is before the start of validity")
	}
	if c.IssueDate, err = date(f, FieldIssueDate, false); err != nil {
		return err
	}
	if c.Core {
		return nil
	}
	c.ManagerCode = strings.TrimSpace(f[FieldManagerCode])
	if c.ManagerCode == "-" {
		c.ManagerCode = ""
	}
	if c.ManagerCode != "" && !isDigits(c.ManagerCode) {
		return fieldErr(FieldManagerCode, "is not a number")
	}
	if c.Format == FormatOld && len(c.ManagerCode) == 14 {
		c.SocialInsuranceNumber = c.ManagerCode[4:]
	}
	parent, err := hexText(f, FieldParentName)
	if err != nil {
		return err
	}
	c.ParentName = patient.Name(parent)
	c.AreaCode = strings.TrimSpace(f[FieldAreaCode])
	if c.FiveYearDate, err = date(f, FieldFiveYearDate, false); err != nil {
		return err
	}
	if len(f) > FieldCheck {
		c.Check = strings.TrimSpace(f[FieldCheck])
	}
	if len(f) > FieldUnknown14 {
		c.Extra = append([]string(nil), f[FieldUnknown14:]...)
	}
	if len(f) > FieldIssuePlace {
		if c.IssuePlace, err = hexText(f, FieldIssuePlace); err != nil {
			return err
		}
	}
	return nil
}

func fieldErr(i int, problem string) error {
	return &FieldError{Field: i, Name: fieldNames[i], Problem: problem}
}

// numberFormat tells a 15-character card number (two letters, benefit
// level 1–5, two-digit province, ten letters or digits) from a 10-digit
// social-insurance number. s must already be upper case.
func numberFormat(s string) (Format, bool) {
	switch len(s) {
	case 10:
		return FormatNew, isDigits(s)
	case 15:
		if !isUpper(s[0]) || !isUpper(s[1]) || s[2] < '1' || s[2] > '5' || !isDigits(s[3:5]) {
			return "", false
		}
		for i := 5; i < 15; i++ {
			if !isUpper(s[i]) && !isDigit(s[i]) {
				return "", false
			}
		}
		return FormatOld, true
	}
	return "", false
}

// ValidNumber reports whether s (any case) has the shape of a 15-character
// BHYT card number or a 10-digit social-insurance number.
func ValidNumber(s string) bool {
	_, ok := numberFormat(strings.ToUpper(s))
	return ok
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// date reads field i as dd/MM/yyyy, MM/yyyy or yyyy; "-" and "" give the
// zero date unless required.
func date(f []string, i int, required bool) (patient.Date, error) {
	s := strings.TrimSpace(f[i])
	if s == "" || s == "-" {
		if required {
			return patient.Date{}, fieldErr(i, "is missing")
		}
		return patient.Date{}, nil
	}
	if d, ok := quickDate(s); ok {
		return d, nil
	}
	d, err := patient.ParseDate(s)
	if err != nil {
		// The parse error quotes the value: keep it out.
		return patient.Date{}, fieldErr(i, "is not a date")
	}
	return d, nil
}

// quickDate reads the common dd/MM/yyyy without allocating; ok is false
// for any other form, which patient.ParseDate then reads.
func quickDate(s string) (patient.Date, bool) {
	if len(s) != 10 || s[2] != '/' || s[5] != '/' || !isDigits(s[:2]) || !isDigits(s[3:5]) || !isDigits(s[6:]) {
		return patient.Date{}, false
	}
	d := patient.Date{
		Day:   int(s[0]-'0')*10 + int(s[1]-'0'),
		Month: int(s[3]-'0')*10 + int(s[4]-'0'),
		Year:  int(s[6]-'0')*1000 + int(s[7]-'0')*100 + int(s[8]-'0')*10 + int(s[9]-'0'),
	}
	if d.Year < 1850 || d.Year > 2200 || d.Month < 1 || d.Month > 12 || d.Day < 1 {
		return patient.Date{}, false
	}
	if t := d.Time(); t.Day() != d.Day {
		return patient.Date{}, false // e.g. 31/02: let ParseDate report it
	}
	return d, true
}

// hexText decodes field i, hex-encoded UTF-8, into NFC text with white
// space collapsed. "-" and "" give "".
func hexText(f []string, i int) (string, error) {
	s := strings.TrimSpace(f[i])
	if s == "" || s == "-" {
		return "", nil
	}
	if len(s)%2 != 0 {
		return "", fieldErr(i, "is not hex-encoded UTF-8 (odd length)")
	}
	var b strings.Builder
	b.Grow(len(s) / 2)
	for j := 0; j < len(s); j += 2 {
		hi, ok1 := unhex(s[j])
		lo, ok2 := unhex(s[j+1])
		if !ok1 || !ok2 {
			return "", fieldErr(i, "is not hex-encoded UTF-8")
		}
		b.WriteByte(hi<<4 | lo)
	}
	text := b.String()
	if !utf8.ValidString(text) {
		return "", fieldErr(i, "is not UTF-8 once decoded")
	}
	return cleanText(text), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// cleanText returns s in NFC with surrounding space trimmed and runs of
// white space collapsed to one space.
func cleanText(s string) string {
	if !norm.NFC.IsNormalString(s) {
		s = norm.NFC.String(s)
	}
	s = strings.TrimSpace(s)
	prev := false
	for _, r := range s {
		sp := unicode.IsSpace(r)
		if sp && (prev || r != ' ') {
			return strings.Join(strings.Fields(s), " ")
		}
		prev = sp
	}
	return s
}

// facility reads "01 - 043" as "01043"; "-" and "" give "".
func facility(f []string) (string, error) {
	s := strings.TrimSpace(f[FieldFacility])
	if s == "" || s == "-" {
		return "", nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ' || c == '-':
		case isDigit(c) || isUpper(c):
			b.WriteByte(c)
		case c >= 'a' && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
		default:
			return "", fieldErr(FieldFacility, "is not a facility code")
		}
	}
	if b.Len() == 0 {
		return "", fieldErr(FieldFacility, "is not a facility code")
	}
	return b.String(), nil
}

// plausibleName reports whether s has a letter and no digits.
func plausibleName(s string) bool {
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

// split splits s at '|' into dst without allocating and returns the total
// number of fields; fields past the end of dst are counted, not kept.
func split(s string, dst []string) int {
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

// Payload encodes c as a QR payload in the layout Parse reads: the inverse
// of Parse for the simulator, the virtual scanner and tests. Fields 15 on
// are written from Extra as they are; when Extra is empty and IssuePlace
// is set, they are written as on every new card seen ("4", then the
// hex-encoded issuing place).
func (c Card) Payload() string {
	var b strings.Builder
	b.Grow(256)
	field := func(s string) {
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		b.WriteString(s)
	}
	hexOrDash := func(s string) string {
		if s == "" {
			return "-"
		}
		return hex.EncodeToString([]byte(s))
	}
	dateOrDash := func(d patient.Date) string {
		if d.IsZero() {
			return "-"
		}
		return d.String()
	}
	field(c.Number)
	field(hexOrDash(string(c.Name)))
	field(c.BirthDate.String())
	switch c.Sex {
	case patient.Male:
		field("1")
	case patient.Female:
		field("2")
	default:
		field("")
	}
	field(hexOrDash(c.Address))
	switch fac := c.Facility; {
	case fac == "":
		field("-")
	case len(fac) > 2:
		field(fac[:2] + " - " + fac[2:])
	default:
		field(fac)
	}
	field(dateOrDash(c.ValidFrom))
	field(dateOrDash(c.ValidTo))
	field(dateOrDash(c.IssueDate))
	if c.Core {
		// The layout is complete only with its terminator.
		t := c.Terminator
		if t == "" {
			t = "$"
		}
		field(t)
		return b.String()
	}
	if c.ManagerCode == "" {
		field("-")
	} else {
		field(c.ManagerCode)
	}
	field(hexOrDash(string(c.ParentName)))
	field(c.AreaCode)
	field(dateOrDash(c.FiveYearDate))
	extra := c.Extra
	if len(extra) == 0 && c.IssuePlace != "" {
		extra = []string{"4", hexOrDash(c.IssuePlace)}
	}
	if c.Check != "" || len(extra) > 0 {
		field(c.Check)
	}
	for _, e := range extra {
		field(e)
	}
	if c.Terminator != "" {
		field(c.Terminator)
	}
	return b.String()
}
