package patient

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestRedaction(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	id := CitizenID("001090123456")
	log.Info("check", "id", id, "name", Name("Nguyễn Văn An"), "card", CardNumber("DN4010123456789"), "dob", Date{1990, 1, 2})
	out := buf.String()
	for _, secret := range []string{"001090123456", "Nguyễn", "0123456", "02/01/1990"} {
		if strings.Contains(out, secret) {
			t.Errorf("log line leaks %q: %s", secret, out)
		}
	}
	for _, want := range []string{"0010******56", "N.V.A.", "DN4**********89", "dob=1990"} {
		if !strings.Contains(out, want) {
			t.Errorf("log line lacks %q: %s", want, out)
		}
	}
}

func TestCitizenIDKeys(t *testing.T) {
	id := CitizenID("001090123456")
	if id.CAN() != "123456" || id.DocumentNumber() != "090123456" {
		t.Errorf("CAN %q doc %q", id.CAN(), id.DocumentNumber())
	}
	for _, bad := range []CitizenID{"", "00109012345", "0010901234567", "00109012345a"} {
		if bad.Valid() || bad.CAN() != "" {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseDate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Date
		ok   bool
	}{
		// Forms seen in the field.
		{"01/02/1990", Date{1990, 2, 1}, true},
		{"01021990", Date{1990, 2, 1}, true},
		{"021990", Date{1990, 2, 0}, true},
		{"02/1990", Date{1990, 2, 0}, true},
		{"1990", Date{1990, 0, 0}, true},
		{" 01/10/2027", Date{2027, 10, 1}, true},
		// Not dates.
		{"31/02/1990", Date{}, false},
		{"1990-02-01", Date{}, false},
		{"abc", Date{}, false},
		{"", Date{}, false},
		{"00/00/0000", Date{}, false},
		{"13/13/2020", Date{}, false},
	} {
		got, err := ParseDate(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDate(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if tc.ok {
			back, err := ParseDate(got.String())
			if err != nil || back != got {
				t.Errorf("round trip of %v: %v %v", got, back, err)
			}
		}
	}
}

func TestCandidatesOrder(t *testing.T) {
	q := Query{CitizenID: "001090123456", SocialInsuranceNumber: "0111077012", CardNumber: "DN4010123456789"}
	got := strings.Join(q.Candidates(), ",")
	if got != "DN4010123456789,0111077012,001090123456" {
		t.Errorf("candidates %s", got)
	}
	if !(Query{}).Empty() {
		t.Error("empty query not Empty")
	}
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"01/02/1990", "1990", "021990", "31/02/1990", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			return
		}
		back, err := ParseDate(d.String())
		if err != nil || back != d {
			t.Fatalf("%q parsed to %v but %q does not round-trip: %v", s, d, d.String(), err)
		}
	})
}
