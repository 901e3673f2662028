package doctor

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCSCACheck(t *testing.T) {
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	list := func(c ...CSCAInfo) func() ([]CSCAInfo, error) { return func() ([]CSCAInfo, error) { return c, nil } }
	vn := CSCAInfo{Subject: "CN=CSCA VN,C=VN", Country: "VN", NotAfter: now.AddDate(5, 0, 0)}
	de := CSCAInfo{Subject: "CN=CSCA DE,C=DE", Country: "DE", NotAfter: now.AddDate(5, 0, 0)}
	old := CSCAInfo{Subject: "CN=CSCA VN old,C=VN", Country: "VN", NotAfter: now.AddDate(-1, 0, 0)}
	for _, tc := range []struct {
		name     string
		disabled bool
		list     func() ([]CSCAInfo, error)
		want     Status
		found    string
	}{
		{"installed", false, list(de, vn), OK, "CSCA VN"},
		{"none", false, list(), Warn, "No Vietnamese CSCA"},
		{"others only", false, list(de), Warn, "1 other"},
		{"expired", false, list(old), Warn, "valid until 2025"},
		{"unreadable", false, func() ([]CSCAInfo, error) { return nil, errors.New("csca-vn.pem: malformed") }, Fail, "malformed"},
		{"chip off", true, list(), Skip, "off"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := CSCA(tc.disabled, tc.list, now)
			if r.Status != tc.want || !strings.Contains(r.Found.EN, tc.found) || r.Found.VI == "" {
				t.Fatalf("%s: %+v", tc.name, r)
			}
			if (r.Status == Warn || r.Status == Fail) && !strings.Contains(r.Fix.EN, "tiepdon csca import") {
				t.Errorf("fix %q does not name the command", r.Fix.EN)
			}
		})
	}
}
