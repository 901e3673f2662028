package hisapi

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/hisapi/hisapitest"
)

var screenshot = flag.Bool("screenshot", false, "write the demo page screenshot to docs/his-demo.png")

// TestDemoPageInChromium drives the demo HIS page in a real headless
// Chromium: it pairs (the test plays the reception window and checks that
// both show the same code), receives an eligibility.result after a virtual
// chip scan and renders it with the photo, and runs a manual check.
func TestDemoPageInChromium(t *testing.T) {
	ctx := hisapitest.Browser(t)
	ts := startServer(t, func(o *Options) { o.Limits.PairingTimeout = 30 * time.Second })
	window := ts.bus.Subscribe(events.PairingRequested, 4)
	defer window.Close()
	base := "http://" + ts.addr

	hisapitest.Step(t, ctx, "loading /demo",
		chromedp.Navigate(base+"/demo"),
		chromedp.WaitVisible(chromedp.CSS(`#conn[data-state="unpaired"]`)),
	)

	// Pair: the page shows the code, the "window" compares it and approves.
	hisapitest.Step(t, ctx, "asking to pair", chromedp.Click(chromedp.ID("pair-btn")))
	var p events.Pairing
	select {
	case ev := <-window.C():
		p = ev.Data.(events.Pairing)
	case <-time.After(20 * time.Second):
		t.Fatal("no pairing request reached the window")
	}
	if p.Origin != base {
		t.Errorf("window shows origin %q, want %q", p.Origin, base)
	}
	hisapitest.Step(t, ctx, "waiting for the code", chromedp.WaitVisible(chromedp.ID("pair-code-box")))
	if got := hisapitest.Text(t, ctx, "#pair-code"); got != p.Code {
		t.Fatalf("page shows code %q, window shows %q", got, p.Code)
	}
	p.Reply(true)
	hisapitest.Step(t, ctx, "waiting to be paired", chromedp.WaitVisible(chromedp.CSS(`#conn[data-state="open"]`)))
	if got := hisapitest.Text(t, ctx, "#conn-state"); !strings.Contains(got, "photo") {
		t.Errorf("connection pill %q does not list the photo scope", got)
	}
	tokens, _ := ts.Store().List(context.Background())
	if len(tokens) != 1 || tokens[0].Origin != base {
		t.Fatalf("tokens after pairing: %+v", tokens)
	}

	// A virtual chip scan at the counter: the result is rendered.
	ts.bus.Publish(events.GatewayChanged, events.Gateway{State: events.GatewayOnline, Since: time.Now()})
	ts.bus.Publish(events.DeviceChanged, events.Device{Kind: events.Reader, Name: "Virtual PCD 00 00", State: events.DeviceCard})
	checkID := ts.backend.scan()
	hisapitest.Step(t, ctx, "waiting for the result",
		chromedp.WaitVisible(chromedp.CSS(`#result[data-verdict="eligible"]`)),
		chromedp.WaitVisible(chromedp.ID("photo")),
	)
	for sel, want := range map[string]string{
		"#result-check": checkID, "#result-cid": "001099012345", "#result-name": "Nguyễn Văn An",
		"#result-card": "DN4010123456789", "#result-verdict": "Eligible",
	} {
		if got := hisapitest.Text(t, ctx, sel); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	hisapitest.Step(t, ctx, "waiting for the event log", chromedp.WaitVisible(chromedp.CSS(`#log li[data-event="eligibility.result"]`)))

	// A manual check from the form.
	hisapitest.Step(t, ctx, "manual check",
		chromedp.SendKeys(chromedp.ID("f-cid"), "079203001234"),
		chromedp.SendKeys(chromedp.ID("f-name"), "Trần Thị Bình"),
		chromedp.SendKeys(chromedp.ID("f-dob"), "02/03/2003"),
		chromedp.Click(chromedp.ID("check-btn")),
	)
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	_, err := chromedp.Run(sctx, chromedp.Poll[bool](`document.getElementById("check-msg").textContent.startsWith("Done")`))
	cancel()
	if err != nil {
		t.Fatalf("manual check not done: %v (message %q)", err, hisapitest.Text(t, ctx, "#check-msg"))
	}
	if got := hisapitest.Text(t, ctx, "#result-cid"); got != "079203001234" {
		t.Errorf("after the manual check the page shows ID %q", got)
	}
	if got := hisapitest.Text(t, ctx, "#st-gateway"); got != "online" {
		t.Errorf("status panel shows gateway %q", got)
	}

	// Show the chip read again for the screenshot.
	ts.backend.scan()
	hisapitest.Step(t, ctx, "waiting for the second scan", chromedp.WaitVisible(chromedp.ID("photo")))
	sctx, cancel = context.WithTimeout(ctx, 20*time.Second)
	_, err = chromedp.Run(sctx, chromedp.Poll[bool](`document.getElementById("result-cid").textContent === "001099012345"`))
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel = context.WithTimeout(ctx, 20*time.Second)
	shot, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
	cancel()
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil || img.Bounds().Dx() < 800 {
		t.Fatalf("screenshot is not a usable PNG: %v", err)
	}
	out := filepath.Join(t.TempDir(), "his-demo.png")
	if *screenshot {
		out = filepath.Join("..", "..", "docs", "his-demo.png")
	}
	if err := os.WriteFile(out, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot written to %s", out)

	// Reload: the token stored in localStorage pairs the page again by itself.
	hisapitest.Step(t, ctx, "reloading", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#conn[data-state="open"]`)))

	// Staff revoke the page in the window: the agent closes with 4403, and
	// the client forgets its token and reconnects unpaired by itself.
	if err := ts.Revoke(context.Background(), tokens[0].ID); err != nil {
		t.Fatal(err)
	}
	hisapitest.Step(t, ctx, "waiting to be unpaired", chromedp.WaitVisible(chromedp.CSS(`#conn[data-state="unpaired"]`)))
	sctx, cancel = context.WithTimeout(ctx, 10*time.Second)
	stored, err := chromedp.Run(sctx, chromedp.Evaluate[int](`Object.keys(localStorage).filter(k => k.startsWith("tiepdon.token:")).length`))
	cancel()
	if err != nil || stored != 0 {
		t.Fatalf("token still in localStorage after revocation: %d %v", stored, err)
	}
}

// TestForeignOriginInChromium loads a page from an origin that is not in
// the allow-list: its WebSocket to the agent must fail.
func TestForeignOriginInChromium(t *testing.T) {
	ctx := hisapitest.Browser(t)
	ts := startServer(t, nil)
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>foreign</title>`)
	}))
	defer foreign.Close()
	hisapitest.Step(t, ctx, "loading the foreign page", chromedp.Navigate(foreign.URL))
	script := fmt.Sprintf(`new Promise((resolve) => {
		const ws = new WebSocket("ws://%s/v1/ws");
		ws.onopen = () => resolve("open");
		ws.onclose = (e) => resolve("closed " + e.code);
	})`, ts.addr)
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	got, err := chromedp.Run(sctx, chromedp.Evaluate[string](script, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if got != "closed 1006" {
		t.Fatalf("WebSocket from a foreign origin: %s, want it refused (closed 1006)", got)
	}
	// The same page fetching /healthz gets no CORS permission either.
	got, err = chromedp.Run(sctx, chromedp.Evaluate[string](fmt.Sprintf(`fetch("http://%s/healthz").then(r => "read " + r.status, e => "blocked")`, ts.addr), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if got != "blocked" {
		t.Fatalf("fetch /healthz from a foreign origin: %s", got)
	}
}
