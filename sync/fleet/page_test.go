package fleet

import (
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tiepdon/tiepdon/agent/hisapi/hisapitest"
)

var screenshot = flag.Bool("screenshot", false, "write the fleet page screenshot to docs/screens/fleet-page.png")

// TestFleetPageInChromium: the fleet page refuses a wrong token, signs in
// with the right one, lists two desks reporting to a real PostgreSQL, and
// shows one as missing after its status writer stops.
func TestFleetPageInChromium(t *testing.T) {
	t.Parallel()
	pool, _ := store(t)
	ctx := hisapitest.Browser(t)
	hash, token, err := TokenFile(filepath.Join(t.TempDir(), "token"), false)
	if err != nil || token == "" {
		t.Fatal(token, err)
	}
	page, err := NewPage(PageOptions{Pool: pool, TokenHash: hash, MissingAfter: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(page)
	defer srv.Close()

	rctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stops := map[string]context.CancelFunc{}
	for id, name := range map[string]string{"d1": "Quầy 1", "d2": "Quầy 2"} {
		c, stop := context.WithCancel(rctx)
		stops[id] = stop
		r := &Reporter{Pool: pool, DeskID: id, Every: 100 * time.Millisecond, Collect: func() Status { return healthy(name) }}
		go r.Run(c)
	}
	waitFor(t, "both desks to report", func() bool { ds, _ := List(rctx, pool, 0); return len(ds) == 2 })

	// Without a session: the sign-in form, and no data.
	if res, err := http.Get(srv.URL + "/status.json"); err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status.json without a token: %v %v", res, err)
	}
	hisapitest.Step(t, ctx, "loading the page", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.ID("login")))
	hisapitest.Step(t, ctx, "a wrong token",
		chromedp.SendKeys(chromedp.ID("token"), "not-the-token"), chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("wrong")))
	hisapitest.Step(t, ctx, "signing in",
		chromedp.SendKeys(chromedp.ID("token"), token), chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.CSS(`#summary[data-desks="2"][data-missing="0"]`)))
	for _, id := range []string{"d1", "d2"} {
		if got := hisapitest.Text(t, ctx, `tr[data-desk="`+id+`"] td.state`); got != "OK" && got != "ok" {
			t.Fatalf("desk %s state %q", id, got)
		}
	}

	stops["d2"]()
	waitFor(t, "the stopped desk to be missing", func() bool {
		ds, _ := List(rctx, pool, 1500*time.Millisecond)
		return len(ds) == 2 && ds[0].Missing
	})
	hisapitest.Step(t, ctx, "reloading",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-desk="d2"][data-missing="true"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#summary[data-missing="1"]`)))
	if got := hisapitest.Text(t, ctx, `#desks tbody tr:first-child td.state`); !strings.EqualFold(got, "missing") {
		t.Fatalf("first row state %q, want missing", got)
	}
	if got := hisapitest.Text(t, ctx, `tr[data-desk="d2"]`); !strings.Contains(got, "no report for") || !strings.Contains(got, "Quầy 2") {
		t.Fatalf("missing row says %q", got)
	}
	if got := hisapitest.Text(t, ctx, `tr[data-desk="d1"] td.state`); !strings.EqualFold(got, "ok") {
		t.Fatalf("running desk state %q", got)
	}
	if *screenshot {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		shot, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
		cancel()
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile("../../docs/screens/fleet-page.png", shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// A script with the token gets the same as JSON.
	req, _ := http.NewRequest("GET", srv.URL+"/status.json", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("status.json with the token: %v %v", res, err)
	}
	res.Body.Close()

	// The token is shown once: the file keeps only its hash, and a
	// restart reads the hash back without a new token.
	file := filepath.Join(t.TempDir(), "token2")
	h1, tok, _ := TokenFile(file, false)
	h2, again, err := TokenFile(file, false)
	kept, _ := os.ReadFile(file)
	if err != nil || again != "" || string(h1) != string(h2) || strings.Contains(string(kept), tok) {
		t.Fatalf("token file: %q %v %q", again, err, kept)
	}
}
