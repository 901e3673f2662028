package bhxhsim_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tiepdon/tiepdon/sync/bhxh"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
)

// FuzzCheckRequest sends arbitrary card-check fields through the handler:
// it must always answer a JSON body with a known result code.
func FuzzCheckRequest(f *testing.F) {
	sim := bhxhsim.New(bhxhsim.Options{Seed: 1, Size: 1000})
	p, _ := sim.Example("003")
	f.Add(string(p.CardNumber), string(p.Name), p.BirthDate.String(), "079190000001")
	f.Add(string(p.NewCard.CardNumber), "nguyễn", "1990", "000000000000")
	f.Add(p.SocialInsuranceNumber, "", "31/02/1990", "")
	f.Add(string(p.CitizenID), "Ánh", "x", "07919000000\u00e1")
	f.Add("DN4ẞ01234567890", "\xff", "01/01/0001", "079190000001")
	srv := httptest.NewServer(sim)
	defer srv.Close()
	cli := srv.Client()
	resp, err := cli.PostForm(srv.URL+bhxh.PathLogin, url.Values{"username": {"u"}, "password": {md5hex("bhxh-sim", true)}})
	if err != nil {
		f.Fatal(err)
	}
	var login struct {
		APIKey struct {
			AccessToken string `json:"access_token"`
			IDToken     string `json:"id_token"`
		}
	}
	json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	q := url.Values{"token": {login.APIKey.AccessToken}, "id_token": {login.APIKey.IDToken}, "username": {"u"}, "password": {md5hex("bhxh-sim", true)}}
	f.Fuzz(func(t *testing.T, maThe, name, dob, cccdCb string) {
		body := url.Values{"maThe": {maThe}, "hoTen": {name}, "ngaySinh": {dob}, "hoTenCb": {"Cán Bộ"}, "cccdCb": {cccdCb}}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, bhxh.PathCheck+"?"+q.Encode(), strings.NewReader(body.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		sim.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("HTTP %d", rec.Code)
		}
		e, err := bhxh.DecodeCheck(rec.Body.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if _, known := bhxh.Policy[e.Code]; !known {
			t.Fatalf("unknown code %s", e.Code)
		}
	})
}
