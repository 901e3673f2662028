package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers"
	"github.com/tiepdon/tiepdon/drivers/bhytqr"
	"github.com/tiepdon/tiepdon/drivers/cccd"
)

var update = flag.Bool("update", false, "rewrite testdata/qr/*.golden")

const qrDir = "../../testdata/qr"

var sentinelNames = map[error]string{
	ErrEmpty: "ErrEmpty", ErrNotText: "ErrNotText", ErrURL: "ErrURL", ErrPayment: "ErrPayment",
	ErrTruncated: "ErrTruncated", ErrWrongLayout: "ErrWrongLayout", ErrInvalid: "ErrInvalid", ErrUnknown: "ErrUnknown",
}

// golden is what a sample's .golden file holds.
type golden struct {
	Kind     string            `json:"kind"`
	Identity *patient.Identity `json:"identity,omitempty"`
	Is       string            `json:"is,omitempty"`
	Layout   string            `json:"layout,omitempty"`
	Error    string            `json:"error,omitempty"`
}

func result(b []byte) golden {
	g := golden{Kind: KindOf(b).String()}
	id, err := Parse(b)
	if err == nil {
		g.Identity = &id
		return g
	}
	for s, name := range sentinelNames {
		if errors.Is(err, s) {
			g.Is = name
		}
	}
	var pe *Error
	if errors.As(err, &pe) {
		g.Layout = pe.Layout
	}
	g.Error = err.Error()
	return g
}

// TestGolden runs every sample in testdata/qr through Parse. Real samples
// and synthetic ones must parse; err-* ones must fail.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(qrDir, "*.txt"))
	if err != nil || len(files) < 25 {
		t.Fatalf("samples: %d, %v", len(files), err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".txt")
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			g := result(b)
			if strings.HasPrefix(name, "err-") != (g.Identity == nil) {
				t.Errorf("%s: identity %v, error %q", name, g.Identity != nil, g.Error)
			}
			got, _ := json.MarshalIndent(g, "", "  ")
			got = append(got, '\n')
			path := strings.TrimSuffix(f, ".txt") + ".golden"
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(qrDir, name+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cccdQR, bhytQR := read("cccd-spec-example"), read("bhyt-real-2023-new")
	tests := []struct {
		name, in string
		kind     Kind
		is       error
		layout   string
	}{
		// Card codes, with what scanners wrap them in.
		{"cccd", cccdQR, CCCD, nil, ""},
		{"bhyt", bhytQR, BHYT, nil, ""},
		{"bhyt crlf", bhytQR + "\r\n", BHYT, nil, ""},
		{"aim prefix", "]Q1" + cccdQR, CCCD, nil, ""},
		{"stx etx", "\x02" + cccdQR + "\x03", CCCD, nil, ""},
		{"bom", "\ufeff" + bhytQR, BHYT, nil, ""},
		// Bare numbers.
		{"citizen id", "001090123456", Number, nil, ""},
		{"card number lower", "dn4010123456789", Number, nil, ""},
		{"social insurance number", "0111077012", Number, nil, ""},
		// Not cards.
		{"empty", "", Empty, ErrEmpty, ""},
		{"blank", " \t\r\n", Empty, ErrEmpty, ""},
		{"url", "HTTPS://example.org/a|b", URL, ErrURL, ""},
		{"www", "www.baohiemxahoi.gov.vn", URL, ErrURL, ""},
		{"scheme", "zalo://x", URL, ErrURL, ""},
		{"vietqr", "00020101021238570010A000000727", Payment, ErrPayment, ""},
		{"binary", "\xff\xfe", NotText, ErrNotText, ""},
		{"too long", strings.Repeat("a", MaxLen+1), Unknown, ErrUnknown, ""},
		{"pipes", "a|b|c", Unknown, ErrUnknown, ""},
		{"11 digits", "00109012345", Unknown, ErrUnknown, ""},
		// Cut short.
		{"cccd cut", "001090123456|012345678|NGUYEN", Truncated, ErrTruncated, ""},
		{"bhyt cut", bhytQR[:60], Truncated, ErrTruncated, ""},
		{"bhyt cut in field 13", bhytQR[:strings.Index(bhytQR, " 01/10/2027")+4], BHYT, ErrTruncated, ""},
		// Wrong layout: '|' and digits typed as other keys.
		{"uk", strings.ReplaceAll(cccdQR, "|", "~"), WrongLayout, ErrWrongLayout, "en-gb"},
		{"german", strings.ReplaceAll(cccdQR, "|", "'"), WrongLayout, ErrWrongLayout, "de"},
		{"telex", strings.ReplaceAll(bhytQR, "ee", "ê"), WrongLayout, ErrWrongLayout, "vi-telex"},
		{"telex in number", strings.Replace(read("bhyt-real-2017-paper"), "AA", "Â", 1), WrongLayout, ErrWrongLayout, "vi-telex"},
		{"vni", strings.ReplaceAll(bhytQR, "e1", "é"), WrongLayout, ErrWrongLayout, "vi-vni"},
		{"telex tones", strings.Replace(bhytQR, "4e677579", "àè7579", 1), WrongLayout, ErrWrongLayout, "vi-telex"}, // af ef
		{"telex in address only", telexAddress(read("bhyt-real-2017-paper")), WrongLayout, ErrWrongLayout, "vi-telex"},
		// Bad fields of a recognised code.
		{"plain-text address is not a layout problem", withField(bhytQR, 4, "Hà Nội"), BHYT, ErrInvalid, ""},
		{"cccd bad date", strings.Replace(cccdQR, "01011990", "32011990", 1), CCCD, ErrInvalid, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if k := KindOf([]byte(tt.in)); k != tt.kind {
				t.Errorf("KindOf = %v, want %v", k, tt.kind)
			}
			id, err := Parse([]byte(tt.in))
			if tt.is == nil {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if q := patient.QueryOf(id); q.Empty() {
					t.Errorf("no identifier in %+v", id)
				}
				return
			}
			if !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
			n := 0
			for s := range sentinelNames {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%v matches %d sentinels", err, n)
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.Layout != tt.layout {
				t.Errorf("layout %q, want %q", pe.Layout, tt.layout)
			}
			if pe.Vietnamese() == "" {
				t.Error("no Vietnamese message")
			}
			for _, secret := range []string{"001090123456", "0111077012", "NGUYEN", "1990", "1988"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q leaks %q", err, secret)
				}
			}
		})
	}
}

// telexAddress mangles only the address of a BHYT QR the way Telex does
// ("aa" → "â"), leaving the name intact.
func telexAddress(s string) string {
	f := strings.Split(s, "|")
	f[4] = strings.ReplaceAll(f[4], "aa", "â")
	return strings.Join(f, "|")
}

func withField(s string, i int, v string) string {
	f := strings.Split(s, "|")
	f[i] = v
	return strings.Join(f, "|")
}

func TestParserErrorsStillMatch(t *testing.T) {
	_, err := Parse([]byte("001090123456|012345678|NGUYEN VAN A|31021990|Nam|x|15042021"))
	var fe *cccd.QRFieldError
	if !errors.Is(err, cccd.ErrQRInvalid) || !errors.As(err, &fe) || fe.Name != "birth date" {
		t.Errorf("err = %v", err)
	}
	_, err = Parse([]byte("0111077012|4e67|29/03/1988|1|-|01 - C54"))
	if !errors.Is(err, bhytqr.ErrTruncated) || !errors.Is(err, ErrTruncated) {
		t.Errorf("err = %v", err)
	}
}

func TestIdentify(t *testing.T) {
	id, err := Identify(drivers.Presentation{Medium: patient.MediumTyped, Payload: []byte(" DN4010123456789 ")})
	if err != nil || id.Medium != patient.MediumTyped || id.CardNumber != "DN4010123456789" || id.SocialInsuranceNumber != "0123456789" {
		t.Errorf("typed card number: %+v %v", id, err)
	}
	id, err = Identify(drivers.Presentation{Medium: patient.MediumQR, Payload: []byte("079185000123")})
	if err != nil || id.Medium != patient.MediumQR || id.CitizenID != "079185000123" {
		t.Errorf("scanned ID: %+v %v", id, err)
	}
	b, _ := os.ReadFile(filepath.Join(qrDir, "cccd-synth-2021.txt"))
	id, err = Identify(drivers.Presentation{Medium: patient.MediumQR, Payload: b})
	if err != nil || id.Medium != patient.MediumQRCCCD || id.Name != "Trần Thị Bích Ngọc" {
		t.Errorf("CCCD QR: %+v %v", id, err)
	}
	if Kind(99).String() != "unknown" || WrongLayout.String() != "wrong-layout" || BHYT.Medium() != patient.MediumQRBHYT {
		t.Error("Kind names")
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(qrDir, "*.txt"))
	for _, name := range files {
		b, _ := os.ReadFile(name)
		f.Add(b)
	}
	f.Add([]byte("]Q1001090123456"))
	f.Fuzz(func(t *testing.T, b []byte) {
		k := KindOf(b)
		id, err := Parse(b)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("untyped error %v", err)
			}
			n := 0
			for s := range sentinelNames {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("%v matches %d sentinels", err, n)
			}
			return
		}
		if k != CCCD && k != BHYT && k != Number {
			t.Fatalf("kind %v parsed to an identity", k)
		}
		if patient.QueryOf(id).Empty() {
			t.Fatalf("identity with no identifier from %q", b)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	for _, name := range []string{"cccd-synth-2021", "bhyt-real-2017-paper", "bhyt-real-2023-new", "err-layout-telex"} {
		p, err := os.ReadFile(filepath.Join(qrDir, name+".txt"))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(p)))
			for b.Loop() {
				Parse(p)
			}
		})
	}
}

func BenchmarkKindOf(b *testing.B) {
	p, _ := os.ReadFile(filepath.Join(qrDir, "bhyt-real-2023-new.txt"))
	b.ReportAllocs()
	for b.Loop() {
		KindOf(p)
	}
}
