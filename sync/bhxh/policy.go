package bhxh

import (
	"github.com/tiepdon/tiepdon/agent/patient"
)

// Rule is one row of the eligibility policy: what tiepdon shows for a
// gateway result code. docs/eligibility-policy.md is the same table for HIS
// developers; a test keeps the two in step.
type Rule struct {
	Code     string
	Verdict  patient.Verdict
	ReasonVI string // shown to reception staff
	ReasonEN string
	Field    string // for InputMismatch: which input is wrong
	// Unavailable marks technical codes: the check returns an error
	// wrapping agent.ErrUnavailable instead of a verdict.
	Unavailable bool
}

// Policy is the result-code table, from spec/README.md ("Our eligibility
// policy") and national-sources.md §2. Codes 003 and 004 are re-checked with
// the new card number before this table is applied to the final answer.
var Policy = map[string]Rule{
	// Eligible.
	"000": {Verdict: patient.Eligible,
		ReasonVI: "Thông tin thẻ BHYT chính xác; thẻ còn giá trị sử dụng.",
		ReasonEN: "The card details are correct and the card is valid."},
	"004": {Verdict: patient.Eligible,
		ReasonVI: "Thẻ BHYT cũ còn giá trị sử dụng, đã được cấp thẻ mới; dùng thẻ mới.",
		ReasonEN: "The old card is still valid and a new card has been issued; use the new card."},
	// 003 is re-checked with maTheMoi and the verdict comes from that
	// answer; this row applies only when that re-check cannot be made.
	"003": {Verdict: patient.CheckDocuments, Field: "cardNumber",
		ReasonVI: "Thẻ BHYT cũ hết giá trị sử dụng, đã được cấp thẻ mới: đề nghị xuất trình thẻ mới.",
		ReasonEN: "The old card has expired and a new card has been issued: ask for the new card."},

	// Check documents: the gateway has no data on these cards.
	"001": {Verdict: patient.CheckDocuments,
		ReasonVI: "Thẻ do BHXH Bộ Quốc phòng quản lý: cổng không có dữ liệu, đề nghị kiểm tra thẻ BHYT và giấy tờ tùy thân.",
		ReasonEN: "Card managed by the Ministry of Defence's social insurance: the gateway has no data; check the physical card and ID."},
	"002": {Verdict: patient.CheckDocuments,
		ReasonVI: "Thẻ do BHXH Bộ Công an quản lý: cổng không có dữ liệu, đề nghị kiểm tra thẻ BHYT và giấy tờ tùy thân.",
		ReasonEN: "Card managed by the Ministry of Public Security's social insurance: the gateway has no data; check the physical card and ID."},
	"130": {Verdict: patient.CheckDocuments,
		ReasonVI: "Trẻ em không xuất trình thẻ BHYT: đề nghị kiểm tra giấy khai sinh hoặc giấy chứng sinh.",
		ReasonEN: "Child without a health-insurance card: check the birth certificate."},

	// Not eligible.
	"010": {Verdict: patient.NotEligible,
		ReasonVI: "Thẻ BHYT hết giá trị sử dụng.",
		ReasonEN: "The card has expired."},
	"050": {Verdict: patient.NotEligible, Field: "cardNumber",
		ReasonVI: "Không có thông tin thẻ BHYT.",
		ReasonEN: "The gateway has no card for this number."},
	"110": {Verdict: patient.NotEligible,
		ReasonVI: "Thẻ BHYT đã bị thu hồi.",
		ReasonEN: "The card has been withdrawn."},
	"120": {Verdict: patient.NotEligible,
		ReasonVI: "Thẻ BHYT đã báo giảm.",
		ReasonEN: "The card has been reported as reduced (coverage ended)."},
	"121": {Verdict: patient.NotEligible,
		ReasonVI: "Thẻ BHYT đã báo giảm do chuyển ngoại tỉnh.",
		ReasonEN: "Coverage ended: the holder moved to another province."},
	"122": {Verdict: patient.NotEligible,
		ReasonVI: "Thẻ BHYT đã báo giảm do chuyển nội tỉnh.",
		ReasonEN: "Coverage ended: the holder moved within the province."},
	"123": {Verdict: patient.NotEligible,
		ReasonVI: "Thẻ BHYT đã báo giảm do tăng lại cùng đơn vị.",
		ReasonEN: "Coverage ended: re-enrolled with the same employer (a new card applies)."},
	"124": {Verdict: patient.NotEligible,
		ReasonVI: "Thẻ BHYT đã báo giảm do ngừng tham gia.",
		ReasonEN: "Coverage ended: the holder stopped contributing."},

	// Input mismatch: offer to correct and re-check.
	"051": {Verdict: patient.InputMismatch, Field: "cardNumber",
		ReasonVI: "Mã thẻ BHYT không đúng.",
		ReasonEN: "The card number is wrong."},
	"052": {Verdict: patient.InputMismatch, Field: "cardNumber",
		ReasonVI: "Mã tỉnh cấp thẻ (ký tự thứ 4, 5 của mã thẻ) không đúng.",
		ReasonEN: "The province code (characters 4–5 of the card number) is wrong."},
	"053": {Verdict: patient.InputMismatch, Field: "cardNumber",
		ReasonVI: "Mã quyền lợi (ký tự thứ 3 của mã thẻ) không đúng.",
		ReasonEN: "The benefit code (character 3 of the card number) is wrong."},
	"060": {Verdict: patient.InputMismatch, Field: "name",
		ReasonVI: "Họ tên không khớp với thẻ BHYT.",
		ReasonEN: "The name does not match the card."},
	"061": {Verdict: patient.InputMismatch, Field: "name",
		ReasonVI: "Họ tên không khớp với thẻ BHYT (đúng ký tự đầu).",
		ReasonEN: "The name does not match the card (the first letter does)."},
	"070": {Verdict: patient.InputMismatch, Field: "birthDate",
		ReasonVI: "Ngày sinh không khớp với thẻ BHYT.",
		ReasonEN: "The date of birth does not match the card."},
	"080": {Verdict: patient.InputMismatch, Field: "sex",
		ReasonVI: "Giới tính không khớp với thẻ BHYT.",
		ReasonEN: "The sex does not match the card."},
	"090": {Verdict: patient.InputMismatch, Field: "registeredFacility",
		ReasonVI: "Nơi đăng ký KCB ban đầu không khớp với thẻ BHYT.",
		ReasonEN: "The registered facility does not match the card."},
	"205": {Verdict: patient.InputMismatch, Field: "format",
		ReasonVI: "Sai định dạng tham số gửi lên cổng (mã thẻ, họ tên hoặc ngày sinh).",
		ReasonEN: "A field sent to the gateway has the wrong format (card number, name or date of birth)."},

	// Staff sign-in problem: tell staff, not the patient.
	"054": {Verdict: patient.StaffProblem, Field: "staffCitizenId",
		ReasonVI: "Số CCCD của cán bộ tra cứu chưa được cơ sở KCB đăng ký với cổng BHXH.",
		ReasonEN: "The signed-in staff member's CCCD is not registered with the gateway by this facility."},
	"055": {Verdict: patient.StaffProblem, Field: "staffName",
		ReasonVI: "Họ tên cán bộ tra cứu không khớp với số CCCD đã đăng ký.",
		ReasonEN: "The signed-in staff member's name does not match their registered CCCD."},

	// Gateway unavailable: the agent shows the cached answer and queues a re-check.
	"100": {Verdict: patient.Unavailable, Unavailable: true,
		ReasonVI: "Cổng BHXH lỗi khi lấy dữ liệu sổ thẻ.",
		ReasonEN: "The gateway failed to read its card records."},
	"101": {Verdict: patient.Unavailable, Unavailable: true,
		ReasonVI: "Cổng BHXH lỗi máy chủ.",
		ReasonEN: "The gateway reported a server error."},
	"401": {Verdict: patient.Unavailable, Unavailable: true,
		ReasonVI: "Cổng BHXH từ chối tài khoản của cơ sở (lỗi xác thực).",
		ReasonEN: "The gateway refused the facility's account (authentication error)."},
	"500": {Verdict: patient.Unavailable, Unavailable: true,
		ReasonVI: "Cổng BHXH lỗi máy chủ hoặc đang bảo trì.",
		ReasonEN: "The gateway reported a server error or is under maintenance."},
}

func init() {
	for code, r := range Policy {
		r.Code = code
		Policy[code] = r
	}
}

// unknownRule is applied to a code the table does not know: staff are told
// to check the documents and the code is kept for the audit log.
func unknownRule(code string) Rule {
	return Rule{Code: code, Verdict: patient.CheckDocuments,
		ReasonVI: "Cổng BHXH trả về mã kết quả chưa biết (" + code + "): đề nghị kiểm tra thẻ BHYT và giấy tờ tùy thân.",
		ReasonEN: "The gateway returned an unknown result code (" + code + "): check the physical card and ID."}
}

// RuleFor returns the policy row for a result code.
func RuleFor(code string) Rule {
	if r, ok := Policy[code]; ok {
		return r
	}
	return unknownRule(code)
}

// Benefit returns the benefit level (1–5) and the share of costs BHYT pays
// (80, 95 or 100 %) read from the third character of a 15-character card
// number (national-sources.md §3). It returns 0, 0 for anything else,
// including the 10-digit social-insurance number that newer cards show.
func Benefit(card patient.CardNumber) (level, percent int) {
	if len(card) != 15 {
		return 0, 0
	}
	switch card[2] {
	case '1', '2', '5':
		return int(card[2] - '0'), 100
	case '3':
		return 3, 95
	case '4':
		return 4, 80
	}
	return 0, 0
}
