package bhxh

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/tiepdon/tiepdon/agent/patient"
)

// text is a JSON value the gateway sends as a string, a number or null. The
// gateway's .NET back end is not consistent (maKetQua "000" or 0, maHoSo a
// string or a number), so every field is read through it.
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*t = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(strings.TrimSpace(s))
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*t = text(n.String())
	case string(b) == "true" || string(b) == "false":
		*t = text(b)
	default:
		// An object or array where a scalar belongs: ignore it rather
		// than lose the whole answer.
		*t = ""
	}
	return nil
}

// loginResponse is the body of /api/token/take.
type loginResponse struct {
	MaKetQua text `json:"maKetQua"`
	APIKey   *struct {
		AccessToken text `json:"access_token"`
		IDToken     text `json:"id_token"`
		TokenType   text `json:"token_type"`
		Username    text `json:"username"`
		ExpiresIn   text `json:"expires_in"`
	} `json:"APIKey"`
}

// checkResponse is the body of KQNhanLichSuKCB2024 (docs/sources.md §1.6).
type checkResponse struct {
	MaKetQua    text `json:"maKetQua"`
	GhiChu      text `json:"ghiChu"`
	MaThe       text `json:"maThe"`
	HoTen       text `json:"hoTen"`
	NgaySinh    text `json:"ngaySinh"`
	GioiTinh    text `json:"gioiTinh"`
	DiaChi      text `json:"diaChi"`
	MaDKBD      text `json:"maDKBD"`
	TenDKBD     text `json:"tenDKBD"`
	CqBHXH      text `json:"cqBHXH"`
	GtTheTu     text `json:"gtTheTu"`
	GtTheDen    text `json:"gtTheDen"`
	MaKV        text `json:"maKV"`
	NgayDu5Nam  text `json:"ngayDu5Nam"`
	MaSoBHXH    text `json:"maSoBHXH"`
	MaTheCu     text `json:"maTheCu"`
	MaTheMoi    text `json:"maTheMoi"`
	GtTheTuMoi  text `json:"gtTheTuMoi"`
	GtTheDenMoi text `json:"gtTheDenMoi"`
	MaDKBDMoi   text `json:"maDKBDMoi"`
	TenDKBDMoi  text `json:"tenDKBDMoi"`
}

// visitsResponse is the body of Lskcb2025.
type visitsResponse struct {
	MaKetQua text `json:"maKetQua"`
	GhiChu   text `json:"ghiChu"`
	Visits   []struct {
		MaHoSo    text `json:"maHoSo"`
		MaCSKCB   text `json:"maCSKCB"`
		NgayVao   text `json:"ngayVao"`
		NgayRa    text `json:"ngayRa"`
		TenBenh   text `json:"tenBenh"`
		TinhTrang text `json:"tinhTrang"`
		KqDieuTri text `json:"kqDieuTri"`
		LyDoVV    text `json:"lyDoVV"`
	} `json:"dsLichSuKCB2025"`
}

// ErrBadResponse is wrapped by errors for gateway bodies that are not the
// JSON we expect (garbage, HTML error pages, truncated bodies).
var ErrBadResponse = errors.New("gateway answer not understood")

// decode reads a gateway JSON body into v. It tolerates a UTF-8 byte-order
// mark and a body that is itself a JSON string holding the JSON (seen from
// .NET services that serialise twice).
func decode(b []byte, v any) error {
	b = bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
	if len(b) > 0 && b[0] == '"' {
		var inner string
		if err := json.Unmarshal(b, &inner); err == nil {
			b = bytes.TrimSpace([]byte(inner))
		}
	}
	if len(b) == 0 || b[0] != '{' {
		return fmt.Errorf("%w: not a JSON object", ErrBadResponse)
	}
	if err := json.Unmarshal(b, v); err != nil {
		// The cause may quote the body; keep only its kind.
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fmt.Errorf("%w: JSON syntax error at byte %d", ErrBadResponse, se.Offset)
		}
		return fmt.Errorf("%w: unexpected JSON shape", ErrBadResponse)
	}
	return nil
}

// DecodeCheck reads a KQNhanLichSuKCB2024 answer into the typed form. The
// verdict and reasons come from Policy; Source, CheckedAt and Latency are
// left for the caller. It is exported for tests and tools that replay
// recorded answers.
func DecodeCheck(body []byte) (patient.Eligibility, error) {
	var r checkResponse
	if err := decode(body, &r); err != nil {
		return patient.Eligibility{}, err
	}
	if r.MaKetQua == "" {
		return patient.Eligibility{}, fmt.Errorf("%w: no maKetQua", ErrBadResponse)
	}
	return r.eligibility(), nil
}

func (r checkResponse) eligibility() patient.Eligibility {
	code := normCode(string(r.MaKetQua))
	rule := RuleFor(code)
	e := patient.Eligibility{
		Verdict:               rule.Verdict,
		Code:                  code,
		ReasonVI:              rule.ReasonVI,
		ReasonEN:              rule.ReasonEN,
		NextVI:                rule.NextVI,
		NextEN:                rule.NextEN,
		Field:                 rule.Field,
		CardNumber:            patient.CardNumber(strings.ToUpper(string(r.MaThe))),
		Holder:                patient.Name(norm.NFC.String(string(r.HoTen))),
		BirthDate:             date(r.NgaySinh),
		Sex:                   sex(string(r.GioiTinh)),
		Address:               norm.NFC.String(string(r.DiaChi)),
		ValidFrom:             date(r.GtTheTu),
		ValidTo:               date(r.GtTheDen),
		RegisteredFacility:    string(r.MaDKBD),
		FacilityName:          norm.NFC.String(string(r.TenDKBD)),
		IssuingOffice:         norm.NFC.String(string(r.CqBHXH)),
		AreaCode:              string(r.MaKV),
		FiveYearDate:          date(r.NgayDu5Nam),
		SocialInsuranceNumber: string(r.MaSoBHXH),
		Note:                  norm.NFC.String(string(r.GhiChu)),
	}
	if e.SocialInsuranceNumber == "" && len(e.CardNumber) == 15 && digitsOnly(string(e.CardNumber[5:])) {
		e.SocialInsuranceNumber = string(e.CardNumber[5:])
	}
	e.BenefitLevel, e.BenefitPercent = Benefit(e.CardNumber)
	if r.MaTheMoi != "" {
		e.NewCard = &patient.NewCard{
			CardNumber:         patient.CardNumber(strings.ToUpper(string(r.MaTheMoi))),
			ValidFrom:          date(r.GtTheTuMoi),
			ValidTo:            date(r.GtTheDenMoi),
			RegisteredFacility: string(r.MaDKBDMoi),
			FacilityName:       norm.NFC.String(string(r.TenDKBDMoi)),
		}
	}
	return e
}

// normCode turns "0", "00", 0 or " 000 " into "000": some clients and proxies
// pass maKetQua as a number.
func normCode(s string) string {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n < 1000 {
		return fmt.Sprintf("%03d", n)
	}
	return s
}

// date reads a gateway date: dd/MM/yyyy, MM/yyyy or yyyy, possibly followed
// by a time. Anything else is treated as absent.
func date(t text) patient.Date {
	s := string(t)
	if i := strings.IndexAny(s, " T"); i > 0 {
		s = s[:i]
	}
	d, err := patient.ParseDate(s)
	if err != nil {
		return patient.Date{}
	}
	return d
}

// sex reads "Nam"/"Nữ" (any case, composed or not) or the 1/2 codes.
func sex(s string) patient.Sex {
	switch strings.ToLower(norm.NFC.String(strings.TrimSpace(s))) {
	case "nam", "1", "m", "male":
		return patient.Male
	case "nữ", "nu", "2", "f", "female":
		return patient.Female
	}
	return patient.SexUnknown
}

// vnZone is Vietnam's time zone (UTC+7, no daylight saving), in which the
// gateway writes visit times.
var vnZone = time.FixedZone("ICT", 7*3600)

// stamp reads a visit time yyyyMMddHHmm (or yyyyMMdd).
func stamp(t text) time.Time {
	s := string(t)
	for _, layout := range []string{"200601021504", "20060102150405", "20060102", "02/01/2006 15:04", "02/01/2006"} {
		if len(s) == len(layout) {
			if v, err := time.ParseInLocation(layout, s, vnZone); err == nil {
				return v
			}
		}
	}
	return time.Time{}
}

var (
	visitStatus  = map[string]string{"1": "Ra viện", "2": "Chuyển viện", "3": "Trốn viện", "4": "Xin ra viện"}
	visitOutcome = map[string]string{"1": "Khỏi", "2": "Đỡ", "3": "Không thay đổi", "4": "Nặng hơn", "5": "Tử vong"}
	visitReason  = map[string]string{"1": "Đúng tuyến", "2": "Cấp cứu", "3": "Trái tuyến", "4": "Thông tuyến"}
)

func label(m map[string]string, code text) string {
	if v, ok := m[string(code)]; ok {
		return v
	}
	return string(code)
}

// DecodeVisits reads a Lskcb2025 answer: its result code and the visits.
func DecodeVisits(body []byte) (string, []patient.Visit, error) {
	var r visitsResponse
	if err := decode(body, &r); err != nil {
		return "", nil, err
	}
	code := normCode(string(r.MaKetQua))
	if code == "" {
		return "", nil, fmt.Errorf("%w: no maKetQua", ErrBadResponse)
	}
	var out []patient.Visit
	for _, v := range r.Visits {
		out = append(out, patient.Visit{
			RecordID:   string(v.MaHoSo),
			Facility:   string(v.MaCSKCB),
			Admitted:   stamp(v.NgayVao),
			Discharged: stamp(v.NgayRa),
			Diagnosis:  norm.NFC.String(string(v.TenBenh)),
			Status:     label(visitStatus, v.TinhTrang),
			Outcome:    label(visitOutcome, v.KqDieuTri),
			Reason:     label(visitReason, v.LyDoVV),
		})
	}
	return code, out, nil
}

// expiry reads expires_in: an ISO-8601 time (with or without zone, with
// fractional seconds of any length) or a number of seconds from now.
func expiry(s string, now time.Time) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, false
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		if n <= 0 || n > 366*24*3600 {
			return time.Time{}, false
		}
		return now.Add(time.Duration(n * float64(time.Second))), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true // no zone means UTC, as the gateway writes it
		}
	}
	return time.Time{}, false
}

func digitsOnly(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
