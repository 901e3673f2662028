package hisapitest

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schema is the compiled JSON Schema of the HIS API (web/schema.json, as
// the agent serves it at /v1/schema.json).
type Schema struct {
	msg     *jsonschema.Schema
	results map[string]*jsonschema.Schema
}

// CompileSchema compiles the schema document raw.
func CompileSchema(raw []byte) (*Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	var meta struct {
		ID      string   `json:"$id"`
		Methods []string `json:"x-methods"`
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(meta.ID, doc); err != nil {
		return nil, err
	}
	s := &Schema{results: map[string]*jsonschema.Schema{}}
	if s.msg, err = c.Compile(meta.ID); err != nil {
		return nil, err
	}
	for _, m := range meta.Methods {
		if s.results[m], err = c.Compile(meta.ID + "#/$defs/result:" + m); err != nil {
			return nil, fmt.Errorf("the schema has no result for %s: %w", m, err)
		}
	}
	return s, nil
}

// Message checks one message the agent sent: a response, a batch of
// responses, or a notification.
func (s *Schema) Message(b []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err == nil {
		err = s.msg.Validate(v)
	}
	return err
}

// Result checks the result of a method.
func (s *Schema) Result(method string, b []byte) error {
	rs := s.results[method]
	if rs == nil {
		return fmt.Errorf("the schema has no result:%s", method)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err == nil {
		err = rs.Validate(v)
	}
	return err
}

// rpcMessages are the members of a message: itself, or a batch's.
func rpcMessages(b []byte) []rpcMessage {
	var all []rpcMessage
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("[")) {
		json.Unmarshal(b, &all)
		return all
	}
	var one rpcMessage
	json.Unmarshal(b, &one)
	return append(all, one)
}

type rpcMessage struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
}

var served struct {
	sync.Mutex
	byAddr map[string]*Schema
}

// servedSchema fetches and compiles the schema the agent at addr serves.
func servedSchema(addr string) (*Schema, error) {
	served.Lock()
	defer served.Unlock()
	if s := served.byAddr[addr]; s != nil {
		return s, nil
	}
	cl := http.Client{Timeout: 10 * time.Second}
	resp, err := cl.Get("http://" + addr + "/v1/schema.json")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET /v1/schema.json: %d %v", resp.StatusCode, err)
	}
	s, err := CompileSchema(raw)
	if err != nil {
		return nil, err
	}
	if served.byAddr == nil {
		served.byAddr = map[string]*Schema{}
	}
	served.byAddr[addr] = s
	return s, nil
}

// Dialer returns a WebSocket dialer whose connections check every frame
// the agent sends against the schema the agent serves at /v1/schema.json
// (every result against its method's result), and fail t on the first
// message that does not follow it.
func Dialer(t testing.TB) *websocket.Dialer {
	var mu sync.Mutex
	done := false
	t.Cleanup(func() {
		mu.Lock()
		done = true
		mu.Unlock()
	})
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			t.Errorf(format, args...)
		}
	}
	return &websocket.Dialer{
		HandshakeTimeout: 10 * time.Second,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if _, err := servedSchema(addr); err != nil {
				return nil, fmt.Errorf("the agent's /v1/schema.json: %w", err)
			}
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			sc := &checkedConn{Conn: c, conv: newConversation(addr, fail)}
			sc.in.http, sc.out.http = true, true // both begin with the HTTP handshake
			return sc, nil
		},
	}
}

// conversation checks what the agent at addr sends on one connection (or
// several, with unique request ids) against its /v1/schema.json, each
// result against the method of the request with its id.
type conversation struct {
	addr    string
	fail    func(string, ...any)
	mu      sync.Mutex
	methods map[string]string // request id → method
	checked int
}

func newConversation(addr string, fail func(string, ...any)) *conversation {
	return &conversation{addr: addr, fail: fail, methods: map[string]string{}}
}

// sent notes the methods of the requests in a message the client sent.
func (c *conversation) sent(m []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range rpcMessages(m) {
		if r.ID != nil && r.Method != "" {
			c.methods[string(r.ID)] = r.Method
		}
	}
}

func (c *conversation) method(id json.RawMessage) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.methods[string(id)]
}

// received checks a message the agent sent.
func (c *conversation) received(m []byte) {
	s, err := servedSchema(c.addr)
	if err != nil {
		c.fail("the agent's /v1/schema.json: %v", err)
		return
	}
	c.mu.Lock()
	c.checked++
	c.mu.Unlock()
	err = s.Message(m)
	for _, a := range rpcMessages(m) {
		if method := c.method(a.ID); err == nil && a.Result != nil && method != "" {
			if err = s.Result(method, a.Result); err != nil {
				err = fmt.Errorf("the result of %s: %w", method, err)
			}
		}
	}
	if err != nil {
		if len(m) > 600 {
			m = append(m[:600:600], "…"...)
		}
		c.fail("the agent sent a message that does not follow /v1/schema.json: %v\n  %s", err, m)
	}
}

// checkedConn reads the WebSocket frames passing through it: those the
// client sends (to learn each request's method) and those the agent sends
// (to check them).
type checkedConn struct {
	net.Conn
	conv    *conversation
	mu      sync.Mutex
	in, out frames
}

func (c *checkedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	msgs, perr := c.in.feed(p[:n])
	c.mu.Unlock()
	if perr != nil {
		c.conv.fail("the agent sent a WebSocket frame this test cannot read: %v", perr)
	}
	for _, m := range msgs {
		c.conv.received(m)
	}
	return n, err
}

func (c *checkedConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	msgs, _ := c.out.feed(p)
	c.mu.Unlock()
	for _, m := range msgs {
		c.conv.sent(m)
	}
	return c.Conn.Write(p)
}

// frames splits a byte stream into WebSocket messages (RFC 6455 §5.2),
// after the HTTP handshake when http is set.
type frames struct {
	http bool
	buf  []byte
	msg  []byte
	text bool
}

// feed takes the next bytes and returns the text messages they complete.
func (f *frames) feed(p []byte) (msgs [][]byte, err error) {
	f.buf = append(f.buf, p...)
	if f.http {
		i := bytes.Index(f.buf, []byte("\r\n\r\n"))
		if i < 0 {
			return nil, nil
		}
		f.buf, f.http = f.buf[i+4:], false
	}
	for {
		if len(f.buf) < 2 {
			return msgs, nil
		}
		b0, b1 := f.buf[0], f.buf[1]
		if b0&0x70 != 0 {
			return msgs, fmt.Errorf("reserved bits set (compression?) in frame header %#x", b0)
		}
		hdr, size := 2, uint64(b1&0x7f)
		switch size {
		case 126:
			if len(f.buf) < 4 {
				return msgs, nil
			}
			size, hdr = uint64(binary.BigEndian.Uint16(f.buf[2:])), 4
		case 127:
			if len(f.buf) < 10 {
				return msgs, nil
			}
			size, hdr = binary.BigEndian.Uint64(f.buf[2:]), 10
		}
		var mask []byte
		if b1&0x80 != 0 {
			if len(f.buf) < hdr+4 {
				return msgs, nil
			}
			mask, hdr = f.buf[hdr:hdr+4], hdr+4
		}
		if uint64(len(f.buf)-hdr) < size {
			return msgs, nil
		}
		payload := append([]byte(nil), f.buf[hdr:hdr+int(size)]...)
		for i := range payload {
			if mask != nil {
				payload[i] ^= mask[i%4]
			}
		}
		f.buf = f.buf[hdr+int(size):]
		fin, op := b0&0x80 != 0, b0&0x0f
		switch op {
		case 1, 2: // text, binary: a new message
			f.text, f.msg = op == 1, payload
		case 0: // continuation
			f.msg = append(f.msg, payload...)
		default: // close, ping, pong
			continue
		}
		if fin && (op == 0 || op == 1 || op == 2) {
			if f.text {
				msgs = append(msgs, f.msg)
			}
			f.msg = nil
		}
	}
}
