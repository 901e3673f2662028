// Package bhxh is the client of the national BHXH gateway
// (egw.baohiemxahoi.gov.vn): it signs in, asks KQNhanLichSuKCB2024 whether a
// patient's health insurance (BHYT) covers today's visit, reads the visit
// history (Lskcb2025), and turns every result code into a typed
// patient.Eligibility by the policy table in Policy
// (docs/eligibility-policy.md).
//
// A Client implements agent.Checker. It keeps reception from waiting on a
// sick gateway: transport errors are retried with jittered backoff inside a
// per-check deadline, and a circuit breaker fails checks at once while the
// gateway is down. The breaker's view (online, degraded, offline) is
// published on the event bus as events.GatewayChanged and read with State.
// Every "the gateway could not answer" error wraps agent.ErrUnavailable;
// every answer the gateway gives, good or bad, is a result.
//
// A refused login (codes 401, 402 or 403 in the login answer: a wrong
// account or password, or a locked account) is its own state,
// events.GatewayAccountRefused: checks fail at once with ErrAccountRefused
// and logins back off (Options.LoginBackoff: one more try after a minute,
// then after 5, then every 20 minutes), so that a wrong password never gets
// the facility's account locked. A new Client (the window builds one when
// IT saves the settings) signs in at once.
//
// Gateway state changes have hysteresis: while the breaker is closed the
// state moves between online and degraded at most once per
// Options.StateHold, so a flapping gateway does not make the window and the
// HIS blink. The breaker's own moves (offline, trying again) and the
// account state show at once.
//
// Check does not read the visit history (Lskcb2025) unless Options.Visits
// is set: it is a second round trip that reception does not need for the
// verdict. Visits reads it on demand (e.g. when the HIS asks).
//
// The wire quirks docs/sources.md §1 lists are handled here: the MD5 of
// the password in upper or lower case, form or JSON bodies, expires_in as a
// time or as seconds, dates as dd/MM/yyyy or yyyy, maKetQua as a string or a
// number, and the 15-character card number, 10-digit social-insurance number
// and 12-digit citizen ID tried in that order as maThe.
package bhxh

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"
	"github.com/sony/gobreaker/v2"
	"golang.org/x/sync/singleflight"

	"github.com/tiepdon/tiepdon/agent"
	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/agent/words"
)

// Gateway paths.
const (
	PathLogin  = "/api/token/take"
	PathCheck  = "/api/egw/KQNhanLichSuKCB2024"
	PathVisits = "/api/egw/Lskcb2025"
)

// Options configures a Client. Only URL, Username and Password are required.
type Options struct {
	URL      string // gateway base URL, e.g. https://egw.baohiemxahoi.gov.vn
	Username string // facility account, e.g. "79014_BV"
	Password string // plain password; the client sends its MD5
	MD5Upper bool   // send the MD5 in upper-case hex (the config default); lower case otherwise
	JSON     bool   // send login and card-check bodies as JSON instead of form-urlencoded (Lskcb2025 is always form)

	// Timeout bounds one Check, retries and re-login included (default 10 s).
	Timeout time.Duration
	// Retries is how many times a transport error or 5xx is retried
	// (0: the default, 2; negative: none), waiting about
	// RetryWaitMin..RetryWaitMax (default 50–400 ms) times the attempt
	// number, with jitter.
	Retries                    int
	RetryWaitMin, RetryWaitMax time.Duration
	// RefreshBefore is how long before the token's expiry a new one is
	// fetched (default 60 s, at most a fifth of the token's lifetime).
	RefreshBefore time.Duration

	// Breaker: FailureThreshold consecutive failures open it (default 3);
	// it stays open for OpenFor (default 30 s) and then lets one trial
	// check through. A success slower than Slow (default 3 s) marks the
	// gateway degraded.
	FailureThreshold int
	OpenFor          time.Duration
	Slow             time.Duration
	// StateHold is the least time between two online/degraded changes
	// (default 5 s; negative: none). A change wanted sooner waits, and is
	// dropped if the gateway turns back before the time is up.
	StateHold time.Duration
	// LoginBackoff is how long the client waits before signing in again
	// after the 1st, 2nd, … refused login; the last entry repeats
	// (default 1 min, 5 min, 20 min: at most 3 logins an hour).
	LoginBackoff []time.Duration

	// Visits makes Check also read the visit history (Lskcb2025) after an
	// eligible answer, best effort, within the same deadline.
	Visits bool
	// BirthYearOnly sends only the year of birth as ngaySinh, as some
	// facilities do for patients whose documents show only a year.
	BirthYearOnly bool

	Bus        *events.Bus  // where GatewayChanged is published; may be nil
	HTTPClient *http.Client // default: a pooled client with Timeout
	Logger     *slog.Logger // default slog.Default()
	Now        func() time.Time
}

// Sentinel errors. Every one of them also matches agent.ErrUnavailable.
var (
	ErrLogin        = words.Error("gateway login refused", "cổng BHXH từ chối đăng nhập (tài khoản hoặc mật khẩu)")
	ErrUnauthorized = errors.New("gateway refused the token")
	ErrBreakerOpen  = errors.New("gateway circuit breaker open")
	// ErrAccountRefused is matched by the error of every check made
	// while the gateway refuses the facility's account (login codes 401,
	// 402, 403).
	ErrAccountRefused = agent.ErrAccountRefused
	// ErrNoAccount is returned by New without a username or password.
	ErrNoAccount = words.Error("bhxh: username and password are required", "cần tài khoản và mật khẩu cổng BHXH")
	// ErrNoIdentifier is returned (not wrapping ErrUnavailable) for a query
	// with no card number, social-insurance number or citizen ID.
	ErrNoIdentifier = errors.New("no card number, social-insurance number or citizen ID to check")
)

// CodeError is a technical result code (100, 101, 500, 401 after re-login,
// a refused login) returned as an error. It matches agent.ErrUnavailable.
type CodeError struct {
	Step string // "login", "check", "visits"
	Code string
}

func (e *CodeError) Error() string { return fmt.Sprintf("gateway %s: result code %s", e.Step, e.Code) }

// Vietnamese words the error for the reception window.
func (e *CodeError) Vietnamese() string {
	step := map[string]string{"login": "đăng nhập", "check": "tra cứu thẻ", "visits": "tra lịch sử khám chữa bệnh"}[e.Step]
	if step == "" {
		step = e.Step
	}
	return fmt.Sprintf("cổng BHXH trả mã %s khi %s", e.Code, step)
}

// Unwrap lets errors.Is find agent.ErrUnavailable (and ErrLogin for login,
// and ErrAccountRefused for a login refused for the account's sake).
func (e *CodeError) Unwrap() []error {
	switch {
	case e.Step == "login" && accountRefused(e.Code):
		return []error{agent.ErrUnavailable, ErrLogin, ErrAccountRefused}
	case e.Step == "login":
		return []error{agent.ErrUnavailable, ErrLogin}
	}
	return []error{agent.ErrUnavailable}
}

// accountRefused reports whether a login result code refuses the account
// itself: 401 authentication error, 402 account and password do not match,
// 403 account not allowed (BHXH's login codes, Phụ lục 2).
func accountRefused(code string) bool {
	return code == "401" || code == "402" || code == "403"
}

// unavailable wraps err so that it matches agent.ErrUnavailable.
type unavailable struct{ err error }

func (u unavailable) Error() string   { return u.err.Error() }
func (u unavailable) Unwrap() []error { return []error{agent.ErrUnavailable, u.err} }

// Client talks to the gateway. It is safe for concurrent use.
type Client struct {
	o      Options
	base   *url.URL
	pwHash string
	http   *retryablehttp.Client
	cb     *gobreaker.CircuitBreaker[[]byte]
	log    *slog.Logger
	login  singleflight.Group
	mu     sync.Mutex
	tok    *token
	state  events.Gateway
	logins int // successful logins, for tests and metrics

	// The account: refusals in a row, when the next login may be tried,
	// and the error checks get until then.
	refusals   int
	loginAfter time.Time
	refusedErr error

	// Hysteresis: when the state last changed, and the change waiting
	// for StateHold to pass.
	changed time.Time
	pending *events.Gateway
	holdT   *time.Timer
}

type token struct {
	access, id string
	expires    time.Time // local clock
	refreshAt  time.Time
}

// New returns a client for o.
func New(o Options) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(o.URL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("bhxh: gateway URL %q is not an http(s) URL", o.URL)
	}
	if o.Username == "" || o.Password == "" {
		return nil, ErrNoAccount
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Retries < 0 {
		o.Retries = 0
	} else if o.Retries == 0 {
		o.Retries = 2
	}
	if o.RetryWaitMin <= 0 {
		o.RetryWaitMin = 50 * time.Millisecond
	}
	if o.RetryWaitMax < o.RetryWaitMin {
		o.RetryWaitMax = max(400*time.Millisecond, o.RetryWaitMin)
	}
	if o.RefreshBefore <= 0 {
		o.RefreshBefore = time.Minute
	}
	if o.FailureThreshold <= 0 {
		o.FailureThreshold = 3
	}
	if o.OpenFor <= 0 {
		o.OpenFor = 30 * time.Second
	}
	if o.Slow <= 0 {
		o.Slow = 3 * time.Second
	}
	if o.StateHold == 0 {
		o.StateHold = 5 * time.Second
	}
	if len(o.LoginBackoff) == 0 {
		o.LoginBackoff = []time.Duration{time.Minute, 5 * time.Minute, 20 * time.Minute}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = cleanhttp.DefaultPooledClient()
		hc.Timeout = o.Timeout
	}
	sum := md5.Sum([]byte(o.Password))
	pw := hex.EncodeToString(sum[:])
	if o.MD5Upper {
		pw = strings.ToUpper(pw)
	}
	c := &Client{
		o:      o,
		base:   u,
		pwHash: pw,
		log:    o.Logger.With("component", "bhxh"),
		state:  events.Gateway{State: events.GatewayOnline, Since: o.Now()},
	}
	c.http = &retryablehttp.Client{
		HTTPClient:   hc,
		Logger:       nil, // its messages carry URLs, and ours carry the token
		RetryWaitMin: o.RetryWaitMin,
		RetryWaitMax: o.RetryWaitMax,
		RetryMax:     o.Retries,
		CheckRetry:   retryablehttp.DefaultRetryPolicy,
		Backoff:      retryablehttp.LinearJitterBackoff,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	c.cb = gobreaker.NewCircuitBreaker[[]byte](gobreaker.Settings{
		Name:        "bhxh",
		MaxRequests: 1,
		Timeout:     o.OpenFor,
		ReadyToTrip: func(n gobreaker.Counts) bool {
			return n.ConsecutiveFailures >= uint32(o.FailureThreshold)
		},
		IsSuccessful: func(err error) bool {
			// The gateway answered: a refused token is not a sick gateway.
			return err == nil || errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrLogin)
		},
		IsExcluded: func(err error) bool {
			// The caller gave up (not our deadline): says nothing about the gateway.
			return errors.Is(err, context.Canceled)
		},
		OnStateChange: func(_ string, from, to gobreaker.State) {
			switch to {
			case gobreaker.StateOpen:
				c.setState(events.GatewayOffline, fmt.Sprintf("%d consecutive failures; retrying in %s", o.FailureThreshold, o.OpenFor), true)
			case gobreaker.StateHalfOpen:
				c.setState(events.GatewayDegraded, "trying the gateway again", true)
			case gobreaker.StateClosed:
				if st, reason := c.accountState(); st != "" {
					c.setState(st, reason, true)
				} else {
					c.setState(events.GatewayOnline, "", true)
				}
			}
		},
	})
	if o.Bus != nil {
		o.Bus.Publish(events.GatewayChanged, c.state)
	}
	return c, nil
}

// State returns the gateway's health as the breaker sees it.
func (c *Client) State() events.Gateway {
	c.cb.State() // lets an open breaker whose time is up turn half-open
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// accountState returns GatewayAccountRefused and its reason while the
// account is refused, else "".
func (c *Client) accountState() (events.GatewayState, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refusedErr == nil {
		return "", ""
	}
	var ce *CodeError
	errors.As(c.refusedErr, &ce)
	return events.GatewayAccountRefused, fmt.Sprintf("login refused (code %s)", ce.Code)
}

// setState moves the gateway state to s. A change that is not now (the
// online/degraded moves of afterCall) waits until StateHold has passed since
// the last change, and is dropped if the state it would leave is wanted
// again meanwhile.
func (c *Client) setState(s events.GatewayState, reason string, now bool) {
	c.mu.Lock()
	if !now && c.o.StateHold > 0 {
		if c.state.State == s {
			c.pending = nil // the gateway turned back: nothing to show
			c.mu.Unlock()
			return
		}
		if wait := c.o.StateHold - c.o.Now().Sub(c.changed); !c.changed.IsZero() && wait > 0 {
			c.pending = &events.Gateway{State: s, Reason: reason}
			if c.holdT == nil {
				c.holdT = time.AfterFunc(wait, c.flushPending)
			}
			c.mu.Unlock()
			return
		}
	}
	c.pending = nil
	if c.state.State == s {
		c.mu.Unlock()
		return
	}
	c.state = events.Gateway{State: s, Since: c.o.Now(), Reason: reason}
	c.changed = c.state.Since
	st := c.state
	c.mu.Unlock()
	switch s {
	case events.GatewayOnline:
		c.log.Info("The BHXH gateway answers normally again", "state", st.State)
	case events.GatewayDegraded:
		c.log.Warn("The BHXH gateway is slow or failing now and then; checks may show the cached answer first. Nothing to do unless it lasts; then check the network",
			"state", st.State, "reason", reason)
	case events.GatewayOffline:
		c.log.Warn("The BHXH gateway cannot be reached; checks show the cached answer and are re-checked when it returns. If it lasts, check this computer's network and run tiepdon doctor",
			"state", st.State, "reason", reason)
	case events.GatewayAccountRefused:
		c.log.Error("The BHXH gateway refuses the facility's account; checks use the cache. Ask IT to fix the gateway account or password in the settings",
			"state", st.State, "reason", reason)
	}
	if c.o.Bus != nil {
		c.o.Bus.Publish(events.GatewayChanged, st)
	}
}

// flushPending applies the change that waited for StateHold, if the
// breaker has not taken over meanwhile.
func (c *Client) flushPending() {
	c.mu.Lock()
	p := c.pending
	c.pending, c.holdT = nil, nil
	c.mu.Unlock()
	if p != nil && c.cb.State() == gobreaker.StateClosed {
		if st, _ := c.accountState(); st == "" {
			c.setState(p.State, p.Reason, true)
		}
	}
}

// afterCall updates online/degraded while the breaker is closed and the
// account is not refused.
func (c *Client) afterCall(took time.Duration, err error) {
	if c.cb.State() != gobreaker.StateClosed {
		return
	}
	if st, _ := c.accountState(); st != "" {
		return
	}
	switch {
	case err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, ErrUnauthorized) && !errors.Is(err, ErrLogin):
		c.setState(events.GatewayDegraded, "failing intermittently: "+safeCause(err), false)
	case err == nil && took > c.o.Slow:
		c.setState(events.GatewayDegraded, fmt.Sprintf("slow: answered in %s", took.Round(time.Millisecond)), false)
	case err == nil:
		c.setState(events.GatewayOnline, "", false)
	}
}

// safeCause names an error's kind without URLs or personal data.
func safeCause(err error) string {
	var ce *CodeError
	switch {
	case errors.As(err, &ce):
		return "result code " + ce.Code
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, ErrBadResponse):
		return "answer not understood"
	case errors.Is(err, ErrBreakerOpen):
		return "breaker open"
	}
	var se *statusError
	if errors.As(err, &se) {
		return fmt.Sprintf("HTTP %d", se.status)
	}
	return "network error"
}

// statusError is an HTTP status the gateway should not send.
type statusError struct{ status int }

func (e *statusError) Error() string { return fmt.Sprintf("HTTP status %d", e.status) }

// Logins returns how many times the client has signed in (for tests and
// diagnostics).
func (c *Client) Logins() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.logins
}

// post sends one request through the breaker and returns the body of a 2xx
// answer. A 401, or a body whose maKetQua is 401, is ErrUnauthorized; a
// technical result code is a *CodeError.
func (c *Client) post(ctx context.Context, step, path string, query url.Values, body []byte, contentType string) ([]byte, error) {
	start := c.o.Now()
	b, err := c.cb.Execute(func() ([]byte, error) {
		u := *c.base
		u.Path = c.base.Path + path
		u.RawQuery = query.Encode()
		req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, u.String(), body)
		if err != nil {
			return nil, fmt.Errorf("building %s request: %w", step, err)
		}
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Accept", "application/json")
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, stripURL(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		if err != nil {
			return nil, fmt.Errorf("reading %s answer: %w", step, stripURL(err))
		}
		switch {
		case resp.StatusCode == http.StatusUnauthorized:
			return nil, ErrUnauthorized
		case resp.StatusCode < 200 || resp.StatusCode > 299:
			return nil, &statusError{resp.StatusCode}
		}
		var head struct {
			MaKetQua text `json:"maKetQua"`
		}
		if err := decode(b, &head); err != nil {
			return nil, err
		}
		switch code := normCode(string(head.MaKetQua)); {
		case step != "login" && (code == "401" || code == "501"):
			// 501 "Token không đúng" is seen in the field for a
			// stale token: sign in again, as for 401.
			return nil, ErrUnauthorized
		case step != "login" && RuleFor(code).Unavailable:
			return nil, &CodeError{Step: step, Code: code}
		}
		return b, nil
	})
	if step != "login" || err != nil {
		// A login's answer says nothing about the state until signIn
		// has read it.
		c.afterCall(c.o.Now().Sub(start), err)
	}
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return nil, unavailable{fmt.Errorf("%s: %w", step, ErrBreakerOpen)}
	}
	if err != nil && !errors.Is(err, agent.ErrUnavailable) {
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
			return nil, fmt.Errorf("gateway %s: %w", step, ctx.Err())
		}
		return nil, unavailable{fmt.Errorf("gateway %s: %w", step, err)}
	}
	return b, err
}

// stripURL drops the URL from a *url.Error: ours carries the token and the
// password hash in its query.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// encode returns a request body with the fields in order, as a form or JSON.
func encode(asJSON bool, kv ...string) ([]byte, string) {
	if asJSON {
		m := make(map[string]string, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		b, _ := json.Marshal(m)
		return b, "application/json"
	}
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return []byte(v.Encode()), "application/x-www-form-urlencoded"
}

// TrySignIn signs in to the gateway with the client's account, for the
// settings page to test an account before saving it. The error says why the
// gateway refused or could not be reached.
func (c *Client) TrySignIn(ctx context.Context) error {
	_, err := c.token(ctx)
	return err
}

// token returns a valid token, signing in if there is none or it is about to
// expire. Concurrent callers share one login.
func (c *Client) token(ctx context.Context) (*token, error) {
	c.mu.Lock()
	t, refused, after := c.tok, c.refusedErr, c.loginAfter
	c.mu.Unlock()
	if t != nil && c.o.Now().Before(t.refreshAt) {
		return t, nil
	}
	if refused != nil && c.o.Now().Before(after) {
		// The account was refused: do not ask again before the
		// backoff is over, or the gateway may lock it.
		return nil, refused
	}
	ch := c.login.DoChan("login", func() (any, error) {
		// The login outlives a caller that gives up, so that the
		// others waiting on it still get a token.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.o.Timeout)
		defer cancel()
		return c.signIn(lctx)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*token), nil
	case <-ctx.Done():
		return nil, unavailable{fmt.Errorf("waiting for gateway login: %w", ctx.Err())}
	}
}

// forget drops t if it is still the current token, so that the next call
// signs in again.
func (c *Client) forget(t *token) {
	c.mu.Lock()
	if c.tok == t {
		c.tok = nil
	}
	c.mu.Unlock()
}

func (c *Client) signIn(ctx context.Context) (*token, error) {
	body, ct := encode(c.o.JSON, "username", c.o.Username, "password", c.pwHash)
	sent := c.o.Now()
	b, err := c.post(ctx, "login", PathLogin, nil, body, ct)
	if errors.Is(err, ErrUnauthorized) {
		return nil, c.refused("401")
	}
	if err != nil {
		return nil, err
	}
	var r loginResponse
	if err := decode(b, &r); err != nil {
		return nil, unavailable{fmt.Errorf("gateway login: %w", err)}
	}
	if code := normCode(string(r.MaKetQua)); code != "200" || r.APIKey == nil || r.APIKey.AccessToken == "" {
		if accountRefused(code) {
			return nil, c.refused(code)
		}
		if code == "200" {
			code = "200-no-token"
		}
		c.log.Error("The BHXH gateway did not sign the facility in; checks use the cache meanwhile. If it lasts, run tiepdon doctor",
			"code", code, "username", c.o.Username)
		return nil, &CodeError{Step: "login", Code: code}
	}
	now := c.o.Now()
	exp, ok := expiry(string(r.APIKey.ExpiresIn), now)
	if !ok {
		exp = now.Add(10 * time.Minute) // the lifetime seen in real tokens
	} else if !strings.ContainsAny(string(r.APIKey.ExpiresIn), "-:") {
		exp = sent.Add(exp.Sub(now)) // seconds count from when we asked
	}
	ttl := exp.Sub(now)
	if ttl <= 0 {
		// Our clock is ahead of the gateway's: trust the lifetime
		// the token would have had, not the wall time.
		ttl = 10 * time.Minute
		exp = now.Add(ttl)
	}
	t := &token{access: string(r.APIKey.AccessToken), id: string(r.APIKey.IDToken), expires: exp}
	t.refreshAt = exp.Add(-min(c.o.RefreshBefore, ttl/5))
	c.mu.Lock()
	c.tok = t
	c.logins++
	wasRefused := c.refusedErr != nil
	c.refusals, c.refusedErr, c.loginAfter = 0, nil, time.Time{}
	c.mu.Unlock()
	c.log.Debug("gateway login", "expires", exp)
	if wasRefused {
		c.setState(events.GatewayOnline, "", true)
	}
	return t, nil
}

// refused records a login refused with code and returns the error checks
// get until the next login may be tried.
func (c *Client) refused(code string) error {
	err := &CodeError{Step: "login", Code: code}
	c.mu.Lock()
	c.refusals++
	n := c.refusals
	wait := c.o.LoginBackoff[min(n, len(c.o.LoginBackoff))-1]
	c.loginAfter = c.o.Now().Add(wait)
	c.refusedErr = err
	c.tok = nil
	c.mu.Unlock()
	c.log.Error("The BHXH gateway refused the facility's account: live checks stop and the cache is used. Ask IT to check the gateway account and password in the settings",
		"code", code, "username", c.o.Username, "refusals_in_a_row", n, "next_login_in", wait)
	c.setState(events.GatewayAccountRefused, fmt.Sprintf("login refused (code %s)", code), true)
	return err
}

// call sends an authenticated /api/egw request: signs in as needed, and on a
// 401 signs in again once and repeats the request.
func (c *Client) call(ctx context.Context, step, path string, body []byte, ct string) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		t, err := c.token(ctx)
		if err != nil {
			return nil, err
		}
		q := url.Values{"token": {t.access}, "id_token": {t.id}, "username": {c.o.Username}, "password": {c.pwHash}}
		b, err := c.post(ctx, step, path, q, body, ct)
		if errors.Is(err, ErrUnauthorized) {
			c.forget(t)
			if attempt == 0 {
				c.log.Debug("gateway refused the token; signing in again")
				continue
			}
			return nil, &CodeError{Step: step, Code: "401"}
		}
		return b, err
	}
}

// candidate is one value to send as maThe.
type candidate struct{ value, kind string }

// Kinds of maThe, recorded in Eligibility.AnsweredBy.
const (
	KindCard            = "card"
	KindSocialInsurance = "social-insurance"
	KindCitizenID       = "citizen-id"
)

func candidates(q patient.Query) []candidate {
	var out []candidate
	seen := map[string]bool{}
	add := func(v, kind string) {
		v = strings.ToUpper(strings.TrimSpace(v))
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, candidate{v, kind})
		}
	}
	card := string(q.CardNumber)
	if len(card) == 10 && digitsOnly(card) {
		// Newer cards print only the social-insurance number.
		add(q.SocialInsuranceNumber, KindSocialInsurance)
		add(card, KindSocialInsurance)
	} else {
		add(card, KindCard)
		add(q.SocialInsuranceNumber, KindSocialInsurance)
	}
	add(string(q.CitizenID), KindCitizenID)
	return out
}

// tryNext says whether an answer is about the identifier rather than the
// person, so the next candidate may do better.
func tryNext(code string) bool {
	switch code {
	case "050", "051", "052", "053", "205":
		return true
	}
	return false
}

// Check asks the gateway about q, trying its identifiers in order, and
// follows a reissued card (003/004) with a second check on the new number.
// Gateway answers are results; failures to get one wrap agent.ErrUnavailable.
func (c *Client) Check(ctx context.Context, q patient.Query) (patient.Eligibility, error) {
	cands := candidates(q)
	if len(cands) == 0 {
		return patient.Eligibility{}, ErrNoIdentifier
	}
	ctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	start := c.o.Now()

	var first *patient.Eligibility
	var e patient.Eligibility
	for i, cand := range cands {
		got, err := c.checkOne(ctx, q, cand.value)
		if err != nil {
			return patient.Eligibility{}, err
		}
		got.AnsweredBy = cand.kind
		if first == nil {
			first = &got
		}
		e = got
		if !tryNext(got.Code) {
			break
		}
		if i == len(cands)-1 {
			e = *first // none found: the most specific identifier's answer
		}
	}

	e = c.followNewCard(ctx, q, e)

	if c.o.Visits && e.Verdict == patient.Eligible {
		if v, err := c.visits(ctx, q, string(e.CardNumber)); err == nil {
			e.Visits = v
		} else {
			c.log.Warn("The visit history could not be read from the gateway; the check result is shown without it; nothing to do", "err", err)
		}
	}
	now := c.o.Now()
	e.Source = patient.SourceLive
	e.CheckedAt = now
	e.Latency = now.Sub(start)
	return e, nil
}

// followNewCard re-checks 003/004 answers with maTheMoi (at most twice, in
// case the new card was itself reissued). The result describes the new card
// and keeps NewCard set so that the HIS sees a reissue happened.
func (c *Client) followNewCard(ctx context.Context, q patient.Query, e patient.Eligibility) patient.Eligibility {
	first := e
	for hop := 0; hop < 2 && (e.Code == "003" || e.Code == "004") && e.NewCard != nil; hop++ {
		orig := e
		next := string(orig.NewCard.CardNumber)
		if next == "" || next == string(orig.CardNumber) {
			break
		}
		got, err := c.checkOne(ctx, q, next)
		if err != nil || tryNext(got.Code) {
			// Keep the first answer: 004 is still eligible on the old
			// card, 003 tells staff to ask for the new one.
			c.log.Warn("A reissued card's new number could not be checked; the old card's answer is shown; staff should ask for the new card", "code", orig.Code, "err", err, "answer", got.Code)
			return orig
		}
		got.AnsweredBy = KindCard
		nc := &patient.NewCard{
			FirstCode:          first.Code,
			OldCardNumber:      first.CardNumber,
			CardNumber:         got.CardNumber,
			ValidFrom:          got.ValidFrom,
			ValidTo:            got.ValidTo,
			RegisteredFacility: got.RegisteredFacility,
			FacilityName:       got.FacilityName,
		}
		if nc.CardNumber == "" {
			nc.CardNumber = patient.CardNumber(next)
		}
		if nc.ValidTo.IsZero() {
			nc.ValidFrom, nc.ValidTo = orig.NewCard.ValidFrom, orig.NewCard.ValidTo
		}
		if nc.RegisteredFacility == "" {
			nc.RegisteredFacility, nc.FacilityName = orig.NewCard.RegisteredFacility, orig.NewCard.FacilityName
		}
		if got.CardNumber == "" {
			got.CardNumber = nc.CardNumber
			got.BenefitLevel, got.BenefitPercent = Benefit(got.CardNumber)
		}
		got.NewCard = nc
		rule := RuleFor(orig.Code)
		got.ReasonVI = rule.ReasonVI + " Thẻ mới: " + got.ReasonVI
		got.ReasonEN = rule.ReasonEN + " New card: " + got.ReasonEN
		if got.Verdict == patient.Eligible {
			// Admitted on the new card: the record needs its number.
			reissued := RuleFor("004")
			got.NextVI, got.NextEN = reissued.NextVI, reissued.NextEN
		}
		e = got
		if e.Code == "003" || e.Code == "004" {
			continue
		}
		break
	}
	return e
}

// checkOne sends one KQNhanLichSuKCB2024 request with maThe set to card.
func (c *Client) checkOne(ctx context.Context, q patient.Query, card string) (patient.Eligibility, error) {
	body, ct := encode(c.o.JSON, c.fields(q, card)...)
	b, err := c.call(ctx, "check", PathCheck, body, ct)
	if err != nil {
		return patient.Eligibility{}, err
	}
	e, err := DecodeCheck(b)
	if err != nil {
		return patient.Eligibility{}, unavailable{fmt.Errorf("gateway check: %w", err)}
	}
	sum := sha256.Sum256(b)
	e.AnswerSHA256 = hex.EncodeToString(sum[:])
	return e, nil
}

func (c *Client) fields(q patient.Query, card string) []string {
	dob := q.BirthDate
	if c.o.BirthYearOnly {
		dob = patient.Date{Year: dob.Year}
	}
	return []string{
		"maThe", card,
		"hoTen", string(q.Name),
		"ngaySinh", dob.String(),
		"hoTenCb", string(q.Staff.Name),
		"cccdCb", string(q.Staff.CitizenID),
	}
}

// Visits reads the patient's visit history (Lskcb2025), trying q's
// identifiers in order. The body is always form-urlencoded: the gateway
// refuses JSON there.
func (c *Client) Visits(ctx context.Context, q patient.Query) ([]patient.Visit, error) {
	cands := candidates(q)
	if len(cands) == 0 {
		return nil, ErrNoIdentifier
	}
	ctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	var err error
	for _, cand := range cands {
		var v []patient.Visit
		if v, err = c.visits(ctx, q, cand.value); err == nil {
			return v, nil
		}
		if errors.Is(err, agent.ErrUnavailable) {
			return nil, err
		}
	}
	return nil, err
}

// ErrNoHistory is returned by Visits when the gateway answers with a code
// other than 000 (the identifier or name did not match).
var ErrNoHistory = errors.New("gateway has no visit history for this query")

func (c *Client) visits(ctx context.Context, q patient.Query, card string) ([]patient.Visit, error) {
	body, ct := encode(false, c.fields(q, card)...)
	b, err := c.call(ctx, "visits", PathVisits, body, ct)
	if err != nil {
		return nil, err
	}
	code, v, err := DecodeVisits(b)
	if err != nil {
		return nil, unavailable{fmt.Errorf("gateway visits: %w", err)}
	}
	if code != "000" {
		return nil, fmt.Errorf("%w (code %s)", ErrNoHistory, code)
	}
	return v, nil
}

var _ agent.Checker = (*Client)(nil)
