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
	WriteText(&b, e)
	for _, want := range []string{"ELIGIBLE (code 004)", "Lý do:", "Lê Văn Tí", "01/01/2026 – 31/12/2026", "level 4, 80 %", "SV4790123456789 valid 01/09/2026 – 31/08/2027",
		"  Việc cần làm:          " + Policy["004"].NextVI, "  Next step:             " + Policy["004"].NextEN} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
}
