package ui

import (
	"errors"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent/patient"
)

var today = time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)

func TestCheckNumber(t *testing.T) {
	for _, tc := range []struct {
		in       string
		kind     NumberKind
		complete bool
		errKey   string
	}{
		// Card numbers, whole and as they are typed.
		{"DN4010123456789", NumberCard, true, ""},
		{"dn4 01 0123456789", NumberCard, true, ""},
		{"DN401AA31900313", NumberCard, true, ""}, // letters in the tail seen on real cards
		{"DN4", NumberCard, false, ""},
		{"D", NumberCard, false, ""},
		{"D1", NumberCard, false, "err.card.object"},
		{"DN6", NumberCard, false, "err.card.benefit"},
		{"DN0", NumberCard, false, "err.card.benefit"},
		{"DN4A", NumberCard, false, "err.card.province"},
		{"DN400", NumberCard, false, "err.card.province"},
		{"DN40101234567#9", NumberCard, false, "err.card.tail"},
		{"DN40101234567890", NumberCard, false, "err.card.long"},
		// Digits: social-insurance number, citizen ID.
		{"0111077012", NumberSocialIns, true, ""},
		{"001090123456", NumberCitizenID, true, ""},
		{"00109012345", NumberCitizenID, false, ""},
		{"0010", NumberUnknown, false, ""},
		{"0010901234567", NumberUnknown, false, "err.number.long"},
		{"00109x", NumberUnknown, false, "err.number.digits"},
		// Nothing typed.
		{"", NumberUnknown, false, ""},
		{"  ", NumberUnknown, false, ""},
	} {
		c := CheckNumber(tc.in)
		key := ""
		if c.Err != nil {
			key = c.Err.Key
		}
		if key != tc.errKey || (tc.errKey == "" && (c.Kind != tc.kind || c.Complete != tc.complete)) {
			t.Errorf("CheckNumber(%q) = kind %d complete %v err %q; want %d %v %q", tc.in, c.Kind, c.Complete, key, tc.kind, tc.complete, tc.errKey)
		}
	}
	if c := CheckNumber("DN4010123456789"); c.Benefit != 4 || c.Province != "01" {
		t.Errorf("decoded %+v", c)
	}
}

func TestParseManual(t *testing.T) {
	id, err := ParseManual(" dn4010123456789 ", "nguyễn  văn an", "02/01/1990", today)
	if err != nil {
		t.Fatal(err)
	}
	if id.CardNumber != "DN4010123456789" || id.Name != "nguyễn văn an" || id.BirthDate != (patient.Date{Year: 1990, Month: 1, Day: 2}) ||
		id.Medium != patient.MediumTyped || id.Authenticity.Level != patient.Unverified {
		t.Errorf("identity %+v", id)
	}
	// Decomposed input (NFD, as some keyboards send it) is stored as NFC.
	id, err = ParseManual("001090123456", "Nguye\u0302\u0303n Va\u0306n An", "1990", today)
	if err != nil || id.Name != "Nguyễn Văn An" || id.CitizenID != "001090123456" || id.BirthDate != (patient.Date{Year: 1990}) {
		t.Errorf("NFD name: %+v %v", id, err)
	}
	if id, err := ParseManual("0111077012", "Lê Thị Hoa", "07/1961", today); err != nil || id.SocialInsuranceNumber != "0111077012" {
		t.Errorf("social insurance: %+v %v", id, err)
	}
	for _, tc := range []struct {
		num, name, dob string
		field, key     string
	}{
		{"", "An", "1990", "number", "err.number.empty"},
		{"DN40101234", "An", "1990", "number", "err.number.short"},
		{"DN6010123456789", "An", "1990", "number", "err.card.benefit"},
		{"DN4010123456789", "", "1990", "name", "err.name.empty"},
		{"DN4010123456789", "An 2", "1990", "name", "err.name.chars"},
		{"DN4010123456789", "An", "", "dob", "err.dob.empty"},
		{"DN4010123456789", "An", "31/02/1990", "dob", "err.dob.invalid"},
		{"DN4010123456789", "An", "01/01/2030", "dob", "err.dob.future"},
		{"DN4010123456789", "An", "1990-01-02", "dob", "err.dob.format"},
		{"DN4010123456789", "An", "1850", "dob", "err.dob.invalid"},
	} {
		_, err := ParseManual(tc.num, tc.name, tc.dob, today)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || fe.Key != tc.key {
			t.Errorf("ParseManual(%q, %q, %q) = %v; want %s/%s", tc.num, tc.name, tc.dob, err, tc.field, tc.key)
		}
	}
}

func TestCheckDOBWhileTyping(t *testing.T) {
	for _, tc := range []struct {
		in      string
		partial bool
		ok      bool
	}{
		{"0", true, false}, {"02/0", true, false}, {"02/01/19", true, false},
		{"02/01/1990", false, true}, {"1990", false, true}, {"13/1990", true, false},
		{"02/13/1990", false, false}, {"02.01.1990", false, false},
	} {
		_, partial, err := CheckDOB(tc.in, today)
		if partial != tc.partial || (err == nil) != tc.ok {
			t.Errorf("CheckDOB(%q) partial=%v err=%v; want partial=%v ok=%v", tc.in, partial, err, tc.partial, tc.ok)
		}
	}
}

func TestCheckCANAndStaff(t *testing.T) {
	if c, err := CheckCAN(" 123456 "); err != nil || c != "123456" {
		t.Errorf("CAN %q %v", c, err)
	}
	for _, bad := range []string{"12345", "1234567", "12a456", ""} {
		if _, err := CheckCAN(bad); err == nil {
			t.Errorf("CAN %q accepted", bad)
		}
	}
	if _, err := CheckStaff("Lê Hoa", "0011900123"); err == nil || err.Field != "staffId" {
		t.Errorf("short staff ID: %v", err)
	}
	if _, err := CheckStaff("", "001190012345"); err == nil || err.Field != "staffName" {
		t.Errorf("empty staff name: %v", err)
	}
}

func TestValidateSettings(t *testing.T) {
	good := Settings{GatewayURL: "https://egw.baohiemxahoi.gov.vn", GatewayUser: "01043_BV", RetentionDays: 30,
		HISOrigins: []string{"https://his.example.vn", "http://127.0.0.1:8080"}, Language: "vi"}
	if err := ValidateSettings(good); err != nil {
		t.Fatalf("good settings refused: %v", err)
	}
	sim := good
	sim.GatewayURL = "http://127.0.0.1:18080"
	if err := ValidateSettings(sim); err != nil {
		t.Errorf("loopback simulator refused: %v", err)
	}
	for _, tc := range []struct {
		name  string
		edit  func(*Settings)
		field string
	}{
		{"plain http", func(s *Settings) { s.GatewayURL = "http://egw.baohiemxahoi.gov.vn" }, "gatewayUrl"},
		{"not a url", func(s *Settings) { s.GatewayURL = "egw" }, "gatewayUrl"},
		{"no user", func(s *Settings) { s.GatewayUser = " " }, "gatewayUser"},
		{"origin with path", func(s *Settings) { s.HISOrigins = []string{"https://his.example.vn/app"} }, "hisOrigins"},
		{"origin wildcard", func(s *Settings) { s.HISOrigins = []string{"*"} }, "hisOrigins"},
		{"retention 0", func(s *Settings) { s.RetentionDays = 0 }, "retentionDays"},
		{"retention huge", func(s *Settings) { s.RetentionDays = 5000 }, "retentionDays"},
		{"language", func(s *Settings) { s.Language = "fr" }, "language"},
	} {
		s := good
		s.HISOrigins = append([]string(nil), good.HISOrigins...)
		tc.edit(&s)
		var fe *FieldError
		if err := ValidateSettings(s); !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%s: %v, want a %s error", tc.name, err, tc.field)
		}
	}
}

func FuzzCheckNumber(f *testing.F) {
	for _, s := range []string{"DN4010123456789", "dn4 01", "001090123456", "0111077012", "DN6", "x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := CheckNumber(s)
		if c.Complete && c.Err != nil {
			t.Fatalf("%q complete with error %v", s, c.Err)
		}
		if c.Complete {
			id, err := ParseManual(s, "An", "1990", today)
			if err != nil || patient.QueryOf(id).Empty() {
				t.Fatalf("complete number %q not accepted: %v", s, err)
			}
		}
	})
}
