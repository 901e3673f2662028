package hisapitest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// recorder is a testing.TB that keeps what the dialer reports.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.errors
	r.errors = nil
	return e
}

// TestDialerChecksFrames: a connection from Dialer passes what follows the
// schema (a notification, a result of its method, a batch, a large frame)
// and reports what does not (an unknown field, a result that is another
// method's), learning each response's method from the request sent.
func TestDialerChecksFrames(t *testing.T) {
	schema, err := os.ReadFile(filepath.Join("..", "web", "schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	replies := make(chan string, 1)
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/schema.json" {
			w.Write(schema)
			return
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
			c.WriteMessage(websocket.TextMessage, []byte(<-replies))
		}
	}))
	defer srv.Close()
	rec := &recorder{TB: t}
	ws, _, err := Dialer(rec).Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/v1/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	exchange := func(request, reply string) []string {
		t.Helper()
		replies <- reply
		ws.WriteMessage(websocket.TextMessage, []byte(request))
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := ws.ReadMessage(); err != nil {
			t.Fatal(err)
		}
		return rec.take()
	}
	note := `{"jsonrpc":"2.0","method":"gateway.state","params":{"seq":3,"time":"2026-11-23T08:00:00.000Z","state":"online","since":"2026-11-23T07:00:00.120Z"}}`
	receipt := `{"jsonrpc":"2.0","id":7,"result":{"checkId":"c1","identity":{"medium":"typed","authenticity":{"level":"unverified"}}` +
		`,"eligibility":{"verdict":"eligible","code":"000","reasonVi":"x","reasonEn":"x","source":"live","checkedAt":"2026-11-23T07:00:00.000Z","note":"` + strings.Repeat("x", 70000) + `"}}}`
	for what, tc := range map[string]struct {
		request, reply string
		fails          bool
	}{
		"notification":              {`{"jsonrpc":"2.0","id":1,"method":"status"}`, note, false},
		"unknown field":             {`{"jsonrpc":"2.0","id":1,"method":"status"}`, strings.Replace(note, `"state":"online"`, `"state":"online","x":1`, 1), true},
		"result of its method":      {`{"jsonrpc":"2.0","id":7,"method":"receipt.get","params":{"checkId":"c1"}}`, receipt, false},
		"result of another method":  {`{"jsonrpc":"2.0","id":7,"method":"events.since","params":{"bootId":"b","seq":1}}`, receipt, true},
		"batch":                     {`[{"jsonrpc":"2.0","id":"a","method":"receipt.get","params":{"checkId":"c1"}},{"foo":1}]`, `[` + strings.Replace(receipt, `"id":7`, `"id":"a"`, 1) + `,{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"x","data":{"reason":"invalid-request"}}}]`, false},
		"batch with a wrong result": {`[{"jsonrpc":"2.0","id":"a","method":"status"}]`, `[` + strings.Replace(receipt, `"id":7`, `"id":"a"`, 1) + `]`, true},
	} {
		if errs := exchange(tc.request, tc.reply); (len(errs) > 0) != tc.fails {
			t.Errorf("%s: reported %v, want a failure: %v", what, errs, tc.fails)
		}
	}
}
