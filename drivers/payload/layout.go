package payload

import (
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/tiepdon/tiepdon/drivers/bhytqr"
	"github.com/tiepdon/tiepdon/drivers/cccd"
)

// A keyboard-wedge scanner types a payload as US-layout key presses. When
// the PC has another layout or a Vietnamese input method on, the keys come
// out as other characters: '|' as '~' (UK), '\'' (German) or 'µ' (French);
// digits as "&é\"'(-è_çà" (French); everything shifted the wrong way with
// Caps Lock on some scanners; and with Unikey/EVKey in Telex or VNI mode,
// "aa", "ee", "dd", "e1" … in the hex fields of a BHYT QR turn into â, ê,
// đ, é. These tables undo each layout; a payload that becomes a card QR
// code once undone is reported as WrongLayout, never accepted.

type layout struct {
	name string
	fix  map[rune]rune
}

var layouts = []layout{
	{"en-gb", map[rune]rune{'~': '|', '£': '#', '#': '\\', '@': '"', '"': '@'}},
	{"de", map[rune]rune{'\'': '|', '-': '/', 'ß': '-', '§': '#', '#': '\\', 'z': 'y', 'y': 'z', 'Z': 'Y', 'Y': 'Z'}},
	{"fr-azerty", map[rune]rune{
		'&': '1', 'é': '2', '"': '3', '\'': '4', '(': '5', '-': '6', 'è': '7', '_': '8', 'ç': '9', 'à': '0',
		'1': '!', '2': '@', '3': '#', '4': '$', '5': '%', '6': '^', '7': '&', '8': '*', '9': '(', '0': ')',
		'µ': '|', '*': '\\', '!': '/', ')': '-', 'q': 'a', 'a': 'q', 'Q': 'A', 'A': 'Q', 'w': 'z', 'z': 'w', 'W': 'Z', 'Z': 'W',
	}},
	{"inverted-shift", invertedShift()},
}

func invertedShift() map[rune]rune {
	m := map[rune]rune{'\\': '|', '|': '\\', '?': '/', '/': '?', '_': '-', '-': '_', '$': '4', '4': '$'}
	const digits, shifted = "0123456789", ")!@#$%^&*("
	for i := range digits {
		m[rune(shifted[i])], m[rune(digits[i])] = rune(digits[i]), rune(shifted[i])
	}
	for r := 'a'; r <= 'z'; r++ {
		m[r], m[r-'a'+'A'] = r-'a'+'A', r
	}
	return m
}

// otherLayout returns the name of the keyboard layout that turns s into a
// card QR code once undone, or "".
func otherLayout(s string) string {
	for _, l := range layouts {
		fixed := strings.Map(func(r rune) rune {
			if f, ok := l.fix[r]; ok {
				return f
			}
			return r
		}, s)
		if cccd.LooksLikeQR(fixed) || bhytqr.LooksLike(fixed) {
			return l.name
		}
	}
	return ""
}

// vietnameseIME returns "vi-telex" or "vi-vni" when s is a BHYT QR code
// whose card number or hex fields a Vietnamese input method has turned
// into letters, or "". A code that reads fine as it is never matches.
func vietnameseIME(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii || bhytHexOK(s) {
		return ""
	}
	if bhytHexOK(undoIME(s, false)) {
		return "vi-telex"
	}
	if bhytHexOK(undoIME(s, true)) {
		return "vi-vni"
	}
	return ""
}

// bhytHexOK reports whether s starts like a BHYT QR code and its
// hex-encoded fields (name, address, parent, issuing place) are hex.
func bhytHexOK(s string) bool {
	if !bhytqr.LooksLike(s) {
		return false
	}
	f := strings.Split(s, "|")
	for _, i := range []int{bhytqr.FieldName, bhytqr.FieldAddress, bhytqr.FieldParentName, bhytqr.FieldIssuePlace} {
		if i >= len(f) {
			break
		}
		switch v := strings.TrimSpace(f[i]); v {
		case "", "-", "$", "#":
		default:
			if !isHex(v) {
				return false
			}
		}
	}
	return true
}

// undoIME rewrites every Vietnamese letter of s as the keys that type it in
// Telex (â = aa, ă = aw, ơ = ow, đ = dd, tones s f r x j) or VNI (tones 1–5,
// â = a6, ơ = o7, ă = a8, đ = d9).
func undoIME(s string, vni bool) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x80:
			b.WriteRune(r)
			continue
		case r == 'đ':
			b.WriteString(pick(vni, "d9", "dd"))
			continue
		case r == 'Đ':
			b.WriteString(pick(vni, "D9", "DD"))
			continue
		}
		d := []rune(norm.NFD.String(string(r)))
		b.WriteRune(d[0])
		var shape, tone string
		for _, m := range d[1:] {
			switch m {
			case 0x302: // circumflex
				shape = pick(vni, "6", string(d[0]))
			case 0x306: // breve
				shape = pick(vni, "8", "w")
			case 0x31B: // horn
				shape = pick(vni, "7", "w")
			case 0x301:
				tone = pick(vni, "1", "s")
			case 0x300:
				tone = pick(vni, "2", "f")
			case 0x309:
				tone = pick(vni, "3", "r")
			case 0x303:
				tone = pick(vni, "4", "x")
			case 0x323:
				tone = pick(vni, "5", "j")
			default:
				b.WriteRune(m)
			}
		}
		b.WriteString(shape)
		b.WriteString(tone)
	}
	return b.String()
}

func pick(vni bool, v, telex string) string {
	if vni {
		return v
	}
	return telex
}

func isHex(s string) bool {
	if s == "" || len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if !(s[i] >= '0' && s[i] <= '9') && !(c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
