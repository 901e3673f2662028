package bhxh

import (
	"strings"

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
	// NextVI and NextEN say what the receptionist does next, in one line;
	// the window, `tiepdon check` and the HIS payload (nextStepVi,
	// nextStepEn) carry the same words.
	NextVI string
	NextEN string
	Field  string // for InputMismatch: which input is wrong
	// Unavailable marks technical codes: the check returns an error
	// wrapping agent.ErrUnavailable instead of a verdict.
	Unavailable bool
}

// Policy is the result-code table, from docs/sources.md §2 and our policy
// (docs/eligibility-policy.md). Codes 003 and 004 are re-checked with
// the new card number before this table is applied to the final answer.
var Policy = map[string]Rule{
	// Eligible.
	"000": {Verdict: patient.Eligible,
		ReasonVI: "Thông tin thẻ BHYT chính xác; thẻ còn giá trị sử dụng.",
		ReasonEN: "The card details are correct and the card is valid.",
		NextVI:   "Tiếp nhận khám chữa bệnh BHYT.",
		NextEN:   "Admit the patient under BHYT."},
	"004": {Verdict: patient.Eligible,
		ReasonVI: "Thẻ BHYT cũ còn giá trị sử dụng, đã được cấp thẻ mới; dùng thẻ mới.",
		ReasonEN: "The old card is still valid and a new card has been issued; use the new card.",
		NextVI:   "Tiếp nhận BHYT theo thẻ mới; ghi mã thẻ mới vào hồ sơ.",
		NextEN:   "Admit under BHYT with the new card; put the new card number on the record."},
	// 003 is re-checked with maTheMoi and the verdict comes from that
	// answer; this row applies only when that re-check cannot be made.
	"003": {Verdict: patient.CheckDocuments, Field: "cardNumber",
		ReasonVI: "Thẻ BHYT cũ hết giá trị sử dụng, đã được cấp thẻ mới: đề nghị xuất trình thẻ mới.",
		ReasonEN: "The old card has expired and a new card has been issued: ask for the new card.",
		NextVI:   "Đề nghị người bệnh xuất trình thẻ mới hoặc quẹt CCCD gắn chip, rồi kiểm tra lại.",
		NextEN:   "Ask for the new card or a tap of the chip ID card, then check again."},

	// Check documents: the gateway has no data on these cards.
	"001": {Verdict: patient.CheckDocuments,
		ReasonVI: "Thẻ do BHXH Bộ Quốc phòng quản lý: cổng không có dữ liệu, đề nghị kiểm tra thẻ BHYT và giấy tờ tùy thân.",
		ReasonEN: "Card managed by the Ministry of Defence's social insurance: the gateway has no data; check the physical card and ID.",
		NextVI:   "Xem thẻ BHYT và giấy tờ tùy thân; nếu khớp, tiếp nhận BHYT theo quy định của cơ sở.",
		NextEN:   "Look at the BHYT card and ID; if they match, admit under BHYT as the facility's rules say."},
	"002": {Verdict: patient.CheckDocuments,
		ReasonVI: "Thẻ do BHXH Bộ Công an quản lý: cổng không có dữ liệu, đề nghị kiểm tra thẻ BHYT và giấy tờ tùy thân.",
		ReasonEN: "Card managed by the Ministry of Public Security's social insurance: the gateway has no data; check the physical card and ID.",
		NextVI:   "Xem thẻ BHYT và giấy tờ tùy thân; nếu khớp, tiếp nhận BHYT theo quy định của cơ sở.",
		NextEN:   "Look at the BHYT card and ID; if they match, admit under BHYT as the facility's rules say."},
	"130": {Verdict: patient.CheckDocuments,
		ReasonVI: "Trẻ em không xuất trình thẻ BHYT: đề nghị kiểm tra giấy khai sinh hoặc giấy chứng sinh.",
		ReasonEN: "Child without a health-insurance card: check the birth certificate.",
		NextVI:   "Xem giấy khai sinh hoặc giấy chứng sinh của trẻ, rồi tiếp nhận theo quy định của cơ sở.",
		NextEN:   "Look at the child's birth certificate, then admit as the facility's rules say."},

	// Not eligible.
	"010": {Verdict: patient.NotEligible,
		ReasonVI: "Thẻ BHYT hết giá trị sử dụng.",
		ReasonEN: "The card has expired.",
		NextVI:   "Báo người bệnh thẻ đã hết hạn: tiếp nhận khám dịch vụ (không BHYT) hoặc hỏi thẻ mới.",
		NextEN:   "Tell the patient the card has expired: admit as a paying patient, or ask for a newer card."},
	"050": {Verdict: patient.NotEligible, Field: "cardNumber",
		ReasonVI: "Không có thông tin thẻ BHYT.",
		ReasonEN: "The gateway has no card for this number.",
		NextVI:   "Thường do gõ nhầm: so từng ký tự mã thẻ với thẻ rồi kiểm tra lại; vẫn vậy thì quẹt CCCD gắn chip.",
		NextEN:   "Often a typing slip: compare the number with the card character by character and check again; if it persists, tap the chip ID card."},
	"110": {Verdict: patient.NotEligible,
		ReasonVI: "Thẻ BHYT đã bị thu hồi.",
		ReasonEN: "The card has been withdrawn.",
		NextVI:   "Tiếp nhận khám dịch vụ (không BHYT); người bệnh liên hệ cơ quan BHXH nơi cấp thẻ.",
		NextEN:   "Admit as a paying patient; the patient should contact the social insurance office that issued the card."},
	"120": {Verdict: patient.NotEligible,
		ReasonVI: "Thẻ BHYT đã báo giảm.",
		ReasonEN: "The card has been reported as reduced (coverage ended).",
		NextVI:   "Hỏi người bệnh có thẻ mới không (quẹt CCCD gắn chip để tìm); nếu không, tiếp nhận khám dịch vụ.",
		NextEN:   "Ask whether the patient has a newer card (tap the chip ID card to find it); if not, admit as a paying patient."},
	"121": {Verdict: patient.NotEligible,
		ReasonVI: "Thẻ BHYT đã báo giảm do chuyển ngoại tỉnh.",
		ReasonEN: "Coverage ended: the holder moved to another province.",
		NextVI:   "Hỏi người bệnh có thẻ mới ở tỉnh mới không (quẹt CCCD gắn chip để tìm); nếu không, tiếp nhận khám dịch vụ.",
		NextEN:   "Ask for the card from the new province (tap the chip ID card to find it); if none, admit as a paying patient."},
	"122": {Verdict: patient.NotEligible,
		ReasonVI: "Thẻ BHYT đã báo giảm do chuyển nội tỉnh.",
		ReasonEN: "Coverage ended: the holder moved within the province.",
		NextVI:   "Hỏi người bệnh có thẻ mới không (quẹt CCCD gắn chip để tìm); nếu không, tiếp nhận khám dịch vụ.",
		NextEN:   "Ask whether the patient has a newer card (tap the chip ID card to find it); if not, admit as a paying patient."},
	"123": {Verdict: patient.NotEligible,
		ReasonVI: "Thẻ BHYT đã báo giảm do tăng lại cùng đơn vị.",
		ReasonEN: "Coverage ended: re-enrolled with the same employer (a new card applies).",
		NextVI:   "Đã có thẻ mới: quẹt CCCD gắn chip hoặc hỏi mã thẻ mới, rồi kiểm tra lại.",
		NextEN:   "A new card applies: tap the chip ID card or ask for the new card number, then check again."},
	"124": {Verdict: patient.NotEligible,
		ReasonVI: "Thẻ BHYT đã báo giảm do ngừng tham gia.",
		ReasonEN: "Coverage ended: the holder stopped contributing.",
		NextVI:   "Báo người bệnh đã ngừng tham gia BHYT: tiếp nhận khám dịch vụ (không BHYT).",
		NextEN:   "Tell the patient their BHYT coverage has stopped: admit as a paying patient."},

	// Input mismatch: offer to correct and re-check.
	"051": {Verdict: patient.InputMismatch, Field: "cardNumber",
		ReasonVI: "Mã thẻ BHYT không đúng.",
		ReasonEN: "The card number is wrong.",
		NextVI:   "Sửa mã thẻ cho đúng như trên thẻ rồi kiểm tra lại (F5).",
		NextEN:   "Correct the card number as printed on the card and check again (F5)."},
	"052": {Verdict: patient.InputMismatch, Field: "cardNumber",
		ReasonVI: "Mã tỉnh cấp thẻ (ký tự thứ 4, 5 của mã thẻ) không đúng.",
		ReasonEN: "The province code (characters 4–5 of the card number) is wrong.",
		NextVI:   "Sửa ký tự thứ 4 và 5 của mã thẻ cho đúng như trên thẻ rồi kiểm tra lại (F5).",
		NextEN:   "Correct characters 4–5 of the card number as printed and check again (F5)."},
	"053": {Verdict: patient.InputMismatch, Field: "cardNumber",
		ReasonVI: "Mã quyền lợi (ký tự thứ 3 của mã thẻ) không đúng.",
		ReasonEN: "The benefit code (character 3 of the card number) is wrong.",
		NextVI:   "Sửa ký tự thứ 3 của mã thẻ cho đúng như trên thẻ rồi kiểm tra lại (F5).",
		NextEN:   "Correct character 3 of the card number as printed and check again (F5)."},
	"060": {Verdict: patient.InputMismatch, Field: "name",
		ReasonVI: "Họ tên không khớp với thẻ BHYT.",
		ReasonEN: "The name does not match the card.",
		NextVI:   "Hỏi lại họ tên đầy đủ, có dấu, đúng như trên CCCD; sửa ô Họ tên rồi kiểm tra lại (F5).",
		NextEN:   "Ask for the full name with its diacritics, exactly as on the ID card; correct the name and check again (F5)."},
	"061": {Verdict: patient.InputMismatch, Field: "name",
		ReasonVI: "Họ tên gần đúng nhưng chưa khớp với thẻ BHYT: thường thiếu dấu hoặc sai một chữ.",
		ReasonEN: "The name is close to the card's but does not match: usually missing diacritics or one wrong letter.",
		NextVI:   "Họ tên gõ gần đúng: kiểm tra dấu và từng chữ theo CCCD; sửa ô Họ tên rồi kiểm tra lại (F5).",
		NextEN:   "The name is close: check the diacritics and each word against the ID card; correct it and check again (F5)."},
	"070": {Verdict: patient.InputMismatch, Field: "birthDate",
		ReasonVI: "Ngày sinh không khớp với thẻ BHYT.",
		ReasonEN: "The date of birth does not match the card.",
		NextVI:   "Hỏi lại ngày sinh theo CCCD; sửa ô Ngày sinh rồi kiểm tra lại (F5).",
		NextEN:   "Ask for the date of birth on the ID card; correct it and check again (F5)."},
	"080": {Verdict: patient.InputMismatch, Field: "sex",
		ReasonVI: "Giới tính không khớp với thẻ BHYT.",
		ReasonEN: "The sex does not match the card.",
		NextVI:   "Sửa giới tính theo CCCD rồi kiểm tra lại (F5).",
		NextEN:   "Correct the sex as on the ID card and check again (F5)."},
	"090": {Verdict: patient.InputMismatch, Field: "registeredFacility",
		ReasonVI: "Nơi đăng ký KCB ban đầu không khớp với thẻ BHYT.",
		ReasonEN: "The registered facility does not match the card.",
		NextVI:   "Xem nơi đăng ký KCB ban đầu in trên thẻ; sửa rồi kiểm tra lại (F5).",
		NextEN:   "Look at the registered facility printed on the card; correct it and check again (F5)."},
	"205": {Verdict: patient.InputMismatch, Field: "format",
		ReasonVI: "Sai định dạng tham số gửi lên cổng (mã thẻ, họ tên hoặc ngày sinh).",
		ReasonEN: "A field sent to the gateway has the wrong format (card number, name or date of birth).",
		NextVI:   "Kiểm tra mã thẻ (15 ký tự), họ tên có dấu và ngày sinh (dd/mm/yyyy); sửa rồi kiểm tra lại (F5).",
		NextEN:   "Check the card number (15 characters), the name with diacritics and the date of birth (dd/mm/yyyy); correct and check again (F5)."},

	// Staff sign-in problem: tell staff, not the patient.
	"054": {Verdict: patient.StaffProblem, Field: "staffCitizenId",
		ReasonVI: "Số CCCD của cán bộ tra cứu chưa được cơ sở KCB đăng ký với cổng BHXH.",
		ReasonEN: "The signed-in staff member's CCCD is not registered with the gateway by this facility.",
		NextVI:   "Lỗi của ca làm việc, không phải của người bệnh: bấm “Đăng nhập lại” bằng CCCD đã đăng ký, hoặc báo IT đăng ký cán bộ với BHXH.",
		NextEN:   "A sign-in problem, not the patient's: press “Sign in again” with the registered CCCD, or ask IT to register the staff member with BHXH."},
	"055": {Verdict: patient.StaffProblem, Field: "staffName",
		ReasonVI: "Họ tên cán bộ tra cứu không khớp với số CCCD đã đăng ký.",
		ReasonEN: "The signed-in staff member's name does not match their registered CCCD.",
		NextVI:   "Lỗi của ca làm việc, không phải của người bệnh: bấm “Đăng nhập lại” và gõ họ tên đúng như CCCD đã đăng ký.",
		NextEN:   "A sign-in problem, not the patient's: press “Sign in again” and type the name exactly as on the registered CCCD."},

	// Gateway unavailable: the agent shows the cached answer and queues a re-check.
	"100": {Verdict: patient.Unavailable, Unavailable: true,
		ReasonVI: "Cổng BHXH lỗi khi lấy dữ liệu sổ thẻ.",
		ReasonEN: "The gateway failed to read its card records.",
		NextVI:   "Tiếp nhận tạm theo giấy tờ; tiepdon tự kiểm tra lại và báo ngay khi cổng trả lời.",
		NextEN:   "Admit provisionally on the documents; tiepdon re-checks by itself and tells you as soon as the gateway answers."},
	"101": {Verdict: patient.Unavailable, Unavailable: true,
		ReasonVI: "Cổng BHXH lỗi máy chủ.",
		ReasonEN: "The gateway reported a server error.",
		NextVI:   "Tiếp nhận tạm theo giấy tờ; tiepdon tự kiểm tra lại và báo ngay khi cổng trả lời.",
		NextEN:   "Admit provisionally on the documents; tiepdon re-checks by itself and tells you as soon as the gateway answers."},
	"401": {Verdict: patient.Unavailable, Unavailable: true,
		ReasonVI: "Cổng BHXH từ chối tài khoản của cơ sở (lỗi xác thực).",
		ReasonEN: "The gateway refused the facility's account (authentication error).",
		NextVI:   "Gọi IT sửa tài khoản cổng BHXH trong Cài đặt; trong lúc chờ, tiếp nhận tạm theo giấy tờ.",
		NextEN:   "Call IT to fix the gateway account in Settings; meanwhile admit provisionally on the documents."},
	"500": {Verdict: patient.Unavailable, Unavailable: true,
		ReasonVI: "Cổng BHXH lỗi máy chủ hoặc đang bảo trì.",
		ReasonEN: "The gateway reported a server error or is under maintenance.",
		NextVI:   "Tiếp nhận tạm theo giấy tờ; tiepdon tự kiểm tra lại và báo ngay khi cổng trả lời.",
		NextEN:   "Admit provisionally on the documents; tiepdon re-checks by itself and tells you as soon as the gateway answers."},
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
		ReasonEN: "The gateway returned an unknown result code (" + code + "): check the physical card and ID.",
		NextVI:   "Xem thẻ BHYT và giấy tờ tùy thân, rồi báo IT mã kết quả " + code + ".",
		NextEN:   "Look at the BHYT card and ID, then tell IT about result code " + code + "."}
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
// number (docs/sources.md §3). It returns 0, 0 for anything else,
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

// Registered says, in Vietnamese and English, whether facility (this
// desk's code, maCSKCB) is the answer's initial-registration facility
// (nơi đăng ký KCB ban đầu, maDKBD), naming the other one with the
// gateway's name where it gives one. Both are "" when either code is
// unknown. The window says the same (ui catalogue card.facility.*).
func Registered(e patient.Eligibility, facility string) (vi, en string) {
	code, here := strings.TrimSpace(e.RegisteredFacility), strings.TrimSpace(facility)
	if code == "" || here == "" {
		return "", ""
	}
	if strings.EqualFold(code, here) {
		return "Đúng tuyến: đăng ký KCB ban đầu tại cơ sở này",
			"Registered here: this facility is the patient's initial-registration facility"
	}
	other := code
	if e.FacilityName != "" {
		other = e.FacilityName + " (" + code + ")"
	}
	return "Nơi đăng ký KCB ban đầu: " + other + ", không phải cơ sở này",
		"Initial registration: " + other + ", not this facility"
}
