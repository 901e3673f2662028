// Package hisapitest holds what the tests of the HIS API and of the agent
// share: a headless Chromium, the npm tools and packages the Node tests
// use, and a WebSocket dialer whose connections check every frame the agent
// sends against the published JSON Schema.
package hisapitest

import (
	"context"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var chromiumPath = flag.String("chromium", "/usr/bin/chromium", "Chromium binary for the browser tests")

// Browser starts a fresh headless Chromium with its own profile, or skips
// loudly (fails in CI) when there is none. It stops with the test.
func Browser(t testing.TB) context.Context {
	t.Helper()
	if _, err := os.Stat(*chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Chromium not found at %s: install the Debian package chromium", *chromiumPath)
		}
		t.Skipf("SKIPPED: Chromium not found at %s (apt-get install chromium); the browser end-to-end test did not run", *chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(*chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		acancel()
	})
	// Start the browser now, without a timeout (a timeout on the first run
	// would stop the browser with it).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// Step runs actions with a time limit of 20 s.
func Step(t testing.TB, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// Text is the trimmed text of the element sel.
func Text(t testing.TB, ctx context.Context, sel string) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	s, err := chromedp.Run(sctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("reading %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// Poll waits up to within for the JavaScript expression to be true.
func Poll(t testing.TB, ctx context.Context, within time.Duration, expr string, why func() string) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	if _, err := chromedp.Run(sctx, chromedp.Poll[bool](expr)); err != nil {
		msg := ""
		if why != nil {
			msg = why()
		}
		t.Fatalf("waiting for %s: %v\n%s", expr, err, msg)
	}
}
