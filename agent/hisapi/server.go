package hisapi

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
)

// API levels. A client sends the level it was written for in
// session.hello; the server answers with the level in effect.
const (
	APILevel    = 1 // the newest level this server speaks
	MinAPILevel = 1 // the oldest level it still speaks
)

// DefaultAddr is where the API listens unless configured otherwise.
const DefaultAddr = "127.0.0.1:8733"

// WebSocketPath is the path of the JSON-RPC WebSocket endpoint.
const WebSocketPath = "/v1/ws"

// Backend is what the API needs from the agent. *agent.Agent implements it.
type Backend interface {
	// Check starts an eligibility check for a typed/HIS-supplied identity; the result arrives as
	// eligibility.result / eligibility.updated events carrying the returned checkID.
	Check(ctx context.Context, id patient.Identity) (checkID string, err error)
	// Current returns the latest result shown at the counter, if any.
	Current() (events.Result, bool)
	// Receipt returns the result of a past check of this session by its ID.
	Receipt(checkID string) (events.Result, bool)
}

// QuietChecker is implemented by a Backend that can make background checks
// (eligibility.check with announce: false).
type QuietChecker interface {
	CheckQuietly(ctx context.Context, id patient.Identity) (checkID string, err error)
}

// WindowStater is implemented by a Backend that knows whether the
// reception window is open (/healthz shows it, with the fix when it failed).
type WindowStater interface{ WindowInfo() WindowInfo }

// WindowInfo is the reception window's state.
type WindowInfo struct {
	State  string `json:"state"` // "open", "failed" (could not open, or the toolkit failed), "headless" (none asked for)
	Reason string `json:"reason,omitempty"`
	FixVI  string `json:"fixVi,omitempty"`
	FixEN  string `json:"fixEn,omitempty"`
}

// ReceiptLister is implemented by a Backend that keeps answers across
// restarts (receipts.list).
type ReceiptLister interface {
	// Receipts returns up to limit answers kept at or after since whose
	// cursor is above after, oldest first.
	Receipts(ctx context.Context, since time.Time, after int64, limit int) ([]ListedResult, error)
}

// ListedResult is one answer of receipts.list.
type ListedResult struct {
	Cursor int64
	At     time.Time
	Kind   events.Kind
	Result events.Result
}

// CacheAger is implemented by a Backend that knows the age of its
// eligibility cache (the newest entry); a negative age means empty.
type CacheAger interface{ CacheAge() time.Duration }

// DeviceLister is implemented by a Backend that keeps the state of every
// device (the agent does). Without it, the API keeps its own from the
// device.changed events it has seen.
type DeviceLister interface{ Devices() []events.Device }

// OutboxSizer is implemented by a Backend that knows how many re-checks
// wait in its outbox. Without it, the API uses the last outbox.changed event.
type OutboxSizer interface{ OutboxSize() int }

// Limits bound what one client may cost. Zero fields take the defaults
// from DefaultLimits.
type Limits struct {
	MaxMessageBytes   int64         // largest frame accepted; larger ones close the connection with 1009
	MessagesPerSecond float64       // sustained requests per second per connection
	Burst             int           // requests allowed at once above the sustained rate
	FloodClose        int           // refused (rate-limited) messages in a row before closing with 1008
	ClientsPerOrigin  int           // sessions from one origin that have said session.hello (non-browser clients count as one origin)
	HelloPerRemote    int           // connections from one remote address still waiting for session.hello; a new one evicts the oldest
	MaxClients        int           // connections in all
	MaxInFlight       int           // slow calls (eligibility.check with wait, pairing.request) running at once per connection
	HelloTimeout      time.Duration // time to send session.hello after connecting
	IdleTimeout       time.Duration // time without any frame or pong before the connection is closed
	WriteTimeout      time.Duration // time to write one frame to a client before it is dropped
	QueueSize         int           // notifications queued per client before some are dropped
	PairingTimeout    time.Duration // time staff have to approve a pairing
	MaxPairings       int           // pairings waiting for approval at once
	CheckWait         time.Duration // default time eligibility.check waits for the first answer
	RevokeInterval    time.Duration // how often to look for tokens revoked by another process
}

// DefaultLimits are the limits used for zero fields.
var DefaultLimits = Limits{
	MaxMessageBytes:   64 << 10,
	MessagesPerSecond: 20,
	Burst:             40,
	FloodClose:        200,
	ClientsPerOrigin:  16,
	HelloPerRemote:    16,
	MaxClients:        512,
	MaxInFlight:       8,
	HelloTimeout:      5 * time.Second,
	IdleTimeout:       90 * time.Second,
	WriteTimeout:      10 * time.Second,
	QueueSize:         256,
	PairingTimeout:    2 * time.Minute,
	MaxPairings:       4,
	CheckWait:         20 * time.Second,
	RevokeInterval:    2 * time.Second,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setD := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	if l.MaxMessageBytes <= 0 {
		l.MaxMessageBytes = d.MaxMessageBytes
	}
	if l.MessagesPerSecond <= 0 {
		l.MessagesPerSecond = d.MessagesPerSecond
	}
	set(&l.Burst, d.Burst)
	set(&l.FloodClose, d.FloodClose)
	set(&l.ClientsPerOrigin, d.ClientsPerOrigin)
	set(&l.HelloPerRemote, d.HelloPerRemote)
	set(&l.MaxClients, d.MaxClients)
	set(&l.MaxInFlight, d.MaxInFlight)
	set(&l.QueueSize, d.QueueSize)
	set(&l.MaxPairings, d.MaxPairings)
	setD(&l.HelloTimeout, d.HelloTimeout)
	setD(&l.IdleTimeout, d.IdleTimeout)
	setD(&l.WriteTimeout, d.WriteTimeout)
	setD(&l.PairingTimeout, d.PairingTimeout)
	setD(&l.CheckWait, d.CheckWait)
	setD(&l.RevokeInterval, d.RevokeInterval)
	return l
}

// Options configure a Server.
type Options struct {
	// Addr is host:port to listen on; DefaultAddr if empty.
	Addr string
	// AllowNonLoopback lets Addr be a non-loopback address (logged as a
	// warning). Without it New refuses such an address.
	AllowNonLoopback bool
	// Origins are the exact web origins (scheme://host[:port]) whose pages
	// may connect, e.g. "https://his.benhvien.vn". The agent's own origin
	// (the demo page) is always allowed unless DisableDemo is set.
	Origins []string
	// DataDir is where the token store (his-tokens.db) lives.
	DataDir string
	// Version is the agent's version, reported by system.info and /healthz.
	Version string
	// Limits bound each client; zero fields take DefaultLimits.
	Limits Limits
	// Logger receives the API's log lines; slog.Default() if nil.
	Logger *slog.Logger
	// Registry is where the API registers its metrics and what /metrics
	// serves; a new registry with Go and process collectors if nil.
	Registry *prometheus.Registry
	// Listener, if set, is used instead of listening on Addr (socket
	// activation, tests).
	Listener net.Listener
	// DisableDemo turns off /demo and the agent's own origin.
	DisableDemo bool
}

// Errors from New and Run.
var (
	ErrNonLoopback = errors.New("address is not loopback")
	ErrBadOrigin   = errors.New("not a web origin")
)

// Server is the HIS API. Create it with New and start it with Run.
type Server struct {
	opt     Options
	lim     Limits
	backend Backend
	bus     *events.Bus
	store   *Store
	log     *slog.Logger
	origins map[string]bool
	reg     *prometheus.Registry
	m       *metrics
	enc     *encCache
	started time.Time
	bootID  string // new at every start: seq numbers belong to one boot
	up      websocket.Upgrader
	http    *http.Server

	mu        sync.Mutex
	ln        net.Listener
	sessions  map[*session]struct{}
	conns     int                   // connections counted against MaxClients
	perOrigin map[string]int        // sessions past session.hello per origin ("" for non-browser clients)
	waiting   map[string][]*session // per remote address, connections waiting for session.hello, oldest first
	authed    int
	pairings  int
	devices   map[string]events.Device
	wg        sync.WaitGroup
	closing   bool

	pings  atomic.Uint64 // pings sent, for tests
	logLim *rate.Limiter // refusal log lines: a page retrying in a loop must not flood the log
	quiet  atomic.Uint64 // refusals not logged because of logLim

	results *resultTracker
	state   *events.Subscription

	waitingPairings map[string]func(bool) // by code: pairings that "tiepdon pairing approve" may approve; guarded by mu
}

// New validates opt and returns a server that is not yet listening. It
// opens the token store in opt.DataDir and subscribes to bus.
func New(opt Options, backend Backend, bus *events.Bus) (*Server, error) {
	if backend == nil || bus == nil {
		return nil, errors.New("hisapi: nil backend or bus")
	}
	if opt.Addr == "" {
		opt.Addr = DefaultAddr
	}
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("component", "hisapi")
	addr := opt.Addr
	if opt.Listener != nil {
		addr = opt.Listener.Addr().String()
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("his api address %q: %w", addr, err)
	}
	if !isLoopbackHost(host) {
		if !opt.AllowNonLoopback {
			return nil, fmt.Errorf("his api address %q: %w; set his.allow_non_loopback = true to listen there", addr, ErrNonLoopback)
		}
		log.Warn("The HIS API listens on a non-loopback address, so other machines can reach it; set his.addr to 127.0.0.1 unless that is intended", "addr", addr)
	}
	origins := map[string]bool{}
	for _, o := range opt.Origins {
		n, err := NormalizeOrigin(o)
		if err != nil {
			return nil, fmt.Errorf("his api origin %q: %w", o, err)
		}
		origins[n] = true
	}
	store, err := OpenStore(opt.DataDir)
	if err != nil {
		return nil, err
	}
	reg := opt.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	s := &Server{
		opt: opt, lim: opt.Limits.withDefaults(), backend: backend, bus: bus, store: store, log: log,
		origins: origins, reg: reg, enc: newEncCache(512), started: time.Now(), bootID: randomID(8),
		sessions: map[*session]struct{}{}, perOrigin: map[string]int{}, waiting: map[string][]*session{}, devices: map[string]events.Device{},
	}
	s.logLim = rate.NewLimiter(1, 20)
	s.m, err = newMetrics(reg, s)
	if err != nil {
		store.Close()
		return nil, err
	}
	s.up = websocket.Upgrader{
		HandshakeTimeout: 5 * time.Second,
		ReadBufferSize:   4096,
		WriteBufferSize:  4096,
		CheckOrigin:      func(r *http.Request) bool { _, ok := s.originAllowed(r); return ok },
	}
	s.results = newResultTracker(1024)
	s.state = bus.Subscribe(events.DeviceChanged|events.EligibilityResult|events.EligibilityUpdated, 4096)
	if ev, ok := bus.Last(events.DeviceChanged); ok {
		d := ev.Data.(events.Device)
		s.devices[string(d.Kind)+"\x00"+d.Name] = d
	}
	s.http = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Store returns the token store, for the window's list of paired apps.
func (s *Server) Store() *Store { return s.store }

// Registry returns the Prometheus registry /metrics serves; other parts of
// the agent may register their collectors on it.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// Listen binds the listening socket (if Run has not yet) and returns its
// address. It lets a caller learn the port when Addr ends in ":0".
func (s *Server) Listen() (net.Addr, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return s.ln.Addr(), nil
	}
	if s.opt.Listener != nil {
		s.ln = s.opt.Listener
		return s.ln.Addr(), nil
	}
	ln, err := net.Listen("tcp", s.opt.Addr)
	if err != nil {
		return nil, fmt.Errorf("listening for the HIS API: %w", err)
	}
	s.ln = ln
	return ln.Addr(), nil
}

// Run serves the API until ctx is done, then closes every connection
// (close code 1001) and returns. It returns early only if it cannot listen.
func (s *Server) Run(ctx context.Context) error {
	addr, err := s.Listen()
	if err != nil {
		return err
	}
	s.log.Info("HIS API listening", "url", "ws://"+addr.String()+WebSocketPath, "origins", len(s.origins))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var bg sync.WaitGroup
	bg.Go(func() { s.track(ctx) })
	bg.Go(func() { s.watchRevocations(ctx) })
	served := make(chan error, 1)
	go func() { served <- s.http.Serve(s.ln) }()
	select {
	case <-ctx.Done():
	case err = <-served:
		cancel()
	}
	s.mu.Lock()
	s.closing = true
	for ss := range s.sessions {
		s.m.closed.WithLabelValues("shutdown").Inc()
		ss.close(websocket.CloseGoingAway, "agent shutting down")
	}
	s.mu.Unlock()
	sctx, scancel := context.WithTimeout(context.Background(), 3*time.Second)
	s.http.Shutdown(sctx)
	scancel()
	s.wg.Wait()
	s.state.Close()
	bg.Wait()
	s.store.Close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// track keeps the state /healthz and status report and wakes
// eligibility.check calls waiting for their result.
func (s *Server) track(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-s.state.C():
			if !ok {
				return
			}
			switch d := ev.Data.(type) {
			case events.Device:
				s.mu.Lock()
				s.devices[string(d.Kind)+"\x00"+d.Name] = d
				s.mu.Unlock()
			case events.Result:
				s.results.add(d)
			}
		}
	}
}

// watchRevocations closes sessions whose token was revoked, also by
// another process ("tiepdon pairing revoke").
func (s *Server) watchRevocations(ctx context.Context) {
	t := time.NewTicker(s.lim.RevokeInterval)
	defer t.Stop()
	last, _ := s.store.version(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v, err := s.store.version(ctx)
		if err != nil || v == last {
			continue
		}
		last = v
		s.closeRevoked(ctx)
		s.takeApprovals(ctx)
	}
}

// takeApprovals approves the waiting pairings whose code was approved
// with "tiepdon pairing approve".
func (s *Server) takeApprovals(ctx context.Context) {
	s.mu.Lock()
	waiting := make(map[string]func(bool), len(s.waitingPairings))
	for c, f := range s.waitingPairings {
		waiting[c] = f
	}
	s.mu.Unlock()
	for code, reply := range waiting {
		if s.store.takeApproval(ctx, code, s.lim.PairingTimeout) {
			s.log.Info("pairing approved with tiepdon pairing approve")
			reply(true)
		}
	}
}

func (s *Server) closeRevoked(ctx context.Context) {
	ids, err := s.store.revokedIDs(ctx)
	if err != nil {
		s.log.Error("The list of revoked HIS tokens could not be read, so a revoked app might still connect; check the data folder (tiepdon doctor)", "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for ss := range s.sessions {
		if t := ss.tokenInfo(); t != nil && ids[t.ID] {
			s.log.Info("closing session: token revoked", "session", ss.id, "token", t.ID)
			s.m.closed.WithLabelValues("token-revoked").Inc()
			ss.close(CloseTokenRevoked, "token revoked")
		}
	}
}

// Revoke revokes a token (from the window) and closes its sessions at once.
func (s *Server) Revoke(ctx context.Context, id string) error {
	if err := s.store.Revoke(ctx, id); err != nil {
		return err
	}
	s.closeRevoked(ctx)
	return nil
}

// refusal logs a refused connection or request, at most about one a second
// after a burst of 20; the metrics count every one.
func (s *Server) refusal(msg string, args ...any) {
	if !s.logLim.Allow() {
		s.quiet.Add(1)
		return
	}
	if n := s.quiet.Swap(0); n > 0 {
		args = append(args, "notLoggedBefore", n)
	}
	s.log.Warn(msg, args...)
}

// Handler returns the HTTP handler of the API (all endpoints, with the Host
// check in front).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+WebSocketPath, s.serveWS)
	mux.HandleFunc("GET /healthz", s.serveHealth)
	mux.HandleFunc("OPTIONS /healthz", s.servePreflight)
	metricsH := promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := s.originAllowed(r); !ok {
			httpError(w, http.StatusForbidden, "origin-not-allowed", "this web origin is not in his.origins")
			return
		}
		metricsH.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /v1/client.js", s.serveStatic("client.js", "text/javascript; charset=utf-8", true))
	mux.HandleFunc("OPTIONS /v1/client.js", s.servePreflight)
	mux.HandleFunc("GET /v1/schema.json", s.serveStatic("schema.json", "application/schema+json", true))
	mux.HandleFunc("GET /v1/client.d.ts", s.serveStatic("client.d.ts", "application/typescript; charset=utf-8", true))
	if !s.opt.DisableDemo {
		mux.HandleFunc("GET /demo", s.serveStatic("demo.html", "text/html; charset=utf-8", false))
		mux.HandleFunc("GET /demo/demo.js", s.serveStatic("demo.js", "text/javascript; charset=utf-8", false))
		mux.HandleFunc("GET /demo/demo.css", s.serveStatic("demo.css", "text/css; charset=utf-8", false))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "tiepdon/"+s.opt.Version)
		if !s.hostAllowed(r.Host) {
			s.m.refused.WithLabelValues("host").Inc()
			s.refusal("A request to the HIS API was refused: its Host is not a loopback name (a web page may be trying DNS rebinding); nothing to do unless a HIS app is affected", "host", truncate(r.Host, 80), "path", r.URL.Path, "remote", r.RemoteAddr)
			httpError(w, http.StatusForbidden, "host-not-allowed", "the Host header must be a loopback name such as 127.0.0.1 or localhost")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

//go:embed web
var webFS embed.FS

func (s *Server) serveStatic(name, ctype string, anyOrigin bool) http.HandlerFunc {
	b, err := fs.ReadFile(webFS, "web/"+name)
	if err != nil {
		panic("hisapi: missing embedded file " + name)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", ctype)
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		if anyOrigin {
			// client.js is public code; pages of any origin may import it.
			h.Set("Access-Control-Allow-Origin", "*")
		} else {
			h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'")
			h.Set("X-Frame-Options", "DENY")
		}
		w.Write(b)
	}
}

// servePreflight answers CORS preflights for the read-only endpoints, with
// the (deprecated, still sent by some Chrome versions) Private Network
// Access header, for allowed origins only.
func (s *Server) servePreflight(w http.ResponseWriter, r *http.Request) {
	origin, ok := s.originAllowed(r)
	if !ok || origin == "" {
		w.WriteHeader(http.StatusForbidden)
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Methods", "GET")
	h.Set("Vary", "Origin")
	if r.Header.Get("Access-Control-Request-Private-Network") == "true" {
		h.Set("Access-Control-Allow-Private-Network", "true")
	}
	w.WriteHeader(http.StatusNoContent)
}

func httpError(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": reason, "message": msg})
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// isLoopbackHost reports whether host (no port) names the loopback interface.
func isLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// hostAllowed is the DNS-rebinding guard: a page from evil.example whose
// name was made to resolve to 127.0.0.1 still sends "Host: evil.example".
func (s *Server) hostAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if isLoopbackHost(host) {
		return true
	}
	if s.opt.AllowNonLoopback {
		if lh, _, err := net.SplitHostPort(s.opt.Addr); err == nil && lh != "" && strings.EqualFold(lh, host) {
			return true
		}
	}
	return false
}

// NormalizeOrigin checks that o is a web origin, scheme://host[:port], and
// returns it in lower case without a default port: the form browsers send.
func NormalizeOrigin(o string) (string, error) {
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", ErrBadOrigin
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	return u.Scheme + "://" + host, nil
}

// originAllowed returns the request's Origin ("" for a non-browser client)
// and whether it may connect.
func (s *Server) originAllowed(r *http.Request) (string, bool) {
	vals := r.Header.Values("Origin")
	if len(vals) == 0 {
		return "", true
	}
	if len(vals) > 1 {
		return vals[0], false
	}
	o := vals[0]
	n, err := NormalizeOrigin(o)
	if err != nil || n != o {
		// Browsers send the normalised form; anything else is not a browser
		// we can reason about ("null" from sandboxed frames and file:// too).
		return o, false
	}
	if s.origins[n] {
		return n, true
	}
	if !s.opt.DisableDemo && s.selfOrigin(n, r) {
		return n, true
	}
	return n, false
}

// selfOrigin reports whether origin is the agent's own (its demo page).
func (s *Server) selfOrigin(origin string, r *http.Request) bool {
	if !strings.HasPrefix(origin, "http://") {
		return false
	}
	hp := strings.TrimPrefix(origin, "http://")
	host, port, err := net.SplitHostPort(hp)
	if err != nil || !isLoopbackHost(host) {
		return false
	}
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln == nil {
		return false
	}
	_, lport, _ := net.SplitHostPort(ln.Addr().String())
	return port == lport
}

// health is the body of /healthz and the result of status.
type health struct {
	Status        string           `json:"status"` // "ok", "degraded" (gateway degraded or a device missing) or "offline" (gateway offline)
	Version       string           `json:"version"`
	APILevel      int              `json:"apiLevel"`
	UptimeSeconds int64            `json:"uptimeSeconds"`
	Gateway       *events.Gateway  `json:"gateway"`
	Readers       []events.Device  `json:"readers"`
	Scanners      []events.Device  `json:"scanners"`
	Cache         cacheHealth      `json:"cache"`
	Outbox        events.Outbox    `json:"outbox"`
	Clients       int              `json:"clients"`
	Current       *currentCheckRef `json:"current,omitempty"`
	Disk          *diskHealth      `json:"disk,omitempty"` // only while the data folder refuses writes
	Window        *WindowInfo      `json:"window,omitempty"`
}

// diskHealth says what to do while the data folder refuses writes.
type diskHealth struct {
	FixVI string `json:"fixVi"`
	FixEN string `json:"fixEn"`
}

var diskFix = diskHealth{
	FixVI: "Ổ đĩa của thư mục dữ liệu không ghi được (có thể đã đầy): các lượt kiểm tra đang được giữ trong bộ nhớ. Giải phóng dung lượng ổ đĩa rồi chạy tiepdon doctor.",
	FixEN: "The data folder's disk refuses writes (it may be full): checks are kept in memory. Free disk space, then run tiepdon doctor.",
}

type cacheHealth struct {
	AgeSeconds *float64 `json:"ageSeconds"` // null when unknown or empty
}

type currentCheckRef struct {
	CheckID string          `json:"checkId"`
	Verdict patient.Verdict `json:"verdict"`
}

func (s *Server) health(withCurrent bool) health {
	h := health{Status: "ok", Version: s.opt.Version, APILevel: APILevel, UptimeSeconds: int64(time.Since(s.started).Seconds()),
		Readers: []events.Device{}, Scanners: []events.Device{}}
	if ev, ok := s.bus.Last(events.GatewayChanged); ok {
		g := ev.Data.(events.Gateway)
		h.Gateway = &g
		switch g.State {
		case events.GatewayDegraded:
			h.Status = "degraded"
		case events.GatewayOffline, events.GatewayAccountRefused, events.GatewayNotConfigured:
			h.Status = "offline"
		}
	}
	var devices []events.Device
	if dl, ok := s.backend.(DeviceLister); ok {
		devices = dl.Devices()
	}
	s.mu.Lock()
	if devices == nil {
		for _, d := range s.devices {
			devices = append(devices, d)
		}
	}
	for _, d := range devices {
		if d.Kind == events.Reader {
			h.Readers = append(h.Readers, d)
		} else {
			h.Scanners = append(h.Scanners, d)
		}
		if (d.State == events.DeviceMissing || d.State == events.DeviceError) && h.Status == "ok" {
			h.Status = "degraded"
		}
	}
	h.Clients = s.authed
	s.mu.Unlock()
	byName := func(a, b events.Device) int { return strings.Compare(a.Name, b.Name) }
	slices.SortFunc(h.Readers, byName)
	slices.SortFunc(h.Scanners, byName)
	if c, ok := s.backend.(CacheAger); ok {
		if age := c.CacheAge(); age >= 0 {
			v := age.Seconds()
			h.Cache.AgeSeconds = &v
		}
	}
	h.Outbox.Disk = events.DiskOK
	if ev, ok := s.bus.Last(events.OutboxChanged); ok {
		h.Outbox = ev.Data.(events.Outbox)
		if h.Outbox.Disk == "" {
			h.Outbox.Disk = events.DiskOK
		}
	}
	if o, ok := s.backend.(OutboxSizer); ok {
		h.Outbox.Pending = o.OutboxSize() + h.Outbox.Unsaved
	}
	if h.Outbox.Disk == events.DiskRefusing {
		h.Disk = &diskFix
		if h.Status == "ok" {
			h.Status = "degraded"
		}
	}
	if ws, ok := s.backend.(WindowStater); ok {
		if w := ws.WindowInfo(); w.State != "" {
			h.Window = &w
			if w.State == "failed" && h.Status == "ok" {
				h.Status = "degraded"
			}
		}
	}
	if withCurrent {
		if r, ok := s.backend.Current(); ok {
			h.Current = &currentCheckRef{CheckID: r.CheckID, Verdict: r.Eligibility.Verdict}
		}
	}
	return h
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if origin, ok := s.originAllowed(r); ok && origin != "" {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Vary", "Origin")
	} else if !ok {
		httpError(w, http.StatusForbidden, "origin-not-allowed", "this web origin is not in his.origins")
		return
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	b, _ := marshalWire(s.health(false))
	w.Write(append(b, '\n'))
}

// resultTracker remembers recent results so that eligibility.check can wait
// for its own, even if it arrived before the call registered to wait.
type resultTracker struct {
	mu      sync.Mutex
	recent  map[string]events.Result
	order   []string
	next    int
	waiters map[string][]chan events.Result
}

func newResultTracker(n int) *resultTracker {
	return &resultTracker{recent: map[string]events.Result{}, order: make([]string, n), waiters: map[string][]chan events.Result{}}
}

func (t *resultTracker) add(r events.Result) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.recent[r.CheckID]; !ok {
		if old := t.order[t.next]; old != "" {
			delete(t.recent, old)
		}
		t.order[t.next] = r.CheckID
		t.next = (t.next + 1) % len(t.order)
		t.recent[r.CheckID] = r
	}
	for _, c := range t.waiters[r.CheckID] {
		c <- r
	}
	delete(t.waiters, r.CheckID)
}

// wait returns the first result for checkID, or false when ctx ends.
func (t *resultTracker) wait(ctx context.Context, checkID string) (events.Result, bool) {
	t.mu.Lock()
	if r, ok := t.recent[checkID]; ok {
		t.mu.Unlock()
		return r, true
	}
	c := make(chan events.Result, 1)
	t.waiters[checkID] = append(t.waiters[checkID], c)
	t.mu.Unlock()
	select {
	case r := <-c:
		return r, true
	case <-ctx.Done():
		t.mu.Lock()
		ws := t.waiters[checkID]
		for i, w := range ws {
			if w == c {
				t.waiters[checkID] = slices.Delete(ws, i, i+1)
				break
			}
		}
		if len(t.waiters[checkID]) == 0 {
			delete(t.waiters, checkID)
		}
		t.mu.Unlock()
		select {
		case r := <-c:
			return r, true
		default:
		}
		return events.Result{}, false
	}
}
