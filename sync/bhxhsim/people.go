package bhxhsim

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers/cccd"
)

// Person is one synthetic insured person. Every field is derived from the
// simulator's seed and the person's index, so the same seed always gives the
// same population.
type Person struct {
	Index     int               `json:"index"`
	CitizenID patient.CitizenID `json:"citizenId"`
	OldID     string            `json:"oldId,omitempty"` // 9-digit CMND, for people who had one
	Name      patient.Name      `json:"name"`
	BirthDate patient.Date      `json:"birthDate"` // year only for some elderly people
	Sex       patient.Sex       `json:"sex"`
	Address   string            `json:"address"`
	IssueDate patient.Date      `json:"issueDate"` // of the CCCD

	CardNumber            patient.CardNumber `json:"cardNumber"` // 15 characters, as printed
	SocialInsuranceNumber string             `json:"socialInsuranceNumber"`
	Facility              string             `json:"facility"` // maDKBD
	FacilityName          string             `json:"facilityName"`
	Office                string             `json:"office"` // cqBHXH
	ValidFrom             patient.Date       `json:"validFrom"`
	ValidTo               patient.Date       `json:"validTo"`
	FiveYearDate          patient.Date       `json:"fiveYearDate,omitzero"`
	AreaCode              string             `json:"areaCode,omitempty"`

	// Code is what the gateway answers about this person when asked with
	// their own card number (or social-insurance number, or citizen ID),
	// name and date of birth.
	Code    string           `json:"code"`
	NewCard *patient.NewCard `json:"newCard,omitempty"` // codes 003 and 004
	// RecordName and RecordBirthDate are what the gateway's records hold
	// when they differ from the person's documents (codes 060, 061, 070).
	RecordName      patient.Name `json:"recordName,omitempty"`
	RecordBirthDate patient.Date `json:"recordBirthDate,omitzero"`
}

// Identity returns the person as a CCCD QR scan would present them.
func (p Person) Identity() patient.Identity {
	return patient.Identity{
		Medium: patient.MediumQRCCCD, CitizenID: p.CitizenID, OldID: p.OldID, Name: p.Name,
		BirthDate: p.BirthDate, Sex: p.Sex, Address: p.Address, IssueDate: p.IssueDate,
		Authenticity: patient.Authenticity{Level: patient.Unverified},
	}
}

// Query returns the gateway query for the person with every identifier.
func (p Person) Query() patient.Query {
	return patient.Query{CardNumber: p.CardNumber, SocialInsuranceNumber: p.SocialInsuranceNumber,
		CitizenID: p.CitizenID, Name: p.Name, BirthDate: p.BirthDate}
}

// CCCDQR returns the QR payload printed on the person's citizen-ID card:
// ID|oldID|Name|ddMMyyyy|Nam/Nữ|Address|ddMMyyyy.
func (p Person) CCCDQR() string { return cccd.QRPayload(p.Identity()) }

// BHYTQR returns the QR payload of the person's paper BHYT card
// (docs/sources.md §4.2): names and address hex-encoded, "$" at the end.
// Field 13 is random-looking, as on real cards.
func (p Person) BHYTQR() string {
	sexCode := "1"
	if p.Sex == patient.Female {
		sexCode = "2"
	}
	five := "-"
	if !p.FiveYearDate.IsZero() {
		five = p.FiveYearDate.String()
	}
	r := rand.New(rand.NewPCG(uint64(p.Index), 13))
	fields := []string{
		string(p.CardNumber),
		hex.EncodeToString([]byte(p.Name)),
		p.BirthDate.String(),
		sexCode,
		hex.EncodeToString([]byte(p.Address)),
		p.Facility[:2] + " - " + p.Facility[2:],
		p.ValidFrom.String(),
		p.ValidTo.String(),
		p.ValidFrom.String(),
		p.Facility[:2] + fmt.Sprintf("%02d", p.Index%100) + p.SocialInsuranceNumber,
		"-",
		"4",
		five,
		fmt.Sprintf("%x-%04d", r.Uint64()>>4, reverseYear(p.ValidFrom.Year)),
		"$",
	}
	return strings.Join(fields, "|")
}

func reverseYear(y int) int {
	s := fmt.Sprintf("%04d", y)
	return int(s[3]-'0')*1000 + int(s[2]-'0')*100 + int(s[1]-'0')*10 + int(s[0]-'0')
}

// compact writes a date as the CCCD QR does: ddMMyyyy, MMyyyy or yyyy.
type province struct {
	bhyt, cccd, name string
}

var provinces = []province{
	{"01", "001", "Thành phố Hà Nội"}, {"79", "079", "Thành phố Hồ Chí Minh"}, {"48", "048", "Thành phố Đà Nẵng"},
	{"31", "031", "Thành phố Hải Phòng"}, {"92", "092", "Thành phố Cần Thơ"}, {"46", "046", "Thành phố Huế"},
	{"38", "038", "Tỉnh Thanh Hóa"}, {"40", "040", "Tỉnh Nghệ An"}, {"75", "075", "Tỉnh Đồng Nai"},
	{"56", "056", "Tỉnh Khánh Hòa"}, {"66", "066", "Tỉnh Đắk Lắk"}, {"22", "022", "Tỉnh Quảng Ninh"},
	{"36", "036", "Tỉnh Ninh Bình"}, {"89", "089", "Tỉnh An Giang"}, {"52", "052", "Tỉnh Gia Lai"},
	{"26", "026", "Tỉnh Phú Thọ"},
}

var (
	families = nfc("Nguyễn", "Nguyễn", "Nguyễn", "Trần", "Trần", "Lê", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan",
		"Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Trương", "Lâm", "Mai")
	middlesM = nfc("Văn", "Hữu", "Đức", "Minh", "Quang", "Xuân", "Thành", "Công", "Gia", "Anh", "Trọng", "Đình")
	middlesF = nfc("Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Kim", "Bảo", "Khánh", "Mỹ", "Hồng", "Diệu")
	givenM   = nfc("An", "Bình", "Cường", "Dũng", "Đạt", "Giang", "Hải", "Hiếu", "Hoàng", "Hùng", "Huy", "Khải",
		"Khoa", "Long", "Mạnh", "Nam", "Nghĩa", "Phong", "Phúc", "Quân", "Sơn", "Tâm", "Thắng", "Thịnh",
		"Trung", "Tuấn", "Việt", "Vinh", "Lộc", "Đông", "Tùng", "Khôi")
	givenF = nfc("An", "Anh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa", "Hương", "Huyền",
		"Lan", "Linh", "Loan", "Mai", "My", "Nga", "Ngân", "Nhung", "Oanh", "Phương", "Quỳnh", "Thảo",
		"Thủy", "Trang", "Trâm", "Uyên", "Vân", "Vy", "Yến", "Ánh")
	streets = nfc("Lê Lợi", "Trần Hưng Đạo", "Nguyễn Trãi", "Hai Bà Trưng", "Lý Thường Kiệt", "Phan Đình Phùng",
		"Điện Biên Phủ", "Nguyễn Huệ", "Hùng Vương", "Quang Trung", "Lê Duẩn", "Võ Thị Sáu", "Bạch Đằng",
		"Nguyễn Văn Cừ", "Trường Chinh", "Cách Mạng Tháng Tám")
	wards = nfc("Phường Bến Nghé", "Phường Tân Định", "Phường Hàng Bạc", "Phường Cửa Nam", "Phường An Hải",
		"Phường Thạch Thang", "Phường Vĩnh Ninh", "Xã Tân Phú", "Xã Hòa Bình", "Phường Lộc Thọ",
		"Phường Ngọc Hà", "Xã Yên Sở", "Phường Tân Phong", "Phường Hưng Phú")
)

func nfc(s ...string) []string {
	for i := range s {
		s[i] = norm.NFC.String(s[i])
	}
	return s
}

// Object codes (the card's first two characters) by benefit level
// (docs/sources.md §3).
var objects = map[byte][]string{
	'1': {"TE", "CC"},
	'2': {"HN", "CB", "KC", "DT", "BT", "CK"},
	'3': {"HT", "CN", "TC"},
	'4': {"DN", "HC", "GD", "HS", "SV", "HX", "NN", "TK", "CH"},
	'5': {"QN", "CA", "CY"},
}

// Showcase is the order of the first people in every population: person i
// (for i < len(Showcase)) answers Showcase[i]. The rest of the population
// is mostly 000 with the other codes mixed in.
var Showcase = []string{
	"000", "003", "004", "001", "002", "010", "050", "051", "052", "053", "060", "061", "070",
	"100", "101", "110", "120", "121", "122", "123", "124", "130", "205", "500", "080", "090",
}

// Affine maps that hide a person's index inside their numbers, so that the
// simulator finds a person from any of them without an index in memory.
const (
	sinMod  = 100_000_000 // last 8 digits of the social-insurance number
	sinMul  = 48_271
	cccdMod = 1_000_000 // last 6 digits of the CCCD
	cccdMul = 7_919
)

var (
	sinInv  = modInverse(sinMul, sinMod)
	cccdInv = modInverse(cccdMul, cccdMod)
)

func modInverse(a, m int64) int64 {
	// Extended Euclid; a and m are coprime by construction.
	t, newT, r, newR := int64(0), int64(1), m, a
	for newR != 0 {
		q := r / newR
		t, newT = newT, t-q*newT
		r, newR = newR, r-q*newR
	}
	if t < 0 {
		t += m
	}
	return t
}

func (s *Sim) sinOffset() int64  { return int64(uint64(s.o.Seed)*2654435761) % sinMod }
func (s *Sim) cccdOffset() int64 { return int64(uint64(s.o.Seed)*40503) % cccdMod }

// indexFromSIN returns the person index hidden in a social-insurance
// number, or -1.
func (s *Sim) indexFromSIN(sin string) int {
	if len(sin) != 10 || !digits(sin) {
		return -1
	}
	x := int64(atoi(sin[2:]))
	i := ((x - s.sinOffset() + sinMod) % sinMod) * sinInv % sinMod
	if i >= int64(s.o.Size) {
		return -1
	}
	return int(i)
}

func (s *Sim) indexFromCCCD(id string) int {
	if len(id) != 12 || !digits(id) {
		return -1
	}
	x := int64(atoi(id[6:]))
	i := ((x - s.cccdOffset() + cccdMod) % cccdMod) * cccdInv % cccdMod
	if i >= int64(s.o.Size) {
		return -1
	}
	return int(i)
}

// Person returns person i (0 ≤ i < Size) of the population.
func (s *Sim) Person(i int) Person {
	r := rand.New(rand.NewPCG(uint64(s.o.Seed), uint64(i)*0x9E3779B97F4A7C15+1))
	today := s.o.Now().UTC()
	year := today.Year()

	code := ""
	if i < len(Showcase) {
		code = Showcase[i]
	} else {
		switch u := r.Float64(); {
		case u < 0.03:
			code = "004"
		case u < 0.05:
			code = "003"
		case u < 0.08:
			code = "010"
		case u < 0.085:
			code = "110"
		case u < 0.09:
			code = []string{"120", "121", "122", "123", "124"}[r.IntN(5)]
		case u < 0.095:
			code = "001"
		case u < 0.10:
			code = "002"
		case u < 0.105:
			code = "060"
		case u < 0.11:
			code = "070"
		case u < 0.115:
			code = "130"
		default:
			code = "000"
		}
	}

	p := Person{Index: i, Code: code}
	prov := provinces[r.IntN(len(provinces))]
	female := r.IntN(2) == 1

	// Age: children for 130, working age mostly, some elderly.
	var age int
	switch {
	case code == "130":
		age = r.IntN(6)
	default:
		switch u := r.Float64(); {
		case u < 0.15:
			age = r.IntN(18)
		case u < 0.75:
			age = 18 + r.IntN(42)
		default:
			age = 60 + r.IntN(35)
		}
	}
	birth := time.Date(year-age, time.January, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -r.IntN(365))
	p.BirthDate = patient.DateOf(birth)
	if birth.Year() < 1950 && r.IntN(4) == 0 && code != "070" {
		p.BirthDate = patient.Date{Year: birth.Year()} // documents show only the year
	}

	// Name with diacritics.
	fam := families[r.IntN(len(families))]
	if female {
		p.Sex = patient.Female
		p.Name = patient.Name(fam + " " + middlesF[r.IntN(len(middlesF))] + " " + givenF[r.IntN(len(givenF))])
	} else {
		p.Sex = patient.Male
		p.Name = patient.Name(fam + " " + middlesM[r.IntN(len(middlesM))] + " " + givenM[r.IntN(len(givenM))])
	}

	// CCCD: province (3), century and sex (1), year (2), then 6 digits
	// that hide the index.
	century := 0
	if birth.Year() >= 2000 {
		century = 2
	}
	if female {
		century++
	}
	tail := (int64(i)*cccdMul + s.cccdOffset()) % cccdMod
	p.CitizenID = patient.CitizenID(fmt.Sprintf("%s%d%02d%06d", prov.cccd, century, birth.Year()%100, tail))
	if age >= 25 && r.IntN(10) < 6 {
		p.OldID = fmt.Sprintf("%09d", r.IntN(1_000_000_000))
	}
	p.IssueDate = patient.DateOf(time.Date(2021+r.IntN(4), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC))
	p.Address = fmt.Sprintf("Số %d đường %s, %s, %s", 1+r.IntN(300), streets[r.IntN(len(streets))], wards[r.IntN(len(wards))], prov.name)

	// Card: object code and benefit level by age and code.
	level := byte('4')
	switch {
	case code == "001" || code == "002":
		level = '5'
	case age < 6:
		level = '1'
	case age >= 60 && r.IntN(3) > 0:
		level = '3'
	case r.IntN(10) == 0:
		level = '2'
	}
	obj := objects[level][r.IntN(len(objects[level]))]
	switch {
	case code == "001":
		obj = "QN"
	case code == "002":
		obj = "CA"
	case age < 6:
		obj = "TE"
	case age < 18 && level == '4':
		obj = "HS"
	case age >= 60 && level == '3':
		obj = "HT"
	}
	sinTail := (int64(i)*sinMul + s.sinOffset()) % sinMod
	p.SocialInsuranceNumber = fmt.Sprintf("%s%08d", prov.bhyt, sinTail)
	p.CardNumber = patient.CardNumber(fmt.Sprintf("%s%c%s%s", obj, level, prov.bhyt, p.SocialInsuranceNumber))
	p.Facility = fmt.Sprintf("%s%03d", prov.bhyt, 1+r.IntN(120))
	p.FacilityName = fmt.Sprintf("Bệnh viện đa khoa khu vực %d, %s", 1+r.IntN(9), prov.name)
	p.Office = "Bảo hiểm xã hội " + strings.TrimPrefix(strings.TrimPrefix(prov.name, "Thành phố "), "Tỉnh ")
	p.ValidFrom = patient.Date{Year: year, Month: 1, Day: 1}
	p.ValidTo = patient.Date{Year: year, Month: 12, Day: 31}
	if r.IntN(3) == 0 {
		p.ValidTo = patient.Date{Year: year + 1, Month: 12, Day: 31}
	}
	if y := year - 5 - r.IntN(10); age > 25 && r.IntN(2) == 0 {
		p.FiveYearDate = patient.Date{Year: y + 5, Month: 1 + r.IntN(12), Day: 1}
	}
	if r.IntN(30) == 0 {
		p.AreaCode = []string{"K1", "K2", "K3"}[r.IntN(3)]
	}

	switch code {
	case "010", "110", "120", "121", "122", "123", "124":
		p.ValidFrom = patient.Date{Year: year - 1, Month: 1, Day: 1}
		p.ValidTo = patient.Date{Year: year - 1, Month: 12, Day: 31}
	case "003", "004":
		newLevel := level
		newObj := obj
		for newObj == obj {
			newLevel = []byte("1234")[r.IntN(4)]
			newObj = objects[newLevel][r.IntN(len(objects[newLevel]))]
		}
		nc := &patient.NewCard{
			CardNumber:         patient.CardNumber(fmt.Sprintf("%s%c%s%s", newObj, newLevel, prov.bhyt, p.SocialInsuranceNumber)),
			ValidFrom:          patient.Date{Year: year, Month: 1, Day: 1},
			ValidTo:            patient.Date{Year: year + 1, Month: 12, Day: 31},
			RegisteredFacility: p.Facility,
			FacilityName:       p.FacilityName,
		}
		if code == "003" {
			p.ValidFrom = patient.Date{Year: year - 1, Month: 1, Day: 1}
			p.ValidTo = patient.Date{Year: year - 1, Month: 12, Day: 31}
		}
		p.NewCard = nc
	case "060":
		// The gateway's record spells the family name differently, from
		// its first letter on.
		words := strings.Fields(string(p.Name))
		if strings.HasPrefix(words[0], "T") {
			words[0] = "Lê"
		} else {
			words[0] = "Tạ"
		}
		p.RecordName = patient.Name(strings.Join(words, " "))
	case "061":
		words := strings.Fields(string(p.Name))
		last := len(words) - 1
		if words[last] == "Anh" {
			words[last] = "An"
		} else {
			words[last] = "Anh"
		}
		p.RecordName = patient.Name(strings.Join(words, " "))
	case "070":
		p.RecordBirthDate = patient.DateOf(birth.AddDate(0, 0, 1+r.IntN(300)))
	}
	return p
}

// People returns the whole population in index order. With the default
// size it takes a fraction of a second; prefer Person(i) or Find for single
// people.
func (s *Sim) People() []Person {
	out := make([]Person, s.o.Size)
	for i := range out {
		out[i] = s.Person(i)
	}
	return out
}

// Example returns the first person whose Code is code, or false if the
// first 10,000 people have none.
func (s *Sim) Example(code string) (Person, bool) {
	for i := 0; i < s.o.Size && i < 10_000; i++ {
		if p := s.Person(i); p.Code == code {
			return p, true
		}
	}
	return Person{}, false
}

// Find returns the person a maThe value (15-character card number, old or
// new; 10-digit social-insurance number; 12-digit CCCD) belongs to.
func (s *Sim) Find(maThe string) (Person, bool) {
	var i int
	switch len(maThe) {
	case 15:
		i = s.indexFromSIN(maThe[5:])
	case 10:
		i = s.indexFromSIN(maThe)
	case 12:
		i = s.indexFromCCCD(maThe)
	default:
		return Person{}, false
	}
	if i < 0 {
		return Person{}, false
	}
	p := s.Person(i)
	switch maThe {
	case string(p.CardNumber), p.SocialInsuranceNumber, string(p.CitizenID):
		return p, true
	}
	if p.NewCard != nil && maThe == string(p.NewCard.CardNumber) {
		return p, true
	}
	if len(maThe) == 15 {
		return p, true // right person, wrong card characters: the caller tells 051–053 apart
	}
	return Person{}, false
}

func digits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func atoi(s string) int {
	n := 0
	for _, c := range []byte(s) {
		n = n*10 + int(c-'0')
	}
	return n
}
