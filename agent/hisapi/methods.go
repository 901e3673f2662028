package hisapi

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
)

type method struct {
	h         func(ss *session, ctx context.Context, p json.RawMessage) (any, *Error)
	needHello bool  // only after session.hello
	needAuth  bool  // only with a valid token
	scope     Scope // and this scope
	slow      bool  // may wait: runs beside the reader, counted against MaxInFlight
}

var methods map[string]method

func init() {
	methods = map[string]method{
		"session.hello":     {h: (*session).sessionHello},
		"system.info":       {h: (*session).systemInfo},
		"pairing.request":   {h: (*session).pairingRequest, needHello: true, slow: true},
		"status":            {h: (*session).status, needHello: true, needAuth: true},
		"eligibility.check": {h: (*session).eligibilityCheck, needHello: true, needAuth: true, scope: ScopeEligibility, slow: true},
		"identity.current":  {h: (*session).identityCurrent, needHello: true, needAuth: true, scope: ScopeIdentity},
		"receipt.get":       {h: (*session).receiptGet, needHello: true, needAuth: true, scope: ScopeEligibility},
		"receipts.list":     {h: (*session).receiptsList, needHello: true, needAuth: true, scope: ScopeEligibility},
		"events.since":      {h: (*session).eventsSince, needHello: true, needAuth: true},
	}
}

// MethodNames lists the API's methods, sorted.
func MethodNames() []string {
	out := make([]string, 0, len(methods))
	for n := range methods {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// EventNames lists the notifications forwarded from the agent, sorted
// (events.dropped and pairing.code come from the API itself).
func EventNames() []string {
	out := make([]string, 0, len(eventNames))
	for n := range eventNames {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func codeLabel(e *Error) string {
	if e == nil {
		return "ok"
	}
	return strconv.Itoa(e.Code)
}

// dispatch runs one request: quick methods inline, slow ones beside the
// reader so that a pairing or a check never stops the session's other calls.
func (ss *session) dispatch(req request) { ss.dispatchTo(req, ss.reply) }

// dispatchTo runs req and answers through reply (ss.reply, or a batch's
// collector).
func (ss *session) dispatchTo(req request, reply func(id []byte, result any, rerr *Error)) {
	m, ok := methods[req.Method]
	if !ok {
		ss.srv.m.requests.WithLabelValues("unknown", strconv.Itoa(CodeMethodNotFound)).Inc()
		reply(req.ID, nil, rpcError(CodeMethodNotFound, ReasonUnknownMethod, "no method %q (see system.info for the list)", truncate(req.Method, 64)))
		return
	}
	ss.mu.Lock()
	hello, tok := ss.hello, ss.token
	ss.mu.Unlock()
	var rerr *Error
	switch {
	case m.needHello && !hello:
		rerr = rpcError(CodeHelloRequired, ReasonHelloRequired, "send session.hello first")
	case m.needAuth && tok == nil:
		rerr = rpcError(CodeUnauthorized, ReasonNoToken, "this session has no token: pair with pairing.request or send a token in session.hello")
	case m.scope != "" && !tok.Has(m.scope):
		rerr = rpcError(CodeForbidden, ReasonScope, "the token lacks the %q scope", m.scope)
		rerr.Data.Scope = m.scope
	}
	if rerr != nil {
		ss.srv.m.requests.WithLabelValues(req.Method, codeLabel(rerr)).Inc()
		reply(req.ID, nil, rerr)
		return
	}
	run := func() {
		start := time.Now()
		res, rerr := m.h(ss, ss.ctx, req.Params)
		if traceResult != nil && rerr == nil {
			traceResult(req.Method, res)
		}
		ss.srv.m.requests.WithLabelValues(req.Method, codeLabel(rerr)).Inc()
		ss.srv.m.latency.WithLabelValues(req.Method).Observe(time.Since(start).Seconds())
		reply(req.ID, res, rerr)
	}
	if !m.slow {
		run()
		return
	}
	ss.mu.Lock()
	if ss.inflight >= ss.srv.lim.MaxInFlight {
		ss.mu.Unlock()
		reply(req.ID, nil, rpcError(CodeBusy, ReasonBusy, "too many calls in flight on this connection (at most %d)", ss.srv.lim.MaxInFlight))
		return
	}
	ss.inflight++
	ss.mu.Unlock()
	ss.srv.wg.Add(1)
	go func() {
		defer ss.srv.wg.Done()
		defer func() {
			ss.mu.Lock()
			ss.inflight--
			ss.mu.Unlock()
		}()
		run()
	}()
}

type clientInfo struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

type helloParams struct {
	Token    string     `json:"token,omitempty"`
	Client   clientInfo `json:"client"`
	APILevel int        `json:"apiLevel"`
	Events   []string   `json:"events,omitempty"` // notifications wanted; all allowed ones if empty
}

type helloResult struct {
	SessionID string   `json:"sessionId"`
	BootID    string   `json:"bootId"`  // new at every agent start; seq numbers count from 1 within a boot
	LastSeq   uint64   `json:"lastSeq"` // the newest event's seq at hello: events.since from here misses nothing
	APILevel  int      `json:"apiLevel"`
	Server    string   `json:"server"`
	Version   string   `json:"version"`
	Paired    bool     `json:"paired"`
	TokenID   string   `json:"tokenId,omitempty"`
	Scopes    []Scope  `json:"scopes"`
	Events    []string `json:"events"` // notifications this session receives
}

func (ss *session) sessionHello(ctx context.Context, raw json.RawMessage) (any, *Error) {
	var p helloParams
	if e := decodeParams(raw, &p); e != nil {
		return nil, e
	}
	ss.mu.Lock()
	already := ss.hello
	ss.mu.Unlock()
	if already {
		return nil, rpcError(CodeInvalidRequest, ReasonBadRequest, "session.hello was already sent on this connection")
	}
	level := p.APILevel
	if level == 0 {
		e := rpcError(CodeInvalidParams, ReasonBadParams, "field \"apiLevel\" is required: the API level your code was written for (%d to %d)", MinAPILevel, APILevel)
		return nil, e
	}
	if level < MinAPILevel {
		e := rpcError(CodeAPILevel, ReasonAPILevel, "apiLevel %d is no longer supported: this agent speaks %d to %d", level, MinAPILevel, APILevel)
		e.Data.MinAPILevel, e.Data.MaxAPILevel = MinAPILevel, APILevel
		return nil, e
	}
	level = min(level, APILevel)
	var mask events.Kind
	for _, n := range p.Events {
		k, ok := eventNames[n]
		if !ok {
			return nil, rpcError(CodeInvalidParams, ReasonBadParams, "unknown event %q", truncate(n, 40))
		}
		mask |= k
	}
	var tok *TokenInfo
	if p.Token != "" {
		t, err := ss.srv.store.Authenticate(ctx, p.Token, ss.origin)
		if err != nil {
			ss.srv.m.refused.WithLabelValues("token").Inc()
			ss.log.Warn("A HIS app was refused at sign-in (its token is wrong, revoked or lacks a scope); if the app is yours, pair it again with tiepdon pairing add", "err", err, "client", truncate(p.Client.Name, 60))
			return nil, tokenError(err)
		}
		tok = &t
	}
	if !ss.srv.claim(ss) {
		ss.srv.m.refused.WithLabelValues("clients").Inc()
		ss.srv.refusal("A HIS connection was refused at session.hello: its origin already has as many sessions as his.clients_per_origin allows; close unused HIS tabs or raise the limit", "origin", ss.origin, "remote", ss.remote, "limit", ss.srv.lim.ClientsPerOrigin)
		ss.srv.m.closed.WithLabelValues("too-many-clients").Inc()
		ss.close(CloseTooManyClients, "too many clients from this origin")
		return nil, rpcError(CodeInvalidRequest, ReasonBadRequest, "too many clients from this origin")
	}
	ss.mu.Lock()
	ss.hello = true
	ss.apiLevel = level
	ss.mask = mask
	ss.mu.Unlock()
	ss.extendDeadline()
	res := helloResult{SessionID: ss.id, BootID: ss.srv.bootID, LastSeq: ss.srv.bus.Seq(), APILevel: level, Server: "tiepdon", Version: ss.srv.opt.Version, Scopes: []Scope{}, Events: []string{}}
	if tok != nil {
		ss.authenticate(*tok)
		res.Paired, res.TokenID, res.Scopes, res.Events = true, tok.ID, tok.Scopes, ss.eventList()
	}
	ss.log.Info("session started", "client", truncate(p.Client.Name, 60), "clientVersion", truncate(p.Client.Version, 30), "apiLevel", level, "paired", tok != nil)
	return res, nil
}

func tokenError(err error) *Error {
	switch {
	case errors.Is(err, ErrUnknownToken):
		return rpcError(CodeUnauthorized, ReasonUnknownToken, "unknown token: pair again")
	case errors.Is(err, ErrTokenRevoked):
		return rpcError(CodeUnauthorized, ReasonTokenRevoked, "this token was revoked: pair again")
	case errors.Is(err, ErrOriginMismatch):
		return rpcError(CodeUnauthorized, ReasonOriginMismatch, "this token was issued to another origin")
	}
	return rpcError(CodeInternal, ReasonInternal, "could not check the token")
}

// authenticate marks the session as holding token t and starts its
// notifications.
func (ss *session) authenticate(t TokenInfo) {
	ss.mu.Lock()
	ss.token = &t
	ss.view = viewOf(t)
	ss.mu.Unlock()
	ss.subscribe(t)
	s := ss.srv
	s.mu.Lock()
	s.authed++
	n := s.authed
	s.mu.Unlock()
	s.bus.Publish(events.ClientsChanged, events.Clients{Connected: n})
}

func (ss *session) eventList() []string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.token == nil {
		return []string{}
	}
	mask := maskFor(*ss.token)
	if ss.mask != 0 {
		mask &= ss.mask
	}
	var out []string
	for n, k := range eventNames {
		if mask&k != 0 {
			out = append(out, n)
		}
	}
	out = append(out, "events.dropped")
	slices.Sort(out)
	return out
}

type infoResult struct {
	Name         string     `json:"name"`
	Version      string     `json:"version"`
	APILevel     int        `json:"apiLevel"`
	MinAPILevel  int        `json:"minApiLevel"`
	Methods      []string   `json:"methods"`
	Events       []string   `json:"events"`
	Scopes       []Scope    `json:"scopes"`
	Capabilities []string   `json:"capabilities"`
	Limits       infoLimits `json:"limits"`
}

type infoLimits struct {
	MaxMessageBytes   int64   `json:"maxMessageBytes"`
	MessagesPerSecond float64 `json:"messagesPerSecond"`
	Burst             int     `json:"burst"`
	ClientsPerOrigin  int     `json:"clientsPerOrigin"`
	HelloTimeoutMS    int64   `json:"helloTimeoutMs"`
	IdleTimeoutMS     int64   `json:"idleTimeoutMs"`
	PairingTimeoutMS  int64   `json:"pairingTimeoutMs"`
}

// Capabilities are feature words a client can test for in system.info.
var Capabilities = []string{"pairing", "scopes", "photo", "check-wait", "events.dropped", "receipts"}

func (ss *session) systemInfo(context.Context, json.RawMessage) (any, *Error) {
	l := ss.srv.lim
	return infoResult{
		Name: "tiepdon", Version: ss.srv.opt.Version, APILevel: APILevel, MinAPILevel: MinAPILevel,
		Methods: MethodNames(), Events: append(EventNames(), "events.dropped", "pairing.code"), Scopes: AllScopes,
		Capabilities: Capabilities,
		Limits: infoLimits{
			MaxMessageBytes: l.MaxMessageBytes, MessagesPerSecond: l.MessagesPerSecond, Burst: l.Burst,
			ClientsPerOrigin: l.ClientsPerOrigin, HelloTimeoutMS: l.HelloTimeout.Milliseconds(),
			IdleTimeoutMS: l.IdleTimeout.Milliseconds(), PairingTimeoutMS: l.PairingTimeout.Milliseconds(),
		},
	}, nil
}

func (ss *session) status(context.Context, json.RawMessage) (any, *Error) {
	// The current check's verdict is eligibility data.
	return ss.srv.health(ss.tokenInfo().Has(ScopeEligibility)), nil
}

// checkIdentity is who the HIS asks about. Chip data and authenticity are
// not accepted from outside: an identity sent by the HIS is unverified.
type checkIdentity struct {
	Medium                patient.Medium     `json:"medium,omitempty"`
	CitizenID             patient.CitizenID  `json:"citizenId,omitempty"`
	OldID                 string             `json:"oldId,omitempty"`
	Name                  patient.Name       `json:"name,omitempty"`
	BirthDate             patient.Date       `json:"birthDate,omitzero"`
	Sex                   patient.Sex        `json:"sex,omitempty"`
	Address               string             `json:"address,omitempty"`
	CardNumber            patient.CardNumber `json:"cardNumber,omitempty"`
	SocialInsuranceNumber string             `json:"socialInsuranceNumber,omitempty"`
}

type checkParams struct {
	Identity  checkIdentity `json:"identity"`
	Wait      *bool         `json:"wait,omitempty"`      // wait for the first answer (default true)
	TimeoutMS *int          `json:"timeoutMs,omitempty"` // how long to wait (default 20000, 1 to 60000)
	// Announce false makes a background check: not shown at the desk,
	// never the patient at the counter, answers marked background.
	Announce *bool `json:"announce,omitempty"`
}

type checkResult struct {
	CheckID string      `json:"checkId"`
	Pending bool        `json:"pending"`          // no answer yet: it will come as eligibility.result
	Result  *resultView `json:"result,omitempty"` // the first answer, when waited for
}

func allDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (ci checkIdentity) identity() (patient.Identity, *Error) {
	bad := func(format string, a ...any) (patient.Identity, *Error) {
		return patient.Identity{}, rpcError(CodeInvalidParams, ReasonBadParams, format, a...)
	}
	switch ci.Medium {
	case "":
		ci.Medium = patient.MediumTyped
	case patient.MediumTyped, patient.MediumQRCCCD, patient.MediumQRBHYT:
	default:
		return bad(`identity.medium must be "typed", "qr-cccd" or "qr-bhyt"`)
	}
	if ci.CitizenID == "" && ci.CardNumber == "" && ci.SocialInsuranceNumber == "" {
		return bad("identity needs a cardNumber, socialInsuranceNumber or citizenId")
	}
	if ci.CitizenID != "" && !ci.CitizenID.Valid() {
		return bad("identity.citizenId must be 12 digits")
	}
	if ci.SocialInsuranceNumber != "" && !allDigits(ci.SocialInsuranceNumber, 10) {
		return bad("identity.socialInsuranceNumber must be 10 digits")
	}
	if n := string(ci.CardNumber); n != "" {
		ok := len(n) == 15 || allDigits(n, 10)
		for _, c := range []byte(n) {
			if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
				ok = false
			}
		}
		if !ok {
			return bad("identity.cardNumber must be 15 characters (A-Z, 0-9) or 10 digits")
		}
	}
	if ci.Sex != patient.SexUnknown && ci.Sex != patient.Male && ci.Sex != patient.Female {
		return bad(`identity.sex must be "M" or "F"`)
	}
	if utf8.RuneCountInString(string(ci.Name)) > 100 || len(ci.Address) > 400 || len(ci.OldID) > 12 {
		return bad("identity.name, address or oldId is too long")
	}
	return patient.Identity{
		Medium: ci.Medium, CitizenID: ci.CitizenID, OldID: ci.OldID, Name: ci.Name, BirthDate: ci.BirthDate,
		Sex: ci.Sex, Address: ci.Address, CardNumber: ci.CardNumber, SocialInsuranceNumber: ci.SocialInsuranceNumber,
		Authenticity: patient.Authenticity{Level: patient.Unverified, Detail: "sent by the HIS"},
	}, nil
}

func (ss *session) eligibilityCheck(ctx context.Context, raw json.RawMessage) (any, *Error) {
	var p checkParams
	if e := decodeParams(raw, &p); e != nil {
		return nil, e
	}
	id, e := p.Identity.identity()
	if e != nil {
		return nil, e
	}
	if p.TimeoutMS != nil && (*p.TimeoutMS < 1 || *p.TimeoutMS > 60000) {
		return nil, rpcError(CodeInvalidParams, ReasonBadParams, "field \"timeoutMs\" must be 1 to 60000 (milliseconds)")
	}
	check := ss.srv.backend.Check
	if p.Announce != nil && !*p.Announce {
		qc, ok := ss.srv.backend.(QuietChecker)
		if !ok {
			return nil, rpcError(CodeInvalidParams, ReasonBadParams, "field \"announce\": this agent cannot make background checks")
		}
		check = qc.CheckQuietly
	}
	app := ""
	if t := ss.tokenInfo(); t != nil {
		app = t.Name
	}
	checkID, err := check(events.WithHISApp(ctx, app), id)
	if err != nil {
		ss.log.Warn("A check the HIS asked for did not start; the HIS got the error; check the log lines before this one", "err", err)
		return nil, rpcError(CodeCheckFailed, ReasonCheckFailed, "the agent could not start the check")
	}
	ss.log.Info("eligibility.check started", "check", checkID, "medium", id.Medium)
	if p.Wait != nil && !*p.Wait {
		return checkResult{CheckID: checkID, Pending: true}, nil
	}
	wait := ss.srv.lim.CheckWait
	if p.TimeoutMS != nil {
		wait = time.Duration(*p.TimeoutMS) * time.Millisecond
	}
	r, ok := ss.srv.backend.Receipt(checkID)
	if !ok {
		wctx, cancel := context.WithTimeout(ctx, wait)
		r, ok = ss.srv.results.wait(wctx, checkID)
		cancel()
	}
	if !ok {
		if r, ok = ss.srv.backend.Receipt(checkID); !ok {
			return checkResult{CheckID: checkID, Pending: true}, nil
		}
	}
	v := resultViewOf(r, ss.currentView(), true)
	return checkResult{CheckID: checkID, Result: &v}, nil
}

func (ss *session) identityCurrent(context.Context, json.RawMessage) (any, *Error) {
	r, ok := ss.srv.backend.Current()
	if !ok {
		return json.RawMessage("null"), nil
	}
	t := ss.tokenInfo()
	return resultViewOf(r, ss.currentView(), t.Has(ScopeEligibility)), nil
}

type receiptParams struct {
	CheckID string `json:"checkId"`
}

type sinceParams struct {
	BootID string `json:"bootId"`
	Seq    uint64 `json:"seq"`
}

type sinceResult struct {
	BootID string `json:"bootId"`
	// Complete is true when events holds every notification this session
	// would have received after seq; false when the agent restarted
	// (bootId differs) or the oldest are no longer held: resync with
	// receipts.list.
	Complete bool              `json:"complete"`
	Gap      string            `json:"gap,omitempty"` // "agent-restarted" or "too-old" when not complete
	LastSeq  uint64            `json:"lastSeq"`       // the newest event's seq now
	Events   []json.RawMessage `json:"events"`        // the notifications, oldest first, exactly as they were sent
}

// eventsSince replays the notifications this session may receive that the
// agent still holds after (bootId, seq).
func (ss *session) eventsSince(_ context.Context, raw json.RawMessage) (any, *Error) {
	var p sinceParams
	if e := decodeParams(raw, &p); e != nil {
		return nil, e
	}
	s := ss.srv
	ss.mu.Lock()
	mask := maskFor(*ss.token)
	if ss.mask != 0 {
		mask &= ss.mask
	}
	v := ss.view
	ss.mu.Unlock()
	res := sinceResult{BootID: s.bootID, Events: []json.RawMessage{}}
	seq := p.Seq
	if p.BootID != s.bootID {
		res.Gap, seq = "agent-restarted", 0
	}
	evs, complete := s.bus.Since(seq)
	res.LastSeq = s.bus.Seq()
	if res.Gap == "" {
		res.Complete = complete
		if !complete {
			res.Gap = "too-old"
		}
	}
	for _, ev := range evs {
		if ev.Kind&mask == 0 {
			continue
		}
		b, err := s.enc.get(ev, v)
		if err != nil {
			continue
		}
		res.Events = append(res.Events, json.RawMessage(b))
	}
	return res, nil
}

type receiptsListParams struct {
	Since string `json:"since"` // RFC 3339; default: 24 hours ago
	After int64  `json:"after"` // the cursor of the last answer already seen
	Limit int    `json:"limit"` // 1..500, default 100
}

type listedView struct {
	Cursor int64     `json:"cursor"`
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	resultView
}

type receiptsListResult struct {
	Results []listedView `json:"results"`
	Next    int64        `json:"next,omitempty"` // pass as after for the next page; absent on the last page
}

// receiptsList pages through the answers the desk kept, across restarts.
func (ss *session) receiptsList(ctx context.Context, raw json.RawMessage) (any, *Error) {
	var p receiptsListParams
	if e := decodeParams(raw, &p); e != nil {
		return nil, e
	}
	since := time.Now().Add(-24 * time.Hour)
	if p.Since != "" {
		t, err := time.Parse(time.RFC3339, p.Since)
		if err != nil {
			return nil, rpcError(CodeInvalidParams, ReasonBadParams, "since: want an RFC 3339 time such as 2026-12-05T07:00:00Z")
		}
		since = t
	}
	switch {
	case p.Limit == 0:
		p.Limit = 100
	case p.Limit < 1 || p.Limit > 500:
		return nil, rpcError(CodeInvalidParams, ReasonBadParams, "limit: 1 to 500")
	}
	if p.After < 0 {
		return nil, rpcError(CodeInvalidParams, ReasonBadParams, "after: a cursor from an earlier page, or 0")
	}
	rl, ok := ss.srv.backend.(ReceiptLister)
	if !ok {
		return nil, rpcError(CodeNotFound, ReasonNotFound, "this agent keeps no answers across restarts")
	}
	rows, err := rl.Receipts(ctx, since, p.After, p.Limit)
	if err != nil {
		ss.log.Error("Kept answers could not be read for a HIS app; check the data folder and run tiepdon doctor", "err", err)
		return nil, rpcError(CodeInternal, ReasonInternal, "could not read the kept answers")
	}
	v := ss.currentView()
	res := receiptsListResult{Results: make([]listedView, 0, len(rows))}
	for _, r := range rows {
		r.Result.Current = false
		res.Results = append(res.Results, listedView{Cursor: r.Cursor, At: r.At.UTC(), Kind: r.Kind.String(), resultView: resultViewOf(r.Result, v, true)})
	}
	if len(rows) == p.Limit {
		res.Next = rows[len(rows)-1].Cursor
	}
	return res, nil
}

func (ss *session) receiptGet(_ context.Context, raw json.RawMessage) (any, *Error) {
	var p receiptParams
	if e := decodeParams(raw, &p); e != nil {
		return nil, e
	}
	if p.CheckID == "" || len(p.CheckID) > 100 {
		return nil, rpcError(CodeInvalidParams, ReasonBadParams, "checkId is required")
	}
	r, ok := ss.srv.backend.Receipt(p.CheckID)
	if !ok {
		return nil, rpcError(CodeNotFound, ReasonNotFound, "no result for this checkId in this agent session")
	}
	return resultViewOf(r, ss.currentView(), true), nil
}

type pairingParams struct {
	Name   string  `json:"name"`
	Scopes []Scope `json:"scopes"`
}

type pairingResult struct {
	Token   string   `json:"token"`
	TokenID string   `json:"tokenId"`
	Scopes  []Scope  `json:"scopes"`
	Events  []string `json:"events"`
}

// pairingCode is the payload of the pairing.code notification.
type pairingCode struct {
	PairingID string    `json:"pairingId"`
	Code      string    `json:"code"`
	Origin    string    `json:"origin"`
	ExpiresAt time.Time `json:"expiresAt"`
}

func sixDigits() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1000000))
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("%06d", n.Int64())
}

func (ss *session) pairingRequest(ctx context.Context, raw json.RawMessage) (any, *Error) {
	var p pairingParams
	if e := decodeParams(raw, &p); e != nil {
		return nil, e
	}
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" || utf8.RuneCountInString(p.Name) > 60 {
		return nil, rpcError(CodeInvalidParams, ReasonBadParams, "name must be 1 to 60 characters")
	}
	scopes, err := CheckScopes(p.Scopes)
	if err != nil {
		return nil, rpcError(CodeInvalidParams, ReasonBadParams, "%s", err.Error())
	}
	s := ss.srv
	ss.mu.Lock()
	switch {
	case ss.token != nil:
		ss.mu.Unlock()
		return nil, rpcError(CodeBusy, ReasonAlreadyPaired, "this session already has a token")
	case ss.pairing:
		ss.mu.Unlock()
		return nil, rpcError(CodeBusy, ReasonPairingPending, "a pairing is already waiting for approval")
	}
	ss.pairing = true
	ss.mu.Unlock()
	defer func() {
		ss.mu.Lock()
		ss.pairing = false
		ss.mu.Unlock()
	}()
	s.mu.Lock()
	if s.pairings >= s.lim.MaxPairings {
		s.mu.Unlock()
		return nil, rpcError(CodeBusy, ReasonPairingTooMany, "too many pairings waiting for approval; try again later")
	}
	s.pairings++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.pairings--
		s.mu.Unlock()
	}()

	label := ss.origin
	if label == "" {
		label = "app:" + p.Name
	}
	pr := events.Pairing{ID: randomID(8), Origin: label, Code: sixDigits(), Name: p.Name}
	for _, sc := range scopes {
		pr.Scopes = append(pr.Scopes, string(sc))
	}
	answer := make(chan bool, 1)
	var once sync.Once
	pr.Reply = func(ok bool) { once.Do(func() { answer <- ok }) }
	expires := time.Now().Add(s.lim.PairingTimeout)
	pr.Expires = expires
	b, _ := encodeNotification("pairing.code", pairingCode{PairingID: pr.ID, Code: pr.Code, Origin: label, ExpiresAt: expires.UTC()})
	ss.send(b)
	s.mu.Lock()
	if s.waitingPairings == nil {
		s.waitingPairings = map[string]func(bool){}
	}
	s.waitingPairings[pr.Code] = pr.Reply
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.waitingPairings, pr.Code)
		s.mu.Unlock()
	}()
	ss.log.Info("pairing requested", "pairing", pr.ID, "name", truncate(p.Name, 60), "scopes", JoinScopes(scopes))
	s.bus.Publish(events.PairingRequested, pr)
	// However it ends (approved here or by tiepdon pairing approve,
	// refused, expired, the page gone), the window stops showing it.
	defer s.bus.Publish(events.PairingRequested, events.Pairing{ID: pr.ID, Ended: true})

	timer := time.NewTimer(s.lim.PairingTimeout)
	defer timer.Stop()
	select {
	case ok := <-answer:
		if !ok {
			s.m.pairings.WithLabelValues("denied").Inc()
			ss.log.Info("pairing denied", "pairing", pr.ID)
			return nil, rpcError(CodePairingDenied, ReasonPairingDenied, "reception staff refused the pairing")
		}
	case <-timer.C:
		pr.Reply(false) // a late click in the window changes nothing
		s.m.pairings.WithLabelValues("expired").Inc()
		ss.log.Info("pairing expired", "pairing", pr.ID)
		return nil, rpcError(CodePairingExpired, ReasonPairingExpired,
			"nobody approved the pairing at the reception window within %s; ask IT for a token (tiepdon pairing add)", s.lim.PairingTimeout)
	case <-ctx.Done():
		pr.Reply(false)
		return nil, rpcError(CodePairingExpired, ReasonPairingExpired, "connection closed")
	}
	tok, info, err := s.store.Add(ctx, p.Name, ss.origin, scopes)
	if err != nil {
		ss.log.Error("A newly paired HIS app could not be saved, so it must pair again after a restart; check that the data folder is writable (tiepdon doctor)", "err", err)
		return nil, rpcError(CodeInternal, ReasonInternal, "could not save the token")
	}
	s.m.pairings.WithLabelValues("approved").Inc()
	ss.log.Info("pairing approved", "pairing", pr.ID, "token", info.ID)
	ss.authenticate(info)
	return pairingResult{Token: tok, TokenID: info.ID, Scopes: info.Scopes, Events: ss.eventList()}, nil
}
