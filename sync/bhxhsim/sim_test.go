package bhxhsim_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/sync/bhxh"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
)

func TestDeterministic(t *testing.T) {
	a, b, c := bhxhsim.New(bhxhsim.Options{Seed: 1}), bhxhsim.New(bhxhsim.Options{Seed: 1}), bhxhsim.New(bhxhsim.Options{Seed: 2})
	same := 0
	for i := range 1000 {
		pa, pb, pc := a.Person(i), b.Person(i), c.Person(i)
		if pa.CCCDQR() != pb.CCCDQR() || pa.CardNumber != pb.CardNumber || pa.Code != pb.Code {
			t.Fatalf("person %d differs between two sims with one seed", i)
		}
		if pa.CitizenID == pc.CitizenID || pa.SocialInsuranceNumber == pc.SocialInsuranceNumber {
			same++
		}
	}
	if same > 0 {
		t.Errorf("%d people share numbers across seeds", same)
	}
}

var cccdProvinces = map[string]bool{"001": true, "079": true, "048": true, "031": true, "092": true, "046": true, "038": true,
	"040": true, "075": true, "056": true, "066": true, "022": true, "036": true, "089": true, "052": true, "026": true}

// TestPopulation checks the shape of every number and that every person
// can be found back from each of them, over the whole default population.
func TestPopulation(t *testing.T) {
	sim := bhxhsim.New(bhxhsim.Options{Seed: 3})
	people := sim.People()
	if len(people) != 100_000 {
		t.Fatalf("%d people, want 100,000", len(people))
	}
	ids := map[patient.CitizenID]bool{}
	codes := map[string]int{}
	yearOnly := 0
	step := 1
	if raceEnabled || testing.Short() {
		step = 13
	}
	for i, p := range people {
		codes[p.Code]++
		if i%step != 0 {
			continue
		}
		if ids[p.CitizenID] {
			t.Fatalf("person %d: duplicate CCCD", i)
		}
		ids[p.CitizenID] = true
		id := string(p.CitizenID)
		if !p.CitizenID.Valid() || !cccdProvinces[id[:3]] {
			t.Fatalf("person %d: CCCD %s", i, p.CitizenID.Masked())
		}
		// Digit 4: century and sex; digits 5–6: year of birth.
		century := int(id[3] - '0')
		wantCentury := 0
		if p.BirthDate.Year >= 2000 {
			wantCentury = 2
		}
		if p.Sex == patient.Female {
			wantCentury++
		}
		if century != wantCentury || id[4:6] != p.BirthDate.String()[len(p.BirthDate.String())-2:] {
			t.Fatalf("person %d: CCCD century/sex/year digits %s do not match %v %s", i, id[3:6], p.BirthDate.Year, p.Sex)
		}
		card := string(p.CardNumber)
		lvl, _ := bhxh.Benefit(p.CardNumber)
		if len(card) != 15 || lvl == 0 || card[5:] != p.SocialInsuranceNumber || card[3:5] != p.SocialInsuranceNumber[:2] {
			t.Fatalf("person %d: card %s / %s", i, p.CardNumber.Masked(), p.SocialInsuranceNumber)
		}
		if !utf8.ValidString(string(p.Name)) || !norm.NFC.IsNormalString(string(p.Name)) || len(strings.Fields(string(p.Name))) != 3 {
			t.Fatalf("person %d: name %q", i, p.Name.Initials())
		}
		if !p.BirthDate.Full() {
			yearOnly++
		}
		for _, key := range []string{card, p.SocialInsuranceNumber, id} {
			if q, ok := sim.Find(key); !ok || q.Index != i {
				t.Fatalf("person %d not found by %d-char number", i, len(key))
			}
		}
		if p.NewCard != nil {
			if q, ok := sim.Find(string(p.NewCard.CardNumber)); !ok || q.Index != i || p.NewCard.CardNumber == p.CardNumber {
				t.Fatalf("person %d not found by new card", i)
			}
		}
	}
	for _, code := range bhxhsim.Showcase {
		if codes[code] == 0 {
			t.Errorf("no person answers %s", code)
		}
	}
	if codes["000"] < 80_000 || yearOnly == 0 {
		t.Errorf("codes %v, %d year-only dates of birth", codes, yearOnly)
	}
	for _, bad := range []string{"", "123", "DN4000000000000", "0000000000", "999999999999"} {
		if _, ok := sim.Find(bad); ok {
			t.Errorf("Find(%q) found someone", bad)
		}
	}
}

func TestQRPayloads(t *testing.T) {
	sim := bhxhsim.New(bhxhsim.Options{Seed: 4})
	p := sim.Person(30)
	f := strings.Split(p.CCCDQR(), "|")
	if len(f) != 7 || f[0] != string(p.CitizenID) || f[2] != string(p.Name) || f[4] != p.Sex.Vietnamese() || f[5] != p.Address {
		t.Fatalf("CCCD QR fields %q", f)
	}
	if d, err := patient.ParseDate(f[3]); err != nil || d != p.BirthDate {
		t.Errorf("CCCD QR birth date %q: %v %v", f[3], d, err)
	}
	if d, err := patient.ParseDate(f[6]); err != nil || d != p.IssueDate {
		t.Errorf("CCCD QR issue date %q: %v", f[6], err)
	}
	b := strings.Split(p.BHYTQR(), "|")
	if len(b) != 15 || b[0] != string(p.CardNumber) || b[len(b)-1] != "$" {
		t.Fatalf("BHYT QR fields %q", b)
	}
	name, err := hex.DecodeString(b[1])
	if err != nil || string(name) != string(p.Name) {
		t.Errorf("BHYT QR name %q", b[1])
	}
	if b[5] != p.Facility[:2]+" - "+p.Facility[2:] || len(b[9]) != 14 {
		t.Errorf("BHYT QR facility %q manager code %q", b[5], b[9])
	}
}

// post sends a raw request, as a client in another language would.
func post(t *testing.T, base, path string, query url.Values, body, ct string) (int, map[string]any) {
	t.Helper()
	u := base + path
	if query != nil {
		u += "?" + query.Encode()
	}
	resp, err := http.Post(u, ct, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

const form = "application/x-www-form-urlencoded"

func md5hex(s string, upper bool) string {
	sum := md5.Sum([]byte(s))
	h := hex.EncodeToString(sum[:])
	if upper {
		h = strings.ToUpper(h)
	}
	return h
}

// TestProtocol speaks the gateway protocol by hand.
func TestProtocol(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC).UnixNano())
	sim := bhxhsim.New(bhxhsim.Options{Seed: 5, Username: "79014_BV", MD5Case: "upper", Now: func() time.Time { return time.Unix(0, now.Load()) }})
	srv := httptest.NewServer(sim)
	defer srv.Close()

	// Login: upper-case MD5 accepted, lower refused; expires_in an ISO time 10 min on.
	if _, m := post(t, srv.URL, bhxh.PathLogin, nil, "username=79014_BV&password="+md5hex("bhxh-sim", false), form); m["maKetQua"] != "402" {
		t.Fatalf("lower-case MD5: %v", m)
	}
	code, m := post(t, srv.URL, bhxh.PathLogin, nil, `{"username":"79014_BV","password":"`+md5hex("bhxh-sim", true)+`"}`, "application/json")
	key, _ := m["APIKey"].(map[string]any)
	if code != 200 || m["maKetQua"] != "200" || key == nil || key["token_type"] != "Bearer" {
		t.Fatalf("login: %d %v", code, m)
	}
	exp, err := time.Parse(time.RFC3339Nano, key["expires_in"].(string))
	if err != nil || !exp.Equal(time.Unix(0, now.Load()).Add(10*time.Minute)) {
		t.Fatalf("expires_in %v: %v", key["expires_in"], err)
	}
	auth := url.Values{"token": {key["access_token"].(string)}, "id_token": {key["id_token"].(string)},
		"username": {"79014_BV"}, "password": {md5hex("bhxh-sim", true)}}
	p, _ := sim.Example("000")
	body := url.Values{"maThe": {string(p.CardNumber)}, "hoTen": {string(p.Name)}, "ngaySinh": {p.BirthDate.String()},
		"hoTenCb": {"Trần Thị Lễ Tân"}, "cccdCb": {"079190000001"}}

	// The check: form and JSON bodies.
	if code, m := post(t, srv.URL, bhxh.PathCheck, auth, body.Encode(), form); code != 200 || m["maKetQua"] != "000" || m["maThe"] != string(p.CardNumber) {
		t.Fatalf("check: %d %v", code, m["maKetQua"])
	}
	js, _ := json.Marshal(map[string]string{"maThe": p.SocialInsuranceNumber, "hoTen": string(p.Name), "ngaySinh": p.BirthDate.String(), "hoTenCb": "A", "cccdCb": "079190000001"})
	if _, m := post(t, srv.URL, bhxh.PathCheck, auth, string(js), "application/json"); m["maKetQua"] != "000" {
		t.Fatalf("JSON check: %v", m["maKetQua"])
	}
	// Lskcb2025: form only.
	if _, m := post(t, srv.URL, bhxh.PathVisits, auth, body.Encode(), form); m["maKetQua"] != "000" {
		t.Fatalf("visits: %v", m)
	}
	if _, m := post(t, srv.URL, bhxh.PathVisits, auth, string(js), "application/json"); m["maKetQua"] != "205" {
		t.Fatalf("visits with JSON: %v, want 205", m["maKetQua"])
	}
	// ngaySinh forms.
	for _, tc := range []struct{ dob, code string }{
		{p.BirthDate.String(), "000"},
		{p.BirthDate.String()[6:], "000"}, // yyyy
		{strings.ReplaceAll(p.BirthDate.String(), "/", ""), "205"},
		{"", "205"},
	} {
		b := url.Values{}
		for k, v := range body {
			b[k] = v
		}
		b.Set("ngaySinh", tc.dob)
		if _, m := post(t, srv.URL, bhxh.PathCheck, auth, b.Encode(), form); m["maKetQua"] != tc.code {
			t.Errorf("ngaySinh %q: %v, want %s", tc.dob, m["maKetQua"], tc.code)
		}
	}
	// Wrong or missing token: 401.
	bad := url.Values{}
	for k, v := range auth {
		bad[k] = v
	}
	bad.Set("id_token", "x")
	if code, _ := post(t, srv.URL, bhxh.PathCheck, bad, body.Encode(), form); code != 401 {
		t.Errorf("wrong id_token: %d", code)
	}
	if code, _ := post(t, srv.URL, bhxh.PathCheck, nil, body.Encode(), form); code != 401 {
		t.Errorf("no token: %d", code)
	}
	// Token expiry.
	now.Add(int64(10*time.Minute + time.Second))
	if code, m := post(t, srv.URL, bhxh.PathCheck, auth, body.Encode(), form); code != 401 || m["maKetQua"] != "401" {
		t.Errorf("expired token: %d %v", code, m)
	}
	if st := sim.Stats(); st.Logins != 1 || st.Refused != 3 || st.Codes["000"] < 3 {
		t.Errorf("stats %+v", st)
	}
}

func TestAdminAPI(t *testing.T) {
	sim := bhxhsim.New(bhxhsim.Options{Seed: 6})
	ctx, cancel := context.WithCancel(context.Background())
	addr, err := sim.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := bhxhsim.URL(addr)
	req, _ := http.NewRequest(http.MethodPut, base+"/sim/faults", strings.NewReader(`{"latency":"5ms","error5xx":0.25,"code":"500"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("PUT faults: %v %v", resp, err)
	}
	resp.Body.Close()
	if f := sim.Faults(); f.Latency != bhxhsim.Duration(5*time.Millisecond) || f.Error5xx != 0.25 || f.Code != "500" {
		t.Fatalf("faults %+v", f)
	}
	req, _ = http.NewRequest(http.MethodPut, base+"/sim/faults", strings.NewReader(`{"latncy":"5ms"}`))
	if resp, _ := http.DefaultClient.Do(req); resp.StatusCode != 400 {
		t.Errorf("misspelt fault accepted: %d", resp.StatusCode)
	}
	resp, err = http.Get(base + "/sim/people?code=003&n=3")
	if err != nil {
		t.Fatal(err)
	}
	var people []struct {
		bhxhsim.Person
		CCCDQR string `json:"cccdQr"`
	}
	json.NewDecoder(resp.Body).Decode(&people)
	resp.Body.Close()
	if len(people) != 3 || slices.ContainsFunc(people, func(p struct {
		bhxhsim.Person
		CCCDQR string `json:"cccdQr"`
	}) bool {
		return p.Code != "003" || p.NewCard == nil || !strings.HasPrefix(p.CCCDQR, string(p.CitizenID)+"|")
	}) {
		t.Fatalf("people: %+v", people)
	}
	resp, _ = http.Post(base+"/sim/tokens/expire", "", nil)
	if resp.StatusCode != 204 {
		t.Errorf("expire tokens: %d", resp.StatusCode)
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := http.Get(base + "/sim/stats"); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("simulator still serving after its context ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestEveryPolicyCodeReachable: each code of the policy table comes from
// some person, the staff settings or a fault, through the real client.
func TestEveryPolicyCodeReachable(t *testing.T) {
	sim := bhxhsim.New(bhxhsim.Options{Seed: 7, MismatchedStaff: "079190000002"})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	defer sim.Close()
	seen := map[string]bool{}
	for _, c := range bhxhsim.Showcase {
		if _, ok := sim.Example(c); ok {
			seen[c] = true
		}
	}
	p, _ := sim.Example("000")
	for cb, code := range map[string]string{"000000000000": "054", "079190000002": "055"} {
		cli, _ := bhxh.New(bhxh.Options{URL: srv.URL, Username: "u", Password: "bhxh-sim"})
		q := p.Query()
		q.Staff = patient.Staff{Name: "X", CitizenID: patient.CitizenID(cb)}
		if e, err := cli.Check(context.Background(), q); err == nil && e.Code == code {
			seen[code] = true
		}
	}
	sim.SetFaults(bhxhsim.Faults{Storm401: true})
	cli, _ := bhxh.New(bhxh.Options{URL: srv.URL, Username: "u", Password: "bhxh-sim"})
	q := p.Query()
	q.Staff = patient.Staff{Name: "X", CitizenID: "079190000001"}
	if _, err := cli.Check(context.Background(), q); err != nil && strings.Contains(err.Error(), "401") {
		seen["401"] = true
	}
	for code := range bhxh.Policy {
		if !seen[code] {
			t.Errorf("policy code %s is not reachable in the simulator", code)
		}
	}
}

func TestRegisterFlags(t *testing.T) {
	var o bhxhsim.Options
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	o.RegisterFlags(fs)
	if err := fs.Parse([]string{"--seed=9", "--md5-case=upper", "--latency=250ms", "--error5xx=0.5", "--down", "--code=500"}); err != nil {
		t.Fatal(err)
	}
	if o.Seed != 9 || o.MD5Case != "upper" || o.Size != 100_000 || o.Password != "bhxh-sim" ||
		o.Faults != (bhxhsim.Faults{Latency: bhxhsim.Duration(250 * time.Millisecond), Error5xx: 0.5, Down: true, Code: "500"}) {
		t.Fatalf("%+v", o)
	}
	var q bhxhsim.Options
	fs = flag.NewFlagSet("sim", flag.ContinueOnError)
	q.RegisterFlags(fs)
	if err := fs.Parse([]string{"--login-code=403", "--token501", "--blanks"}); err != nil {
		t.Fatal(err)
	}
	if q.Faults.LoginCode != "403" || !q.Faults.Token501 || !q.Blanks {
		t.Fatalf("field quirks from flags: %+v", q)
	}
	if err := fs.Parse([]string{"--latency=soon"}); err == nil {
		t.Fatal("bad latency accepted")
	}
}

// TestFieldQuirks checks the simulator sends the live gateway's
// irregularities when asked: blank values, null lists, 501 for the token,
// refused logins.
func TestFieldQuirks(t *testing.T) {
	sim := bhxhsim.New(bhxhsim.Options{Seed: 6, Blanks: true})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	login := func() url.Values {
		_, m := post(t, srv.URL, bhxh.PathLogin, nil, "username=79014_BV&password="+md5hex("bhxh-sim", true), form)
		key, _ := m["APIKey"].(map[string]any)
		if key == nil {
			t.Fatalf("login: %v", m)
		}
		return url.Values{"token": {key["access_token"].(string)}, "id_token": {key["id_token"].(string)},
			"username": {"79014_BV"}, "password": {md5hex("bhxh-sim", true)}}
	}
	auth := login()
	p, _ := sim.Example("000")
	body := url.Values{"maThe": {string(p.CardNumber)}, "hoTen": {string(p.Name)}, "ngaySinh": {p.BirthDate.String()},
		"hoTenCb": {"Trần Thị Lễ Tân"}, "cccdCb": {"079190000001"}}.Encode()
	_, m := post(t, srv.URL, bhxh.PathCheck, auth, body, form)
	if m["maKetQua"] != "000" || m["maTheMoi"] != " " || m["dsLichSuKT2018"] != nil || m["dsLichSuKCB2018"] != nil {
		t.Errorf("blanks: maTheMoi %q, dsLichSuKT2018 %v, dsLichSuKCB2018 %v; want \" \", null, null", m["maTheMoi"], m["dsLichSuKT2018"], m["dsLichSuKCB2018"])
	}
	if _, ok := m["dsLichSuKT2018"]; !ok {
		t.Error("dsLichSuKT2018 left out instead of null")
	}

	sim.SetFaults(bhxhsim.Faults{Token501: true})
	if code, m := post(t, srv.URL, bhxh.PathCheck, auth, body, form); code != 200 || m["maKetQua"] != "501" || m["ghiChu"] != "Token không đúng" {
		t.Errorf("token501: %d %v", code, m)
	}
	sim.SetFaults(bhxhsim.Faults{LoginCode: "403"})
	if _, m := post(t, srv.URL, bhxh.PathLogin, nil, "username=79014_BV&password="+md5hex("bhxh-sim", true), form); m["maKetQua"] != "403" || m["APIKey"] != nil {
		t.Errorf("loginCode 403: %v", m)
	}
	if st := sim.Stats(); st.Logins != 1 || st.LoginsRefused != 1 {
		t.Errorf("stats %+v, want 1 login and 1 refused", st)
	}
}
