package cccd

import (
	"errors"
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

func qrSample(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(qrDir, name+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func qrDate(day, month, year int) patient.Date {
	return patient.Date{Day: day, Month: month, Year: year}
}

func TestParseQRSamples(t *testing.T) {
	unverified := patient.Authenticity{Level: patient.Unverified, Detail: QRUnverified}
	tests := []struct {
		file string
		want patient.Identity
	}{
		// The example of docs/sources.md §4.1.
		{"cccd-spec-example", patient.Identity{
			CitizenID: "001090123456", OldID: "012345678", Name: "NGUYEN VAN A",
			BirthDate: qrDate(1, 1, 1990), Sex: patient.Male,
			Address: "Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh", IssueDate: qrDate(15, 4, 2021),
		}},
		// Synthetic.
		{"cccd-synth-2021", patient.Identity{
			CitizenID: "079185000123", OldID: "025123456", Name: "Trần Thị Bích Ngọc",
			BirthDate: qrDate(23, 7, 1985), Sex: patient.Female,
			Address: "Số 12 Lê Lợi, Phường Bến Thành, Quận 1, TP. Hồ Chí Minh", IssueDate: qrDate(10, 3, 2021),
		}},
		{"cccd-synth-nfd-name", patient.Identity{ // NFD text, runs of spaces, MMyyyy birth date
			CitizenID: "001190123456", Name: "Nguyễn Văn Ấn",
			BirthDate: patient.Date{Month: 7, Year: 1990}, Sex: patient.Female,
			Address: "Xã Đông Anh, Hà Nội", IssueDate: qrDate(1, 7, 2022),
		}},
		{"cccd-synth-year-only", patient.Identity{
			CitizenID: "036301000777", Name: "Lê Thị Hoa", BirthDate: patient.Date{Year: 2001},
			Sex: patient.Female, Address: "Nam Định", IssueDate: patient.Date{Year: 2022},
		}},
		{"cccd-synth-2024-extra", patient.Identity{ // extra fields after the seventh are ignored
			CitizenID: "054200009999", OldID: "221000999", Name: "Phạm Minh Khôi",
			BirthDate: qrDate(20, 10, 2000), Sex: patient.Male,
			Address: "Khu phố 3, Xuân Đài, Phú Yên", IssueDate: qrDate(9, 5, 2025),
		}},
		{"cccd-synth-six-field", patient.Identity{ // ID|name|birth|sex|address|issue
			CitizenID: "001090123456", Name: "NGUYEN VAN A", BirthDate: qrDate(1, 1, 1990),
			Sex: patient.Male, Address: "Ha Noi", IssueDate: qrDate(15, 4, 2021),
		}},
		{"cccd-synth-crlf-spaces", patient.Identity{ // BOM, spaces round fields, CRLF
			CitizenID: "001090123456", OldID: "012345678", Name: "Nguyễn Văn An",
			BirthDate: qrDate(1, 1, 1990), Sex: patient.Male, Address: "Hà Nội", IssueDate: qrDate(15, 4, 2021),
		}},
		{"cccd-synth-id-mismatch", patient.Identity{ // accepted, with a note for staff
			CitizenID: "001190123456", OldID: "012345678", Name: "Nguyễn Văn An",
			BirthDate: qrDate(1, 1, 1991), Sex: patient.Male, Address: "Hà Nội", IssueDate: qrDate(15, 4, 2021),
			Authenticity: patient.Authenticity{Level: patient.Unverified,
				Detail: QRUnverified + "; birth year differs from the ID's digits; sex differs from the ID's digits"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseQR(qrSample(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Medium = patient.MediumQRCCCD
			if tt.want.Authenticity.Level == "" {
				tt.want.Authenticity = unverified
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if !norm.NFC.IsNormalString(string(got.Name)) || !norm.NFC.IsNormalString(got.Address) {
				t.Error("not NFC")
			}
		})
	}
}

func TestParseQRErrors(t *testing.T) {
	const good = "001090123456|012345678|NGUYEN VAN A|01011990|Nam|Hà Nội|15042021"
	f := strings.Split(good, "|")
	with := func(i int, v string) string {
		g := append([]string(nil), f...)
		g[i] = v
		return strings.Join(g, "|")
	}
	tests := []struct {
		name, payload string
		want          error
		field         int
	}{
		// Not a CCCD QR.
		{"empty", "", ErrQRNotCCCD, -1},
		{"bare ID", "001090123456", ErrQRNotCCCD, -1},
		{"11 digits", with(0, "00109012345"), ErrQRNotCCCD, -1},
		{"BHYT", "0111077012|4e67|29/03/1988|1|-|01 - C54|$", ErrQRNotCCCD, -1},
		// Cut short.
		{"two fields", "001090123456|0123", ErrQRTruncated, -1},
		{"five fields", strings.Join(f[:5], "|"), ErrQRTruncated, -1},
		{"six fields, not the variant", strings.Join(f[:6], "|"), ErrQRTruncated, -1},
		{"issue date cut", strings.Join(f[:6], "|") + "|1504", ErrQRTruncated, -1},
		// Bad fields.
		{"old ID letters", with(1, "01234567X"), ErrQRInvalid, qrOldID},
		{"old ID length", with(1, "0123"), ErrQRInvalid, qrOldID},
		{"name digits", with(2, "NGUYEN 2"), ErrQRInvalid, qrName},
		{"name empty", with(2, " "), ErrQRInvalid, qrName},
		{"no 31 Feb", with(3, "31021990"), ErrQRInvalid, qrBirth},
		{"birth missing", with(3, ""), ErrQRInvalid, qrBirth},
		{"issue bad", with(6, "15132021"), ErrQRInvalid, qrIssue},
		{"not utf8", with(2, "\xc3("), ErrQRInvalid, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseQR(tt.payload)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var fe *QRFieldError
			if tt.field >= 0 && (!errors.As(err, &fe) || fe.Field != tt.field) {
				t.Errorf("err = %v, want field %d", err, tt.field)
			}
			for _, secret := range []string{"001090123456", "012345678", "NGUYEN", "1990", "Hà Nội"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q leaks %q", err, secret)
				}
			}
		})
	}
}

func TestLooksLikeQR(t *testing.T) {
	for s, want := range map[string]bool{
		"001090123456|x":  true,
		" 001090123456|":  true,
		"001090123456":    false,
		"00109012345|x":   false,
		"0111077012|4e67": false,
	} {
		if LooksLikeQR(s) != want {
			t.Errorf("LooksLikeQR(%q) = %v", s, !want)
		}
	}
}

func TestQRPayloadRoundTrip(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(qrDir, "cccd-*.txt"))
	if len(files) < 7 {
		t.Fatalf("only %d CCCD samples", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".txt")
		id, err := ParseQR(qrSample(t, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		back, err := ParseQR(QRPayload(id))
		if err != nil || !reflect.DeepEqual(back, id) {
			t.Errorf("%s: round trip\n got %+v %v\nwant %+v", name, back, err, id)
		}
	}
}

func FuzzParseQR(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(qrDir, "*.txt"))
	for _, name := range files {
		b, _ := os.ReadFile(name)
		f.Add(string(b))
	}
	f.Add("001090123456|NGUYEN VAN A|1990|Nam|x|2021")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseQR(s)
		if err != nil {
			n := 0
			for _, e := range []error{ErrQRNotCCCD, ErrQRTruncated, ErrQRInvalid} {
				if errors.Is(err, e) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("error %v wraps %d sentinels", err, n)
			}
			return
		}
		if !id.CitizenID.Valid() || id.BirthDate.IsZero() || id.Name == "" {
			t.Fatalf("accepted %+v", id)
		}
		for _, s := range []string{string(id.Name), id.Address} {
			if !utf8.ValidString(s) || !norm.NFC.IsNormalString(s) || strings.Contains(s, "  ") {
				t.Fatalf("text not clean: %q", s)
			}
		}
		back, err := ParseQR(QRPayload(id))
		if err != nil || !reflect.DeepEqual(back, id) {
			t.Fatalf("round trip of %q:\n got %+v %v\nwant %+v", s, back, err, id)
		}
	})
}

func BenchmarkParseQR(b *testing.B) {
	s := qrSample(b, "cccd-synth-2021")
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		if _, err := ParseQR(s); err != nil {
			b.Fatal(err)
		}
	}
}
