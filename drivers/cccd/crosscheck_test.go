package cccd

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tiepdon/tiepdon/agent/patient"
)

func TestCrossCheck(t *testing.T) {
	chip := sampleDG13().Identity()
	fields := func(ms []Mismatch) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Field)
		}
		return out
	}
	tests := []struct {
		name string
		qr   func(q *patient.Identity)
		want []string
	}{
		// the same card read both ways
		{"agree", func(q *patient.Identity) {}, nil},
		// QR scanners and older QR codes lose diacritics and case
		{"no diacritics", func(q *patient.Identity) { q.Name = "NGUYEN THI ANH HONG" }, nil},
		{"extra spaces and commas", func(q *patient.Identity) {
			q.Address = " Số 12 Phố Huế,  Phường Hàng Bài, Quận Hoàn Kiếm , Hà Nội"
		}, nil},
		// a QR with a partial birth date agrees on what it has
		{"year only", func(q *patient.Identity) { q.BirthDate = patient.Date{Year: 1990} }, nil},
		// missing on one side is not a mismatch
		{"no old id on QR", func(q *patient.Identity) { q.OldID = "" }, nil},
		// real disagreements
		{"other person", func(q *patient.Identity) { q.CitizenID = "001090123457"; q.Name = "Nguyễn Thị Ánh Hằng" },
			[]string{"citizenId", "name"}},
		{"diacritic differs", func(q *patient.Identity) { q.Name = "Nguyễn Thị Ảnh Hồng" }, []string{"name"}},
		{"birth day", func(q *patient.Identity) { q.BirthDate.Day = 16 }, []string{"birthDate"}},
		{"sex and address", func(q *patient.Identity) { q.Sex = patient.Male; q.Address = "Hải Phòng" },
			[]string{"sex", "address"}},
		{"issue and old id", func(q *patient.Identity) { q.IssueDate.Year = 2016; q.OldID = "111111111" },
			[]string{"issueDate", "oldId"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			qr := chip
			qr.Medium, qr.Chip = patient.MediumQRCCCD, nil
			tt.qr(&qr)
			got := fields(CrossCheck(qr, chip))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("mismatches %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDisagreement(t *testing.T) {
	if _, ok := Disagreement(nil); ok {
		t.Error("alert without mismatches")
	}
	msg, ok := Disagreement([]Mismatch{{Field: "name", Detail: "differs"}, {Field: "birthDate"}})
	if !ok || !strings.Contains(msg, "name, birthDate") || strings.Contains(msg, "differs") {
		t.Errorf("message %q", msg)
	}
}
