package bhxh

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tiepdon/tiepdon/agent"
	"github.com/tiepdon/tiepdon/agent/patient"
)

// Exit statuses of `tiepdon check`, so scripts can tell the outcomes apart.
const (
	ExitEligible    = 0 // verdict eligible
	ExitNotEligible = 1 // any other verdict the gateway gave (not eligible, check documents, mismatch, staff problem)
	ExitUsage       = 2 // bad flags or configuration
	ExitUnavailable = 3 // the gateway gave no answer
)

// ExitStatus maps the outcome of a Check to an exit status.
func ExitStatus(e patient.Eligibility, err error) int {
	switch {
	case errors.Is(err, agent.ErrUnavailable):
		return ExitUnavailable
	case err != nil:
		return ExitUsage
	case e.Verdict == patient.Eligible:
		return ExitEligible
	}
	return ExitNotEligible
}

// WriteText prints an answer for a person at a terminal: verdict, reason in
// Vietnamese and English, then the card details. It is meant for the staff
// member or IT person who ran the check, so it shows the data in full.
// facility is this desk's facility code: the output says whether it is the
// patient's registered one ("" leaves that out).
func WriteText(w io.Writer, e patient.Eligibility, facility string) {
	line := func(label, value string) {
		if strings.TrimSpace(value) != "" {
			// Pad by letters, not bytes, so Vietnamese labels line up.
			pad := max(0, 22-utf8.RuneCountInString(label))
			fmt.Fprintf(w, "  %s%s %s\n", label, strings.Repeat(" ", pad), value)
		}
	}
	code := e.Code
	if nc := e.NewCard; nc != nil && nc.FirstCode != "" && nc.FirstCode != e.Code {
		code += ", first card " + nc.FirstCode
	}
	fmt.Fprintf(w, "%s (code %s)\n", strings.ToUpper(string(e.Verdict)), code)
	line("Lý do:", e.ReasonVI)
	line("Reason:", e.ReasonEN)
	line("Việc cần làm:", e.NextVI)
	line("Next step:", e.NextEN)
	line("Field to correct:", e.Field)
	line("Card number:", string(e.CardNumber))
	line("Answered by:", e.AnsweredBy)
	line("Holder:", string(e.Holder))
	line("Date of birth:", e.BirthDate.String())
	line("Sex:", e.Sex.Vietnamese())
	if !e.ValidTo.IsZero() {
		line("Valid:", e.ValidFrom.String()+" – "+e.ValidTo.String())
	}
	line("Registered facility:", strings.TrimSpace(e.RegisteredFacility+" "+e.FacilityName))
	vi, en := Registered(e, facility)
	line("Cơ sở này:", vi)
	line("This facility:", en)
	line("Issuing office:", e.IssuingOffice)
	line("Area code:", e.AreaCode)
	line("5 years since:", e.FiveYearDate.String())
	line("Social-insurance no.:", e.SocialInsuranceNumber)
	if e.BenefitLevel > 0 {
		line("Benefit:", fmt.Sprintf("level %d, %d %%", e.BenefitLevel, e.BenefitPercent))
	}
	if nc := e.NewCard; nc != nil {
		line("New card:", fmt.Sprintf("%s valid %s – %s", nc.CardNumber, nc.ValidFrom, nc.ValidTo))
	}
	line("Note:", e.Note)
	for _, v := range e.Visits {
		line("Visit:", fmt.Sprintf("%s %s %s %s", v.Admitted.Format("02/01/2006"), v.Facility, v.Diagnosis, v.Status))
	}
	src := string(e.Source)
	if e.Latency > 0 {
		src += fmt.Sprintf(", %s", e.Latency.Round(time.Millisecond))
	}
	line("Source:", src)
}
