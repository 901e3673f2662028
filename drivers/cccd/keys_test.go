package cccd

import (
	"errors"
	"testing"

	"github.com/tiepdon/tiepdon/agent/patient"
)

func TestKeysFromID(t *testing.T) {
	tests := []struct {
		id       patient.CitizenID
		can, doc string
		err      error
	}{
		// the MRZ sample in docs/sources.md §5: ID 001093047064, document number 093047064
		{"001093047064", "047064", "093047064", nil},
		{"079203000001", "000001", "203000001", nil},
		// not 12 digits
		{"00109304706", "", "", ErrInvalidID},
		{"00109304706X", "", "", ErrInvalidID},
		{"", "", "", ErrInvalidID},
	}
	for _, tt := range tests {
		k, err := KeysFromID(tt.id)
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: err %v, want %v", tt.id.Masked(), err, tt.err)
			continue
		}
		if k.CAN != tt.can || k.DocumentNumber != tt.doc {
			t.Errorf("%s: got CAN %q doc %q, want %q %q", tt.id.Masked(), k.CAN, k.DocumentNumber, tt.can, tt.doc)
		}
		if err == nil && !ValidCAN(k.CAN) {
			t.Errorf("CAN %q not valid", k.CAN)
		}
	}
}

func TestExpiryFor(t *testing.T) {
	d := func(y, m, dd int) patient.Date { return patient.Date{Year: y, Month: m, Day: dd} }
	tests := []struct {
		name         string
		birth, issue patient.Date
		want         patient.Date
		ok           bool
	}{
		// the MRZ sample: born 1993-01-05, expiry 2033-01-05 (40th birthday), issued after 25
		{"sample", d(1993, 1, 5), d(2021, 4, 1), d(2033, 1, 5), true},
		// issued at 20: valid to 25
		{"young", d(2000, 6, 1), d(2020, 6, 1), d(2025, 6, 1), true},
		// issued 1 year before 25: valid to 40
		{"close to 25", d(2000, 6, 1), d(2024, 6, 2), d(2040, 6, 1), true},
		// issued at 59: no expiry
		{"old", d(1960, 1, 1), d(2019, 6, 1), patient.Date{}, false},
		// partial birth date: cannot say
		{"partial", patient.Date{Year: 1990}, d(2021, 1, 1), patient.Date{}, false},
		// born on 29 February, milestone in a common year
		{"leap", d(1996, 2, 29), d(2015, 1, 1), d(2021, 2, 28), true},
	}
	for _, tt := range tests {
		got, ok := ExpiryFor(tt.birth, tt.issue)
		if ok != tt.ok || got != tt.want {
			t.Errorf("%s: got %v %v, want %v %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestKeysFromIdentity(t *testing.T) {
	id := patient.Identity{CitizenID: "001093047064", BirthDate: patient.Date{Year: 1993, Month: 1, Day: 5},
		IssueDate: patient.Date{Year: 2021, Month: 4, Day: 1}}
	k, err := KeysFromIdentity(id)
	if err != nil {
		t.Fatal(err)
	}
	if k.ExpiryDate != (patient.Date{Year: 2033, Month: 1, Day: 5}) || k.BirthDate != id.BirthDate {
		t.Errorf("keys %+v", k)
	}
	if s := k.String(); s == "" || containsDigits(s, "047064") {
		t.Errorf("String leaks the CAN: %s", s)
	}
}

func containsDigits(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
