package ui

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"fyne.io/fyne/v2/lang"
)

// Lang is a window language.
type Lang string

// Languages. Vietnamese is the default.
const (
	Vietnamese Lang = "vi"
	English    Lang = "en"
)

// messages is the window's one catalogue: every string the window shows,
// in Vietnamese and English. Values are fmt formats.
var messages = map[string][2]string{
	"app.heading":  {"tiepdon · Tiếp đón BHYT", "tiepdon · BHYT reception"},
	"app.subtitle": {"Tiếp đón BHYT", "BHYT reception"},

	"tab.main":     {"Tiếp đón", "Reception"},
	"tab.recent":   {"Lượt kiểm tra trong ca", "This shift's checks"},
	"tab.pairing":  {"Ghép nối HIS", "HIS pairing"},
	"tab.settings": {"Cài đặt", "Settings"},

	// Banner.
	"banner.idle":            {"SẴN SÀNG", "READY"},
	"banner.idle.reason":     {"Quét mã QR trên CCCD / thẻ BHYT, đặt thẻ CCCD gắn chip lên đầu đọc, hoặc nhập số thẻ (F2).", "Scan the QR on the CCCD / BHYT card, place the chip CCCD on the reader, or type the card number (F2)."},
	"banner.idle.nostaff":    {"Trước tiên: đăng nhập ca (Ctrl+U), cổng BHXH cần họ tên và CCCD của cán bộ tra cứu.", "First sign in for the shift (Ctrl+U): the gateway needs the checking staff's name and CCCD."},
	"banner.reading":         {"ĐANG ĐỌC CHIP", "READING CHIP"},
	"banner.reading.reason":  {"Giữ yên thẻ trên đầu đọc.", "Hold the card still on the reader."},
	"banner.reading.step":    {"Bước: %s.", "Step: %s."},
	"banner.checking":        {"ĐANG TRA CỨU", "CHECKING"},
	"banner.checking.reason": {"Đang hỏi cổng BHXH…", "Asking the BHXH gateway…"},
	"banner.failed":          {"KHÔNG ĐỌC ĐƯỢC", "COULD NOT READ"},
	"banner.failed.why":      {"Không đọc được mã quét hoặc thẻ.", "The scan or the card could not be read."},
	"banner.failed.reason":   {"Quét lại mã QR hoặc đặt lại thẻ lên đầu đọc; vẫn không được thì nhập tay (F2).", "Scan the QR again or place the card on the reader again; if it still fails, type the details (F2)."},

	// What to do after a read failure, where it is not the general line
	// (banner.failed.reason).
	"next.failure.chip-no-key":       {"Quét mã QR trên thẻ CCCD rồi đặt lại thẻ, hoặc nhập 6 số cuối số CCCD.", "Scan the QR code on the CCCD and place the card again, or type the last 6 digits of the CCCD number."},
	"next.failure.chip-wrong-key":    {"Nhập lại 6 số cuối số CCCD theo thẻ đang đọc, hoặc quét mã QR trên thẻ.", "Retype the last 6 digits of this card's CCCD number, or scan the QR code on the card."},
	"next.failure.chip-removed":      {"Đặt lại thẻ và giữ yên trên đầu đọc đến khi có kết quả.", "Place the card again and hold it still on the reader until the result shows."},
	"next.failure.reader-timeout":    {"Rút đầu đọc ra cắm lại rồi đặt lại thẻ; trong lúc chờ, quét mã QR hoặc nhập tay (F2).", "Unplug and replug the reader, then place the card again; meanwhile scan the QR or type the details (F2)."},
	"next.failure.pcsc-no-service":   {"Gọi IT bật dịch vụ thẻ thông minh (PC/SC); trong lúc chờ, quét mã QR hoặc nhập tay (F2).", "Call IT to start the smart-card service (PC/SC); meanwhile scan the QR or type the details (F2)."},
	"next.failure.scan-too-long":     {"Gọi IT kiểm tra cài đặt máy quét; trong lúc chờ, nhập tay (F2).", "Call IT to check the scanner's settings; meanwhile type the details (F2)."},
	"next.failure.scan-not-utf8":     {"Gọi IT kiểm tra cài đặt máy quét; trong lúc chờ, nhập tay (F2).", "Call IT to check the scanner's settings; meanwhile type the details (F2)."},
	"next.failure.scan-cut-off":      {"Cắm lại máy quét rồi quét lại.", "Plug the scanner back in and scan again."},
	"next.failure.scan-url":          {"Quét mã QR trên CCCD hoặc thẻ BHYT (không phải mã khác), hoặc nhập tay (F2).", "Scan the QR code on the CCCD or BHYT card (not another code), or type the details (F2)."},
	"next.failure.scan-payment":      {"Quét mã QR trên CCCD hoặc thẻ BHYT (không phải mã khác), hoặc nhập tay (F2).", "Scan the QR code on the CCCD or BHYT card (not another code), or type the details (F2)."},
	"next.failure.scan-unknown":      {"Quét mã QR trên CCCD hoặc thẻ BHYT (không phải mã khác), hoặc nhập tay (F2).", "Scan the QR code on the CCCD or BHYT card (not another code), or type the details (F2)."},
	"next.failure.scan-truncated":    {"Quét lại, giữ yên thẻ trước máy quét đến khi có kết quả; vẫn thiếu thì nhập tay (F2).", "Scan again, holding the card still until the result shows; if it is still cut short, type the details (F2)."},
	"next.failure.scan-wrong-layout": {"Tắt bộ gõ tiếng Việt (Unikey/EVKey) rồi quét lại.", "Turn off the Vietnamese input method (Unikey/EVKey) and scan again."},
	"next.failure.scan-invalid":      {"Xem thẻ và nhập tay (F2); nếu thẻ có vấn đề, đề nghị người bệnh xuất trình giấy tờ khác.", "Look at the card and type the details (F2); if the card looks wrong, ask for another document."},

	// Why a presentation could not be read: read.failed codes (docs/his-api.md, "Failure codes").
	"failure.chip-no-key":       {"Cần số CAN: quét mã QR trên thẻ hoặc nhập 6 số cuối của số CCCD", "The chip needs the CAN: scan the card's QR code or type the last 6 digits"},
	"failure.chip-wrong-key":    {"Số CAN không đúng với thẻ này", "The CAN does not open this card"},
	"failure.chip-removed":      {"Thẻ bị rút ra khi đang đọc", "The card was removed during the read"},
	"failure.reader-timeout":    {"Đầu đọc không phản hồi", "The reader did not answer in time"},
	"failure.pcsc-no-service":   {"Dịch vụ PC/SC không chạy", "The PC/SC service is not running"},
	"failure.chip-unreadable":   {"Không đọc được chip", "The chip could not be read"},
	"failure.scan-too-long":     {"Mã quét quá dài: kiểm tra cài đặt ký tự kết thúc dòng của máy quét", "Scan too long: check the scanner's line ending setting"},
	"failure.scan-not-utf8":     {"Mã quét không phải văn bản UTF-8: kiểm tra cài đặt bảng mã của máy quét", "The scan is not UTF-8 text: set the scanner's character set to UTF-8"},
	"failure.scan-cut-off":      {"Mã quét bị ngắt khi máy quét bị rút ra", "The scan was cut off when the scanner was unplugged"},
	"failure.scan-empty":        {"Mã quét trống", "Empty scan"},
	"failure.scan-url":          {"Đã quét một địa chỉ web, không phải thẻ", "Scanned a web address, not a card"},
	"failure.scan-payment":      {"Đã quét mã QR thanh toán, không phải thẻ", "Scanned a bank payment QR code, not a card"},
	"failure.scan-truncated":    {"Mã quét bị thiếu: quét lại thẻ", "Scan cut short: scan the card again"},
	"failure.scan-wrong-layout": {"Máy quét gõ sai bố cục bàn phím: tắt bộ gõ tiếng Việt (Unikey/EVKey) hoặc chuyển bàn phím sang tiếng Anh (US)", "The scan arrived in the wrong keyboard layout: turn off Unikey/EVKey or switch the keyboard to English (US)"},
	"failure.scan-invalid":      {"Mã QR của thẻ có trường không hợp lệ: kiểm tra thẻ", "The card's QR code has an impossible field: check the card"},
	"failure.scan-unknown":      {"Không nhận ra mã: không phải mã QR CCCD hay thẻ BHYT", "Not a CCCD or BHYT card code"},
	"failure.scan-unreadable":   {"Không đọc được mã quét", "The scan could not be read"},
	"banner.code":               {"Mã %s", "Code %s"},
	"banner.code.reissued":      {"Mã %s (thẻ cũ: %s)", "Code %s (old card: %s)"},
	"banner.next":               {"Việc cần làm: %s", "Next: %s"},
	"banner.signin-again":       {"Đăng nhập lại", "Sign in again"},

	// Late answers: for a check no longer on screen.
	"late.title":         {"KẾT QUẢ ĐẾN MUỘN", "LATE RESULT"},
	"late.callback":      {"KẾT QUẢ ĐẾN MUỘN – GỌI LẠI BỆNH NHÂN", "LATE RESULT – CALL THE PATIENT BACK"},
	"late.noname":        {"(chưa có tên)", "(no name)"},
	"late.open":          {"Mở", "Open"},
	"late.dismiss":       {"Bỏ qua", "Dismiss"},
	"late.more":          {"… và %d kết quả đến muộn khác (xem Lượt kiểm tra trong ca)", "… and %d more late results (see This shift's checks)"},
	"late.wintitle":      {"(%d kết quả đến muộn)", "(%d late results)"},
	"banner.can":         {"NHẬP 6 SỐ CUỐI CCCD", "TYPE THE LAST 6 DIGITS"},
	"banner.can.reason":  {"Thẻ chip chưa quét mã QR: nhập 6 số cuối của số CCCD để mở chip.", "Chip card without a QR scan: type the last 6 digits of the CCCD number to open the chip."},
	"banner.can.next":    {"Gõ 6 số cuối in trên thẻ CCCD vào ô dưới đây rồi bấm Enter (thẻ vẫn đặt trên đầu đọc), hoặc quét mã QR trên thẻ.", "Type the last 6 digits printed on the CCCD in the box below and press Enter (the card stays on the reader), or scan the card's QR code."},
	"banner.cached":      {"Kết quả lưu %s, cổng BHXH chưa xác nhận hôm nay.", "Cached answer from %s; the gateway has not confirmed it today."},
	"banner.cached.desk": {"Kết quả lưu tại %s, %s; cổng BHXH chưa xác nhận hôm nay.", "Answer kept by %s, %s; the gateway has not confirmed it today."},

	"step.pace":   {"thiết lập kênh bảo mật", "secure channel"},
	"step.bac":    {"thiết lập kênh bảo mật", "secure channel"},
	"step.dg1":    {"đọc thông tin", "reading data"},
	"step.dg2":    {"đọc ảnh", "reading photo"},
	"step.dg13":   {"đọc thông tin công dân", "reading citizen data"},
	"step.sod":    {"đọc chữ ký", "reading signature"},
	"step.verify": {"xác thực", "verifying"},
	// The steps the chip reader reports (drivers/emrtd, drivers/chip), lowercased.
	"step.authenticating":        {"thiết lập kênh bảo mật", "opening the secure channel"},
	"step.authenticated":         {"đã mở kênh bảo mật", "secure channel open"},
	"step.ef.com":                {"đọc danh mục dữ liệu", "reading the data list"},
	"step.verifying":             {"xác thực chữ ký số", "verifying the signature"},
	"step.dg14":                  {"đọc khoá của chip", "reading the chip's keys"},
	"step.dg15":                  {"đọc khoá của chip", "reading the chip's keys"},
	"step.chip authentication":   {"kiểm tra chip thật", "checking the chip is genuine"},
	"step.active authentication": {"kiểm tra chip thật", "checking the chip is genuine"},
	"step.done":                  {"xong", "done"},
	"step.waiting-for-key":       {"chờ 6 số cuối CCCD", "waiting for the last 6 CCCD digits"},

	// Verdicts.
	"verdict.eligible":         {"ĐỦ ĐIỀU KIỆN BHYT", "ELIGIBLE FOR BHYT"},
	"verdict.eligible.newcard": {"ĐỦ ĐIỀU KIỆN · THẺ MỚI", "ELIGIBLE · NEW CARD"},
	"verdict.eligible.cached":  {"ĐỦ ĐIỀU KIỆN (KẾT QUẢ LƯU)", "ELIGIBLE (CACHED ANSWER)"},
	"verdict.check-documents":  {"KIỂM TRA GIẤY TỜ", "CHECK DOCUMENTS"},
	"verdict.input-mismatch":   {"SAI THÔNG TIN", "DETAILS DO NOT MATCH"},
	"verdict.not-eligible":     {"KHÔNG ĐỦ ĐIỀU KIỆN", "NOT ELIGIBLE"},
	"verdict.staff-problem":    {"CHƯA TRA CỨU ĐƯỢC", "CHECK NOT ALLOWED"},
	"verdict.unavailable":      {"CHƯA CÓ KẾT QUẢ", "NO ANSWER"},

	"reason.eligible":        {"Thẻ BHYT còn giá trị sử dụng.", "The BHYT card is valid."},
	"reason.check-documents": {"Cổng BHXH không có dữ liệu thẻ này; kiểm tra thẻ BHYT và giấy tờ tuỳ thân.", "The gateway has no data for this card; check the BHYT card and ID papers."},
	"reason.not-eligible":    {"Thẻ BHYT không còn giá trị sử dụng.", "The BHYT card is not valid."},
	"reason.input-mismatch":  {"Thông tin gửi đi không khớp với dữ liệu BHXH; kiểm tra và tra cứu lại.", "The details sent do not match the BHXH record; check them and try again."},
	"reason.staff-problem":   {"Tài khoản cán bộ tra cứu chưa được đăng ký với BHXH; báo bộ phận IT.", "The staff account is not registered with BHXH; call IT."},
	"reason.unavailable":     {"Không có trả lời từ cổng BHXH và chưa có kết quả lưu.", "No answer from the BHXH gateway and nothing cached."},
	"reason.field":           {"Sai: %s.", "Wrong: %s."},
	"field.name":             {"họ tên", "name"},
	"field.birthDate":        {"ngày sinh", "date of birth"},
	"field.cardNumber":       {"số thẻ", "card number"},
	"field.sex":              {"giới tính", "sex"},
	"field.facility":         {"nơi ĐKBĐ", "registered facility"},

	// Alerts.
	"alert.qr-chip-mismatch":   {"Dữ liệu mã QR và chip không khớp: kiểm tra giấy tờ của người bệnh.", "The QR and the chip disagree: check the patient's papers."},
	"alert.clone-suspected":    {"Chip có dấu hiệu bị sao chép: không dùng thẻ này, kiểm tra giấy tờ.", "The chip may be cloned: do not rely on this card, check the papers."},
	"alert.chip-not-authentic": {"Dữ liệu chip không khớp chữ ký số: kiểm tra giấy tờ.", "The chip data does not match its signature: check the papers."},
	"alert.sod-failed":         {"Dữ liệu chip không khớp chữ ký số: kiểm tra giấy tờ.", "The chip data does not match its signature: check the papers."},

	// CAN prompt.
	"can.prompt": {"Thẻ chip chưa quét QR: nhập 6 số cuối CCCD", "Chip card without a QR scan: type the last 6 digits of the CCCD"},
	"can.submit": {"Đọc chip", "Read chip"},
	"can.failed": {"Không đọc được chip với 6 số này; kiểm tra lại.", "The chip did not accept these 6 digits; check them."},

	// Patient panel.
	"patient.title":      {"Người bệnh", "Patient"},
	"patient.dob":        {"Ngày sinh", "Date of birth"},
	"patient.sex":        {"Giới tính", "Sex"},
	"patient.cid":        {"Số CCCD", "Citizen ID"},
	"patient.address":    {"Địa chỉ", "Address"},
	"patient.reveal":     {"Hiện", "Show"},
	"patient.hide":       {"Ẩn", "Hide"},
	"patient.photo.chip": {"Ảnh từ chip", "Photo from chip"},
	"patient.idexpiry":   {"CCCD có giá trị đến %s", "ID card valid until %s"},
	"sex.male":           {"Nam", "Male"},
	"sex.female":         {"Nữ", "Female"},

	// Card panel.
	"card.title":              {"Thẻ BHYT", "BHYT card"},
	"card.number":             {"Số thẻ", "Card number"},
	"card.benefit":            {"Mức hưởng", "Benefit"},
	"card.benefit.value":      {"Mức %d · %d%%", "Level %d · %d%%"},
	"card.benefit.level":      {"Mức %d", "Level %d"},
	"card.validity":           {"Giá trị", "Valid"},
	"card.validity.value":     {"từ %s đến %s", "from %s to %s"},
	"card.validity.to":        {"đến %s", "until %s"},
	"card.facility":           {"Nơi ĐKBĐ", "Registered at"},
	"card.facility.here":      {"Đúng tuyến: đăng ký KCB ban đầu tại cơ sở này", "Registered here: this facility is the patient's initial-registration facility"},
	"card.facility.elsewhere": {"Nơi đăng ký KCB ban đầu: %s, không phải cơ sở này", "Initial registration: %s, not this facility"},
	"card.area":               {"Mã khu vực", "Area code"},
	"card.fiveyear":           {"Đủ 5 năm liên tục từ", "5 years continuous from"},
	"card.newcard":            {"Đã cấp thẻ mới: %s", "New card issued: %s"},

	// Provenance.
	"prov.label":           {"Nguồn:", "Source:"},
	"prov.chip.verified":   {"chip CCCD, chữ ký số hợp lệ", "CCCD chip, signature verified"},
	"prov.chip.intact":     {"chip CCCD, dữ liệu nguyên vẹn (chưa có chứng thư gốc)", "CCCD chip, data intact (issuer certificate unknown)"},
	"prov.chip.failed":     {"chip CCCD, CHỮ KÝ KHÔNG HỢP LỆ", "CCCD chip, SIGNATURE INVALID"},
	"prov.chip.unverified": {"chip CCCD, chưa xác thực", "CCCD chip, not verified"},
	"prov.clone.passed":    {"chip thật", "genuine chip"},
	"prov.clone.failed":    {"NGHI CHIP SAO CHÉP", "CHIP MAY BE CLONED"},
	"prov.qr.cccd":         {"mã QR trên CCCD (chưa xác thực)", "QR on the CCCD (not verified)"},
	"prov.qr.bhyt":         {"mã QR thẻ BHYT / VssID (chưa xác thực)", "BHYT card / VssID QR (not verified)"},
	"prov.his":             {"HIS yêu cầu", "requested by the HIS"},
	"prov.his.app":         {"HIS yêu cầu (%s)", "requested by the HIS (%s)"},
	"prov.typed":           {"nhập tay", "typed"},
	"prov.live":            {"cổng BHXH trả lời trực tiếp", "live answer from the BHXH gateway"},
	"prov.latency":         {"(%.1f s)", "(%.1f s)"},
	"prov.cache":           {"KẾT QUẢ LƯU từ %s, cổng BHXH chưa trả lời", "CACHED answer from %s, gateway not answering"},
	"prov.none":            {"chưa có trả lời, sẽ tự tra cứu lại", "no answer yet, will re-check automatically"},
	"prov.notasked":        {"chưa hỏi cổng BHXH: đăng nhập ca rồi bấm F5", "the gateway was not asked: sign in, then press F5"},
	"ago.now":              {"vừa xong", "just now"},
	"ago.minutes":          {"%d phút trước", "%d min ago"},
	"ago.hours":            {"%d giờ trước", "%d h ago"},
	"ago.days":             {"%d ngày trước", "%d days ago"},

	// Visits.
	"visits.title": {"Lịch sử khám chữa bệnh (%d)", "Visit history (%d)"},
	"visits.more":  {"… và %d lượt khác", "… and %d more"},

	// Actions.
	"action.recheck":       {"Kiểm tra lại (F5)", "Re-check (F5)"},
	"action.recheck.short": {"Kiểm tra lại", "Re-check"},
	"action.clear":         {"Xoá màn hình (Esc)", "Clear (Esc)"},
	"action.simulate":      {"Mô phỏng quét (demo)", "Simulate scan (demo)"},
	"action.language":      {"English", "Tiếng Việt"},

	// Manual entry.
	"entry.title":              {"Nhập tay (F2)", "Type in (F2)"},
	"entry.number":             {"Số thẻ BHYT, mã BHXH hoặc số CCCD", "BHYT card, social-insurance or citizen ID number"},
	"entry.number.placeholder": {"ví dụ DN4010123456789", "e.g. DN4010123456789"},
	"entry.name":               {"Họ và tên", "Full name"},
	"entry.name.placeholder":   {"như trên thẻ", "as on the card"},
	"entry.dob":                {"Ngày sinh", "Date of birth"},
	"entry.dob.placeholder":    {"dd/mm/yyyy", "dd/mm/yyyy"},
	"entry.check":              {"Tra cứu (Enter)", "Check (Enter)"},
	"entry.err.nodiacritics":   {"Họ tên chưa có dấu: cổng BHXH so khớp cả dấu. Gõ lại có dấu như trên thẻ, hoặc bấm Enter lần nữa để gửi như vậy.", "The name has no accents: the gateway compares them too. Retype it with its accents as on the card, or press Enter again to send it as it is."},
	"hint.name.nodiacritics":   {"Chưa có dấu: gõ có dấu như trên thẻ (Unikey/EVKey).", "No accents: type them as on the card (Unikey/EVKey)."},
	"hint.mismatch":            {"Cổng BHXH ghi khác: kiểm tra lại trường này trên thẻ.", "The gateway's record differs: check this field on the card."},
	"hint.mismatch.gateway":    {"Cổng BHXH ghi: %s", "The gateway has: %s"},
	"status.served":            {"Đã tiếp đón trong ca: %d", "Served this shift: %d"},
	"entry.err.nostaff":        {"Chưa đăng nhập ca: nhập họ tên và số CCCD của bạn (Ctrl+U) rồi tra cứu lại.", "No one is signed in for the shift: enter your name and CCCD number (Ctrl+U), then check again."},
	"entry.err.check":          {"Chưa tra cứu được: %s", "Check not started: %s"},

	"hint.number":         {"15 ký tự (thẻ BHYT), 10 số (mã BHXH) hoặc 12 số (CCCD)", "15 characters (BHYT card), 10 digits (social insurance) or 12 digits (CCCD)"},
	"hint.card.ok":        {"Thẻ BHYT: đối tượng %s, mức %d (%d%%), tỉnh %s", "BHYT card: group %s, level %d (%d%%), province %s"},
	"hint.card.partial":   {"Thẻ BHYT: %d/15 ký tự", "BHYT card: %d/15 characters"},
	"hint.bhxh.ok":        {"Mã số BHXH (10 số) — hoặc gõ tiếp nếu là CCCD", "Social-insurance number (10 digits) — or keep typing a CCCD"},
	"hint.cid.ok":         {"Số CCCD (12 số)", "Citizen ID (12 digits)"},
	"hint.digits.partial": {"%d số: mã BHXH có 10 số, CCCD có 12 số", "%d digits: social insurance has 10, CCCD 12"},
	"hint.dob":            {"dd/mm/yyyy, mm/yyyy hoặc yyyy", "dd/mm/yyyy, mm/yyyy or yyyy"},
	"hint.dob.ok":         {"Ngày sinh: %s", "Date of birth: %s"},

	"err.number.empty":  {"Nhập số thẻ BHYT, mã BHXH hoặc số CCCD.", "Type a BHYT card, social-insurance or citizen ID number."},
	"err.number.short":  {"Số chưa đủ ký tự.", "The number is too short."},
	"err.number.long":   {"Quá dài: mã BHXH có 10 số, CCCD có 12 số.", "Too long: social insurance has 10 digits, CCCD 12."},
	"err.number.digits": {"Ký tự thứ %d phải là chữ số.", "Character %d must be a digit."},
	"err.card.object":   {"Ký tự 1–2 là mã đối tượng (2 chữ cái, ví dụ DN, HT, TE).", "Characters 1–2 are the group code (2 letters, e.g. DN, HT, TE)."},
	"err.card.benefit":  {"Ký tự thứ 3 là mức hưởng: 1 đến 5.", "Character 3 is the benefit level: 1 to 5."},
	"err.card.province": {"Ký tự 4–5 là mã tỉnh: 01 đến 99.", "Characters 4–5 are the province code: 01 to 99."},
	"err.card.tail":     {"Ký tự thứ %d phải là chữ số hoặc chữ cái.", "Character %d must be a digit or a letter."},
	"err.card.long":     {"Số thẻ BHYT có 15 ký tự.", "A BHYT card number has 15 characters."},
	"err.name.empty":    {"Nhập họ và tên như trên thẻ.", "Type the name as printed on the card."},
	"err.name.chars":    {"Họ tên chỉ gồm chữ cái và dấu cách.", "A name holds only letters and spaces."},
	"err.dob.empty":     {"Nhập ngày sinh.", "Type the date of birth."},
	"err.dob.format":    {"Ngày sinh dạng dd/mm/yyyy, mm/yyyy hoặc yyyy.", "Date of birth as dd/mm/yyyy, mm/yyyy or yyyy."},
	"err.dob.invalid":   {"Ngày sinh không có thật.", "No such date."},
	"err.dob.future":    {"Ngày sinh ở tương lai.", "The date of birth is in the future."},
	"err.can":           {"Nhập đúng 6 chữ số cuối của số CCCD.", "Type exactly the last 6 digits of the CCCD number."},
	"err.staff.id":      {"Số CCCD của cán bộ gồm 12 chữ số.", "The staff CCCD number has 12 digits."},
	"err.set.url":       {"Địa chỉ cổng BHXH không hợp lệ (https://…).", "The gateway address is not a valid URL (https://…)."},
	"err.set.https":     {"Cổng BHXH phải dùng https (http chỉ cho máy giả lập trên máy này).", "The gateway must use https (http only for a simulator on this PC)."},
	"err.set.user":      {"Nhập tài khoản cổng BHXH.", "Type the gateway account."},
	"err.set.origin":    {"Địa chỉ HIS không hợp lệ: %q (dạng https://his.benhvien.vn).", "Not a web origin: %q (like https://his.hospital.vn)."},
	"err.set.retention": {"Số ngày lưu: từ 1 đến 3650.", "Retention: 1 to 3650 days."},
	"err.set.language":  {"Ngôn ngữ: vi hoặc en.", "Language: vi or en."},

	// Menu and shortcuts.
	"menu.title":    {"Tiếp đón", "Reception"},
	"menu.check":    {"Tra cứu", "Check"},
	"menu.recheck":  {"Kiểm tra lại", "Re-check"},
	"menu.clear":    {"Xoá màn hình", "Clear"},
	"menu.entry":    {"Nhập tay", "Type in"},
	"menu.reveal":   {"Hiện/ẩn số CCCD", "Show/hide citizen ID"},
	"menu.signin":   {"Đăng nhập ca", "Shift sign-in"},
	"menu.language": {"English", "Tiếng Việt"},
	"menu.simulate": {"Mô phỏng quét (demo)", "Simulate scan (demo)"},

	// Shift sign-in.
	"staff.signin": {"Đăng nhập ca", "Sign in for the shift"},
	"staff.signed": {"Ca: %s", "Shift: %s"},
	"staff.title":  {"Đăng nhập ca làm việc", "Shift sign-in"},
	"staff.name":   {"Họ tên cán bộ", "Staff name"},
	"staff.id":     {"Số CCCD cán bộ", "Staff CCCD"},
	"staff.note":   {"Cổng BHXH yêu cầu họ tên và CCCD của người tra cứu (đã đăng ký với BHXH).", "The gateway needs the name and CCCD of the person checking (registered with BHXH)."},
	"staff.ok":     {"Đăng nhập", "Sign in"},
	"staff.cancel": {"Huỷ", "Cancel"},

	// Recent checks.
	"recent.search":           {"Tìm: tên, mấy số cuối của thẻ / CCCD, hoặc mã kết quả", "Search: name, last digits of the card / CCCD, or result code"},
	"recent.nomatch":          {"Không có lượt nào khớp “%s”.", "No check matches “%s”."},
	"recent.count":            {"%d / %d lượt", "%d of %d checks"},
	"recent.open":             {"Mở", "Open"},
	"recent.detail.title":     {"Lượt kiểm tra lúc %s", "Check at %s"},
	"recent.detail.close":     {"Đóng", "Close"},
	"recent.detail.name":      {"Họ và tên", "Name"},
	"recent.detail.how":       {"Nguồn", "Source"},
	"recent.detail.when":      {"Lúc", "At"},
	"recent.detail.pending":   {"Chưa có kết quả.", "No answer yet."},
	"recent.none":             {"Chưa có lượt kiểm tra nào trong ca.", "No checks yet this shift."},
	"medium.chip":             {"chip", "chip"},
	"medium.qr-cccd":          {"QR CCCD", "CCCD QR"},
	"medium.qr-bhyt":          {"QR BHYT", "BHYT QR"},
	"medium.typed":            {"nhập tay", "typed"},
	"medium.qr":               {"mã QR", "QR code"},
	"medium.":                 {"?", "?"},
	"device.ready":            {"sẵn sàng", "ready"},
	"device.card":             {"có thẻ", "card in"},
	"device.missing":          {"không thấy", "missing"},
	"device.error":            {"lỗi", "error"},
	"device.none":             {"chưa có", "none"},
	"status.reader":           {"Đầu đọc:", "Reader:"},
	"status.scanner":          {"Máy quét:", "Scanner:"},
	"status.gateway":          {"Cổng BHXH:", "BHXH gateway:"},
	"status.outbox":           {"Chờ tra cứu lại: %d", "Re-checks queued: %d"},
	"status.disk-refusing":    {"Chờ tra cứu lại: %d · Ổ ĐĨA ĐẦY: %d mục chưa ghi, gọi IT, đừng tắt tiepdon", "Re-checks queued: %d · DISK FULL: %d not saved, call IT, keep tiepdon open"},
	"status.clients":          {"HIS kết nối: %d", "HIS connected: %d"},
	"status.gateway.online":   {"trực tuyến", "online"},
	"status.gateway.degraded": {"chậm", "degraded"},
	"status.gateway.offline":  {"mất kết nối (dùng kết quả lưu)", "offline (using cache)"},
	"status.gateway.unknown":  {"chưa rõ", "unknown"},
	// The gateway answers but refuses the facility's account: only IT can
	// fix it, and staff should call them rather than wait.
	"status.gateway.account-refused": {"từ chối tài khoản của cơ sở: gọi IT (dùng kết quả lưu)", "refused the facility's account: call IT (using cache)"},
	"status.gateway.not-configured":  {"chưa cài tài khoản: gọi IT nhập trong Cài đặt (dùng kết quả lưu)", "no account set up: call IT to enter it in Settings (using cache)"},

	// Pairing.
	"pair.pending":        {"Yêu cầu ghép nối", "Pairing requests"},
	"pair.pending.none":   {"Không có yêu cầu nào.", "No requests."},
	"pair.paired":         {"Ứng dụng HIS đã ghép nối", "Paired HIS apps"},
	"pair.paired.none":    {"Chưa có ứng dụng nào.", "None yet."},
	"pair.request":        {"%s xin kết nối", "%s asks to connect"},
	"pair.code.check":     {"Chỉ chấp nhận nếu trang HIS hiện đúng mã bên phải.", "Approve only if the HIS page shows the code on the right."},
	"pair.code.short":     {"Chấp nhận nếu trang HIS hiện mã:", "Approve if the HIS page shows:"},
	"pair.scopes":         {"được nhận: %s", "will receive: %s"},
	"pair.expires":        {"còn %s", "%s left"},
	"pair.unnamed":        {"Ứng dụng không tên", "An unnamed app"},
	"pair.noorigin":       {"ngoài trình duyệt", "outside a browser"},
	"pair.badge":          {"%d yêu cầu kết nối đang chờ", "%d connection requests waiting"},
	"pair.badge.open":     {"Xem", "View"},
	"pair.revoke.title":   {"Thu hồi kết nối?", "Revoke the connection?"},
	"pair.revoke.confirm": {"%s sẽ không nhận được kết quả nữa cho đến khi được ghép nối lại tại quầy.", "%s will receive nothing more until it is paired again at this desk."},
	"pair.revoke.yes":     {"Thu hồi", "Revoke"},
	"pair.revoke.no":      {"Giữ lại", "Keep"},
	"scope.eligibility":   {"kết quả BHYT", "BHYT results"},
	"scope.identity":      {"thông tin nhân thân", "identity details"},
	"scope.photo":         {"ảnh chân dung", "photo"},
	"scope.history":       {"lịch sử khám chữa bệnh", "visit history"},
	"pair.approve":        {"Chấp nhận", "Approve"},
	"pair.deny":           {"Từ chối", "Deny"},
	"pair.revoke":         {"Thu hồi", "Revoke"},
	"pair.revoked":        {"Đã thu hồi.", "Revoked."},
	"pair.revoke.failed":  {"Không thu hồi được; xem nhật ký.", "Could not revoke; see the log."},
	"pair.since":          {"ghép từ %s", "paired %s"},
	"pair.lastseen":       {"lần cuối %s", "last seen %s"},

	// Settings.
	"set.title":            {"Cài đặt (bộ phận IT)", "Settings (IT)"},
	"set.note":             {"Thay đổi được áp dụng ngay khi có thể; mật khẩu lưu trong kho khoá của hệ điều hành.", "Changes apply at once where possible; the password goes to the OS keyring."},
	"set.pin.ask":          {"Cài đặt do IT quản lý: nhập mã PIN IT để mở (Enter).", "Settings are IT's: type the IT PIN to open them (Enter)."},
	"set.pin.none":         {"Cài đặt do IT quản lý và chưa có mã PIN IT: chỉ quản trị viên máy tính sửa được. IT đặt mã PIN bằng lệnh “tiepdon settings-pin” trong tệp cấu hình chung của máy.", "Settings are IT's and no IT PIN is set: only a computer administrator can change them. IT sets a PIN with “tiepdon settings-pin” in the machine-wide config file."},
	"set.pin.placeholder":  {"mã PIN IT", "IT PIN"},
	"set.pin.unlock":       {"Mở cài đặt", "Open settings"},
	"set.pin.wrong":        {"Sai mã PIN IT. Nhập lại.", "Wrong IT PIN. Try again."},
	"set.pin.locked":       {"Nhập sai mã PIN IT quá nhiều lần: thử lại sau %d phút, hoặc gọi IT.", "Too many wrong IT PINs: try again in %d minutes, or call IT."},
	"set.testing":          {"Đang thử đăng nhập cổng BHXH với cài đặt mới…", "Signing in to the BHXH gateway with the new settings…"},
	"set.test.failed":      {"Chưa lưu: không đăng nhập được cổng BHXH với cài đặt mới (%s). Sửa lại, hoặc bấm Lưu lần nữa để lưu dù vậy.", "Not saved: the BHXH gateway sign-in failed with the new settings (%s). Correct them, or press Save again to save anyway."},
	"set.unavailable":      {"Không chỉnh được cài đặt từ cửa sổ này.", "Settings cannot be changed from this window."},
	"set.url":              {"Địa chỉ cổng BHXH", "Gateway URL"},
	"set.user":             {"Tài khoản", "Account"},
	"set.password":         {"Mật khẩu", "Password"},
	"set.password.keyring": {"Đã lưu trong kho khoá hệ điều hành; để trống để giữ nguyên.", "Stored in the OS keyring; leave empty to keep it."},
	"set.password.stored":  {"Đã lưu (mã hoá); để trống để giữ nguyên.", "Stored (encrypted); leave empty to keep it."},
	"set.password.none":    {"Chưa có mật khẩu.", "No password stored."},
	"set.reader":           {"Đầu đọc thẻ", "Card reader"},
	"set.scanner":          {"Máy quét QR", "QR scanner"},
	"set.scanner.wedge":    {"Chỉ quét kiểu bàn phím", "Keyboard wedge only"},
	"set.auto":             {"Tự động", "Automatic"},
	"set.origins":          {"Địa chỉ HIS được phép (mỗi dòng một)", "Allowed HIS origins (one a line)"},
	"set.retention":        {"Số ngày lưu dữ liệu", "Retention (days)"},
	"set.language":         {"Ngôn ngữ", "Language"},
	"set.save":             {"Lưu", "Save"},
	"set.saved":            {"Đã lưu. Cổng BHXH và ngôn ngữ áp dụng ngay; đầu đọc, máy quét, HIS và thời gian lưu áp dụng khi khởi động lại nếu cần.", "Saved. Gateway and language apply at once; reader, scanner, HIS and retention may need a restart."},
	"set.failed":           {"Chưa lưu được: %s", "Not saved: %s"},

	// Words for errors and widgets that come without them.
	"err.technical":      {"lỗi kỹ thuật, chi tiết ghi trong nhật ký; báo IT nếu còn lặp lại", "a technical error, detailed in the log; tell IT if it happens again"},
	"setup.needed":       {"Cần IT cài đặt: %s", "Needs setup by IT: %s"},
	"alert.other":        {"Cảnh báo về giấy tờ của người bệnh này: kiểm tra thẻ và giấy tờ tùy thân.", "A warning about this patient's documents: check the card and ID."},
	"select.placeholder": {"(Chọn một mục)", "(Select one)"},

	// Fyne's own words (menus of text fields, dialog buttons), set for the
	// window's language by localizeToolkit: Fyne has no Vietnamese.
	"fyne.Cancel":     {"Huỷ", "Cancel"},
	"fyne.Confirm":    {"Xác nhận", "Confirm"},
	"fyne.Copy":       {"Sao chép", "Copy"},
	"fyne.Cut":        {"Cắt", "Cut"},
	"fyne.Error":      {"Lỗi", "Error"},
	"fyne.No":         {"Không", "No"},
	"fyne.OK":         {"Đồng ý", "OK"},
	"fyne.Open":       {"Mở", "Open"},
	"fyne.Paste":      {"Dán", "Paste"},
	"fyne.Quit":       {"Thoát", "Quit"},
	"fyne.Redo":       {"Làm lại", "Redo"},
	"fyne.Save":       {"Lưu", "Save"},
	"fyne.Select all": {"Chọn tất cả", "Select all"},
	"fyne.Undo":       {"Hoàn tác", "Undo"},
	"fyne.Yes":        {"Có", "Yes"},
}

// catalogue is the messages of one language.
type catalogue struct {
	lang Lang
	idx  int
}

// catalogueFor returns the catalogue for "en" or, for anything else, Vietnamese.
func catalogueFor(lang string) catalogue {
	if strings.EqualFold(lang, string(English)) {
		return catalogue{English, 1}
	}
	return catalogue{Vietnamese, 0}
}

// t returns the message for key filled in with args. A missing key shows
// as itself, so it is seen in tests and screenshots.
func (c catalogue) t(key string, args ...any) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	if len(args) == 0 {
		return m[c.idx]
	}
	return fmt.Sprintf(m[c.idx], args...)
}

// t returns a message in the window's language.
func (u *UI) t(key string, args ...any) string { return u.cat.t(key, args...) }

// tOr returns the message for key, or fallback when the catalogue has none
// (an alert code the window does not know).
func (u *UI) tOr(key, fallback string) string {
	if _, ok := messages[key]; !ok && fallback != "" {
		return fallback
	}
	return u.t(key)
}

// errText is the message for err in the window's language: a field error
// from the catalogue; on a Vietnamese screen the Vietnamese words the
// error carries (a Vietnamese method, as agent/words gives), or a plain "technical error" with the
// English detail left to the log; on an English screen the error's text.
func (u *UI) errText(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return u.t(fe.Key, fe.Args...)
	}
	if u.cat.lang == English {
		return err.Error()
	}
	if vi := vietnameseOf(err); len(vi) > 0 {
		return strings.Join(vi, ": ")
	}
	u.log.Warn("An error without Vietnamese words reached the window, which shows it as a technical error; report it so it gets its words", "err", err)
	return u.t("err.technical")
}

// localizeToolkit gives Fyne's own words (the cut/copy/paste menu of text
// fields, dialog buttons) the window's language. Fyne picks its words by
// the system's locale and has no Vietnamese, so the window's words are
// registered for that locale, again at each language switch.
func (u *UI) localizeToolkit() {
	m := map[string]string{}
	for k, v := range messages {
		if id, ok := strings.CutPrefix(k, "fyne."); ok {
			m[id] = v[u.cat.idx]
		}
	}
	b, _ := json.Marshal(m) // a map of strings always marshals
	if err := lang.AddTranslationsForLocale(b, lang.SystemLocale()); err != nil {
		u.log.Warn("Fyne did not take the window's words for its menus and dialogs; they stay in the system's language", "err", err)
	}
}

// vietnameseOf returns the Vietnamese words of the errors in err's tree
// that have them (outermost first, each once), or none. An error with
// words speaks for the errors it wraps.
func vietnameseOf(err error) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if v, ok := e.(interface{ Vietnamese() string }); ok {
			if s := v.Vietnamese(); s != "" {
				if !seen[s] {
					seen[s] = true
					out = append(out, s)
				}
				return
			}
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, c := range u.Unwrap() {
				walk(c)
			}
		default:
			walk(errors.Unwrap(e))
		}
	}
	walk(err)
	return out
}
