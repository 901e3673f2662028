package bhytqr

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/tiepdon/tiepdon/agent/patient"
)

const qrDir = "../../testdata/qr"

func sample(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(qrDir, name+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func d(day, month, year int) patient.Date { return patient.Date{Day: day, Month: month, Year: year} }

func TestParseSamples(t *testing.T) {
	tests := []struct {
		file string
		want Card
	}{
		// Real cards (docs/sources.md §4.2).
		{"bhyt-real-2023-new", Card{
			Format: FormatNew, Number: "0111077012", SocialInsuranceNumber: "0111077012",
			Name: "Nguyễn Tiến Đạt", BirthDate: d(29, 3, 1988), Sex: patient.Male,
			Facility: "01C54", ValidFrom: d(1, 7, 2023), IssueDate: d(31, 7, 2023),
			ManagerCode: "01050111077012", AreaCode: "4", FiveYearDate: d(1, 10, 2027),
			Check: "4641c59ff02659c3-1202", IssuePlace: "Quận Cầu Giấy, Thành phố Hà Nội",
			Extra:      []string{"4", "5175e1baad6e2043e1baa775204769e1baa5792c205468c3a06e68207068e1bb912048c3a0204ee1bb9969"},
			Terminator: "$",
		}},
		{"bhyt-real-2017-paper", Card{
			Format: FormatOld, Number: "DN401AA31900313", CardNumber: "DN401AA31900313",
			SocialInsuranceNumber: "9710639215",
			Name:                  "Lê Việt Hưng", BirthDate: d(4, 9, 1985), Sex: patient.Male,
			Address:  "Cty phần mềm VNPT- CN tổng Cty DV VT",
			Facility: "01043", ValidFrom: d(1, 7, 2017), ValidTo: d(31, 12, 2017), IssueDate: d(21, 7, 2017),
			ManagerCode: "01059710639215", AreaCode: "4", FiveYearDate: d(1, 7, 2022),
			Check: "1f2fa22c47f0bd18-7102", Terminator: "$",
		}},
		{"bhyt-real-2022-hash", Card{
			Format: FormatNew, Number: "8924380620", SocialInsuranceNumber: "8924380620",
			Name: "Trần Thanh Nhàng", BirthDate: d(12, 10, 2001), Sex: patient.Male,
			Facility: "89012", ValidFrom: d(1, 12, 2021), IssueDate: d(7, 1, 2022),
			ManagerCode: "89008924380620", AreaCode: "4", FiveYearDate: d(20, 9, 2021),
			Check: "70289294e018da7-7102", IssuePlace: "Tỉnh An Giang",
			Extra: []string{"4", "54e1bb896e6820416e204769616e67"}, Terminator: "#",
		}},
		// Synthetic.
		{"bhyt-synth-old-hc", Card{
			Format: FormatOld, Number: "HC4790123456789", CardNumber: "HC4790123456789",
			SocialInsuranceNumber: "0123456789",
			Name:                  "Phạm Thị Hương", BirthDate: d(5, 6, 1970), Sex: patient.Female,
			Address:  "12 Nguyễn Huệ, Quận 1, TP. Hồ Chí Minh",
			Facility: "79024", ValidFrom: d(1, 1, 2024), ValidTo: d(31, 12, 2024), IssueDate: d(15, 12, 2023),
			ManagerCode: "79010123456789", AreaCode: "4", FiveYearDate: d(1, 1, 2019),
			Check: "0a1b2c3d4e5f6071-4202", Terminator: "$",
		}},
		// The older layout: nine fields, then the terminator.
		{"bhyt-synth-old-nine-field", Card{
			Format: FormatOld, Number: "HC4790123456789", CardNumber: "HC4790123456789",
			Name: "Phạm Thị Hương", BirthDate: d(5, 6, 1970), Sex: patient.Female,
			Address:  "12 Nguyễn Huệ, Quận 1, TP. Hồ Chí Minh",
			Facility: "79024", ValidFrom: d(1, 1, 2024), ValidTo: d(31, 12, 2024), IssueDate: d(15, 12, 2023),
			Terminator: "$", Core: true,
		}},
		{"bhyt-synth-new-upperhex-noterm", Card{
			Format: FormatNew, Number: "7912345678", SocialInsuranceNumber: "7912345678",
			Name: "Đỗ Văn Bình", BirthDate: patient.Date{Year: 1950}, Sex: patient.Male,
			Facility: "79001", ValidFrom: d(1, 1, 2025), IssueDate: d(2, 1, 2025),
			ManagerCode: "79017912345678", ParentName: "Đỗ Văn Cha", AreaCode: "4",
			Check: "abcdef0123456789-5202", IssuePlace: "Quận Bình Thạnh, TP. Hồ Chí Minh",
			Extra: []string{"4", "(hex issuing place)"},
		}},
		{"bhyt-synth-new-nfd-extra", Card{
			Format: FormatNew, Number: "0101234567", SocialInsuranceNumber: "0101234567",
			Name: "Nguyễn Thị Lan", BirthDate: d(1, 2, 2020), Sex: patient.Female,
			Facility: "01001", ValidFrom: d(1, 2, 2020), IssueDate: d(3, 2, 2020),
			ManagerCode: "01050101234567", ParentName: "Nguyễn Văn Bố", AreaCode: "4",
			Check: "0123456789abcdef-0202", IssuePlace: "Quận Ba Đình, Thành phố Hà Nội",
			Extra:      []string{"4", "(hex issuing place)", "future"},
			Terminator: "$",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := Parse(sample(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			// Extra holds raw fields: real samples compare exactly, synthetic
			// ones by count and first field (IssuePlace checks the decoding).
			if len(got.Extra) != len(tt.want.Extra) {
				t.Errorf("Extra = %q, want %d fields", got.Extra, len(tt.want.Extra))
			}
			if len(tt.want.Extra) > 0 && got.Extra[0] != tt.want.Extra[0] {
				t.Errorf("Extra[0] = %q, want %q", got.Extra[0], tt.want.Extra[0])
			}
			if strings.HasPrefix(tt.file, "bhyt-real") && !reflect.DeepEqual(got.Extra, tt.want.Extra) {
				t.Errorf("Extra = %q, want %q", got.Extra, tt.want.Extra)
			}
			got.Extra, tt.want.Extra = nil, nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if !norm.NFC.IsNormalString(string(got.Name)) {
				t.Errorf("name not NFC")
			}
		})
	}
}

func TestIdentityAsksWithCardNumberFirst(t *testing.T) {
	old, err := Parse(sample(t, "bhyt-real-2017-paper"))
	if err != nil {
		t.Fatal(err)
	}
	id := old.Identity()
	if got := strings.Join(patient.QueryOf(id).Candidates(), ","); got != "DN401AA31900313,9710639215" {
		t.Errorf("old card candidates %s", got)
	}
	if id.Medium != patient.MediumQRBHYT || id.Authenticity.Level != patient.Unverified {
		t.Errorf("medium %s level %s", id.Medium, id.Authenticity.Level)
	}
	if id.RegisteredFacility != "01043" || id.CardValidTo != d(31, 12, 2017) || id.FiveYearDate != d(1, 7, 2022) {
		t.Errorf("card fields not carried: %+v", id)
	}
	newer, err := Parse(sample(t, "bhyt-real-2023-new"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(patient.QueryOf(newer.Identity()).Candidates(), ","); got != "0111077012" {
		t.Errorf("new card candidates %s", got)
	}
}

func TestParseErrors(t *testing.T) {
	real := sample(t, "bhyt-real-2022-hash")
	fields := strings.Split(real, "|")
	with := func(i int, v string) string {
		f := append([]string(nil), fields...)
		f[i] = v
		return strings.Join(f, "|")
	}
	tests := []struct {
		name, payload string
		want          error
		field         int // for ErrInvalid: the field named, -1 if none
	}{
		// Not BHYT at all.
		{"empty", "", ErrNotBHYT, -1},
		{"cccd", "001090123456|012345678|NGUYEN VAN A|01011990|Nam|Hà Nội|15042021", ErrNotBHYT, -1},
		{"bad benefit level", "DN601AA31900313|4c|$", ErrNotBHYT, -1},
		{"number only", "8924380620", ErrNotBHYT, -1},
		// Cut short.
		{"two fields", "8924380620|5472", ErrTruncated, -1},
		{"up to validity", strings.Join(fields[:7], "|"), ErrTruncated, -1},
		{"mid date", strings.Join(fields[:12], "|") + "|20/09/20", ErrTruncated, -1},
		{"mid issuing place", strings.Join(fields[:15], "|") + "|54e1bb896e6", ErrTruncated, -1},
		{"terminator alone", strings.Join(fields[:5], "|") + "|$", ErrTruncated, -1},
		{"nine fields without terminator", strings.Join(fields[:9], "|"), ErrTruncated, -1},
		{"ten fields and terminator", strings.Join(fields[:10], "|") + "|$", ErrTruncated, -1},
		{"nine fields, bad issue date", strings.Join(fields[:8], "|") + "|32/01/2022|$", ErrInvalid, FieldIssueDate},
		// Bad fields.
		{"name not hex", with(1, "Trần Thanh Nhàng"), ErrInvalid, FieldName},
		{"name odd hex", with(1, "5472e"), ErrInvalid, FieldName},
		{"name bad utf8", with(1, "c328"), ErrInvalid, FieldName},
		{"name digits", with(1, "3132"), ErrInvalid, FieldName},
		{"birth", with(2, "31/02/2001"), ErrInvalid, FieldBirthDate},
		{"birth missing", with(2, "-"), ErrInvalid, FieldBirthDate},
		{"sex", with(3, "x"), ErrInvalid, FieldSex},
		{"facility", with(5, "89 / 012"), ErrInvalid, FieldFacility},
		{"valid to before from", with(7, "01/01/2020"), ErrInvalid, FieldValidTo},
		{"manager code", with(9, "89A"), ErrInvalid, FieldManagerCode},
		{"issue place with terminator", with(15, "zz"), ErrInvalid, FieldIssuePlace},
		{"not utf8", "8924380620|\xff|$", ErrInvalid, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.payload)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var fe *FieldError
			if tt.field >= 0 && (!errors.As(err, &fe) || fe.Field != tt.field) {
				t.Errorf("err = %v, want field %d", err, tt.field)
			}
			if strings.Contains(err.Error(), "8924380620") || strings.Contains(err.Error(), "2001") {
				t.Errorf("error leaks personal data: %v", err)
			}
		})
	}
}

func TestLogValueMasks(t *testing.T) {
	c, err := Parse(sample(t, "bhyt-real-2017-paper"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("scan", "card", c)
	if s := buf.String(); strings.Contains(s, "DN401AA31900313") || strings.Contains(s, "Hưng") || !strings.Contains(s, "DN4") {
		t.Errorf("log line %q", s)
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(qrDir, "bhyt-*.txt"))
	if len(files) < 6 {
		t.Fatalf("only %d BHYT samples", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".txt")
		c, err := Parse(sample(t, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		back, err := Parse(c.Payload())
		if err != nil || !reflect.DeepEqual(back, c) {
			t.Errorf("%s: round trip\n got %+v %v\nwant %+v", name, back, err, c)
		}
	}
	// A card built in code (the simulator's use) with the issuing place set.
	c := Card{Format: FormatNew, Number: "7912345678", SocialInsuranceNumber: "7912345678",
		Name: "Võ Thị Sáu", BirthDate: d(1, 1, 1990), Sex: patient.Female, Facility: "79001",
		ValidFrom: d(1, 1, 2025), IssuePlace: "TP. Hồ Chí Minh", Terminator: "$"}
	back, err := Parse(c.Payload())
	if err != nil || back.IssuePlace != c.IssuePlace || back.Name != c.Name || back.Check != "" {
		t.Errorf("built card: %+v %v", back, err)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(qrDir, "*.txt"))
	for _, name := range files {
		b, _ := os.ReadFile(name)
		f.Add(string(b))
	}
	f.Add("DN401AA31900313|4c|01/01/2000|1|-|01 - 043|-|-|-|-|-|4|-|$")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err != nil {
			if errors.Is(err, ErrInvalid) == errors.Is(err, ErrTruncated) && !errors.Is(err, ErrNotBHYT) {
				t.Fatalf("error %v wraps no single sentinel", err)
			}
			return
		}
		if !ValidNumber(c.Number) || !utf8Valid(c) || !norm.NFC.IsNormalString(string(c.Name)) {
			t.Fatalf("accepted bad card %+v", c)
		}
		if patient.QueryOf(c.Identity()).Empty() {
			t.Fatalf("identity without identifier")
		}
		back, err := Parse(c.Payload())
		if err != nil || !reflect.DeepEqual(back, c) {
			t.Fatalf("round trip of %q:\n got %+v %v\nwant %+v", s, back, err, c)
		}
	})
}

func utf8Valid(c Card) bool {
	for _, s := range []string{string(c.Name), c.Address, string(c.ParentName), c.IssuePlace} {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

func BenchmarkParse(b *testing.B) {
	for _, name := range []string{"bhyt-real-2017-paper", "bhyt-real-2023-new"} {
		s := sample(b, name)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				if _, err := Parse(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
