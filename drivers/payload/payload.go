// Package payload tells what a scanned or typed line is and turns it into a
// patient identity: the QR code of a chip citizen-ID card (CCCD), the QR
// code of a health-insurance (BHYT) card or the VssID/VNeID e-card, or a bare
// card number. Anything else gets a typed error whose message is safe to
// show to staff (it never holds personal data): an empty line, a web
// address, a scan cut short, a scan typed in the wrong keyboard layout, a
// payment QR code, or something unknown.
//
// The agent uses Identify as its agent.Identifier. Serial and
// keyboard-wedge scanners both feed it the raw line.
package payload

import (
	"bytes"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers"
	"github.com/tiepdon/tiepdon/drivers/bhytqr"
	"github.com/tiepdon/tiepdon/drivers/cccd"
)

// Kind is what a payload looks like.
type Kind int

// Kinds of payload.
const (
	Unknown     Kind = iota // none of the below
	Empty                   // nothing but white space
	CCCD                    // QR code of a chip citizen-ID card
	BHYT                    // QR code of a BHYT card (paper, VssID, VNeID)
	Number                  // a bare 12-digit citizen ID, 15-char card number or 10-digit mã số BHXH
	URL                     // a web address
	Payment                 // a bank payment QR code (VietQR / EMVCo)
	Truncated               // starts like a card QR code but ends too early
	WrongLayout             // a card QR code typed in the wrong keyboard layout or input method
	NotText                 // not UTF-8 text
)

var kindNames = [...]string{
	Unknown: "unknown", Empty: "empty", CCCD: "cccd", BHYT: "bhyt", Number: "number", URL: "url",
	Payment: "payment", Truncated: "truncated", WrongLayout: "wrong-layout", NotText: "not-text",
}

// String returns the kind's name, e.g. "cccd", "wrong-layout".
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Medium returns the patient.Medium of a payload of kind k.
func (k Kind) Medium() patient.Medium {
	switch k {
	case CCCD:
		return patient.MediumQRCCCD
	case BHYT:
		return patient.MediumQRBHYT
	}
	return patient.MediumQR
}

// Sentinel errors; every error from Parse matches exactly one with errors.Is.
var (
	ErrEmpty       = errors.New("empty scan")
	ErrNotText     = errors.New("scan is not text: check the scanner's character set (UTF-8)")
	ErrURL         = errors.New("scanned a web address, not a card")
	ErrPayment     = errors.New("scanned a bank payment QR code, not a card")
	ErrTruncated   = errors.New("scan cut short: scan the card again")
	ErrWrongLayout = errors.New("scan arrived in the wrong keyboard layout")
	ErrInvalid     = errors.New("card QR code has an impossible field")
	ErrUnknown     = errors.New("not a CCCD or BHYT card code")
)

// Error is the error Parse returns. Its message is safe to show staff and
// to log: it names fields, never their values.
type Error struct {
	Kind   Kind   // what the payload looked like
	Layout string // for WrongLayout: "vi-telex", "vi-vni", "en-gb", "de", "fr-azerty", "inverted-shift"
	Err    error  // the parser's error, if a parser ran (wraps cccd or bhytqr sentinels)
	is     error  // the sentinel
}

// Error implements error.
func (e *Error) Error() string {
	msg := e.is.Error()
	if e.Layout != "" {
		msg += " (" + layoutHints[e.Layout] + ")"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the sentinel and the parser's error.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.is}
	}
	return []error{e.is, e.Err}
}

// Vietnamese returns the message for reception staff in Vietnamese.
func (e *Error) Vietnamese() string {
	switch e.is {
	case ErrEmpty:
		return "Mã quét trống"
	case ErrNotText:
		return "Mã quét không phải văn bản UTF-8: kiểm tra cài đặt bảng mã của máy quét"
	case ErrURL:
		return "Đã quét một địa chỉ web, không phải thẻ"
	case ErrPayment:
		return "Đã quét mã QR thanh toán, không phải thẻ"
	case ErrTruncated:
		return "Mã quét bị thiếu: quét lại thẻ"
	case ErrWrongLayout:
		return "Máy quét gõ sai bố cục bàn phím: tắt bộ gõ tiếng Việt (Unikey/EVKey) hoặc chuyển bàn phím sang tiếng Anh (US)"
	case ErrInvalid:
		return "Mã QR của thẻ có trường không hợp lệ: kiểm tra thẻ"
	}
	return "Không nhận ra mã: không phải mã QR CCCD hay thẻ BHYT"
}

var layoutHints = map[string]string{
	"vi-telex":       "Vietnamese Telex input is on: turn off Unikey/EVKey or switch to English",
	"vi-vni":         "Vietnamese VNI input is on: turn off Unikey/EVKey or switch to English",
	"en-gb":          "keyboard is UK English: switch it to US English",
	"de":             "keyboard is German: switch it to US English",
	"fr-azerty":      "keyboard is French AZERTY: switch it to US English",
	"inverted-shift": "Caps Lock or Shift inverted: turn off Caps Lock",
}

// FailureCode returns the code the agent reports the scan's failure under
// ("scan-url", "scan-wrong-layout", … listed in docs/his-api.md).
func (e *Error) FailureCode() string {
	switch e.is {
	case ErrEmpty:
		return "scan-empty"
	case ErrNotText:
		return drivers.FailureScanNotUTF8
	case ErrURL:
		return "scan-url"
	case ErrPayment:
		return "scan-payment"
	case ErrTruncated:
		return "scan-truncated"
	case ErrWrongLayout:
		return "scan-wrong-layout"
	case ErrInvalid:
		return "scan-invalid"
	}
	return "scan-unknown"
}

// Medium returns the medium of the payload that could not be read.
func (e *Error) Medium() patient.Medium { return e.Kind.Medium() }

func newError(k Kind, is error, cause error) *Error { return &Error{Kind: k, is: is, Err: cause} }

// MaxLen bounds the payloads looked at; longer ones are Unknown.
const MaxLen = 8 << 10

// Kind tells what b looks like without parsing every field: a payload of
// kind CCCD or BHYT may still fail Parse with ErrInvalid or ErrTruncated.
func KindOf(b []byte) Kind {
	k, s, _ := classify(clean(b))
	switch {
	case k == CCCD && strings.Count(s, "|") < 5, k == BHYT && bhytFields(s) < 13 && !bhytCore(s):
		return Truncated
	}
	return k
}

// Parse classifies b and reads the identity it carries. Errors are *Error
// and match one of the sentinels (ErrEmpty, ErrNotText, ErrURL, ErrPayment,
// ErrTruncated, ErrWrongLayout, ErrInvalid, ErrUnknown) with errors.Is; a
// parser's own error (cccd.ErrQRInvalid, bhytqr.ErrTruncated …) matches too.
func Parse(b []byte) (patient.Identity, error) {
	s := clean(b)
	k, s, layout := classify(s)
	switch k {
	case CCCD:
		id, err := cccd.ParseQR(s)
		if err != nil {
			return patient.Identity{}, parserError(CCCD, err)
		}
		return id, nil
	case BHYT:
		c, err := bhytqr.Parse(s)
		if err != nil {
			return patient.Identity{}, parserError(BHYT, err)
		}
		return c.Identity(), nil
	case Number:
		return numberIdentity(s), nil
	case WrongLayout:
		e := newError(k, ErrWrongLayout, nil)
		e.Layout = layout
		return patient.Identity{}, e
	}
	return patient.Identity{}, newError(k, sentinels[k], nil)
}

var sentinels = map[Kind]error{
	Unknown: ErrUnknown, Empty: ErrEmpty, URL: ErrURL, Payment: ErrPayment,
	Truncated: ErrTruncated, NotText: ErrNotText,
}

func parserError(k Kind, err error) error {
	switch {
	case errors.Is(err, cccd.ErrQRTruncated), errors.Is(err, bhytqr.ErrTruncated):
		return newError(Truncated, ErrTruncated, err)
	case errors.Is(err, cccd.ErrQRNotCCCD), errors.Is(err, bhytqr.ErrNotBHYT):
		return newError(Unknown, ErrUnknown, err)
	}
	return newError(k, ErrInvalid, err)
}

// Identify is Parse for a presentation: it has the signature of
// agent.Identifier. A bare number typed by staff keeps patient.MediumTyped.
func Identify(p drivers.Presentation) (patient.Identity, error) {
	id, err := Parse(p.Payload)
	if err == nil && p.Medium == patient.MediumTyped && id.Medium == patient.MediumQR {
		id.Medium = patient.MediumTyped
	}
	return id, err
}

func numberIdentity(s string) patient.Identity {
	id := patient.Identity{
		Medium:       patient.MediumQR,
		Authenticity: patient.Authenticity{Level: patient.Unverified, Detail: "number only: not verified"},
	}
	switch s = strings.ToUpper(s); len(s) {
	case 12:
		id.CitizenID = patient.CitizenID(s)
	case 15:
		id.CardNumber = patient.CardNumber(s)
		if isDigits(s[5:]) {
			id.SocialInsuranceNumber = s[5:]
		}
	default:
		id.SocialInsuranceNumber = s
	}
	return id
}

// clean trims what scanners add around a payload: a UTF-8 byte-order mark,
// an AIM symbology identifier ("]Q1" for QR), STX/ETX and other control
// characters, and white space. It returns the payload as a string (the one
// allocation Parse makes for it).
func clean(b []byte) string {
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	b = bytes.TrimFunc(b, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '\ufeff' })
	if len(b) >= 3 && b[0] == ']' && b[1] >= 'A' && b[1] <= 'z' && b[2] >= '0' && b[2] <= '9' {
		b = bytes.TrimLeftFunc(b[3:], func(r rune) bool { return r <= ' ' })
	}
	return string(b)
}

// classify returns the kind of s and, for WrongLayout, the layout; s is
// returned as it should be parsed.
func classify(s string) (Kind, string, string) {
	switch {
	case s == "":
		return Empty, s, ""
	case len(s) > MaxLen:
		return Unknown, s, ""
	case !utf8.ValidString(s):
		return NotText, s, ""
	case isURL(s):
		return URL, s, ""
	case strings.HasPrefix(s, "000201") && strings.Contains(s, "A000000727"):
		return Payment, s, ""
	}
	if strings.IndexByte(s, '|') >= 0 {
		switch {
		case cccd.LooksLikeQR(s):
			return CCCD, s, ""
		case bhytqr.LooksLike(s):
			if l := vietnameseIME(s); l != "" {
				return WrongLayout, s, l
			}
			return BHYT, s, ""
		}
		if l := vietnameseIME(s); l != "" {
			return WrongLayout, s, l
		}
		return Unknown, s, ""
	}
	if t := strings.TrimSpace(s); (len(t) == 12 && isDigits(t)) || bhytqr.ValidNumber(t) {
		return Number, t, ""
	}
	if l := otherLayout(s); l != "" {
		return WrongLayout, s, l
	}
	return Unknown, s, ""
}

// bhytFields counts the fields of a BHYT payload, not counting the
// terminator.
// bhytCore reports whether s is the older BHYT layout: nine fields and a
// terminator, complete as scanned.
func bhytCore(s string) bool {
	t := strings.TrimSpace(s)
	return bhytFields(s) == 9 && (strings.HasSuffix(t, "|$") || strings.HasSuffix(t, "|#"))
}

func bhytFields(s string) int {
	n := strings.Count(s, "|") + 1
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, "|$") || strings.HasSuffix(s, "|#") {
		n--
	}
	return n
}

func isURL(s string) bool {
	l := strings.ToLower(s[:min(len(s), 12)])
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "www.") ||
		(strings.Contains(s, "://") && !strings.Contains(s, "|"))
}

func isDigits(s string) bool {
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
