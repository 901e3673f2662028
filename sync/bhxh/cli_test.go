package bhxh

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tiepdon/tiepdon/agent"
	"github.com/tiepdon/tiepdon/agent/patient"
)

func TestExitStatus(t *testing.T) {
	for _, tc := range []struct {
		e    patient.Eligibility
		err  error
		want int
	}{
		{patient.Eligibility{Verdict: patient.Eligible}, nil, ExitEligible},
		{patient.Eligibility{Verdict: patient.NotEligible}, nil, ExitNotEligible},
		{patient.Eligibility{Verdict: patient.StaffProblem}, nil, ExitNotEligible},
		{patient.Eligibility{}, fmt.Errorf("x: %w", agent.ErrUnavailable), ExitUnavailable},
		{patient.Eligibility{}, &CodeError{Step: "check", Code: "500"}, ExitUnavailable},
		{patient.Eligibility{}, ErrNoIdentifier, ExitUsage},
		{patient.Eligibility{}, errors.New("other"), ExitUsage},
	} {
		if got := ExitStatus(tc.e, tc.err); got != tc.want {
			t.Errorf("ExitStatus(%s, %v) = %d, want %d", tc.e.Verdict, tc.err, got, tc.want)
		}
	}
}

func TestWriteText(t *testing.T) {
	var b strings.Builder
	e, _ := DecodeCheck([]byte(`{"maKetQua":"004","maThe":"HS4790123456789","hoTen":"Lê Văn Tí","gtTheTu":"01/01/2026","gtTheDen":"31/12/2026","maTheMoi":"SV4790123456789","gtTheTuMoi":"01/09/2026","gtTheDenMoi":"31/08/2027"}`))
	WriteText(&b, e, "")
	for _, want := range []string{"ELIGIBLE (code 004)", "Lý do:", "Lê Văn Tí", "01/01/2026 – 31/12/2026", "level 4, 80 %", "SV4790123456789 valid 01/09/2026 – 31/08/2027",
		"  Việc cần làm:          " + Policy["004"].NextVI, "  Next step:             " + Policy["004"].NextEN} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
}

// TestWriteTextFacility: with the desk's facility code, the output says
// whether it is the patient's registered facility.
func TestWriteTextFacility(t *testing.T) {
	e, _ := DecodeCheck([]byte(`{"maKetQua":"000","maThe":"HS4790123456789","maDKBD":"79014","tenDKBD":"Bệnh viện Quận 5"}`))
	for _, tc := range []struct{ facility, want, not string }{
		{"79014", "  Cơ sở này:             Đúng tuyến: đăng ký KCB ban đầu tại cơ sở này", "không phải"},
		{"01043", "  Cơ sở này:             Nơi đăng ký KCB ban đầu: Bệnh viện Quận 5 (79014), không phải cơ sở này", "Đúng tuyến"},
		{"", "  Registered facility:   79014 Bệnh viện Quận 5", "Cơ sở này"},
	} {
		var b strings.Builder
		WriteText(&b, e, tc.facility)
		if !strings.Contains(b.String(), tc.want) || strings.Contains(b.String(), tc.not) {
			t.Errorf("facility %q: output lacks %q or has %q:\n%s", tc.facility, tc.want, tc.not, b.String())
		}
	}
}
