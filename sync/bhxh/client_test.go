package bhxh_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/tiepdon/tiepdon/agent"
	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/sync/bhxh"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
)

var staff = patient.Staff{Name: "Trần Thị Lễ Tân", CitizenID: "079190000001"}

// clock is a settable time source shared by the simulator and the client.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// startSim serves a simulator over real HTTP on 127.0.0.1.
func startSim(t testing.TB, o bhxhsim.Options) (*bhxhsim.Sim, string) {
	t.Helper()
	if o.Size == 0 {
		o.Size = 100_000
	}
	sim := bhxhsim.New(o)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	t.Cleanup(sim.Close) // runs first: releases held requests
	return sim, srv.URL
}

func newClient(t testing.TB, url string, o bhxh.Options) *bhxh.Client {
	t.Helper()
	o.URL = url
	if o.Username == "" {
		o.Username = "79014_BV"
	}
	if o.Password == "" {
		o.Password = "bhxh-sim"
	}
	if o.Logger == nil && !testing.Verbose() {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.RetryWaitMin == 0 {
		o.RetryWaitMin, o.RetryWaitMax = time.Millisecond, 5*time.Millisecond
	}
	c, err := bhxh.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func query(p bhxhsim.Person) patient.Query {
	q := p.Query()
	q.Staff = staff
	return q
}

func example(t testing.TB, sim *bhxhsim.Sim, code string) bhxhsim.Person {
	t.Helper()
	p, ok := sim.Example(code)
	if !ok {
		t.Fatalf("no simulated person answers %s", code)
	}
	return p
}

// TestCheckEveryCode asks about a person of every result code over HTTP and
// checks the verdict against the policy table.
func TestCheckEveryCode(t *testing.T) {
	sim, url := startSim(t, bhxhsim.Options{Seed: 7})
	c := newClient(t, url, bhxh.Options{})
	ctx := context.Background()
	for _, code := range bhxhsim.Showcase {
		t.Run(code, func(t *testing.T) {
			p := example(t, sim, code)
			e, err := c.Check(ctx, query(p))
			rule := bhxh.RuleFor(code)
			if rule.Unavailable {
				if !errors.Is(err, agent.ErrUnavailable) {
					t.Fatalf("code %s: err = %v, want ErrUnavailable", code, err)
				}
				var ce *bhxh.CodeError
				if !errors.As(err, &ce) || ce.Code != code {
					t.Fatalf("code %s: err = %v, want CodeError %s", code, err, code)
				}
				return
			}
			if err != nil {
				t.Fatalf("code %s: %v", code, err)
			}
			switch code {
			case "003", "004":
				// Re-checked with maTheMoi: the answer is the new card's.
				if e.Verdict != patient.Eligible || e.Code != "000" || e.NewCard == nil {
					t.Fatalf("code %s: got %s/%s newCard=%v, want eligible on the new card", code, e.Verdict, e.Code, e.NewCard)
				}
				if e.CardNumber != p.NewCard.CardNumber || e.NewCard.CardNumber != p.NewCard.CardNumber {
					t.Errorf("card = %s, new = %s; want %s", e.CardNumber, e.NewCard.CardNumber, p.NewCard.CardNumber)
				}
				if e.NewCard.ValidTo != p.NewCard.ValidTo {
					t.Errorf("new card valid to %v, want %v", e.NewCard.ValidTo, p.NewCard.ValidTo)
				}
				if e.NewCard.FirstCode != code || e.NewCard.OldCardNumber != p.CardNumber {
					t.Errorf("the first answer is lost: firstCode %q old card %v, want %s and the card asked about", e.NewCard.FirstCode, e.NewCard.OldCardNumber.Masked(), code)
				}
				return
			case "050", "051", "052", "053", "205":
				// Identifier problems: every candidate was tried, the
				// card's answer is shown.
				if e.AnsweredBy != bhxh.KindCard {
					t.Errorf("answeredBy = %q, want card", e.AnsweredBy)
				}
			}
			if e.Code != code || e.Verdict != rule.Verdict || e.ReasonVI != rule.ReasonVI || e.ReasonEN == "" {
				t.Fatalf("code %s: got %+v, want verdict %s", code, e, rule.Verdict)
			}
			if e.Source != patient.SourceLive || e.CheckedAt.IsZero() {
				t.Errorf("source %q checkedAt %v", e.Source, e.CheckedAt)
			}
			if code == "000" {
				checkCardDetails(t, p, e)
			}
		})
	}
}

func checkCardDetails(t *testing.T, p bhxhsim.Person, e patient.Eligibility) {
	t.Helper()
	lvl, pct := bhxh.Benefit(p.CardNumber)
	switch {
	case e.CardNumber != p.CardNumber:
		t.Errorf("card %s, want %s", e.CardNumber, p.CardNumber)
	case e.Holder != p.Name || e.BirthDate != p.BirthDate || e.Sex != p.Sex:
		t.Errorf("holder %s %v %s, want %s %v %s", e.Holder, e.BirthDate, e.Sex, p.Name, p.BirthDate, p.Sex)
	case e.ValidFrom != p.ValidFrom || e.ValidTo != p.ValidTo:
		t.Errorf("validity %v–%v, want %v–%v", e.ValidFrom, e.ValidTo, p.ValidFrom, p.ValidTo)
	case e.RegisteredFacility != p.Facility || e.IssuingOffice != p.Office || e.Address != p.Address:
		t.Errorf("facility %q office %q address %q", e.RegisteredFacility, e.IssuingOffice, e.Address)
	case e.SocialInsuranceNumber != p.SocialInsuranceNumber || e.FiveYearDate != p.FiveYearDate:
		t.Errorf("sin %q five-year %v", e.SocialInsuranceNumber, e.FiveYearDate)
	case lvl == 0 || e.BenefitLevel != lvl || e.BenefitPercent != pct:
		t.Errorf("benefit %d/%d%%, want %d/%d%%", e.BenefitLevel, e.BenefitPercent, lvl, pct)
	case e.AnsweredBy != bhxh.KindCard:
		t.Errorf("answeredBy %q", e.AnsweredBy)
	}
}

func TestStaffCodes(t *testing.T) {
	sim, url := startSim(t, bhxhsim.Options{Seed: 1, MismatchedStaff: "079190000002"})
	c := newClient(t, url, bhxh.Options{})
	p := example(t, sim, "000")
	for _, tc := range []struct {
		staff patient.Staff
		code  string
	}{
		{patient.Staff{Name: "Ai Đó", CitizenID: "000000000000"}, "054"}, // unregistered
		{patient.Staff{}, "054"}, // nobody signed in
		{patient.Staff{Name: "Ai Đó", CitizenID: "079190000002"}, "055"}, // name does not match
		{patient.Staff{CitizenID: "079190000003"}, "055"},                // no name
	} {
		q := p.Query()
		q.Staff = tc.staff
		e, err := c.Check(context.Background(), q)
		if err != nil || e.Code != tc.code || e.Verdict != patient.StaffProblem {
			t.Errorf("staff %v: %s/%s %v, want %s staff-problem", tc.staff.CitizenID, e.Code, e.Verdict, err, tc.code)
		}
	}
}

func TestBenefit(t *testing.T) {
	for _, tc := range []struct {
		card     patient.CardNumber
		lvl, pct int
	}{
		{"TE1790123456789", 1, 100},
		{"HN2010123456789", 2, 100},
		{"HT3480123456789", 3, 95},
		{"DN4010123456789", 4, 80},
		{"QN5790123456789", 5, 100},
		{"DN401AA31900313", 4, 80}, // letters in the number (real QR sample)
		{"XX6790123456789", 0, 0},
		{"7901234567", 0, 0}, // social-insurance number: no level
		{"", 0, 0},
	} {
		if l, p := bhxh.Benefit(tc.card); l != tc.lvl || p != tc.pct {
			t.Errorf("Benefit(%s) = %d, %d; want %d, %d", tc.card, l, p, tc.lvl, tc.pct)
		}
	}
}

// TestTokenSingleFlight starts many checks on a client with no token: they
// must share one login.
func TestTokenSingleFlight(t *testing.T) {
	sim, url := startSim(t, bhxhsim.Options{Seed: 2, Faults: bhxhsim.Faults{Latency: bhxhsim.Duration(20 * time.Millisecond)}})
	c := newClient(t, url, bhxh.Options{})
	p := example(t, sim, "000")
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			if _, err := c.Check(context.Background(), query(p)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := sim.Stats().Logins; n != 1 {
		t.Fatalf("%d logins for 20 concurrent checks, want 1", n)
	}
}

// TestTokenRefreshBeforeExpiry moves a shared clock past the token's
// refresh point: the client signs in again before the gateway refuses it.
func TestTokenRefreshBeforeExpiry(t *testing.T) {
	for _, seconds := range []bool{false, true} {
		clk := newClock()
		sim, url := startSim(t, bhxhsim.Options{Seed: 3, Now: clk.Now, ExpiresInSeconds: seconds})
		c := newClient(t, url, bhxh.Options{Now: clk.Now})
		p := example(t, sim, "000")
		check := func() {
			t.Helper()
			if _, err := c.Check(context.Background(), query(p)); err != nil {
				t.Fatal(err)
			}
		}
		check()
		clk.Add(8 * time.Minute) // still well inside the 10-minute token
		check()
		if n := sim.Stats().Logins; n != 1 {
			t.Fatalf("seconds=%v: %d logins before the refresh point, want 1", seconds, n)
		}
		clk.Add(time.Minute + 30*time.Second) // 9.5 min: inside the last minute
		check()
		if st := sim.Stats(); st.Logins != 2 || st.Refused != 0 {
			t.Fatalf("seconds=%v: logins %d refused %d, want a refresh with no 401", seconds, st.Logins, st.Refused)
		}
	}
}

func TestReloginOn401(t *testing.T) {
	sim, url := startSim(t, bhxhsim.Options{Seed: 4})
	c := newClient(t, url, bhxh.Options{})
	p := example(t, sim, "000")
	if _, err := c.Check(context.Background(), query(p)); err != nil {
		t.Fatal(err)
	}
	sim.ExpireTokens() // the gateway restarted
	e, err := c.Check(context.Background(), query(p))
	if err != nil || e.Verdict != patient.Eligible {
		t.Fatalf("after token loss: %v %v", e.Verdict, err)
	}
	if st := sim.Stats(); st.Logins != 2 || st.Refused != 1 {
		t.Fatalf("logins %d refused %d, want 2 and 1", st.Logins, st.Refused)
	}

	// A 401 storm: one re-login, then unavailable.
	sim.SetFaults(bhxhsim.Faults{Storm401: true})
	_, err = c.Check(context.Background(), query(p))
	var ce *bhxh.CodeError
	if !errors.Is(err, agent.ErrUnavailable) || !errors.As(err, &ce) || ce.Code != "401" {
		t.Fatalf("401 storm: err = %v, want unavailable code 401", err)
	}
	if st := sim.Stats(); st.Logins != 3 || st.Refused != 3 {
		t.Fatalf("401 storm: logins %d refused %d, want 3 and 3", st.Logins, st.Refused)
	}
}

func TestLoginVariants(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sim      bhxhsim.Options
		cli      bhxh.Options
		wantCode string // "" = works
	}{
		{"upper/upper form", bhxhsim.Options{MD5Case: "upper", Encoding: "form"}, bhxh.Options{MD5Upper: true}, ""},
		{"lower/lower json", bhxhsim.Options{MD5Case: "lower", Encoding: "json"}, bhxh.Options{JSON: true}, ""},
		{"either accepts lower", bhxhsim.Options{}, bhxh.Options{}, ""},
		{"upper refuses lower", bhxhsim.Options{MD5Case: "upper"}, bhxh.Options{}, "402"},
		{"wrong password", bhxhsim.Options{}, bhxh.Options{Password: "sai"}, "402"},
		{"wrong username", bhxhsim.Options{Username: "79014_BV"}, bhxh.Options{Username: "01929_BV"}, "402"},
		{"json only refuses form", bhxhsim.Options{Encoding: "json"}, bhxh.Options{}, "205"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.sim.Seed = 5
			sim, url := startSim(t, tc.sim)
			c := newClient(t, url, tc.cli)
			e, err := c.Check(context.Background(), query(example(t, sim, "000")))
			if tc.wantCode == "" {
				if err != nil || e.Verdict != patient.Eligible {
					t.Fatalf("%v %v", e.Verdict, err)
				}
				return
			}
			var ce *bhxh.CodeError
			if !errors.Is(err, bhxh.ErrLogin) || !errors.Is(err, agent.ErrUnavailable) || !errors.As(err, &ce) || ce.Code != tc.wantCode {
				t.Fatalf("err = %v, want login refused with %s", err, tc.wantCode)
			}
		})
	}
}

// TestCandidates checks the maThe order and AnsweredBy.
func TestCandidates(t *testing.T) {
	sim, url := startSim(t, bhxhsim.Options{Seed: 6})
	c := newClient(t, url, bhxh.Options{})
	p := example(t, sim, "000")
	other := example(t, sim, "010") // a real card that belongs to someone else
	unknownCard := patient.CardNumber("DN4"+p.CardNumber[3:5]+"99999999") + "99"
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		q    patient.Query
		want string
		code string
	}{
		{"card", patient.Query{CardNumber: p.CardNumber, SocialInsuranceNumber: p.SocialInsuranceNumber, CitizenID: p.CitizenID}, bhxh.KindCard, "000"},
		{"unknown card, then social insurance", patient.Query{CardNumber: unknownCard, SocialInsuranceNumber: p.SocialInsuranceNumber, CitizenID: p.CitizenID}, bhxh.KindSocialInsurance, "000"},
		{"card wrong province, then citizen ID", patient.Query{CardNumber: patient.CardNumber(string(p.CardNumber[:3]) + "00" + string(p.CardNumber[5:])), CitizenID: p.CitizenID}, bhxh.KindCitizenID, "000"},
		{"citizen ID only", patient.Query{CitizenID: p.CitizenID}, bhxh.KindCitizenID, "000"},
		{"10-digit number in the card field", patient.Query{CardNumber: patient.CardNumber(p.SocialInsuranceNumber)}, bhxh.KindSocialInsurance, "000"},
		{"someone else's card: name mismatch stops the search", patient.Query{CardNumber: other.CardNumber, CitizenID: p.CitizenID}, bhxh.KindCard, "060"},
		{"nothing matches: the card's answer", patient.Query{CardNumber: unknownCard, SocialInsuranceNumber: "0199999999"}, bhxh.KindCard, "050"},
	} {
		tc.q.Name, tc.q.BirthDate, tc.q.Staff = p.Name, p.BirthDate, staff
		e, err := c.Check(ctx, tc.q)
		if err != nil || e.AnsweredBy != tc.want || e.Code != tc.code {
			t.Errorf("%s: answeredBy %q code %s err %v; want %q %s", tc.name, e.AnsweredBy, e.Code, err, tc.want, tc.code)
		}
	}
	if _, err := c.Check(ctx, patient.Query{Name: p.Name}); !errors.Is(err, bhxh.ErrNoIdentifier) || errors.Is(err, agent.ErrUnavailable) {
		t.Errorf("empty query: %v", err)
	}

	// A gateway that refuses the CCCD as maThe.
	sim2, url2 := startSim(t, bhxhsim.Options{Seed: 6, RejectCitizenID: true})
	c2 := newClient(t, url2, bhxh.Options{})
	p2 := example(t, sim2, "000")
	e, err := c2.Check(ctx, patient.Query{CitizenID: p2.CitizenID, Name: p2.Name, BirthDate: p2.BirthDate, Staff: staff})
	if err != nil || e.Code != "051" || e.Verdict != patient.InputMismatch || e.AnsweredBy != bhxh.KindCitizenID {
		t.Errorf("CCCD refused: %s %s %q %v", e.Code, e.Verdict, e.AnsweredBy, err)
	}
}

// TestInputMismatch sends wrong names and dates of birth.
func TestInputMismatch(t *testing.T) {
	sim, url := startSim(t, bhxhsim.Options{Seed: 8})
	c := newClient(t, url, bhxh.Options{})
	p := example(t, sim, "000")
	wrongDOB := p.BirthDate
	wrongDOB.Year--
	for _, tc := range []struct {
		name  patient.Name
		dob   patient.Date
		code  string
		field string
	}{
		{"Zô Văn Khác", p.BirthDate, "060", "name"},
		{patient.Name(string(p.Name) + " Khác"), p.BirthDate, "061", "name"},
		{p.Name, wrongDOB, "070", "birthDate"},
		{"", p.BirthDate, "205", "format"},
	} {
		q := query(p)
		q.Name, q.BirthDate = tc.name, tc.dob
		e, err := c.Check(context.Background(), q)
		if err != nil || e.Code != tc.code || e.Verdict != patient.InputMismatch || e.Field != tc.field {
			t.Errorf("%s: %s %s %q %v, want %s input-mismatch %s", tc.name.Initials(), e.Code, e.Verdict, e.Field, err, tc.code, tc.field)
		}
	}
	// Case, spacing and Unicode normalisation do not matter.
	q := query(p)
	q.Name = patient.Name("  " + upperNFD(string(p.Name)) + " ")
	if e, err := c.Check(context.Background(), q); err != nil || e.Code != "000" {
		t.Errorf("name in upper case NFD: %s %v", e.Code, err)
	}
}

// TestBirthDateForms sends ngaySinh as dd/MM/yyyy and as yyyy, and reads
// year-only dates back.
func TestBirthDateForms(t *testing.T) {
	sim, url := startSim(t, bhxhsim.Options{Seed: 9})
	full := newClient(t, url, bhxh.Options{})
	yearOnly := newClient(t, url, bhxh.Options{BirthYearOnly: true})
	p := example(t, sim, "000")
	ctx := context.Background()
	if e, err := yearOnly.Check(ctx, query(p)); err != nil || e.Code != "000" {
		t.Fatalf("yyyy: %s %v", e.Code, err)
	}
	q := query(p)
	q.BirthDate = patient.Date{Year: p.BirthDate.Year}
	if e, err := full.Check(ctx, q); err != nil || e.Code != "000" || e.BirthDate != p.BirthDate {
		t.Fatalf("year-only query: %s %v %v", e.Code, e.BirthDate, err)
	}
	// Someone whose records hold only the year.
	var old bhxhsim.Person
	for i := range 20000 {
		if pp := sim.Person(i); pp.Code == "000" && !pp.BirthDate.Full() {
			old = pp
			break
		}
	}
	if old.Name == "" {
		t.Fatal("no person with a year-only date of birth in 20,000")
	}
	e, err := full.Check(ctx, query(old))
	if err != nil || e.Code != "000" || e.BirthDate != (patient.Date{Year: old.BirthDate.Year}) {
		t.Fatalf("year-only record: %s %v %v", e.Code, e.BirthDate, err)
	}
	// A gateway that refuses yyyy.
	sim2, url2 := startSim(t, bhxhsim.Options{Seed: 9, RejectYearOnly: true})
	c2 := newClient(t, url2, bhxh.Options{BirthYearOnly: true})
	if e, err := c2.Check(ctx, query(example(t, sim2, "000"))); err != nil || e.Code != "205" {
		t.Fatalf("yyyy refused: %s %v", e.Code, err)
	}
}

func TestVisits(t *testing.T) {
	sim, url := startSim(t, bhxhsim.Options{Seed: 10, Encoding: "json"})
	c := newClient(t, url, bhxh.Options{JSON: true, Visits: true})
	var p bhxhsim.Person
	var want int
	for i := range 200 {
		pp := sim.Person(i)
		if pp.Code == "000" {
			p = pp
			v, err := c.Visits(context.Background(), query(pp))
			if err != nil {
				t.Fatal(err)
			}
			if want = len(v); want > 0 {
				for _, x := range v {
					if x.RecordID == "" || x.Facility != pp.Facility || x.Admitted.IsZero() || !x.Discharged.After(x.Admitted) || x.Status != "Ra viện" {
						t.Fatalf("visit %+v", x)
					}
				}
				break
			}
		}
	}
	if want == 0 {
		t.Fatal("no person with visits in 200")
	}
	// Check fetches them too when asked, in form encoding although the
	// check itself is JSON (the gateway refuses JSON there).
	e, err := c.Check(context.Background(), query(p))
	if err != nil || len(e.Visits) != want {
		t.Fatalf("check with visits: %d visits, %v; want %d", len(e.Visits), err, want)
	}
	if _, err := c.Visits(context.Background(), query(example(t, sim, "010"))); !errors.Is(err, bhxh.ErrNoHistory) && err != nil {
		t.Fatalf("not eligible: %v", err)
	}
}

// TestFaults checks every injected fault ends as ErrUnavailable (or
// degraded) within the per-check deadline.
func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    bhxhsim.Faults
	}{
		{"5xx", bhxhsim.Faults{Error5xx: 1}},
		{"garbage", bhxhsim.Faults{Garbage: 1}},
		{"reset", bhxhsim.Faults{Reset: 1}},
		{"down", bhxhsim.Faults{Down: true}},
		{"timeout", bhxhsim.Faults{Timeout: 1}},
		{"code 500", bhxhsim.Faults{Code: "500"}},
		{"code 100", bhxhsim.Faults{Code: "100"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim, url := startSim(t, bhxhsim.Options{Seed: 11})
			c := newClient(t, url, bhxh.Options{Timeout: 300 * time.Millisecond, StateHold: 50 * time.Millisecond})
			p := example(t, sim, "000")
			if _, err := c.Check(context.Background(), query(p)); err != nil { // signed in, warm
				t.Fatal(err)
			}
			sim.SetFaults(tc.f)
			start := time.Now()
			_, err := c.Check(context.Background(), query(p))
			if !errors.Is(err, agent.ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Fatalf("took %s with a 300 ms deadline", took)
			}
			if s := c.State().State; s != events.GatewayDegraded {
				t.Errorf("state %s after one failure, want degraded", s)
			}
			sim.SetFaults(bhxhsim.Faults{})
			if _, err := c.Check(context.Background(), query(p)); err != nil {
				t.Fatalf("after recovery: %v", err)
			}
			// Online once the state hold is over.
			deadline := time.Now().Add(5 * time.Second)
			for c.State().State != events.GatewayOnline {
				if time.Now().After(deadline) {
					t.Fatalf("state %s after recovery, want online", c.State().State)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}

// TestRetriesHideTransientErrors: one 5xx in two is retried away.
func TestRetriesHideTransientErrors(t *testing.T) {
	sim, url := startSim(t, bhxhsim.Options{Seed: 12})
	c := newClient(t, url, bhxh.Options{Retries: 6})
	p := example(t, sim, "000")
	sim.SetFaults(bhxhsim.Faults{Error5xx: 0.5})
	for range 10 {
		if _, err := c.Check(context.Background(), query(p)); err != nil {
			t.Fatal(err)
		}
	}
	if sim.Stats().Faulted == 0 {
		t.Fatal("no fault was injected")
	}
}

func TestCancelIsPrompt(t *testing.T) {
	sim, url := startSim(t, bhxhsim.Options{Seed: 13})
	c := newClient(t, url, bhxh.Options{Timeout: time.Minute})
	p := example(t, sim, "000")
	if _, err := c.Check(context.Background(), query(p)); err != nil {
		t.Fatal(err)
	}
	sim.SetFaults(bhxhsim.Faults{Timeout: 1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() { _, err := c.Check(ctx, query(p)); done <- err }()
	for sim.Stats().Faulted == 0 { // the request is being held
		if time.Since(start) > 5*time.Second {
			t.Fatal("request never reached the simulator")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Check did not return within 2 s of cancellation")
	}
	// A caller giving up says nothing about the gateway.
	if s := c.State().State; s != events.GatewayOnline {
		t.Errorf("state %s after a cancelled check, want online", s)
	}
}

// TestBreaker: failures open the breaker (offline), checks then fail at
// once, and after OpenFor one trial check closes it again (online).
func TestBreaker(t *testing.T) {
	sim, url := startSim(t, bhxhsim.Options{Seed: 14})
	bus := events.New()
	sub := bus.Subscribe(events.GatewayChanged, 32)
	defer sub.Close()
	c := newClient(t, url, bhxh.Options{Bus: bus, FailureThreshold: 3, OpenFor: 200 * time.Millisecond, Retries: -1})
	p := example(t, sim, "000")
	ctx := context.Background()
	if _, err := c.Check(ctx, query(p)); err != nil {
		t.Fatal(err)
	}
	sim.SetFaults(bhxhsim.Faults{Down: true})
	for range 3 {
		if _, err := c.Check(ctx, query(p)); !errors.Is(err, agent.ErrUnavailable) {
			t.Fatalf("err = %v", err)
		}
	}
	if s := c.State(); s.State != events.GatewayOffline || s.Reason == "" {
		t.Fatalf("state %+v after 3 failures, want offline", s)
	}
	before := sim.Stats()
	start := time.Now()
	_, err := c.Check(ctx, query(p))
	if !errors.Is(err, bhxh.ErrBreakerOpen) || !errors.Is(err, agent.ErrUnavailable) {
		t.Fatalf("open breaker: err = %v", err)
	}
	if took := time.Since(start); took > 50*time.Millisecond {
		t.Errorf("open breaker took %s to fail", took)
	}
	if after := sim.Stats(); after.Faulted != before.Faulted {
		t.Errorf("open breaker still sent %d requests", after.Faulted-before.Faulted)
	}
	sim.SetFaults(bhxhsim.Faults{})
	deadline := time.Now().Add(5 * time.Second)
	for c.State().State == events.GatewayOffline {
		if time.Now().After(deadline) {
			t.Fatal("breaker never half-opened")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if s := c.State().State; s != events.GatewayDegraded {
		t.Fatalf("half-open state %s, want degraded", s)
	}
	if _, err := c.Check(ctx, query(p)); err != nil {
		t.Fatalf("trial check: %v", err)
	}
	if s := c.State().State; s != events.GatewayOnline {
		t.Fatalf("state %s after a good trial, want online", s)
	}
	var seen []events.GatewayState
	for len(sub.C()) > 0 {
		ev := <-sub.C()
		g := ev.Data.(events.Gateway)
		if g.Since.IsZero() {
			t.Errorf("event %+v without Since", g)
		}
		seen = append(seen, g.State)
	}
	want := []events.GatewayState{events.GatewayOnline, events.GatewayDegraded, events.GatewayOffline, events.GatewayDegraded, events.GatewayOnline}
	if len(seen) != len(want) {
		t.Fatalf("events %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("events %v, want %v", seen, want)
		}
	}
}

// TestSlowIsDegraded: a success slower than Slow marks the gateway degraded.
func TestSlowIsDegraded(t *testing.T) {
	sim, url := startSim(t, bhxhsim.Options{Seed: 15})
	c := newClient(t, url, bhxh.Options{Slow: 30 * time.Millisecond})
	p := example(t, sim, "000")
	if _, err := c.Check(context.Background(), query(p)); err != nil {
		t.Fatal(err)
	}
	sim.SetFaults(bhxhsim.Faults{Latency: bhxhsim.Duration(60 * time.Millisecond)})
	if _, err := c.Check(context.Background(), query(p)); err != nil {
		t.Fatal(err)
	}
	if s := c.State(); s.State != events.GatewayDegraded {
		t.Fatalf("state %+v, want degraded", s)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, o := range []bhxh.Options{
		{URL: "", Username: "u", Password: "p"},
		{URL: "ftp://x", Username: "u", Password: "p"},
		{URL: "http://x"},
	} {
		if _, err := bhxh.New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

// TestErrorsCarryNoSecrets: the URL carries the token and password hash;
// no error may show it.
func TestErrorsCarryNoSecrets(t *testing.T) {
	sim, url := startSim(t, bhxhsim.Options{Seed: 16})
	c := newClient(t, url, bhxh.Options{Timeout: 200 * time.Millisecond, Retries: -1})
	p := example(t, sim, "000")
	if _, err := c.Check(context.Background(), query(p)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []bhxhsim.Faults{{Reset: 1}, {Timeout: 1}, {Error5xx: 1}, {Garbage: 1}} {
		sim.SetFaults(f)
		_, err := c.Check(context.Background(), query(p))
		if err == nil {
			t.Fatal("no error")
		}
		for _, secret := range []string{"token=", "password", string(p.CardNumber), string(p.CitizenID), string(p.Name)} {
			if contains(err.Error(), secret) {
				t.Errorf("error %q shows %q", err, secret)
			}
		}
	}
}

func upperNFD(s string) string { return norm.NFD.String(strings.ToUpper(s)) }

func contains(s, sub string) bool { return sub != "" && strings.Contains(s, sub) }

// TestAccountRefusedBacksOff: a refused account is its own state, checks
// fail at once, and over ten minutes of refused checks (one every 6 s on
// the shared clock) the client signs in only 3 times (at 0, 1 and 6 min),
// then again once its backoff is over and the account is fixed; a new
// client (settings saved) signs in at once.
func TestAccountRefusedBacksOff(t *testing.T) {
	clk := newClock()
	sim, url := startSim(t, bhxhsim.Options{Seed: 21, Now: clk.Now})
	bus := events.New()
	sub := bus.Subscribe(events.GatewayChanged, 64)
	defer sub.Close()
	c := newClient(t, url, bhxh.Options{Bus: bus, Now: clk.Now})
	p := example(t, sim, "000")
	ctx := context.Background()
	sim.SetFaults(bhxhsim.Faults{LoginCode: "402"})

	for i := 0; i < 100; i++ { // 10 minutes, a check every 6 s
		_, err := c.Check(ctx, query(p))
		if !errors.Is(err, bhxh.ErrAccountRefused) || !errors.Is(err, agent.ErrUnavailable) {
			t.Fatalf("check %d: err = %v, want account refused (and unavailable)", i, err)
		}
		if s := c.State(); s.State != events.GatewayAccountRefused || !strings.Contains(s.Reason, "402") {
			t.Fatalf("check %d: state %+v, want account-refused with the code", i, s)
		}
		clk.Add(6 * time.Second)
	}
	st := sim.Stats()
	if st.LoginsRefused != 3 || st.Logins != 0 {
		t.Fatalf("10 minutes of refused checks made %d refused and %d good logins, want 3 and 0", st.LoginsRefused, st.Logins)
	}
	if st.Checks != 0 {
		t.Errorf("%d card checks sent without a token", st.Checks)
	}
	// Another 40 minutes: at most a few logins an hour.
	for i := 0; i < 40; i++ {
		c.Check(ctx, query(p))
		clk.Add(time.Minute)
	}
	if n := sim.Stats().LoginsRefused; n > 5 {
		t.Fatalf("%d refused logins in 50 minutes, want at most 5", n)
	}

	// IT fixes the account at the gateway: the client resumes when its
	// backoff is over, and the state turns online.
	sim.SetFaults(bhxhsim.Faults{})
	clk.Add(20 * time.Minute)
	if _, err := c.Check(ctx, query(p)); err != nil {
		t.Fatalf("after the account was fixed: %v", err)
	}
	if s := c.State(); s.State != events.GatewayOnline {
		t.Fatalf("state %+v after a good login, want online", s)
	}

	// Settings saved: a new client signs in at once, whatever the old
	// one's backoff.
	sim.SetFaults(bhxhsim.Faults{LoginCode: "403"})
	c.Check(ctx, query(p)) // token still valid: no login, a good answer
	before := sim.Stats().LoginsRefused
	c2 := newClient(t, url, bhxh.Options{Bus: bus, Now: clk.Now})
	if _, err := c2.Check(ctx, query(p)); !errors.Is(err, bhxh.ErrAccountRefused) {
		t.Fatalf("new client: err = %v", err)
	}
	sim.SetFaults(bhxhsim.Faults{})
	c3 := newClient(t, url, bhxh.Options{Bus: bus, Now: clk.Now})
	if _, err := c3.Check(ctx, query(p)); err != nil {
		t.Fatalf("new client after the fix: %v", err)
	}
	if n := sim.Stats().LoginsRefused - before; n != 1 {
		t.Fatalf("new client: %d refused logins, want 1", n)
	}

	var seen []events.GatewayState
	for len(sub.C()) > 0 {
		seen = append(seen, (<-sub.C()).Data.(events.Gateway).State)
	}
	if !slices.Contains(seen, events.GatewayAccountRefused) {
		t.Fatalf("gateway.state events %v: no account-refused", seen)
	}
}

// TestStateHysteresis: a gateway flapping between slow and fast answers
// changes the published state once within StateHold (no blinking), and the
// last wanted state shows once the hold is over.
func TestStateHysteresis(t *testing.T) {
	sim, url := startSim(t, bhxhsim.Options{Seed: 22})
	p := example(t, sim, "000")
	ctx := context.Background()
	flap := func(c *bhxh.Client) {
		for i := range 10 {
			f := bhxhsim.Faults{}
			if i%2 == 0 {
				f.Latency = bhxhsim.Duration(30 * time.Millisecond)
			}
			sim.SetFaults(f)
			if _, err := c.Check(ctx, query(p)); err != nil {
				t.Fatal(err)
			}
		}
	}

	bus := events.New()
	sub := bus.Subscribe(events.GatewayChanged, 64)
	defer sub.Close()
	c := newClient(t, url, bhxh.Options{Bus: bus, Slow: 20 * time.Millisecond, StateHold: time.Hour})
	flap(c)
	var seen []events.GatewayState
	for len(sub.C()) > 0 {
		seen = append(seen, (<-sub.C()).Data.(events.Gateway).State)
	}
	if want := []events.GatewayState{events.GatewayOnline, events.GatewayDegraded}; !slices.Equal(seen, want) {
		t.Fatalf("events while flapping %v, want %v", seen, want)
	}

	// With a short hold, the last answer (fast) shows once it is over.
	c = newClient(t, url, bhxh.Options{Slow: 20 * time.Millisecond, StateHold: 100 * time.Millisecond})
	flap(c)
	deadline := time.Now().Add(5 * time.Second)
	for c.State().State != events.GatewayOnline {
		if time.Now().After(deadline) {
			t.Fatalf("state %+v, want online after the hold", c.State())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestGatewayQuirks runs each irregularity seen from the live gateway
// through the simulator over HTTP and checks what reception would expect.
func TestGatewayQuirks(t *testing.T) {
	ctx := context.Background()

	t.Run("blank values and null lists read as absent", func(t *testing.T) {
		sim, url := startSim(t, bhxhsim.Options{Seed: 31, Blanks: true})
		c := newClient(t, url, bhxh.Options{Visits: true})
		p := example(t, sim, "000")
		e, err := c.Check(ctx, query(p))
		if err != nil {
			t.Fatal(err)
		}
		if e.Verdict != patient.Eligible || e.NewCard != nil || e.AreaCode != "" {
			t.Fatalf("blank fields: verdict %s, new card %+v, area %q; want eligible, none, empty", e.Verdict, e.NewCard, e.AreaCode)
		}
		checkCardDetails(t, p, e)
		for _, code := range []string{"010", "050", "060"} {
			if e, err := c.Check(ctx, query(example(t, sim, code))); err != nil || e.Code != code || code == "050" && e.Holder != "" ||
				code == "060" && e.Holder == "" { // a name mismatch carries the gateway's own spelling
				t.Errorf("code %s with blanks: %+v %v", code, e, err)
			}
		}
		// A person with no visits: Lskcb2025 answers a null list.
		for i := range 300 {
			pp := sim.Person(i)
			if pp.Code != "000" {
				continue
			}
			v, err := c.Visits(ctx, query(pp))
			if err != nil {
				t.Fatalf("visits: %v", err)
			}
			if len(v) == 0 {
				return // null read as no visits, no error
			}
		}
		t.Fatal("no person without visits in 300")
	})

	t.Run("501 Token không đúng signs in again", func(t *testing.T) {
		sim, url := startSim(t, bhxhsim.Options{Seed: 32})
		c := newClient(t, url, bhxh.Options{})
		p := example(t, sim, "000")
		if _, err := c.Check(ctx, query(p)); err != nil {
			t.Fatal(err)
		}
		sim.SetFaults(bhxhsim.Faults{Token501: true})
		_, err := c.Check(ctx, query(p))
		var ce *bhxh.CodeError
		if !errors.Is(err, agent.ErrUnavailable) || !errors.As(err, &ce) {
			t.Fatalf("persistent 501: err = %v, want unavailable (cache and re-check), not a verdict", err)
		}
		if c.Logins() != 2 {
			t.Errorf("%d logins, want 2 (one more after the 501)", c.Logins())
		}
		sim.SetFaults(bhxhsim.Faults{})
		if e, err := c.Check(ctx, query(p)); err != nil || e.Verdict != patient.Eligible {
			t.Fatalf("after the 501s: %+v %v", e, err)
		}
	})

	t.Run("unknown codes ask to check documents and show the code", func(t *testing.T) {
		sim, url := startSim(t, bhxhsim.Options{Seed: 33})
		c := newClient(t, url, bhxh.Options{})
		p := example(t, sim, "000")
		for _, code := range []string{"777", "003.1", "999"} {
			sim.SetFaults(bhxhsim.Faults{Code: code})
			e, err := c.Check(ctx, query(p))
			if err != nil {
				t.Fatalf("code %s: %v", code, err)
			}
			if e.Verdict != patient.CheckDocuments || e.Code != code || !strings.Contains(e.ReasonVI, code) || !strings.Contains(e.ReasonEN, code) {
				t.Errorf("code %s: %s %q / %q, want check-documents naming the code", code, e.Verdict, e.ReasonVI, e.ReasonEN)
			}
		}
	})

	t.Run("090 and 002 as the table says", func(t *testing.T) {
		sim, url := startSim(t, bhxhsim.Options{Seed: 34})
		c := newClient(t, url, bhxh.Options{})
		p := example(t, sim, "000")
		for code, want := range map[string]patient.Verdict{"090": patient.InputMismatch, "002": patient.CheckDocuments} {
			sim.SetFaults(bhxhsim.Faults{Code: code})
			e, err := c.Check(ctx, query(p))
			if err != nil || e.Verdict != want || e.ReasonVI != bhxh.RuleFor(code).ReasonVI {
				t.Errorf("code %s: %+v %v, want %s", code, e, err, want)
			}
		}
	})

	t.Run("002 from Lskcb2025 is no history, not a failure", func(t *testing.T) {
		sim, url := startSim(t, bhxhsim.Options{Seed: 35})
		c := newClient(t, url, bhxh.Options{Visits: true})
		p := example(t, sim, "002")
		v, err := c.Visits(ctx, query(p))
		if !errors.Is(err, bhxh.ErrNoHistory) || errors.Is(err, agent.ErrUnavailable) || !strings.Contains(err.Error(), "002") || len(v) != 0 {
			t.Fatalf("visits of a 002 card: %d, %v; want no history naming code 002", len(v), err)
		}
		if e, err := c.Check(ctx, query(p)); err != nil || e.Verdict != patient.CheckDocuments {
			t.Fatalf("check of a 002 card: %+v %v", e, err)
		}
	})

	t.Run("Lskcb2025 gets a form body when checks are JSON", func(t *testing.T) {
		sim, url := startSim(t, bhxhsim.Options{Seed: 36, Encoding: "json"})
		c := newClient(t, url, bhxh.Options{JSON: true})
		p := example(t, sim, "000")
		if _, err := c.Visits(ctx, query(p)); err != nil {
			t.Fatalf("visits with JSON checks: %v (the gateway refuses JSON there)", err)
		}
	})

	t.Run("expires_in with 7 fractional digits sets the token's life", func(t *testing.T) {
		clk := newClock()
		sim, url := startSim(t, bhxhsim.Options{Seed: 37, Now: clk.Now, TokenTTL: 10 * time.Minute})
		c := newClient(t, url, bhxh.Options{Now: clk.Now})
		p := example(t, sim, "000")
		for range 9 { // 9 minutes on one token
			if _, err := c.Check(ctx, query(p)); err != nil {
				t.Fatal(err)
			}
			clk.Add(time.Minute)
		}
		if c.Logins() != 1 || sim.Stats().Refused != 0 {
			t.Fatalf("%d logins and %d refused calls in the token's life, want 1 and 0", c.Logins(), sim.Stats().Refused)
		}
		clk.Add(2 * time.Minute)
		if _, err := c.Check(ctx, query(p)); err != nil || c.Logins() != 2 || sim.Stats().Refused != 0 {
			t.Fatalf("after expiry: %v, %d logins, %d refused; want a new login before the old token was refused", err, c.Logins(), sim.Stats().Refused)
		}
	})
}
