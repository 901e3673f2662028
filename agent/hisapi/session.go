package hisapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/tiepdon/tiepdon/agent/events"
)

// WebSocket close codes the API uses besides the standard ones (1001 going
// away, 1003 binary frame, 1008 flood, 1009 frame too large).
const (
	CloseHelloTimeout   = 4408 // no successful session.hello within the hello timeout
	CloseTooManyClients = 4429 // too many connections from this origin, or in all
	CloseTokenRevoked   = 4403 // the session's token was revoked
	CloseIdle           = 4000 // nothing heard (not even a pong) for the idle timeout
)

// session is one WebSocket connection.
type session struct {
	srv     *Server
	conn    *websocket.Conn
	id      string
	origin  string // "" for a non-browser client
	remote  string // the client's IP address
	log     *slog.Logger
	limiter *rate.Limiter
	ctx     context.Context
	cancel  context.CancelFunc

	out        chan []byte               // responses and server-made notifications, to the writer
	subc       chan *events.Subscription // the writer's bus subscription, once authenticated
	done       chan struct{}             // closed by close
	writerExit chan struct{}             // closed when the writer has stopped
	once       sync.Once

	claimed bool // holds one of its origin's slots (after session.hello); guarded by srv.mu

	mu       sync.Mutex
	hello    bool
	token    *TokenInfo
	view     view
	mask     events.Kind // kinds asked for in hello (0 = all allowed)
	apiLevel int
	pairing  bool
	inflight int
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	origin, ok := s.originAllowed(r)
	if !ok {
		s.m.refused.WithLabelValues("origin").Inc()
		s.refusal("A web page's connection to the HIS API was refused: its origin is not in his.origins; add the HIS page's origin there if it is yours", "origin", truncate(origin, 100), "remote", r.RemoteAddr)
		httpError(w, http.StatusForbidden, "origin-not-allowed", "this web origin is not in his.origins")
		return
	}
	// Reserve the connection before the handshake completes, so that a
	// client that has seen "101 Switching Protocols" is already counted.
	// The origin's quota is taken only at session.hello (claim): connections
	// that never say hello wait in a small per-remote line of their own,
	// where a newcomer evicts the oldest, so they cannot keep an honest
	// client out of its origin's slots.
	s.mu.Lock()
	reason := ""
	switch {
	case s.closing:
		reason = "agent shutting down"
	case s.conns >= s.lim.MaxClients:
		reason = "too many clients"
	default:
		s.conns++
		s.wg.Add(2)
	}
	s.mu.Unlock()
	release := func() {
		s.mu.Lock()
		s.conns--
		s.mu.Unlock()
	}
	conn, err := s.up.Upgrade(w, r, nil)
	if err != nil {
		s.m.refused.WithLabelValues("handshake").Inc()
		if reason == "" {
			release()
			s.wg.Done()
			s.wg.Done()
		}
		return // the upgrader has answered
	}
	if reason != "" {
		s.m.refused.WithLabelValues("clients").Inc()
		s.refusal("A connection to the HIS API was refused (see reason); if a HIS app is affected, run tiepdon doctor", "reason", reason, "origin", origin, "remote", r.RemoteAddr)
		code := CloseTooManyClients
		if reason == "agent shutting down" {
			code = websocket.CloseGoingAway
		}
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
		conn.Close()
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	ss := &session{
		srv: s, conn: conn, id: randomID(6), origin: origin, remote: remoteHost(r.RemoteAddr),
		limiter: rate.NewLimiter(rate.Limit(s.lim.MessagesPerSecond), s.lim.Burst),
		ctx:     ctx, cancel: cancel,
		out:        make(chan []byte, s.lim.MaxInFlight+8),
		subc:       make(chan *events.Subscription, 1),
		done:       make(chan struct{}),
		writerExit: make(chan struct{}),
	}
	ss.log = s.log.With("session", ss.id, "origin", origin, "remote", r.RemoteAddr)
	s.mu.Lock()
	s.sessions[ss] = struct{}{}
	if s.closing { // Run began shutting down during the handshake
		ss.close(websocket.CloseGoingAway, "agent shutting down")
	}
	evicted := s.wait(ss)
	s.mu.Unlock()
	if evicted != nil {
		s.m.closed.WithLabelValues("hello-evicted").Inc()
		s.refusal("A HIS connection that had not said session.hello was closed to make room for a newer one from the same address; if a HIS app is affected, it must send session.hello as soon as it connects", "remote", evicted.remote, "waiting", s.lim.HelloPerRemote)
		evicted.close(CloseHelloTimeout, "closed for a newer connection: send session.hello at once")
	}
	s.m.connections.Inc()
	ss.log.Debug("client connected")

	go func() {
		defer s.wg.Done()
		ss.writeLoop()
	}()
	ss.readLoop()
	ss.close(websocket.CloseNormalClosure, "")
	<-ss.writerDone()
	conn.Close()

	release()
	s.mu.Lock()
	s.unclaim(ss)
	delete(s.sessions, ss)
	changed := false
	if ss.tokenInfo() != nil {
		s.authed--
		changed = true
	}
	n := s.authed
	s.mu.Unlock()
	s.m.connections.Dec()
	if changed {
		s.bus.Publish(events.ClientsChanged, events.Clients{Connected: n})
	}
	ss.log.Debug("client disconnected")
	s.wg.Done()
}

// wait puts ss at the end of its remote address's line of connections
// waiting for session.hello and, when the line is over HelloPerRemote,
// takes out and returns the oldest one for the caller to close. s.mu is held.
func (s *Server) wait(ss *session) (evicted *session) {
	line := append(s.waiting[ss.remote], ss)
	if len(line) > s.lim.HelloPerRemote {
		evicted, line = line[0], line[1:]
	}
	s.waiting[ss.remote] = line
	return evicted
}

// unwait takes ss out of its remote's line, if it is there. s.mu is held.
func (s *Server) unwait(ss *session) {
	line := s.waiting[ss.remote]
	for i, w := range line {
		if w == ss {
			line = append(line[:i:i], line[i+1:]...)
			break
		}
	}
	if len(line) == 0 {
		delete(s.waiting, ss.remote)
	} else {
		s.waiting[ss.remote] = line
	}
}

// claim gives ss one of its origin's slots as it says session.hello; it
// reports false when the origin has none left.
func (s *Server) claim(ss *session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss.claimed {
		return true
	}
	if s.perOrigin[ss.origin] >= s.lim.ClientsPerOrigin {
		return false
	}
	s.perOrigin[ss.origin]++
	ss.claimed = true
	s.unwait(ss)
	return true
}

// unclaim frees what ss holds: its origin slot or its place in line. s.mu is held.
func (s *Server) unclaim(ss *session) {
	s.unwait(ss)
	if !ss.claimed {
		return
	}
	ss.claimed = false
	s.perOrigin[ss.origin]--
	if s.perOrigin[ss.origin] == 0 {
		delete(s.perOrigin, ss.origin)
	}
}

// remoteHost names the line of a request's RemoteAddr: its IP address, and
// "loopback" for every loopback address (127.0.0.0/8, ::1). They are one
// line because any local process may bind 127.0.0.2, 127.0.0.3, … and would
// otherwise get a line of its own for each, filling MaxClients with
// connections that never say hello.
func remoteHost(addr string) string {
	h := addr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		h = host
	}
	if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		return "loopback"
	}
	return h
}

// writerDone returns a channel closed when the writer has stopped; the
// writer stops when done is closed.
func (ss *session) writerDone() <-chan struct{} { return ss.writerExit }

func (ss *session) tokenInfo() *TokenInfo {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.token
}

// close ends the session once, telling the client why.
//
// The close frame must reach the client before the socket goes, or it sees
// 1006 instead of the reason (RFC 6455 §7.1.1): so after the frame the
// server only half-closes (FIN), and the socket is closed once the read
// side has seen the client's close or 1 s has passed (drain, serveWS).
// Closing at once with the client's unread requests still in the kernel's
// buffer would reset the connection and lose the close frame.
func (ss *session) close(code int, reason string) {
	ss.once.Do(func() {
		ss.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
		if hc, ok := ss.conn.UnderlyingConn().(interface{ CloseWrite() error }); ok {
			hc.CloseWrite()
		}
		ss.conn.SetReadDeadline(time.Now().Add(time.Second))
		close(ss.done)
		ss.cancel()
	})
}

// closed reports whether close has been called.
func (ss *session) closed() bool {
	select {
	case <-ss.done:
		return true
	default:
		return false
	}
}

// drain reads and discards what the client still sends after a close the
// server decided, until the client closes too or 1 s has passed, so that
// closing the socket does not reset it. Only the read loop calls it.
func (ss *session) drain() {
	c := ss.conn.UnderlyingConn()
	c.SetReadDeadline(time.Now().Add(time.Second))
	io.Copy(io.Discard, c)
}

func (ss *session) readLoop() {
	s := ss.srv
	c := ss.conn
	c.SetReadLimit(s.lim.MaxMessageBytes)
	helloBy := time.Now().Add(s.lim.HelloTimeout)
	c.SetReadDeadline(helloBy)
	if ss.closed() {
		// Closed (evicted) before this loop began: close's short
		// deadline was just overwritten, so do not wait for the client.
		return
	}
	c.SetPongHandler(func(string) error {
		ss.extendDeadline()
		return nil
	})
	refused := 0
	for {
		mt, data, err := c.ReadMessage()
		if err != nil {
			var ne net.Error
			switch {
			case ss.closed():
				// Closed by the server elsewhere (evicted, revoked, shutting
				// down): the read deadline it set was the drain.
			case errors.As(err, &ne) && ne.Timeout():
				ss.mu.Lock()
				hello := ss.hello
				ss.mu.Unlock()
				if !hello {
					s.m.closed.WithLabelValues("hello-timeout").Inc()
					ss.log.Info("closing session: no session.hello in time")
					ss.close(CloseHelloTimeout, "session.hello not received in time")
					ss.drain()
				} else {
					s.m.closed.WithLabelValues("idle").Inc()
					ss.log.Info("closing session: idle")
					ss.close(CloseIdle, "idle timeout")
					ss.drain()
				}
			case errors.Is(err, websocket.ErrReadLimit):
				s.m.closed.WithLabelValues("too-large").Inc()
				ss.log.Warn("A HIS connection was closed because it sent a message larger than allowed; fix the HIS app, or raise the limit if the message is legitimate", "limit", s.lim.MaxMessageBytes)
				ss.close(websocket.CloseMessageTooBig, "message too large")
				ss.drain()
			}
			return
		}
		if mt != websocket.TextMessage {
			s.m.closed.WithLabelValues("binary").Inc()
			ss.close(websocket.CloseUnsupportedData, "send JSON text frames")
			ss.drain()
			return
		}
		if !utf8.Valid(data) {
			s.m.closed.WithLabelValues("invalid-utf8").Inc()
			ss.close(websocket.CloseInvalidFramePayloadData, "text frames must be valid UTF-8")
			ss.drain()
			return
		}
		ss.extendDeadline()
		if !ss.limiter.Allow() {
			refused++
			s.m.refused.WithLabelValues("rate").Inc()
			if refused >= s.lim.FloodClose {
				s.m.closed.WithLabelValues("flood").Inc()
				ss.log.Warn("A HIS connection was closed because it sent too many requests; the HIS app should wait for answers before asking again", "refused", refused)
				ss.close(websocket.ClosePolicyViolation, "rate limit exceeded")
				ss.drain()
				return
			}
			req, _ := decodeRequest(data)
			if !req.notification() {
				e := rpcError(CodeRateLimited, ReasonRateLimited, "too many messages: at most %g per second", s.lim.MessagesPerSecond)
				e.Data.RetryAfterMS = int64(time.Second/time.Duration(s.lim.MessagesPerSecond)/time.Millisecond) + 1
				ss.reply(req.ID, nil, e)
			}
			continue
		}
		refused = 0
		if isBatch(data) {
			ss.batch(data)
			continue
		}
		req, rerr := decodeRequest(data)
		if rerr != nil {
			s.m.requests.WithLabelValues("invalid", codeLabel(rerr)).Inc()
			ss.reply(req.ID, nil, rerr)
			continue
		}
		ss.dispatch(req)
		select {
		case <-ss.done:
			return
		default:
		}
	}
}

// extendDeadline pushes the read deadline out by the idle timeout, once
// the session has said hello (before that, the hello deadline stands).
func (ss *session) extendDeadline() {
	ss.mu.Lock()
	hello := ss.hello
	ss.mu.Unlock()
	if hello && !ss.closed() {
		ss.conn.SetReadDeadline(time.Now().Add(ss.srv.lim.IdleTimeout))
	}
}

// reply queues a response. It blocks while the writer is busy (that is
// this client's own backpressure) and gives up when the session ends.
func (ss *session) reply(id []byte, result any, rerr *Error) {
	if id == nil {
		return // a notification gets no answer
	}
	b, err := encodeResponse(id, result, rerr)
	if err != nil {
		ss.log.Error("An answer to the HIS could not be encoded and was not sent; please report this with tiepdon support-bundle", "err", err)
		b, _ = encodeResponse(id, nil, rpcError(CodeInternal, ReasonInternal, "internal error"))
	}
	ss.send(b)
}

func (ss *session) send(b []byte) {
	select {
	case ss.out <- b:
	case <-ss.done:
	}
}

// subscribe starts notifications for an authenticated session.
func (ss *session) subscribe(t TokenInfo) {
	mask := maskFor(t)
	ss.mu.Lock()
	if ss.mask != 0 {
		mask &= ss.mask
	}
	ss.mu.Unlock()
	sub := ss.srv.bus.Subscribe(mask, ss.srv.lim.QueueSize)
	select {
	case ss.subc <- sub:
	default:
		sub.Close() // already subscribed
	}
}

func (ss *session) writeLoop() {
	s := ss.srv
	defer close(ss.writerExit)
	var sub *events.Subscription
	defer func() {
		if sub != nil {
			sub.Close()
		}
	}()
	var evc <-chan events.Event
	var vw view
	subc := ss.subc
	lastSeq := uint64(0)
	ping := time.NewTicker(s.lim.IdleTimeout / 3)
	defer ping.Stop()
	write := func(b []byte, pm *websocket.PreparedMessage) bool {
		if traceFrame != nil {
			traceFrame(b)
		}
		ss.conn.SetWriteDeadline(time.Now().Add(s.lim.WriteTimeout))
		var err error
		if pm != nil {
			err = ss.conn.WritePreparedMessage(pm)
		} else {
			err = ss.conn.WriteMessage(websocket.TextMessage, b)
		}
		if err != nil {
			select {
			case <-ss.done:
			default:
				s.m.closed.WithLabelValues("write").Inc()
				ss.log.Info("closing session: write failed (slow or gone client)", "err", err)
			}
			ss.close(websocket.CloseGoingAway, "write timeout")
			return false
		}
		return true
	}
	reportDrops := func(nextSeq uint64) bool {
		if sub == nil {
			return true
		}
		n, from, to := sub.TakeDropped()
		if n == 0 {
			return true
		}
		s.m.dropped.Add(float64(n))
		b, _ := encodeNotification("events.dropped", droppedParams{Dropped: n, FromSeq: from, ToSeq: to, AfterSeq: lastSeq, BeforeSeq: nextSeq, BootID: s.bootID})
		return write(b, nil)
	}
	for {
		select {
		case <-ss.done:
			return
		case sub = <-subc:
			evc = sub.C()
			subc = nil // only one subscription per session
			vw = ss.currentView()
		case b := <-ss.out:
			if !write(b, nil) {
				return
			}
		case ev, ok := <-evc:
			if !ok {
				return
			}
			if !reportDrops(ev.Seq) {
				return
			}
			b, pm, err := s.enc.prepared(ev, vw)
			if err != nil {
				ss.log.Error("A notification to the HIS could not be encoded and was not sent; please report this with tiepdon support-bundle", "event", ev.Kind, "err", err)
				continue
			}
			if !write(b, pm) {
				return
			}
			lastSeq = ev.Seq
			s.m.notified(ev.Kind)
		case <-ping.C:
			if !reportDrops(0) {
				return
			}
			if err := ss.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(s.lim.WriteTimeout)); err != nil {
				ss.close(websocket.CloseGoingAway, "ping failed")
				return
			}
			s.pings.Add(1)
		}
	}
}

func (ss *session) currentView() view {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.view
}

// droppedParams is the payload of events.dropped.
type droppedParams struct {
	Dropped   uint64 `json:"dropped"`             // how many notifications this client lost
	FromSeq   uint64 `json:"fromSeq"`             // the lost ones are this client's notifications with seq in [fromSeq, toSeq]
	ToSeq     uint64 `json:"toSeq"`               //
	AfterSeq  uint64 `json:"afterSeq"`            // seq of the last notification delivered before the notice (0: none yet)
	BeforeSeq uint64 `json:"beforeSeq,omitempty"` // seq of the notification delivered right after it (0: not yet known)
	BootID    string `json:"bootId"`              // for events.since
}

// maxBatch bounds the requests in one JSON-RPC batch.
const maxBatch = 32

// isBatch reports whether a frame is a JSON array (a JSON-RPC 2.0 batch).
func isBatch(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '[' && json.Valid(b)
}

// batch answers a JSON-RPC 2.0 batch as the specification says (§6): one
// response per request, in one array, none for notifications (and no array
// at all if all are notifications); an invalid member gets its own error.
// Each member counts against the message rate.
func (ss *session) batch(data []byte) {
	s := ss.srv
	var members []json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		ss.reply(nullID, nil, rpcError(CodeParseError, ReasonParse, "message is not valid JSON"))
		return
	}
	switch {
	case len(members) == 0:
		ss.reply(nullID, nil, rpcError(CodeInvalidRequest, ReasonBadRequest, "an empty batch: send at least one request"))
		return
	case len(members) > maxBatch:
		ss.reply(nullID, nil, rpcError(CodeInvalidRequest, ReasonBatch, "a batch of %d requests: at most %d", len(members), maxBatch))
		return
	}
	reqs := make([]request, len(members))
	errs := make([]*Error, len(members))
	expected := 0
	for i, m := range members {
		reqs[i], errs[i] = decodeRequest(m)
		if errs[i] != nil && errs[i].Data != nil && errs[i].Data.Reason == ReasonBatch {
			errs[i] = rpcError(CodeInvalidRequest, ReasonBadRequest, "a batch member must be a request object")
		}
		if errs[i] != nil || !reqs[i].notification() {
			expected++
		}
	}
	limited := len(members) > 1 && !ss.limiter.AllowN(time.Now(), len(members)-1)
	c := &batchReplies{ss: ss, left: expected}
	for i, r := range reqs {
		switch {
		case errs[i] != nil:
			s.m.requests.WithLabelValues("invalid", codeLabel(errs[i])).Inc()
			c.reply(r.ID, nil, errs[i])
		case limited:
			s.m.refused.WithLabelValues("rate").Inc()
			e := rpcError(CodeRateLimited, ReasonRateLimited, "too many messages: at most %g per second (each request of a batch counts)", s.lim.MessagesPerSecond)
			e.Data.RetryAfterMS = int64(time.Duration(len(members))*time.Second/time.Duration(s.lim.MessagesPerSecond)/time.Millisecond) + 1
			c.reply(r.ID, nil, e)
		default:
			ss.dispatchTo(r, c.reply)
		}
	}
}

// batchReplies collects a batch's responses and sends them as one array
// when the last one is in (slow methods answer from their own goroutine).
type batchReplies struct {
	ss    *session
	mu    sync.Mutex
	left  int
	parts [][]byte
}

func (c *batchReplies) reply(id []byte, result any, rerr *Error) {
	if id == nil {
		return // a notification gets no answer, in a batch too
	}
	b, err := encodeResponse(id, result, rerr)
	if err != nil {
		c.ss.log.Error("An answer to the HIS could not be encoded and was not sent; please report this with tiepdon support-bundle", "err", err)
		b, _ = encodeResponse(id, nil, rpcError(CodeInternal, ReasonInternal, "internal error"))
	}
	c.mu.Lock()
	c.parts = append(c.parts, b)
	c.left--
	done := c.left == 0
	c.mu.Unlock()
	if done {
		c.ss.send(append(append([]byte{'['}, bytes.Join(c.parts, []byte{','})...), ']'))
	}
}
