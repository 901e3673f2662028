package cccd

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"github.com/tiepdon/tiepdon/agent/patient"
)

// Mismatch is one field on which a QR read and a chip read of the same
// card disagree. It names the field only: the values are personal data and
// stay in the identities.
type Mismatch struct {
	Field  string // "citizenId", "name", "birthDate", "sex", "address", "issueDate", "oldId"
	Detail string // safe to show and log, e.g. "day differs"
}

// AlertCode is the alert code for a QR/chip disagreement.
const AlertCode = "qr-chip-mismatch"

// CrossCheck compares a CCCD QR read with a chip read (DG13 and DG1) of
// what should be the same card and returns the fields that disagree. A
// field missing on either side is not a mismatch. Names and addresses are
// compared without regard to case, spacing and punctuation, and without
// diacritics when one side has none (older QR codes and scanners in the
// wrong keyboard layout drop them).
func CrossCheck(qr, chip patient.Identity) []Mismatch {
	var out []Mismatch
	if qr.CitizenID != "" && chip.CitizenID != "" && qr.CitizenID != chip.CitizenID {
		out = append(out, Mismatch{Field: "citizenId", Detail: "different citizen ID"})
	}
	if qr.Name != "" && chip.Name != "" && !sameText(string(qr.Name), string(chip.Name)) {
		out = append(out, Mismatch{Field: "name", Detail: "different name"})
	}
	if d := dateDiff(qr.BirthDate, chip.BirthDate); d != "" {
		out = append(out, Mismatch{Field: "birthDate", Detail: d})
	}
	if qr.Sex != patient.SexUnknown && chip.Sex != patient.SexUnknown && qr.Sex != chip.Sex {
		out = append(out, Mismatch{Field: "sex", Detail: "different sex"})
	}
	if qr.Address != "" && chip.Address != "" && !sameText(qr.Address, chip.Address) {
		out = append(out, Mismatch{Field: "address", Detail: "different address"})
	}
	if d := dateDiff(qr.IssueDate, chip.IssueDate); d != "" {
		out = append(out, Mismatch{Field: "issueDate", Detail: d})
	}
	if qr.OldID != "" && chip.OldID != "" && qr.OldID != chip.OldID {
		out = append(out, Mismatch{Field: "oldId", Detail: "different old ID"})
	}
	return out
}

// Disagreement words mismatches for an alert (code AlertCode): the fields,
// never their values. It reports false when there are none.
func Disagreement(ms []Mismatch) (string, bool) {
	if len(ms) == 0 {
		return "", false
	}
	fields := make([]string, len(ms))
	for i, m := range ms {
		fields[i] = m.Field
	}
	return "QR code and chip disagree on: " + strings.Join(fields, ", "), true
}

// dateDiff compares the parts of two dates that both know.
func dateDiff(a, b patient.Date) string {
	if a.IsZero() || b.IsZero() {
		return ""
	}
	switch {
	case a.Year != b.Year:
		return "year differs"
	case a.Month != 0 && b.Month != 0 && a.Month != b.Month:
		return "month differs"
	case a.Day != 0 && b.Day != 0 && a.Day != b.Day:
		return "day differs"
	}
	return ""
}

// sameText compares two names or addresses loosely.
func sameText(a, b string) bool {
	na, nb := fold(a), fold(b)
	if na == nb {
		return true
	}
	if !hasMarks(na) || !hasMarks(nb) {
		return stripMarks(na) == stripMarks(nb)
	}
	return false
}

// fold lower-cases, NFC-normalises and keeps only letters and digits
// separated by single spaces.
func fold(s string) string {
	s = norm.NFC.String(strings.ToLower(s))
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
			continue
		}
		space = true
	}
	return b.String()
}

func hasMarks(s string) bool {
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) || r == 'đ' {
			return true
		}
	}
	return false
}

// stripMarks removes Vietnamese diacritics: "Nguyễn Đức" → "nguyen duc".
func stripMarks(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.NewReplacer("đ", "d", "Đ", "D").Replace(out)
}
