package doctor

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestWindow: the window check reads the running agent's /healthz and
// reports a failed window with the agent's fix, an open one as OK, and no
// agent as not checked.
func TestWindow(t *testing.T) {
	body := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			w.Write([]byte(body))
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	for _, c := range []struct {
		body   string
		status Status
		want   string
	}{
		{`{"window":{"state":"failed","reason":"opening an OpenGL 2.1 window: no window","fixVi":"Cập nhật driver card đồ hoạ","fixEn":"Update the graphics driver"}}`,
			Fail, "could not open (opening an OpenGL 2.1 window: no window)"},
		{`{"window":{"state":"open"}}`, OK, "is open"},
		{`{"window":{"state":"headless"}}`, OK, "without a window"},
		{`{"status":"ok"}`, Skip, "does not report its window"},
	} {
		body = c.body
		r := Window(context.Background(), srv.Client(), addr)
		if r.Status != c.status || !strings.Contains(r.Found.EN, c.want) {
			t.Errorf("%s: %s %q, want %s %q", c.body, r.Status, r.Found.EN, c.status, c.want)
		}
		if c.status == Fail && (r.Fix.EN != "Update the graphics driver" || r.Fix.VI != "Cập nhật driver card đồ hoạ") {
			t.Errorf("failed window: fix %+v, want the agent's", r.Fix)
		}
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	free := ln.Addr().String()
	ln.Close()
	if r := Window(context.Background(), http.DefaultClient, free); r.Status != Skip || !strings.Contains(r.Found.EN, "not running") {
		t.Errorf("no agent: %s %q", r.Status, r.Found.EN)
	}
}
