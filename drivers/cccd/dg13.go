package cccd

import (
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/tiepdon/tiepdon/agent/patient"
)

// DG13Tag is the tag of data group 13 ([APPLICATION 13], constructed).
const DG13Tag = 0x6D

// DG13OID is the object identifier the CCCD puts in DG13 (meaning not
// officially confirmed).
const DG13OID = "1.0.10646.1.0.8"

// ErrMalformedDG13 is wrapped by every DG13 decoding error.
var ErrMalformedDG13 = errors.New("cccd: malformed DG13")

// DG13 field numbers.
const (
	FieldCitizenID   = 1
	FieldName        = 2
	FieldBirthDate   = 3
	FieldSex         = 4
	FieldNationality = 5
	FieldEthnicity   = 6
	FieldReligion    = 7
	FieldHometown    = 8
	FieldResidence   = 9
	FieldMarks       = 10
	FieldIssueDate   = 11
	FieldExpiryDate  = 12
	FieldParents     = 13 // nested: father, mother
	FieldSpouse      = 14 // nested: spouse; absent if single
	Field15          = 15 // old ID / other document per two sources
	Field16          = 16 // old ID per one source; a 16-hex-char value on real cards
)

// DG13 is data group 13 of the Vietnamese CCCD chip: the holder's personal
// data as fields numbered 1 to 16. Any field may be absent; a zero value
// means "absent or unreadable" and Fields tells which.
//
// Fields 15 and 16 are kept as read (sources disagree on which holds the
// old 9-digit ID); OldID chooses.
type DG13 struct {
	Version int
	OID     string // dotted form, normally DG13OID

	CitizenID   patient.CitizenID // 1
	Name        patient.Name      // 2
	BirthDate   patient.Date      // 3
	Sex         patient.Sex       // 4
	Nationality string            // 5
	Ethnicity   string            // 6
	Religion    string            // 7
	Hometown    string            // 8: quê quán
	Residence   string            // 9: nơi thường trú
	Marks       string            // 10: đặc điểm nhận dạng
	IssueDate   patient.Date      // 11
	ExpiryDate  patient.Date      // 12: zero when the card does not expire ("Không thời hạn")
	Father      patient.Name      // 13, first
	Mother      patient.Name      // 13, second
	Spouse      patient.Name      // 14
	Field15     string            // 15 as read
	Field16     string            // 16 as read

	// Fields lists every field found, in card order, with its texts as
	// read (dates unparsed). Numbers outside 1..16 are kept here only.
	Fields []Field
}

// Field is one numbered DG13 field as read.
type Field struct {
	Number int
	Texts  []string // the string values, flattened from nested sequences
	Raw    []byte   // DER of the value elements after the field number
}

// Has reports whether field n was present.
func (d *DG13) Has(n int) bool {
	for _, f := range d.Fields {
		if f.Number == n {
			return true
		}
	}
	return false
}

// Text returns the first text of field n as read, or "".
func (d *DG13) Text(n int) string {
	for _, f := range d.Fields {
		if f.Number == n && len(f.Texts) > 0 {
			return f.Texts[0]
		}
	}
	return ""
}

// OldID returns the holder's old 9-digit ID (CMND): field 15 if it looks
// like one, else field 16 if that does, else "".
func (d *DG13) OldID() string {
	for _, s := range []string{d.Field15, d.Field16} {
		if isDigits(s) && (len(s) == 9 || len(s) == 12) {
			return s
		}
	}
	return ""
}

// Identity returns the chip identity the DG13 fields describe (Medium
// chip). Authenticity and the photo are for the caller to fill in.
func (d *DG13) Identity() patient.Identity {
	return patient.Identity{
		Medium:    patient.MediumChip,
		CitizenID: d.CitizenID,
		OldID:     d.OldID(),
		Name:      d.Name,
		BirthDate: d.BirthDate,
		Sex:       d.Sex,
		Address:   d.Residence,
		IssueDate: d.IssueDate,
		Chip: &patient.ChipData{
			Ethnicity:   d.Ethnicity,
			Religion:    d.Religion,
			Hometown:    d.Hometown,
			ExpiryDate:  d.ExpiryDate,
			Nationality: d.Nationality,
		},
	}
}

// DecodeDG13 decodes data group 13 (including its 6D tag). Unknown field
// numbers and unreadable values are tolerated: the field is kept in Fields
// and its typed form left zero. It fails only when the structure itself is
// broken.
func DecodeDG13(b []byte) (*DG13, error) {
	var outer asn1.RawValue
	rest, err := asn1.Unmarshal(b, &outer)
	if err != nil {
		return nil, fmt.Errorf("%w: outer tag: %v", ErrMalformedDG13, err)
	}
	if outer.Class != asn1.ClassApplication || outer.Tag != 13 || !outer.IsCompound {
		return nil, fmt.Errorf("%w: tag %X, want 6D", ErrMalformedDG13, outerTag(outer))
	}
	if len(rest) > 0 && !allZero(rest) {
		return nil, fmt.Errorf("%w: %d bytes after the data group", ErrMalformedDG13, len(rest))
	}
	var seq asn1.RawValue
	if _, err := asn1.Unmarshal(outer.Bytes, &seq); err != nil {
		return nil, fmt.Errorf("%w: content: %v", ErrMalformedDG13, err)
	}
	if seq.Class != asn1.ClassUniversal || seq.Tag != asn1.TagSequence {
		return nil, fmt.Errorf("%w: content is not a SEQUENCE", ErrMalformedDG13)
	}
	d := &DG13{}
	var set *asn1.RawValue
	elems, err := elements(seq.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: content: %v", ErrMalformedDG13, err)
	}
	for i := range elems {
		e := &elems[i]
		switch {
		case e.Class == asn1.ClassUniversal && e.Tag == asn1.TagInteger:
			var v int
			if _, err := asn1.Unmarshal(e.FullBytes, &v); err == nil {
				d.Version = v
			}
		case e.Class == asn1.ClassUniversal && e.Tag == asn1.TagOID:
			var oid asn1.ObjectIdentifier
			if _, err := asn1.Unmarshal(e.FullBytes, &oid); err == nil {
				d.OID = oid.String()
			}
		case e.Class == asn1.ClassUniversal && e.Tag == asn1.TagSet && set == nil:
			set = e
		}
	}
	if set == nil {
		return nil, fmt.Errorf("%w: no SET of fields", ErrMalformedDG13)
	}
	entries, err := elements(set.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: fields: %v", ErrMalformedDG13, err)
	}
	for _, e := range entries {
		if e.Class != asn1.ClassUniversal || e.Tag != asn1.TagSequence {
			continue // not a field; tolerate
		}
		parts, err := elements(e.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: field: %v", ErrMalformedDG13, err)
		}
		if len(parts) == 0 || parts[0].Tag != asn1.TagInteger || parts[0].Class != asn1.ClassUniversal {
			continue
		}
		var n int
		if _, err := asn1.Unmarshal(parts[0].FullBytes, &n); err != nil {
			continue
		}
		if d.Has(n) {
			continue // first occurrence wins
		}
		f := Field{Number: n}
		for _, p := range parts[1:] {
			f.Raw = append(f.Raw, p.FullBytes...)
			f.Texts = append(f.Texts, texts(p, 0)...)
		}
		d.Fields = append(d.Fields, f)
		d.set(f)
	}
	return d, nil
}

// set fills the typed field for f.
func (d *DG13) set(f Field) {
	first := ""
	if len(f.Texts) > 0 {
		first = f.Texts[0]
	}
	switch f.Number {
	case FieldCitizenID:
		d.CitizenID = patient.CitizenID(strings.TrimSpace(first))
	case FieldName:
		d.Name = patient.Name(norm.NFC.String(strings.TrimSpace(first)))
	case FieldBirthDate:
		d.BirthDate = parseDate(first)
	case FieldSex:
		d.Sex = parseSex(first)
	case FieldNationality:
		d.Nationality = first
	case FieldEthnicity:
		d.Ethnicity = first
	case FieldReligion:
		d.Religion = first
	case FieldHometown:
		d.Hometown = first
	case FieldResidence:
		d.Residence = first
	case FieldMarks:
		d.Marks = first
	case FieldIssueDate:
		d.IssueDate = parseDate(first)
	case FieldExpiryDate:
		d.ExpiryDate = parseDate(first)
	case FieldParents:
		if len(f.Texts) > 0 {
			d.Father = patient.Name(norm.NFC.String(f.Texts[0]))
		}
		if len(f.Texts) > 1 {
			d.Mother = patient.Name(norm.NFC.String(f.Texts[1]))
		}
	case FieldSpouse:
		d.Spouse = patient.Name(norm.NFC.String(first))
	case Field15:
		d.Field15 = first
	case Field16:
		d.Field16 = first
	}
}

// texts flattens the string values in v (nested sequences included, to a
// small depth).
func texts(v asn1.RawValue, depth int) []string {
	if v.Class != asn1.ClassUniversal {
		return nil
	}
	switch v.Tag {
	case asn1.TagUTF8String, asn1.TagPrintableString, asn1.TagIA5String, asn1.TagT61String,
		asn1.TagNumericString, 26 /* VisibleString */ :
		if !utf8.Valid(v.Bytes) {
			return []string{strings.ToValidUTF8(string(v.Bytes), "\uFFFD")}
		}
		return []string{string(v.Bytes)}
	case asn1.TagBMPString:
		return []string{decodeBMP(v.Bytes)}
	case asn1.TagSequence, asn1.TagSet:
		if depth >= 3 {
			return nil
		}
		parts, err := elements(v.Bytes)
		if err != nil {
			return nil
		}
		var out []string
		for _, p := range parts {
			out = append(out, texts(p, depth+1)...)
		}
		return out
	}
	return nil
}

func decodeBMP(b []byte) string {
	var sb strings.Builder
	for i := 0; i+1 < len(b); i += 2 {
		sb.WriteRune(rune(b[i])<<8 | rune(b[i+1]))
	}
	return sb.String()
}

// elements splits DER content into its elements.
func elements(b []byte) ([]asn1.RawValue, error) {
	var out []asn1.RawValue
	for len(b) > 0 {
		var v asn1.RawValue
		rest, err := asn1.Unmarshal(b, &v)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		b = rest
	}
	return out, nil
}

func outerTag(v asn1.RawValue) int {
	t := v.Class<<6 | v.Tag
	if v.IsCompound {
		t |= 0x20
	}
	return t
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseDate reads a DG13 date: dd/MM/yyyy (what our encoder writes), or
// any form patient.ParseDate knows. Unreadable text gives the zero Date.
func parseDate(s string) patient.Date {
	d, err := patient.ParseDate(strings.TrimSpace(s))
	if err != nil {
		return patient.Date{}
	}
	return d
}

func parseSex(s string) patient.Sex {
	switch strings.ToLower(norm.NFC.String(strings.TrimSpace(s))) {
	case "nam", "m", "male":
		return patient.Male
	case "nữ", "nu", "f", "female":
		return patient.Female
	}
	return patient.SexUnknown
}

// MarshalDG13 encodes d as data group 13 (with its 6D tag), writing the
// typed fields 1 to 16 that are set, in number order; dates as dd/MM/yyyy,
// sex as "Nam"/"Nữ", every text as a UTF8String. Fields is ignored.
func MarshalDG13(d *DG13) ([]byte, error) {
	var fields []byte
	add := func(n int, vals ...[]byte) error {
		num, err := asn1.Marshal(n)
		if err != nil {
			return err
		}
		body := num
		for _, v := range vals {
			body = append(body, v...)
		}
		fields = append(fields, tlv(0x30, body)...)
		return nil
	}
	str := func(s string) []byte { return tlv(0x0C, []byte(s)) }
	text := func(n int, s string) error {
		if s == "" {
			return nil
		}
		return add(n, str(s))
	}
	date := func(n int, v patient.Date) error {
		if v.IsZero() {
			return nil
		}
		return add(n, str(v.String()))
	}
	steps := []func() error{
		func() error { return text(FieldCitizenID, string(d.CitizenID)) },
		func() error { return text(FieldName, string(d.Name)) },
		func() error { return date(FieldBirthDate, d.BirthDate) },
		func() error { return text(FieldSex, d.Sex.Vietnamese()) },
		func() error { return text(FieldNationality, d.Nationality) },
		func() error { return text(FieldEthnicity, d.Ethnicity) },
		func() error { return text(FieldReligion, d.Religion) },
		func() error { return text(FieldHometown, d.Hometown) },
		func() error { return text(FieldResidence, d.Residence) },
		func() error { return text(FieldMarks, d.Marks) },
		func() error { return date(FieldIssueDate, d.IssueDate) },
		func() error { return date(FieldExpiryDate, d.ExpiryDate) },
		func() error {
			if d.Father == "" && d.Mother == "" {
				return nil
			}
			return add(FieldParents, tlv(0x30, append(str(string(d.Father)), str(string(d.Mother))...)))
		},
		func() error {
			if d.Spouse == "" {
				return nil
			}
			return add(FieldSpouse, tlv(0x30, str(string(d.Spouse))))
		},
		func() error { return text(Field15, d.Field15) },
		func() error { return text(Field16, d.Field16) },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return nil, fmt.Errorf("encoding DG13: %w", err)
		}
	}
	version := d.Version
	if version == 0 {
		version = 1
	}
	oidText := d.OID
	if oidText == "" {
		oidText = DG13OID
	}
	oid, err := parseOID(oidText)
	if err != nil {
		return nil, fmt.Errorf("encoding DG13: %w", err)
	}
	ver, _ := asn1.Marshal(version)
	oidDER, err := asn1.Marshal(oid)
	if err != nil {
		return nil, fmt.Errorf("encoding DG13: %w", err)
	}
	body := append(append(ver, oidDER...), tlv(0x31, fields)...)
	return tlv(DG13Tag, tlv(0x30, body)), nil
}

func parseOID(s string) (asn1.ObjectIdentifier, error) {
	var oid asn1.ObjectIdentifier
	for _, p := range strings.Split(s, ".") {
		n := 0
		if !isDigits(p) || len(p) > 9 {
			return nil, fmt.Errorf("bad OID %q", s)
		}
		for _, c := range []byte(p) {
			n = n*10 + int(c-'0')
		}
		oid = append(oid, n)
	}
	return oid, nil
}

// tlv encodes one BER-TLV with a one-byte tag and a DER length.
func tlv(tag byte, v []byte) []byte {
	n := len(v)
	var out []byte
	switch {
	case n < 0x80:
		out = append(make([]byte, 0, 2+n), tag, byte(n))
	case n < 0x100:
		out = append(make([]byte, 0, 3+n), tag, 0x81, byte(n))
	case n < 0x10000:
		out = append(make([]byte, 0, 4+n), tag, 0x82, byte(n>>8), byte(n))
	default:
		out = append(make([]byte, 0, 5+n), tag, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, v...)
}
