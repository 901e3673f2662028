package patient

import "time"

// Verdict is what reception staff act on.
type Verdict string

// Verdicts, from the policy table in docs/eligibility-policy.md.
const (
	Eligible       Verdict = "eligible"        // green: admit under BHYT
	CheckDocuments Verdict = "check-documents" // amber: gateway has no data (army, police, child); check the physical card
	NotEligible    Verdict = "not-eligible"    // red: card expired, withdrawn, reported reduced
	InputMismatch  Verdict = "input-mismatch"  // a field sent does not match the gateway's record
	StaffProblem   Verdict = "staff-problem"   // the shift's staff name/CCCD are not registered with the gateway
	Unavailable    Verdict = "unavailable"     // grey: no answer from the gateway and nothing cached
)

// Source says where an answer came from.
type Source string

// Sources.
const (
	SourceLive  Source = "live"
	SourceCache Source = "cache"
	SourceNone  Source = "none"
)

// Eligibility is the answer to "may this patient be seen under BHYT today".
type Eligibility struct {
	Verdict  Verdict `json:"verdict"`
	Code     string  `json:"code"`     // gateway maKetQua, e.g. "000"
	ReasonVI string  `json:"reasonVi"` // plain Vietnamese for staff
	ReasonEN string  `json:"reasonEn"`
	// NextVI and NextEN say, in one line for the receptionist, what to do
	// next (docs/eligibility-policy.md gives the line of every code).
	NextVI string `json:"nextStepVi,omitempty"`
	NextEN string `json:"nextStepEn,omitempty"`
	Field  string `json:"field,omitempty"` // for InputMismatch: "name", "birthDate", "cardNumber"

	CardNumber            CardNumber `json:"cardNumber,omitempty"`
	AnsweredBy            string     `json:"answeredBy,omitempty"` // which maThe kind answered: "card", "social-insurance", "citizen-id"
	Holder                Name       `json:"holder,omitempty"`
	BirthDate             Date       `json:"birthDate,omitzero"`
	Sex                   Sex        `json:"sex,omitempty"`
	Address               string     `json:"address,omitempty"`
	ValidFrom             Date       `json:"validFrom,omitzero"`
	ValidTo               Date       `json:"validTo,omitzero"`
	RegisteredFacility    string     `json:"registeredFacility,omitempty"` // maDKBD
	FacilityName          string     `json:"facilityName,omitempty"`
	IssuingOffice         string     `json:"issuingOffice,omitempty"` // cqBHXH
	AreaCode              string     `json:"areaCode,omitempty"`      // maKV: K1/K2/K3
	FiveYearDate          Date       `json:"fiveYearDate,omitzero"`
	SocialInsuranceNumber string     `json:"socialInsuranceNumber,omitempty"`
	BenefitLevel          int        `json:"benefitLevel,omitempty"`   // 1..5, from the card number's third character
	BenefitPercent        int        `json:"benefitPercent,omitempty"` // 80, 95 or 100
	NewCard               *NewCard   `json:"newCard,omitempty"`        // codes 003/004
	Note                  string     `json:"note,omitempty"`           // ghiChu
	// AnswerSHA256 is the SHA-256 (hex) of the gateway's raw answer body,
	// which signed receipts record.
	AnswerSHA256 string `json:"answerSha256,omitempty"`

	Source Source `json:"source"`
	// CachedBy names the desk whose live answer a cached one is, when it
	// comes from another desk of the hospital (hospital mode): "Quầy 3".
	CachedBy  string        `json:"cachedBy,omitempty"`
	CheckedAt time.Time     `json:"checkedAt"`         // when the gateway answered
	Age       time.Duration `json:"age,omitempty"`     // for cached answers: how old at the time of showing
	Latency   time.Duration `json:"latency,omitempty"` // gateway round trip

	Visits []Visit `json:"visits,omitempty"` // from Lskcb2025
}

// NewCard is the reissued card the gateway names for codes 003 and 004.
type NewCard struct {
	// FirstCode is the gateway's code for the card first asked about (003
	// or 004), kept when the agent re-checks the new card by itself.
	FirstCode string `json:"firstCode,omitempty"`
	// OldCardNumber is that first card.
	OldCardNumber      CardNumber `json:"oldCardNumber,omitempty"`
	CardNumber         CardNumber `json:"cardNumber"`
	ValidFrom          Date       `json:"validFrom,omitzero"`
	ValidTo            Date       `json:"validTo,omitzero"`
	RegisteredFacility string     `json:"registeredFacility,omitempty"`
	FacilityName       string     `json:"facilityName,omitempty"`
}

// Visit is one entry of the patient's visit history (Lskcb2025).
type Visit struct {
	RecordID   string    `json:"recordId"`
	Facility   string    `json:"facility"`
	Admitted   time.Time `json:"admitted"`
	Discharged time.Time `json:"discharged,omitzero"`
	Diagnosis  string    `json:"diagnosis,omitempty"`
	Status     string    `json:"status,omitempty"`
	Outcome    string    `json:"outcome,omitempty"`
	Reason     string    `json:"reason,omitempty"`
}
