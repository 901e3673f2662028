// Package scenes holds the window states the ui tests render to golden
// markup and the screenshot program photographs: one per verdict and one
// per main flow, each a list of bus events with synthetic people (no real
// person's data).
package scenes

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"time"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
)

// Now is the fixed clock of every scene: 09:30 on a Monday, Hanoi time
// given as UTC so goldens do not depend on the machine's zone.
var Now = time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)

// Step is one event of a scene.
type Step struct {
	Kind events.Kind
	Data any
}

// Scene is a named window state.
type Scene struct {
	Name     string
	Lang     string // "vi" unless set
	Steps    []Step
	Verdict  patient.Verdict // the verdict shown at the end, "" for none
	Describe string
}

// Status are the events every scene starts from: a reader and a scanner
// ready, gateway online, empty outbox, one HIS client.
func Status(gw events.GatewayState) []Step {
	return []Step{
		{events.DeviceChanged, events.Device{Kind: events.Reader, Name: "ACS ACR1252 Dual Reader PICC 00 00", State: events.DeviceReady}},
		{events.DeviceChanged, events.Device{Kind: events.Scanner, Name: "/dev/ttyACM0", State: events.DeviceReady}},
		{events.GatewayChanged, events.Gateway{State: gw, Since: Now.Add(-time.Hour)}},
		{events.OutboxChanged, events.Outbox{Pending: map[events.GatewayState]int{events.GatewayOffline: 3}[gw]}},
		{events.ClientsChanged, events.Clients{Connected: 1}},
	}
}

// Synthetic people.
var (
	An = patient.Identity{
		Medium: patient.MediumChip, CitizenID: "001090123456", Name: "Nguyễn Văn An",
		BirthDate: patient.Date{Year: 1990, Month: 1, Day: 2}, Sex: patient.Male,
		Address:   "Số 12 ngõ 34 phố Láng Hạ, phường Láng Hạ, quận Đống Đa, Hà Nội",
		IssueDate: patient.Date{Year: 2021, Month: 4, Day: 15},
		Chip: &patient.ChipData{Photo: Photo(), PhotoType: "image/png", Nationality: "Việt Nam",
			ExpiryDate: patient.Date{Year: 2030, Month: 1, Day: 2}, ReadAt: Now},
		Authenticity: patient.Authenticity{Level: patient.Verified, Clone: patient.ClonePassed},
	}
	Binh = patient.Identity{
		Medium: patient.MediumQRCCCD, CitizenID: "079185004321", Name: "Trần Thị Bình",
		BirthDate: patient.Date{Year: 1985, Month: 7, Day: 19}, Sex: patient.Female,
		Address:      "123 Nguyễn Trãi, phường 2, quận 5, TP Hồ Chí Minh",
		Authenticity: patient.Authenticity{Level: patient.Unverified},
	}
	Cuong = patient.Identity{
		Medium: patient.MediumQRBHYT, CardNumber: "QN5010987654321", Name: "Lê Văn Cường",
		BirthDate: patient.Date{Year: 1978}, Sex: patient.Male,
		RegisteredFacility: "01929", CardValidFrom: patient.Date{Year: 2026, Month: 1, Day: 1},
		CardValidTo:  patient.Date{Year: 2026, Month: 12, Day: 31},
		Authenticity: patient.Authenticity{Level: patient.Unverified},
	}
	Dung = patient.Identity{
		Medium: patient.MediumTyped, CardNumber: "HT3790112233445", Name: "Phạm Thị Dung",
		BirthDate: patient.Date{Year: 1952, Month: 3, Day: 8}, Authenticity: patient.Authenticity{Level: patient.Unverified},
	}
)

func visits() []patient.Visit {
	d := func(y, m, dd int) time.Time { return time.Date(y, time.Month(m), dd, 8, 0, 0, 0, time.UTC) }
	return []patient.Visit{
		{RecordID: "1", Facility: "01043 Bệnh viện Đa khoa Đống Đa", Admitted: d(2026, 10, 2), Discharged: d(2026, 10, 2), Diagnosis: "J06 Viêm đường hô hấp trên cấp", Outcome: "Khỏi"},
		{RecordID: "2", Facility: "01043 Bệnh viện Đa khoa Đống Đa", Admitted: d(2026, 6, 14), Discharged: d(2026, 6, 18), Diagnosis: "K35 Viêm ruột thừa cấp", Outcome: "Khỏi"},
		{RecordID: "3", Facility: "01929 Trạm y tế phường Láng Hạ", Admitted: d(2025, 12, 1), Diagnosis: "I10 Tăng huyết áp", Outcome: "Đỡ"},
	}
}

func eligibleAn() patient.Eligibility {
	return patient.Eligibility{
		Verdict: patient.Eligible, Code: "000", ReasonVI: "Thẻ BHYT còn giá trị sử dụng.", ReasonEN: "The BHYT card is valid.",
		NextVI: "Tiếp nhận khám chữa bệnh BHYT.", NextEN: "Admit the patient under BHYT.",
		CardNumber: "DN4010123456789", Holder: An.Name, BirthDate: An.BirthDate, Sex: An.Sex,
		ValidFrom: patient.Date{Year: 2026, Month: 1, Day: 1}, ValidTo: patient.Date{Year: 2026, Month: 12, Day: 31},
		RegisteredFacility: "01043", FacilityName: "Bệnh viện Đa khoa Đống Đa", AreaCode: "K1",
		FiveYearDate: patient.Date{Year: 2027, Month: 3, Day: 1}, BenefitLevel: 4, BenefitPercent: 80,
		Source: patient.SourceLive, CheckedAt: Now, Latency: 420 * time.Millisecond, Visits: visits(),
	}
}

func result(kind events.Kind, id string, ident patient.Identity, e patient.Eligibility) Step {
	return Step{kind, events.Result{CheckID: id, Identity: ident, Eligibility: e}}
}

func present(id string, ident patient.Identity) []Step {
	return []Step{
		{events.CardPresented, events.Presented{CheckID: id, Medium: ident.Medium}},
		{events.IdentityRead, events.Identity{CheckID: id, Identity: ident}},
	}
}

func join(parts ...[]Step) []Step {
	var out []Step
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// All returns every scene, verdict states first.
func All() []Scene {
	cached := eligibleAn()
	cached.Source, cached.CheckedAt, cached.Latency, cached.Visits = patient.SourceCache, Now.Add(-2*time.Hour-10*time.Minute), 0, nil
	cached.NextVI = "Tiếp nhận BHYT theo kết quả lưu; tiepdon tự kiểm tra lại với cổng và báo ngay nếu kết quả khác."
	cached.NextEN = "Admit under BHYT on the cached answer; tiepdon re-checks with the gateway and tells you at once if it differs."
	binh := cached
	binh.CardNumber, binh.Holder, binh.BirthDate, binh.Sex = "GD4797912345678", Binh.Name, Binh.BirthDate, Binh.Sex
	binh.RegisteredFacility, binh.FacilityName = "79024", "Bệnh viện Chợ Rẫy"

	newCard := eligibleAn()
	newCard.Code = "004"
	newCard.ReasonVI = "Thẻ cũ còn giá trị sử dụng, đã được cấp thẻ mới."
	newCard.ReasonEN = "The old card is still valid; a new card has been issued."
	newCard.NextVI = "Tiếp nhận BHYT theo thẻ mới; ghi mã thẻ mới vào hồ sơ."
	newCard.NextEN = "Admit under BHYT with the new card; put the new card number on the record."
	newCard.NewCard = &patient.NewCard{CardNumber: "DN4010123456790", ValidFrom: patient.Date{Year: 2026, Month: 12, Day: 1}, ValidTo: patient.Date{Year: 2027, Month: 11, Day: 30}}

	docs := patient.Eligibility{
		Verdict: patient.CheckDocuments, Code: "001",
		ReasonVI:   "Thẻ BHYT do BHXH Bộ Quốc phòng quản lý: kiểm tra thẻ BHYT và giấy tờ tuỳ thân.",
		ReasonEN:   "Card managed by the Ministry of Defence social insurance: check the card and ID papers.",
		NextVI:     "Xem thẻ BHYT và giấy tờ tùy thân; nếu khớp, tiếp nhận BHYT theo quy định của cơ sở.",
		NextEN:     "Look at the BHYT card and ID; if they match, admit under BHYT as the facility's rules say.",
		CardNumber: Cuong.CardNumber, Source: patient.SourceLive, CheckedAt: Now, Latency: 380 * time.Millisecond,
	}
	expired := patient.Eligibility{
		Verdict: patient.NotEligible, Code: "010", ReasonVI: "Thẻ BHYT hết giá trị sử dụng (hết hạn 31/10/2026).",
		ReasonEN: "The BHYT card has expired (on 31/10/2026).", CardNumber: "HT3790112233445", Holder: Dung.Name,
		NextVI:    "Báo người bệnh thẻ đã hết hạn: tiếp nhận khám dịch vụ (không BHYT) hoặc hỏi thẻ mới.",
		NextEN:    "Tell the patient the card has expired: admit as a paying patient, or ask for a newer card.",
		BirthDate: Dung.BirthDate, Sex: patient.Female, ValidFrom: patient.Date{Year: 2025, Month: 11, Day: 1},
		ValidTo: patient.Date{Year: 2026, Month: 10, Day: 31}, RegisteredFacility: "01043", FacilityName: "Bệnh viện Đa khoa Đống Đa",
		BenefitLevel: 3, BenefitPercent: 95, Source: patient.SourceLive, CheckedAt: Now, Latency: 510 * time.Millisecond,
	}
	mismatch := patient.Eligibility{
		Verdict: patient.InputMismatch, Code: "060", Field: "name",
		ReasonVI: "Họ tên không khớp với thẻ BHYT.", ReasonEN: "The name does not match the BHYT card.",
		NextVI: "Hỏi lại họ tên đầy đủ, có dấu, đúng như trên CCCD; sửa ô Họ tên rồi kiểm tra lại (F5).",
		NextEN: "Ask for the full name with its diacritics, exactly as on the ID card; correct the name and check again (F5).",
		Source: patient.SourceLive, CheckedAt: Now, Latency: 300 * time.Millisecond,
	}
	typo := Dung
	typo.Name = "Phạm Thi Dung"
	staff := patient.Eligibility{
		Verdict: patient.StaffProblem, Code: "054",
		ReasonVI: "Số CCCD của cán bộ tra cứu chưa có trong danh sách BHXH: đăng nhập ca lại hoặc báo IT.",
		ReasonEN: "The staff CCCD is not on the gateway's list: sign in again or call IT.",
		NextVI:   "Lỗi của ca làm việc, không phải của người bệnh: bấm “Đăng nhập lại” bằng CCCD đã đăng ký, hoặc báo IT đăng ký cán bộ với BHXH.",
		NextEN:   "A sign-in problem, not the patient's: press “Sign in again” with the registered CCCD, or ask IT to register the staff member with BHXH.",
		Source:   patient.SourceLive, CheckedAt: Now,
	}
	unavailable := patient.Eligibility{
		Verdict:  patient.Unavailable,
		ReasonVI: "Không kết nối được cổng BHXH và chưa có kết quả lưu; sẽ tự kiểm tra lại khi cổng hoạt động.",
		ReasonEN: "The BHXH gateway is unreachable and nothing is cached; tiepdon will re-check when it is back.",
		NextVI:   "Tiếp nhận tạm theo thẻ và giấy tờ tùy thân; tiepdon tự kiểm tra lại và báo ngay khi cổng trả lời.",
		NextEN:   "Admit provisionally on the card and ID; tiepdon re-checks by itself and tells you as soon as the gateway answers.",
		Source:   patient.SourceNone, CheckedAt: Now,
	}
	lateBinh := binh
	lateBinh.Source, lateBinh.CheckedAt = patient.SourceLive, Now
	online, offline := Status(events.GatewayOnline), Status(events.GatewayOffline)
	return []Scene{
		{Name: "idle", Steps: online, Describe: "waiting for a patient"},
		{Name: "reading", Steps: join(online, []Step{
			{events.CardPresented, events.Presented{CheckID: "c1", Medium: patient.MediumChip}},
			{events.CardProgress, events.Progress{CheckID: "c1", Step: "dg2", Percent: 60}},
		}), Describe: "a chip being read"},
		{Name: "eligible", Verdict: patient.Eligible, Steps: join(online, present("c1", An),
			[]Step{result(events.EligibilityResult, "c1", An, eligibleAn())}), Describe: "chip, verified, live answer"},
		{Name: "eligible-cached", Verdict: patient.Eligible, Steps: join(offline, present("c2", Binh),
			[]Step{result(events.EligibilityResult, "c2", Binh, binh)}), Describe: "QR, gateway offline, cached answer"},
		{Name: "eligible-newcard", Verdict: patient.Eligible, Steps: join(online, present("c3", An),
			[]Step{result(events.EligibilityResult, "c3", An, newCard)}), Describe: "code 004, new card issued"},
		{Name: "check-documents", Verdict: patient.CheckDocuments, Steps: join(online, present("c4", Cuong),
			[]Step{result(events.EligibilityResult, "c4", Cuong, docs)}), Describe: "code 001, army card"},
		{Name: "not-eligible", Verdict: patient.NotEligible, Steps: join(online, present("c5", Dung),
			[]Step{result(events.EligibilityResult, "c5", Dung, expired)}), Describe: "code 010, expired"},
		{Name: "input-mismatch", Verdict: patient.InputMismatch, Steps: join(online, present("c6", typo),
			[]Step{result(events.EligibilityResult, "c6", typo, mismatch)}), Describe: "code 060, wrong name typed"},
		{Name: "staff-problem", Verdict: patient.StaffProblem, Steps: join(online, present("c7", Binh),
			[]Step{result(events.EligibilityResult, "c7", Binh, staff)}), Describe: "code 054, staff not registered"},
		{Name: "unavailable", Verdict: patient.Unavailable, Steps: join(offline, present("c8", Binh),
			[]Step{result(events.EligibilityResult, "c8", Binh, unavailable)}), Describe: "offline, nothing cached"},
		{Name: "read-failed", Steps: join(online, []Step{
			{events.CardPresented, events.Presented{CheckID: "c9", Medium: patient.MediumQRCCCD, Device: "/dev/ttyACM0"}},
			{events.ReadFailed, events.Failure{CheckID: "c9", Medium: patient.MediumQRCCCD, Device: "/dev/ttyACM0", Code: "scan-truncated", Reason: "scan cut short: scan the card again: CCCD QR has 4 of 7 fields"}},
		}), Describe: "a truncated QR"},
		{Name: "can-required", Steps: join(online, []Step{
			{events.CardPresented, events.Presented{CheckID: "c10", Medium: patient.MediumChip}},
			{events.Alert, events.AlertData{CheckID: "c10", Code: "can-required", Message: "chip needs the CAN"}},
		}), Describe: "chip tapped without a QR scan: last 6 digits asked"},
		{Name: "alert-mismatch", Verdict: patient.Eligible, Steps: join(online, present("c11", An),
			[]Step{result(events.EligibilityResult, "c11", An, eligibleAn()),
				{events.Alert, events.AlertData{CheckID: "c11", Code: "qr-chip-mismatch", Message: "QR and chip disagree"}}}),
			Describe: "QR and chip disagree"},
		{Name: "pairing", Steps: join(online, []Step{
			{events.PairingRequested, events.Pairing{ID: "p1", Origin: "https://his.benhvien-dongda.vn", Code: "482913",
				Name: "HIS Đống Đa", Scopes: []string{"eligibility", "identity"}, Expires: Now.Add(105 * time.Second)}},
		}), Describe: "an HIS app asks to pair"},
		{Name: "late-result", Verdict: patient.Eligible, Steps: join(offline, present("c8", Binh),
			[]Step{result(events.EligibilityResult, "c8", Binh, unavailable)}, present("c1", An),
			[]Step{result(events.EligibilityResult, "c1", An, eligibleAn()), result(events.EligibilityUpdated, "c8", Binh, lateBinh)}),
			Describe: "the gateway came back: a late answer for a patient sent away without a result, while another is on screen"},
		{Name: "eligible-en", Lang: "en", Verdict: patient.Eligible, Steps: join(online, present("c1", An),
			[]Step{result(events.EligibilityResult, "c1", An, eligibleAn())}), Describe: "the eligible state in English"},
	}
}

// Photo returns a synthetic portrait (PNG, 240×320): a drawn head and
// shoulders on the light-blue background of CCCD photos. No real face.
func Photo() []byte {
	const w, h = 240, 320
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	bg := color.NRGBA{0xdc, 0xe9, 0xf5, 0xff}
	skin := color.NRGBA{0xe8, 0xbf, 0x9c, 0xff}
	hair := color.NRGBA{0x22, 0x1a, 0x15, 0xff}
	shirt := color.NRGBA{0xf4, 0xf4, 0xf4, 0xff}
	in := func(x, y, cx, cy, rx, ry float64) bool {
		dx, dy := (x-cx)/rx, (y-cy)/ry
		return dx*dx+dy*dy <= 1
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			fx, fy := float64(x), float64(y)
			c := bg
			switch {
			case in(fx, fy, 120, 330, 115, 90):
				c = shirt
			case in(fx, fy, 120, 240, 28, 40) && fy > 215:
				c = skin // neck
			case in(fx, fy, 120, 118, 66, 80) && fy < 95:
				c = hair
			case in(fx, fy, 120, 140, 58, 76):
				c = skin
				if in(fx, fy, 98, 130, 7, 5) || in(fx, fy, 142, 130, 7, 5) {
					c = hair // eyes
				}
				if math.Abs(fy-185) < 2.5 && math.Abs(fx-120) < 16 {
					c = color.NRGBA{0xa0, 0x50, 0x50, 0xff} // mouth
				}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}
