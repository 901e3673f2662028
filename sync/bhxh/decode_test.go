package bhxh

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent/patient"
)

// Gateway bodies: real shapes from docs/sources.md §1.6 and the quirks
// seen in public clients.
var checkBodies = []struct {
	name string
	body string
	code string
	want func(patient.Eligibility) bool
	err  bool
}{
	// Real and real-shaped answers.
	{"2017 sample (090)", `{"maKetQua":"090","hoTen":"Nguyễn Hồng Hải","gioiTinh":"Nam","diaChi":"11 trệt nguyễn duy dương,p8,q5","maDKBD":"79014","cqBHXH":"Bảo hiểm Xã hội quận 5","gtTheTu":"01/01/2017","gtTheDen":"31/12/2021","maKV":"","ngayDu5Nam":"01/12/2015","dsLichSuKCB":[{"maHoSo":535595540,"maCSKCB":"79014"}]}`, "090",
		func(e patient.Eligibility) bool {
			return e.Verdict == patient.InputMismatch && e.Sex == patient.Male && e.ValidTo == (patient.Date{Year: 2021, Month: 12, Day: 31}) && e.FiveYearDate.Year == 2015
		}, false},
	{"eligible", `{"maKetQua":"000","ghiChu":"Thẻ còn giá trị sử dụng","maThe":"dn4790123456789","hoTen":"Lê Thị Hoa","ngaySinh":"02/03/1990","gioiTinh":"Nữ","maDKBD":"79014","gtTheTu":"01/01/2026","gtTheDen":"31/12/2026","maSoBHXH":"7901234567"}`, "000",
		func(e patient.Eligibility) bool {
			return e.Verdict == patient.Eligible && e.CardNumber == "DN4790123456789" && e.BenefitPercent == 80 && e.Sex == patient.Female && e.SocialInsuranceNumber == "7901234567"
		}, false},
	{"new card", `{"maKetQua":"004","maThe":"HS4790123456789","maTheMoi":"SV4790123456789","gtTheTuMoi":"01/09/2026","gtTheDenMoi":"31/08/2027","maDKBDMoi":"79001"}`, "004",
		func(e patient.Eligibility) bool {
			return e.NewCard != nil && e.NewCard.CardNumber == "SV4790123456789" && e.NewCard.ValidFrom.Month == 9 && e.NewCard.RegisteredFacility == "79001"
		}, false},
	// Quirks.
	{"numeric code", `{"maKetQua":0,"maThe":"HT3010123456789"}`, "000", func(e patient.Eligibility) bool { return e.BenefitPercent == 95 }, false},
	{"year-only birth date", `{"maKetQua":"000","ngaySinh":"1942"}`, "000", func(e patient.Eligibility) bool { return e.BirthDate == patient.Date{Year: 1942} }, false},
	{"date with time", `{"maKetQua":"000","gtTheDen":"31/12/2026 00:00:00"}`, "000", func(e patient.Eligibility) bool { return e.ValidTo.Day == 31 }, false},
	{"decomposed Nữ", `{"maKetQua":"000","gioiTinh":"Nu\u031b\u0303"}`, "000", func(e patient.Eligibility) bool { return e.Sex == patient.Female }, false},
	{"BOM", "\xef\xbb\xbf{\"maKetQua\":\"010\"}", "010", func(e patient.Eligibility) bool { return e.Verdict == patient.NotEligible }, false},
	{"double-encoded", `"{\"maKetQua\":\"060\"}"`, "060", func(e patient.Eligibility) bool { return e.Field == "name" }, false},
	{"nulls", `{"maKetQua":"000","ghiChu":null,"maThe":null,"dsLichSuKCB2018":null}`, "000", func(e patient.Eligibility) bool { return e.CardNumber == "" }, false},
	{"object where a string belongs", `{"maKetQua":"000","hoTen":{"x":1}}`, "000", func(e patient.Eligibility) bool { return e.Holder == "" }, false},
	{"bad dates are absent", `{"maKetQua":"000","gtTheDen":"31/02/2026","ngaySinh":"abc"}`, "000", func(e patient.Eligibility) bool { return e.ValidTo.IsZero() && e.BirthDate.IsZero() }, false},
	{"unknown code", `{"maKetQua":"777"}`, "777", func(e patient.Eligibility) bool {
		return e.Verdict == patient.CheckDocuments && strings.Contains(e.ReasonEN, "777")
	}, false},
	// Not answers.
	{"html", `<html>Runtime Error</html>`, "", nil, true},
	{"truncated", `{"maKetQua":"000","hoTen":"Lê`, "", nil, true},
	{"no code", `{"hoTen":"x"}`, "", nil, true},
	{"empty", ``, "", nil, true},
	{"array", `[{"maKetQua":"000"}]`, "", nil, true},
}

func TestDecodeCheck(t *testing.T) {
	for _, tc := range checkBodies {
		e, err := DecodeCheck([]byte(tc.body))
		if tc.err {
			if !errors.Is(err, ErrBadResponse) {
				t.Errorf("%s: err = %v, want ErrBadResponse", tc.name, err)
			}
			continue
		}
		if err != nil || e.Code != tc.code || !tc.want(e) {
			t.Errorf("%s: %+v %v", tc.name, e, err)
		}
	}
}

func TestDecodeErrorsQuoteNoBody(t *testing.T) {
	_, err := DecodeCheck([]byte(`{"maKetQua":"000","hoTen":"Nguyễn Văn Bí Mật" "x"}`))
	if err == nil || strings.Contains(err.Error(), "Bí Mật") {
		t.Fatalf("err = %v", err)
	}
}

func TestDecodeVisits(t *testing.T) {
	// The real (trimmed) Lskcb2025 body quoted by tracnn/qlbv_public.
	body := `{"maKetQua":"000","ghiChu":null,"dsLichSuKCB2025":[{"maHoSo":"01929202500001","maCSKCB":"01929","ngayVao":"202503101030","ngayRa":"202503101430","tenBenh":"Viêm dạ dày","tinhTrang":"4","kqDieuTri":"1","lyDoVV":"1"}]}`
	code, v, err := DecodeVisits([]byte(body))
	if err != nil || code != "000" || len(v) != 1 {
		t.Fatalf("%s %v %v", code, v, err)
	}
	want := time.Date(2025, 3, 10, 10, 30, 0, 0, vnZone)
	if x := v[0]; !x.Admitted.Equal(want) || x.Discharged.Sub(x.Admitted) != 4*time.Hour || x.Status != "Xin ra viện" || x.Outcome != "Khỏi" || x.Reason != "Đúng tuyến" || x.RecordID != "01929202500001" {
		t.Fatalf("%+v", x)
	}
	for _, b := range []string{`{"maKetQua":"000","dsLichSuKCB2025":null}`, `{"maKetQua":"000","dsLichSuKCB2025":[]}`} {
		if code, v, err := DecodeVisits([]byte(b)); err != nil || code != "000" || len(v) != 0 {
			t.Errorf("%s: %s %v %v", b, code, v, err)
		}
	}
	if _, _, err := DecodeVisits([]byte(`{"maKetQua":5,"dsLichSuKCB2025":[{"maHoSo":123456}]}`)); err != nil {
		t.Errorf("numeric fields: %v", err)
	}
}

func TestExpiry(t *testing.T) {
	now := time.Date(2017, 11, 13, 3, 41, 20, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2017-11-13T03:51:20.1047187Z", time.Date(2017, 11, 13, 3, 51, 20, 104718700, time.UTC), true}, // real sample: 7 fractional digits
		{"2017-11-13T03:51:20", time.Date(2017, 11, 13, 3, 51, 20, 0, time.UTC), true},
		{"2017-11-13T10:51:20+07:00", time.Date(2017, 11, 13, 3, 51, 20, 0, time.UTC), true},
		{"3600", now.Add(time.Hour), true},
		{"599.5", now.Add(599500 * time.Millisecond), true},
		{"", time.Time{}, false},
		{"-5", time.Time{}, false},
		{"soon", time.Time{}, false},
	} {
		got, ok := expiry(tc.in, now)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("expiry(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzDecodeCheck(f *testing.F) {
	for _, tc := range checkBodies {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := DecodeCheck(b)
		if err != nil {
			if !errors.Is(err, ErrBadResponse) {
				t.Fatalf("error %v does not wrap ErrBadResponse", err)
			}
			return
		}
		if e.Code == "" || e.Verdict == "" || e.ReasonVI == "" || e.ReasonEN == "" {
			t.Fatalf("decoded answer without code or verdict: %+v", e)
		}
		if RuleFor(e.Code).Verdict != e.Verdict {
			t.Fatalf("verdict %s for code %s", e.Verdict, e.Code)
		}
		if _, err := json.Marshal(e); err != nil {
			t.Fatalf("answer cannot be sent to the HIS: %v", err)
		}
	})
}

func FuzzDecodeVisits(f *testing.F) {
	f.Add([]byte(`{"maKetQua":"000","ghiChu":null,"dsLichSuKCB2025":[{"maHoSo":"01929202500001","maCSKCB":"01929","ngayVao":"202503101030","ngayRa":"202503101430","tenBenh":"Viêm dạ dày","tinhTrang":"4","kqDieuTri":"1","lyDoVV":"1"}]}`))
	f.Add([]byte(`{"maKetQua":"000","dsLichSuKCB2025":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		code, v, err := DecodeVisits(b)
		if err != nil {
			if !errors.Is(err, ErrBadResponse) {
				t.Fatal(err)
			}
			return
		}
		if code == "" {
			t.Fatal("no code")
		}
		for _, x := range v {
			if !x.Admitted.IsZero() && x.Admitted.Location() != vnZone {
				t.Fatal("visit time outside Vietnam's zone")
			}
		}
	})
}

func FuzzLogin(f *testing.F) {
	f.Add([]byte(`{"maKetQua":"200","APIKey":{"access_token":"a","id_token":"b","token_type":"Bearer","username":"79014_BV","expires_in":"2017-11-13T03:51:20.1047187Z"}}`))
	f.Add([]byte(`{"maKetQua":"200","APIKey":{"access_token":"a","expires_in":3600}}`))
	f.Add([]byte(`{"maKetQua":"402"}`))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		var r loginResponse
		if err := decode(b, &r); err != nil {
			return
		}
		if r.APIKey != nil {
			if exp, ok := expiry(string(r.APIKey.ExpiresIn), now); ok && exp.IsZero() {
				t.Fatal("ok with zero expiry")
			}
		}
	})
}
