package cccd

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"reflect"
	"testing"

	"github.com/tiepdon/tiepdon/agent/patient"
)

func sampleDG13() *DG13 {
	return &DG13{
		Version:     1,
		OID:         DG13OID,
		CitizenID:   "001090123456",
		Name:        "Nguyễn Thị Ánh Hồng",
		BirthDate:   patient.Date{Year: 1990, Month: 3, Day: 15},
		Sex:         patient.Female,
		Nationality: "Việt Nam",
		Ethnicity:   "Kinh",
		Religion:    "Không",
		Hometown:    "Xã Đông Hưng, Huyện Đông Hưng, Thái Bình",
		Residence:   "Số 12 Phố Huế, Phường Hàng Bài, Quận Hoàn Kiếm, Hà Nội",
		Marks:       "Nốt ruồi C:2cm trên trước mày trái",
		IssueDate:   patient.Date{Year: 2021, Month: 4, Day: 10},
		ExpiryDate:  patient.Date{Year: 2030, Month: 3, Day: 15},
		Father:      "Nguyễn Văn Bình",
		Mother:      "Trần Thị Cúc",
		Spouse:      "Lê Minh Đức",
		Field15:     "012345678",
		Field16:     "0a1b2c3d4e5f6789",
	}
}

// typed drops Fields so that decoded and original values compare.
func typed(d *DG13) *DG13 {
	c := *d
	c.Fields = nil
	return &c
}

func TestDG13RoundTrip(t *testing.T) {
	tests := []struct {
		name string
		d    *DG13
	}{
		// every field present
		{"full", sampleDG13()},
		// single holder: no field 14; no old ID: no 15
		{"no spouse no old id", func() *DG13 { d := sampleDG13(); d.Spouse, d.Field15 = "", ""; return d }()},
		// a card that does not expire has no usable field 12
		{"no expiry", func() *DG13 { d := sampleDG13(); d.ExpiryDate = patient.Date{}; return d }()},
		// only a mother named
		{"mother only", func() *DG13 { d := sampleDG13(); d.Father = ""; return d }()},
		// nearly empty
		{"id only", &DG13{Version: 1, OID: DG13OID, CitizenID: "079203000001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := MarshalDG13(tt.d)
			if err != nil {
				t.Fatal(err)
			}
			if b[0] != DG13Tag {
				t.Fatalf("tag %02X, want 6D", b[0])
			}
			got, err := DecodeDG13(b)
			if err != nil {
				t.Fatal(err)
			}
			want := typed(tt.d)
			if tt.d.Father == "" && tt.d.Mother != "" {
				// an empty UTF8String is written for the absent father
				want.Father = ""
			}
			if !reflect.DeepEqual(typed(got), want) {
				t.Errorf("round trip:\n got %+v\nwant %+v", typed(got), want)
			}
			again, err := MarshalDG13(got)
			if err != nil || !bytes.Equal(again, b) {
				t.Errorf("re-encoding differs: %v", err)
			}
		})
	}
}

// hand-built DG13 fields in the layout of real cards: PrintableString
// values, fields out of order, field 13 nested, an unknown field 17, field 3
// in ddMMyyyy form, field 16 without a value. handDG13 wraps them.
const handFields = "" +
	"3011" + "020101" + "130c" + "303031303930313233343536" +
	"300e" + "020102" + "1309" + "4e475559454e20414e" +
	"300d" + "020103" + "1308" + "3135303331393930" +
	"3008" + "020104" + "0c03" + "4e616d" +
	"3022" + "02010d" + "301d" + "0c0e" + "4e677579e1bb856e2042c3ac6e68" + "0c0b" + "5472e1baa76e2043c3ba63" +
	"3010" + "02010f" + "130b" + "3031323334353637382020" +
	"3009" + "020111" + "0c04" + "78797a21" +
	"3003" + "020110" +
	"300f" + "02010c" + "0c0a" + "31352f30332f32303330"

// handDG13 wraps handFields: 6D { SEQUENCE { INTEGER 1, OID 1.0.10646.1.0.8, SET { fields } } }.
func handDG13() []byte {
	fields, err := hex.DecodeString(handFields)
	if err != nil {
		panic(err)
	}
	head, _ := hex.DecodeString("020101" + "0606" + "28d316010008")
	set := append([]byte{0x31, 0x81, byte(len(fields))}, fields...)
	body := append(head, set...)
	seq := append([]byte{0x30, 0x81, byte(len(body))}, body...)
	return append([]byte{0x6d, 0x81, byte(len(seq))}, seq...)
}

func TestDecodeDG13HandBuilt(t *testing.T) {
	d, err := DecodeDG13(handDG13())
	if err != nil {
		t.Fatal(err)
	}
	if d.Version != 1 || d.OID != DG13OID {
		t.Errorf("version %d oid %s", d.Version, d.OID)
	}
	if d.CitizenID != "001090123456" || d.Name != "NGUYEN AN" || d.Sex != patient.Male {
		t.Errorf("id/name/sex: %+v", typed(d))
	}
	if d.BirthDate != (patient.Date{Year: 1990, Month: 3, Day: 15}) {
		t.Errorf("birth date %v", d.BirthDate)
	}
	if d.Father != "Nguyễn Bình" || d.Mother != "Trần Cúc" {
		t.Errorf("parents %q %q", d.Father, d.Mother)
	}
	if d.Field15 != "012345678  " || d.OldID() != "" {
		// trailing spaces: not a clean 9-digit ID, so OldID declines
		t.Errorf("field 15 %q, OldID %q", d.Field15, d.OldID())
	}
	if !d.Has(16) || d.Field16 != "" {
		t.Errorf("field 16 present without value: has=%v value=%q", d.Has(16), d.Field16)
	}
	if d.Text(17) != "xyz!" {
		t.Errorf("unknown field 17 not kept: %q", d.Text(17))
	}
	if d.Has(14) || d.Spouse != "" {
		t.Error("absent field 14 reported")
	}
	if !d.ExpiryDate.Full() || d.ExpiryDate.Year != 2030 {
		t.Errorf("expiry %v", d.ExpiryDate)
	}
}

func TestDecodeDG13Errors(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"wrong tag", "6103300100"},
		{"truncated", "6d05300302"},
		{"not a sequence inside", "6d03020101"},
		{"no set", "6d0530030201 01"},
		{"trailing garbage", "6d023000ff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := hex.DecodeString(stripSpaces(tt.in))
			if _, err := DecodeDG13(b); !errors.Is(err, ErrMalformedDG13) {
				t.Errorf("err = %v, want ErrMalformedDG13", err)
			}
		})
	}
}

func stripSpaces(s string) string {
	return string(bytes.ReplaceAll([]byte(s), []byte(" "), nil))
}

func TestDG13Identity(t *testing.T) {
	id := sampleDG13().Identity()
	if id.Medium != patient.MediumChip || id.OldID != "012345678" || id.Address == "" || id.Chip == nil ||
		id.Chip.Ethnicity != "Kinh" || id.Chip.ExpiryDate.Year != 2030 {
		t.Errorf("identity %+v", id)
	}
}

func FuzzDecodeDG13(f *testing.F) {
	full, _ := MarshalDG13(sampleDG13())
	f.Add(full)
	f.Add(handDG13())
	if golden, err := os.ReadFile(goldenDG13); err == nil {
		f.Add(golden)
	}
	f.Add([]byte{0x6d, 0x00})
	f.Add([]byte{0x6d, 0x03, 0x30, 0x01, 0x31})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := DecodeDG13(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedDG13) {
				t.Fatalf("error not wrapping ErrMalformedDG13: %v", err)
			}
			return
		}
		// whatever decodes must encode, and decode again to the same typed fields
		enc, err := MarshalDG13(d)
		if err != nil {
			if d.OID != "" {
				return // exotic OIDs (arcs > 9 digits) are not re-encoded
			}
			t.Fatalf("re-encoding: %v", err)
		}
		d2, err := DecodeDG13(enc)
		if err != nil {
			t.Fatalf("decoding our own encoding: %v", err)
		}
		if d2.CitizenID != d.CitizenID || d2.BirthDate != d.BirthDate || d2.Sex != d.Sex {
			t.Fatalf("unstable: %+v vs %+v", typed(d), typed(d2))
		}
	})
}
