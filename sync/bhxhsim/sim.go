// Package bhxhsim simulates the national BHXH gateway for demo mode, tests
// and `tiepdon sim`: the same paths, parameters, result codes and quirks as
// egw.baohiemxahoi.gov.vn (docs/sources.md §1–§2), over a deterministic
// synthetic population, with faults that can be injected per run (Options)
// or at run time through a small admin API under /sim/.
//
// The population is computed, not stored: person i is derived from the seed
// and i, and their index is hidden in their social-insurance number and
// citizen ID by an invertible map, so a Sim of a million people costs no
// memory. The first people answer every result code in order (Showcase);
// Example(code) finds one. docs/simulator.md documents the
// population, the quirks and the admin API.
package bhxhsim

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	mrand "math/rand/v2"

	"golang.org/x/text/unicode/norm"

	"github.com/tiepdon/tiepdon/agent/patient"
)

// Options configures a Sim. The zero value is a lenient gateway with
// 100,000 people and seed 0.
type Options struct {
	Seed int64
	Size int // number of people (default 100,000; at most 1,000,000)

	// Account. Empty Username accepts any username; the password defaults
	// to "bhxh-sim".
	Username, Password string
	// MD5Case is the password digest case the login accepts: "upper",
	// "lower" or "" (either).
	MD5Case string
	// Encoding is the card-check and login body encoding accepted:
	// "form", "json" or "" (either). Lskcb2025 accepts form only, as the
	// real gateway does.
	Encoding string
	// TokenTTL is how long a token lives (default 10 minutes, as real
	// tokens do). ExpiresInSeconds sends expires_in as a number of
	// seconds instead of an ISO-8601 time.
	TokenTTL         time.Duration
	ExpiresInSeconds bool
	// RejectYearOnly answers 205 to a ngaySinh given as yyyy.
	RejectYearOnly bool
	// RejectCitizenID answers 051 to a 12-digit CCCD sent as maThe (the
	// real gateway's behaviour here is unconfirmed).
	RejectCitizenID bool
	// UnregisteredStaff is a staff CCCD the facility has not registered
	// (answers 054; default "000000000000"); MismatchedStaff is one whose
	// registered name differs from any hoTenCb sent (answers 055).
	UnregisteredStaff, MismatchedStaff string
	// Blanks answers as the live gateway does at its most irregular:
	// a single space (" ") for every text field it has no value for, and
	// null (not []) for empty lists (dsLichSuKT2018, dsLichSuKCB2025).
	Blanks bool

	Faults Faults // faults from the start; change them with SetFaults or PUT /sim/faults
	Now    func() time.Time
	Logger *slog.Logger
}

// Faults are failures the simulator injects. Shares are 0..1.
type Faults struct {
	Latency  Duration `json:"latency"`  // added before every answer
	Error5xx float64  `json:"error5xx"` // share of requests answered 503
	Timeout  float64  `json:"timeout"`  // share of requests never answered (until the client gives up)
	Garbage  float64  `json:"garbage"`  // share answered 200 with a body that is not JSON
	Reset    float64  `json:"reset"`    // share of connections reset with no answer
	Storm401 bool     `json:"storm401"` // every /api/egw call answers 401, even with a fresh token
	Down     bool     `json:"down"`     // every request is reset: the gateway is unreachable
	Code     string   `json:"code"`     // every card check answers this result code (e.g. "500")
	// Token501 makes every /api/egw call answer 200 with maKetQua 501
	// "Token không đúng", as the gateway does for a stale token.
	Token501 bool `json:"token501"`
	// LoginCode makes every login answer this result code instead of a
	// token: "401", "402" or "403" refuse the account, as the gateway does
	// for a wrong password or a locked account.
	LoginCode string `json:"loginCode"`
}

// Duration is a time.Duration written as "250ms" in JSON.
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// Stats counts what the simulator has served.
type Stats struct {
	Logins int `json:"logins"`
	// LoginsRefused counts logins answered with a refusal (a wrong
	// account or password, or Faults.LoginCode).
	LoginsRefused int            `json:"loginsRefused"`
	Checks        int            `json:"checks"`
	Visits        int            `json:"visits"`
	Refused       int            `json:"refused"` // 401 answers
	Faulted       int            `json:"faulted"` // requests a fault was applied to
	Codes         map[string]int `json:"codes"`   // card-check answers by maKetQua
}

// Sim is the simulated gateway. It is an http.Handler and safe for
// concurrent use.
type Sim struct {
	o      Options
	mux    *http.ServeMux
	log    *slog.Logger
	closed chan struct{}
	once   sync.Once

	mu     sync.Mutex
	faults Faults
	rng    *mrand.Rand
	tokens map[string]session
	stats  Stats
}

type session struct {
	id      string
	expires time.Time
}

// New returns a simulator.
func New(o Options) *Sim {
	if o.Size <= 0 {
		o.Size = 100_000
	}
	if o.Size > cccdMod {
		o.Size = cccdMod
	}
	if o.Password == "" {
		o.Password = "bhxh-sim"
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = 10 * time.Minute
	}
	if o.UnregisteredStaff == "" {
		o.UnregisteredStaff = "000000000000"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sim{
		o:      o,
		mux:    http.NewServeMux(),
		log:    o.Logger.With("component", "bhxhsim"),
		closed: make(chan struct{}),
		faults: o.Faults,
		rng:    mrand.New(mrand.NewPCG(uint64(o.Seed), 0x5eed)),
		tokens: make(map[string]session),
		stats:  Stats{Codes: map[string]int{}},
	}
	s.mux.HandleFunc("POST /api/token/take", s.gateway(s.login))
	s.mux.HandleFunc("POST /api/egw/KQNhanLichSuKCB2024", s.gateway(s.authed(s.check)))
	s.mux.HandleFunc("POST /api/egw/Lskcb2025", s.gateway(s.authed(s.visits)))
	s.mux.HandleFunc("GET /sim/faults", s.getFaults)
	s.mux.HandleFunc("PUT /sim/faults", s.putFaults)
	s.mux.HandleFunc("POST /sim/tokens/expire", s.expireTokens)
	s.mux.HandleFunc("GET /sim/people", s.people)
	s.mux.HandleFunc("GET /sim/stats", s.getStats)
	return s
}

// Options returns the options in effect (with defaults filled in).
func (s *Sim) Options() Options { return s.o }

// ServeHTTP implements http.Handler.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close ends requests held by the Timeout fault. The Sim still answers
// afterwards.
func (s *Sim) Close() { s.once.Do(func() { close(s.closed) }) }

// SetFaults replaces the injected faults.
func (s *Sim) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
}

// Faults returns the injected faults.
func (s *Sim) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// ExpireTokens invalidates every token issued so far: the next call with one
// gets a 401, as after the real gateway restarts.
func (s *Sim) ExpireTokens() {
	s.mu.Lock()
	clear(s.tokens)
	s.mu.Unlock()
}

// Stats returns the counters.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Codes = make(map[string]int, len(s.stats.Codes))
	for k, v := range s.stats.Codes {
		st.Codes[k] = v
	}
	return st
}

// gateway wraps a gateway endpoint with the injected faults.
func (s *Sim) gateway(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		f := s.faults
		roll := func(p float64) bool { return p > 0 && s.rng.Float64() < p }
		reset := f.Down || roll(f.Reset)
		timeout := !reset && roll(f.Timeout)
		e5xx := !reset && !timeout && roll(f.Error5xx)
		garbage := !reset && !timeout && !e5xx && roll(f.Garbage)
		if reset || timeout || e5xx || garbage {
			s.stats.Faulted++
		}
		s.mu.Unlock()

		if f.Latency > 0 {
			t := time.NewTimer(time.Duration(f.Latency))
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			case <-s.closed:
				t.Stop()
			}
		}
		switch {
		case reset:
			resetConn(w)
		case timeout:
			select {
			case <-r.Context().Done():
			case <-s.closed:
			}
		case e5xx:
			http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		case garbage:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `<html><body>Runtime Error</body></html>{"maKetQua":`)
		default:
			h(w, r)
		}
	}
}

// resetConn drops the connection without an answer (an RST where the
// platform allows it).
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(interface{ SetLinger(int) error }); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// fields reads a request body as a form or JSON, as allowed.
func (s *Sim) fields(r *http.Request, allowJSON bool) (map[string]string, bool) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		return nil, false
	}
	out := map[string]string{}
	switch ct {
	case "application/json":
		if !allowJSON {
			return nil, false
		}
		var m map[string]any
		if json.Unmarshal(body, &m) != nil {
			return nil, false
		}
		for k, v := range m {
			out[k] = fmt.Sprint(v)
		}
	case "application/x-www-form-urlencoded", "":
		if s.o.Encoding == "json" && allowJSON {
			return nil, false
		}
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, false
		}
		for k := range v {
			out[k] = v.Get(k)
		}
	default:
		return nil, false
	}
	return out, true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (s *Sim) md5Hex() (upper, lower string) {
	sum := md5.Sum([]byte(s.o.Password))
	lower = hex.EncodeToString(sum[:])
	return strings.ToUpper(lower), lower
}

func (s *Sim) passwordOK(pw string) bool {
	upper, lower := s.md5Hex()
	switch s.o.MD5Case {
	case "upper":
		return pw == upper
	case "lower":
		return pw == lower
	}
	return pw == upper || pw == lower
}

func (s *Sim) login(w http.ResponseWriter, r *http.Request) {
	f, ok := s.fields(r, s.o.Encoding != "form")
	if !ok {
		writeJSON(w, http.StatusOK, map[string]string{"maKetQua": "205"})
		return
	}
	code := s.Faults().LoginCode
	if code == "" && ((s.o.Username != "" && f["username"] != s.o.Username) || f["username"] == "" || !s.passwordOK(f["password"])) {
		code = "402"
	}
	if code != "" {
		s.mu.Lock()
		s.stats.LoginsRefused++
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]string{"maKetQua": code})
		return
	}
	now := s.o.Now()
	access := randomToken(32) + ":" + f["username"]
	sess := session{id: randomGUID(), expires: now.Add(s.o.TokenTTL)}
	s.mu.Lock()
	for k, v := range s.tokens {
		if now.After(v.expires) {
			delete(s.tokens, k)
		}
	}
	s.tokens[access] = sess
	s.stats.Logins++
	s.mu.Unlock()
	var exp any = sess.expires.UTC().Format("2006-01-02T15:04:05.0000000Z")
	if s.o.ExpiresInSeconds {
		exp = int(s.o.TokenTTL / time.Second)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"maKetQua": "200",
		"APIKey": map[string]any{
			"access_token": access, "id_token": sess.id, "token_type": "Bearer",
			"username": f["username"], "expires_in": exp,
		},
	})
}

func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func randomGUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// authed checks the token, id_token, username and password hash in the
// query string and answers 401 when any is wrong or the token has expired.
func (s *Sim) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		s.mu.Lock()
		sess, ok := s.tokens[q.Get("token")]
		storm, t501 := s.faults.Storm401, s.faults.Token501
		s.mu.Unlock()
		if t501 {
			s.mu.Lock()
			s.stats.Refused++
			s.mu.Unlock()
			writeJSON(w, http.StatusOK, map[string]string{"maKetQua": "501", "ghiChu": "Token không đúng"})
			return
		}
		if storm || !ok || sess.id != q.Get("id_token") || s.o.Now().After(sess.expires) ||
			!s.passwordOK(q.Get("password")) || (s.o.Username != "" && q.Get("username") != s.o.Username) {
			s.mu.Lock()
			s.stats.Refused++
			s.mu.Unlock()
			writeJSON(w, http.StatusUnauthorized, map[string]string{"maKetQua": "401", "ghiChu": "Lỗi xác thực tài khoản"})
			return
		}
		h(w, r)
	}
}

// answer is the JSON body of a card check.
type answer struct {
	MaKetQua    string  `json:"maKetQua"`
	GhiChu      *string `json:"ghiChu"`
	MaThe       string  `json:"maThe,omitempty"`
	HoTen       string  `json:"hoTen,omitempty"`
	NgaySinh    string  `json:"ngaySinh,omitempty"`
	GioiTinh    string  `json:"gioiTinh,omitempty"`
	DiaChi      string  `json:"diaChi,omitempty"`
	MaDKBD      string  `json:"maDKBD,omitempty"`
	TenDKBD     string  `json:"tenDKBD,omitempty"`
	CqBHXH      string  `json:"cqBHXH,omitempty"`
	GtTheTu     string  `json:"gtTheTu,omitempty"`
	GtTheDen    string  `json:"gtTheDen,omitempty"`
	MaKV        *string `json:"maKV,omitempty"`
	NgayDu5Nam  string  `json:"ngayDu5Nam,omitempty"`
	MaSoBHXH    string  `json:"maSoBHXH,omitempty"`
	MaTheCu     string  `json:"maTheCu,omitempty"`
	MaTheMoi    string  `json:"maTheMoi,omitempty"`
	GtTheTuMoi  string  `json:"gtTheTuMoi,omitempty"`
	GtTheDenMoi string  `json:"gtTheDenMoi,omitempty"`
	MaDKBDMoi   string  `json:"maDKBDMoi,omitempty"`
	TenDKBDMoi  string  `json:"tenDKBDMoi,omitempty"`
	LichSu2018  *[]any  `json:"dsLichSuKCB2018"`
	LichSuKT    []any   `json:"dsLichSuKT2018"`
}

// notes are the ghiChu texts the simulator sends.
var notes = map[string]string{
	"000": "Thẻ còn giá trị sử dụng",
	"001": "Thẻ BHYT do BHXH Bộ Quốc phòng quản lý, đề nghị kiểm tra thẻ BHYT và thông tin giấy tờ tùy thân",
	"002": "Thẻ BHYT do BHXH Bộ Công an quản lý, đề nghị kiểm tra thẻ BHYT và thông tin giấy tờ tùy thân",
	"003": "Thẻ BHYT cũ hết giá trị sử dụng, được cấp thẻ mới",
	"004": "Thẻ BHYT cũ còn giá trị sử dụng, được cấp thẻ mới",
	"010": "Thẻ BHYT hết giá trị sử dụng",
	"050": "Không có thông tin thẻ BHYT",
	"051": "Mã thẻ BHYT không đúng",
	"052": "Mã tỉnh cấp thẻ(kí tự thứ 4,5 của mã thẻ) không đúng",
	"053": "Mã quyền lợi thẻ(kí tự thứ 3 của mã thẻ) không đúng",
	"054": "Số CCCD của cán bộ thực hiện tra cứu không tồn tại trong danh sách người sử dụng do CSKCB đăng ký",
	"055": "Họ và tên của cán bộ thực hiện tra cứu không khớp với số CCCD",
	"060": "Thẻ BHYT sai họ tên",
	"061": "Thẻ BHYT sai họ tên(đúng ký tự đầu)",
	"070": "Thẻ BHYT sai ngày sinh",
	"080": "Thẻ BHYT sai giới tính",
	"090": "Thẻ BHYT sai nơi đăng ký KCB ban đầu",
	"100": "Lỗi khi lấy dữ liệu sổ thẻ",
	"101": "Lỗi server",
	"110": "Thẻ BHYT đã thu hồi",
	"120": "Thẻ BHYT đã báo giảm",
	"121": "Thẻ BHYT đã báo giảm. Giảm chuyển ngoại tỉnh",
	"122": "Thẻ BHYT đã báo giảm. Giảm chuyển nội tỉnh",
	"123": "Thẻ BHYT đã báo giảm. Thu hồi do tăng lại cùng đơn vị",
	"124": "Thẻ BHYT đã báo giảm. Thu hồi do ngừng tham gia",
	"130": "Trẻ em không xuất trình thẻ BHYT",
	"205": "Lỗi sai định dạng tham số",
	"500": "Lỗi máy chủ",
}

func bare(code string) answer {
	n := notes[code]
	return answer{MaKetQua: code, GhiChu: &n}
}

// carriesCard says whether an answer with this code includes the card.
func carriesCard(code string) bool {
	switch code {
	case "000", "003", "004", "010", "110", "120", "121", "122", "123", "124", "130":
		return true
	}
	return false
}

func (s *Sim) count(code string) {
	s.mu.Lock()
	s.stats.Checks++
	s.stats.Codes[code]++
	s.mu.Unlock()
}

func (s *Sim) check(w http.ResponseWriter, r *http.Request) {
	f, ok := s.fields(r, s.o.Encoding != "form")
	if !ok {
		s.count("205")
		writeJSON(w, http.StatusOK, bare("205"))
		return
	}
	a := s.answer(f)
	s.count(a.MaKetQua)
	if s.o.Blanks {
		a.blank()
	}
	writeJSON(w, http.StatusOK, a)
}

// blank sends " " for every text field without a value and null lists.
func (a *answer) blank() {
	for _, f := range []*string{&a.MaThe, &a.HoTen, &a.NgaySinh, &a.GioiTinh, &a.DiaChi, &a.MaDKBD, &a.CqBHXH,
		&a.GtTheTu, &a.GtTheDen, &a.NgayDu5Nam, &a.MaSoBHXH, &a.MaTheCu, &a.MaTheMoi, &a.GtTheTuMoi,
		&a.GtTheDenMoi, &a.MaDKBDMoi, &a.TenDKBDMoi} {
		if *f == "" {
			*f = " "
		}
	}
	if a.MaKV == nil || *a.MaKV == "" {
		sp := " "
		a.MaKV = &sp
	}
	if len(a.LichSuKT) == 0 {
		a.LichSuKT = nil
	}
}

// answer decides a card check from its fields.
func (s *Sim) answer(f map[string]string) answer {
	s.mu.Lock()
	forced := s.faults.Code
	s.mu.Unlock()
	if forced != "" {
		return bare(forced)
	}
	// Staff first: the gateway refuses lookups by unregistered staff.
	cb := f["cccdCb"]
	if !patient.CitizenID(cb).Valid() || cb == s.o.UnregisteredStaff {
		return bare("054")
	}
	if strings.TrimSpace(f["hoTenCb"]) == "" || (s.o.MismatchedStaff != "" && cb == s.o.MismatchedStaff) {
		return bare("055")
	}
	maThe := strings.ToUpper(strings.TrimSpace(f["maThe"]))
	name := strings.TrimSpace(f["hoTen"])
	dob, ok := s.parseDOB(f["ngaySinh"])
	if maThe == "" || name == "" || !ok || !utf8.ValidString(name) {
		return bare("205")
	}
	if len(maThe) == 12 && s.o.RejectCitizenID {
		return bare("051")
	}
	if len(maThe) != 10 && len(maThe) != 12 && len(maThe) != 15 {
		return bare("051")
	}
	p, found := s.Find(maThe)
	if !found {
		if len(maThe) == 15 && !isObject(maThe[:2]) {
			return bare("051")
		}
		return bare("050")
	}
	newCard := p.NewCard != nil && maThe == string(p.NewCard.CardNumber)
	if len(maThe) == 15 && maThe != string(p.CardNumber) && !newCard {
		switch {
		case maThe[3:5] != string(p.CardNumber[3:5]):
			return bare("052")
		case maThe[2] != p.CardNumber[2]:
			return bare("053")
		}
		return bare("051")
	}
	code := p.Code
	switch code {
	case "050", "051", "052", "053", "080", "090", "100", "101", "205", "500":
		return bare(code)
	}
	recName := p.Name
	if p.RecordName != "" {
		recName = p.RecordName
	}
	recDOB := p.BirthDate
	if !p.RecordBirthDate.IsZero() {
		recDOB = p.RecordBirthDate
	}
	// A name or birth-date mismatch carries the record's own hoTen and
	// ngaySinh, as the gateway's answer does (KQNhanLichSuKCB2024, Phụ lục
	// 03), so the desk can show what it holds beside what was typed.
	mismatch := func(code string) answer {
		a := bare(code)
		a.HoTen, a.NgaySinh = string(recName), recDOB.String()
		return a
	}
	if c := compareName(name, string(recName)); c != "" {
		return mismatch(c)
	}
	if !sameDOB(dob, recDOB) {
		return mismatch("070")
	}
	switch code {
	case "060", "061", "070":
		return mismatch(code) // the record differs in a way the comparison could not see (year only)
	}
	if newCard {
		code = "000"
	}
	return s.cardAnswer(p, code, newCard)
}

func isObject(s string) bool {
	for _, list := range objects {
		for _, o := range list {
			if o == s {
				return true
			}
		}
	}
	return false
}

// parseDOB reads ngaySinh: dd/MM/yyyy, or yyyy unless refused.
func (s *Sim) parseDOB(v string) (patient.Date, bool) {
	v = strings.TrimSpace(v)
	switch {
	case len(v) == 10 && v[2] == '/' && v[5] == '/':
	case len(v) == 4 && !s.o.RejectYearOnly:
	default:
		return patient.Date{}, false
	}
	d, err := patient.ParseDate(v)
	return d, err == nil
}

// compareName returns "" if the names match (case, spacing and Unicode
// form aside), "061" if only the first letter matches, "060" otherwise.
func compareName(sent, record string) string {
	a, b := foldName(sent), foldName(record)
	if a == b {
		return ""
	}
	ra, _ := utf8.DecodeRuneInString(a)
	rb, _ := utf8.DecodeRuneInString(b)
	if ra == rb {
		return "061"
	}
	return "060"
}

func foldName(s string) string {
	return strings.Join(strings.Fields(strings.ToUpper(norm.NFC.String(s))), " ")
}

// sameDOB compares a sent date of birth with the record; a year on either
// side compares years only.
func sameDOB(sent, record patient.Date) bool {
	if !sent.Full() || !record.Full() {
		return sent.Year == record.Year
	}
	return sent == record
}

func (s *Sim) cardAnswer(p Person, code string, newCard bool) answer {
	a := bare(code)
	kv := p.AreaCode
	a.MaKV = &kv
	a.MaThe = string(p.CardNumber)
	a.HoTen = string(p.Name)
	a.NgaySinh = p.BirthDate.String()
	a.GioiTinh = p.Sex.Vietnamese()
	a.DiaChi = p.Address
	a.MaDKBD = p.Facility
	a.TenDKBD = p.FacilityName
	a.CqBHXH = p.Office
	a.GtTheTu = p.ValidFrom.String()
	a.GtTheDen = p.ValidTo.String()
	a.NgayDu5Nam = p.FiveYearDate.String()
	a.MaSoBHXH = p.SocialInsuranceNumber
	a.LichSuKT = []any{}
	if newCard {
		a.MaThe = string(p.NewCard.CardNumber)
		a.MaTheCu = string(p.CardNumber)
		a.GtTheTu = p.NewCard.ValidFrom.String()
		a.GtTheDen = p.NewCard.ValidTo.String()
	} else if p.NewCard != nil {
		a.MaTheMoi = string(p.NewCard.CardNumber)
		a.GtTheTuMoi = p.NewCard.ValidFrom.String()
		a.GtTheDenMoi = p.NewCard.ValidTo.String()
		a.MaDKBDMoi = p.NewCard.RegisteredFacility
		a.TenDKBDMoi = p.NewCard.FacilityName
	}
	if code == "000" {
		n := fmt.Sprintf("Thẻ còn giá trị sử dụng từ ngày %s đến ngày %s. Nơi ĐKBĐ: %s", a.GtTheTu, a.GtTheDen, p.FacilityName)
		a.GhiChu = &n
	}
	return a
}

// visits answers Lskcb2025: form bodies only; the same checks as the card
// check, then 0–4 visits derived from the person.
func (s *Sim) visits(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.Visits++
	s.mu.Unlock()
	f, ok := s.fields(r, false)
	if !ok {
		writeJSON(w, http.StatusOK, map[string]any{"maKetQua": "205", "ghiChu": "Lỗi sai định dạng tham số", "dsLichSuKCB2025": nil})
		return
	}
	a := s.answer(f)
	if a.MaKetQua != "000" && a.MaKetQua != "004" && a.MaKetQua != "003" {
		writeJSON(w, http.StatusOK, map[string]any{"maKetQua": a.MaKetQua, "ghiChu": a.GhiChu, "dsLichSuKCB2025": nil})
		return
	}
	p, _ := s.Find(strings.ToUpper(strings.TrimSpace(f["maThe"])))
	r2 := mrand.New(mrand.NewPCG(uint64(s.o.Seed), uint64(p.Index)<<1|1))
	n := r2.IntN(5)
	list := make([]map[string]string, 0, n)
	day := s.o.Now().In(time.FixedZone("ICT", 7*3600))
	diagnoses := []string{"Viêm dạ dày", "Tăng huyết áp vô căn", "Viêm họng cấp", "Đái tháo đường type 2", "Viêm phế quản cấp", "Đau thắt lưng"}
	for i := range n {
		day = day.AddDate(0, 0, -(7 + r2.IntN(90)))
		in := time.Date(day.Year(), day.Month(), day.Day(), 7+r2.IntN(9), r2.IntN(60), 0, 0, day.Location())
		out := in.Add(time.Duration(1+r2.IntN(8)) * time.Hour)
		list = append(list, map[string]string{
			"maHoSo":    fmt.Sprintf("%s%04d%05d", p.Facility, in.Year(), p.Index%100000*10+i),
			"maCSKCB":   p.Facility,
			"ngayVao":   in.Format("200601021504"),
			"ngayRa":    out.Format("200601021504"),
			"tenBenh":   diagnoses[r2.IntN(len(diagnoses))],
			"tinhTrang": "1",
			"kqDieuTri": fmt.Sprint(1 + r2.IntN(2)),
			"lyDoVV":    fmt.Sprint([]int{1, 1, 1, 2, 4}[r2.IntN(5)]),
		})
	}
	var out any = list
	if s.o.Blanks && len(list) == 0 {
		out = nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"maKetQua": "000", "ghiChu": nil, "dsLichSuKCB2025": out})
}

// Admin API.

func (s *Sim) getFaults(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Faults())
}

func (s *Sim) putFaults(w http.ResponseWriter, r *http.Request) {
	var f Faults
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		http.Error(w, "bad faults: "+err.Error(), http.StatusBadRequest)
		return
	}
	s.SetFaults(f)
	s.log.Info("faults changed", "faults", f)
	writeJSON(w, http.StatusOK, f)
}

func (s *Sim) expireTokens(w http.ResponseWriter, r *http.Request) {
	s.ExpireTokens()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Sim) getStats(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Stats())
}

// people lists example people: ?code=003 filters by result code, ?n= limits
// (default 10, at most 1000). Each comes with its CCCD and BHYT QR payloads.
func (s *Sim) people(w http.ResponseWriter, r *http.Request) {
	code := r.URL.Query().Get("code")
	n := 10
	fmt.Sscan(r.URL.Query().Get("n"), &n)
	n = max(1, min(n, 1000))
	type entry struct {
		Person
		CCCDQR string `json:"cccdQr"`
		BHYTQR string `json:"bhytQr"`
	}
	var out []entry
	for i := 0; i < s.o.Size && len(out) < n && i < 200_000; i++ {
		p := s.Person(i)
		if code == "" || p.Code == code {
			out = append(out, entry{p, p.CCCDQR(), p.BHYTQR()})
		}
	}
	writeJSON(w, http.StatusOK, out)
}
