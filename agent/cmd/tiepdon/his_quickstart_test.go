package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/debugger"
	"github.com/chromedp/chromedp"

	"github.com/tiepdon/tiepdon/agent/hisapi"
	"github.com/tiepdon/tiepdon/agent/hisapi/hisapitest"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
)

// The quick start's one agent address; the test runs the agent on a free
// port instead (never 8733) and changes only this line.
const quickStartAgentLine = `const AGENT = "http://127.0.0.1:8733";`

// quickStartCode is the quick start of docs/his-api.md, verbatim: the
// JavaScript between its quickstart markers.
func quickStartCode(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "his-api.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- quickstart:begin -->\n```js\n(.*?)```\n<!-- quickstart:end -->").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/his-api.md has no ```js block between <!-- quickstart:begin --> and <!-- quickstart:end -->")
	}
	code := string(m[1])
	if strings.Count(code, quickStartAgentLine) != 1 {
		t.Fatalf("the quick start does not set the agent's address in one line %s", quickStartAgentLine)
	}
	return code
}

// The integrator's own page around the quick start: the four functions
// the quick start leaves to the HIS, writing what they are given into the
// page.
const quickStartPage = `<!doctype html>
<meta charset="utf-8"><title>HIS quick start</title>
<p id="conn" data-state="none"></p>
<p id="code"></p>
<p id="patient"></p>
<ol id="verdicts"></ol>
<script>
function showConnection(state, paired) {
  const e = document.getElementById("conn");
  e.dataset.state = state;
  e.dataset.paired = String(!!paired);
  e.textContent = state + (paired ? " (paired)" : "");
}
function showPairingCode(code) { document.getElementById("code").textContent = code; }
function showPatient(r) { document.getElementById("patient").textContent = r.checkId; }
function showVerdict(r) {
  const li = document.createElement("li");
  li.dataset.checkId = r.checkId;
  li.dataset.verdict = r.eligibility ? r.eligibility.verdict : "";
  li.dataset.code = r.eligibility ? r.eligibility.code : "";
  li.textContent = r.checkId + " " + li.dataset.verdict + " " + li.dataset.code;
  document.getElementById("verdicts").append(li);
}
</script>
<script type="module">
%s
</script>
`

// agentProcess is the agent running as its own process: the test binary
// run again as TestCrashChild, which runs tiepdon's dispatch as main does.
type agentProcess struct {
	cmd *exec.Cmd
	log *lockedBuffer
}

func (r *agentRig) spawn(args []string, env ...string) *agentProcess {
	r.t.Helper()
	raw, _ := json.Marshal(args)
	p := &agentProcess{cmd: exec.Command(os.Args[0], "-test.run=^TestCrashChild$"), log: &lockedBuffer{}}
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	p.cmd.Env = append(append(os.Environ(), "TIEPDON_CRASH_ARGS="+string(raw)), env...) // and the rig's TIEPDON_* settings
	if err := p.cmd.Start(); err != nil {
		r.t.Fatalf("starting the agent: %v", err)
	}
	r.t.Cleanup(func() { p.stop(r.t) })
	r.waitReady(p.log.String)
	return p
}

// stop ends the agent with SIGTERM, as a service manager does.
func (p *agentProcess) stop(t *testing.T) {
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the agent stopped with %v:\n%s", err, tail(p.log.String(), 40))
		}
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-done
		t.Errorf("the agent did not stop within 15 s of SIGTERM:\n%s", tail(p.log.String(), 40))
	}
}

// requestsCounted reads tiepdon_his_requests_total for a method from /metrics.
func requestsCounted(t *testing.T, addr, method string) int {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	n := 0
	re := regexp.MustCompile(`(?m)^tiepdon_his_requests_total\{[^}]*method="` + regexp.QuoteMeta(method) + `"[^}]*\} (\d+)`)
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		var v int
		fmt.Sscan(m[1], &v)
		n += v
	}
	return n
}

// TestHISQuickStart walks a new integrator's path from docs/his-api.md:
// the quick start, verbatim, on an HIS page that a real Chromium opens
// before the agent runs; then the agent (its own process, demo mode) starts,
// `tiepdon pairing approve CODE` approves the page's pairing, `tiepdon demo
// scan --person` makes a check and the page shows its result. The client
// package, packed as `make npm-package` packs it and installed with npm,
// gets an answer in Node. Then the agent restarts while the page is frozen
// (paused in the debugger) and a patient is scanned: the page, resumed,
// reconnects, resyncs (events.since, receipts.list) and shows that result.
func TestHISQuickStart(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped with -short")
	}
	ctx := hisapitest.Browser(t)
	code := quickStartCode(t)

	// The HIS page, on its own origin.
	var page string
	his := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	his.Listener = ln
	his.Start()
	defer his.Close()

	r := newAgentRig(t, bhxhsim.Options{Seed: 1}, "s3cret", fmt.Sprintf("[his]\norigins = [%q]\n", his.URL),
		hisapi.ScopeEligibility, hisapi.ScopeIdentity)
	page = fmt.Sprintf(quickStartPage, strings.Replace(code, quickStartAgentLine, `const AGENT = "http://`+r.hisAddr+`";`, 1))
	pageState := func() string {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		s, _ := chromedp.Run(sctx, chromedp.Evaluate[string](`document.body.innerText`))
		return "the page shows:\n" + s
	}

	// Every message the page receives is checked against /v1/schema.json.
	pageChecked := hisapitest.CheckPage(t, ctx, r.hisAddr)

	// The page opens first: the agent is not running, and the page keeps
	// trying to load the client.
	hisapitest.Step(t, ctx, "opening the HIS page", chromedp.Navigate(his.URL))
	hisapitest.Poll(t, ctx, 20*time.Second, `document.getElementById("conn").dataset.state === "agent-unreachable"`, pageState)

	// The developer starts the demo agent.
	demoArgs := []string{"run", "--demo", "--headless", "--data-dir", r.dataDir, "--his-addr", r.hisAddr}
	agent := r.spawn(demoArgs)

	// The page pairs; the developer approves the code it shows.
	hisapitest.Poll(t, ctx, 30*time.Second, `/^\d{6}$/.test(document.getElementById("code").textContent)`, pageState)
	pairingCode := hisapitest.Text(t, ctx, "#code")
	var out bytes.Buffer
	if rc := dispatch(context.Background(), []string{"pairing", "approve", "--data-dir", r.dataDir, pairingCode}, &out, &out); rc != 0 {
		t.Fatalf("tiepdon pairing approve %s: exit %d: %s", pairingCode, rc, out.String())
	}
	hisapitest.Poll(t, ctx, 20*time.Second, `document.getElementById("conn").dataset.state === "open" && document.getElementById("conn").dataset.paired === "true"`, pageState)

	// A demo scan: the page shows its result, as the test's own client sees it.
	ws := r.hello(nil)
	demoScan := func(person string) resultParams {
		t.Helper()
		out.Reset()
		if rc := dispatch(context.Background(), []string{"demo", "scan", "--data-dir", r.dataDir, "--person", person}, &out, &out); rc != 0 {
			t.Fatalf("tiepdon demo scan --person: exit %d: %s", rc, out.String())
		}
		return nextResult(t, ws, 15*time.Second)
	}
	first := demoScan("075134040503") // the 000 test patient of docs/his-api.md
	if first.Eligibility.Code != "000" {
		t.Fatalf("the 000 test patient of docs/his-api.md answered %s", first.Eligibility.Code)
	}
	hisapitest.Poll(t, ctx, 15*time.Second, fmt.Sprintf(`!!document.querySelector('#verdicts li[data-check-id=%q][data-verdict="eligible"][data-code="000"]')`, first.CheckID), pageState)

	// The client package in Node: packed, installed with npm, imported.
	background := nodeCheck(t, r)

	// Restart while the page is frozen, and scan meanwhile: the page
	// learns of the scan only through its resync.
	freeze := func(what string, c cdp.Command[cdp.Empty, cdp.Empty]) {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, debugger.Enable, debugger.EnableParams{}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, tg, c, cdp.Empty{})
			return err
		})); err != nil {
			t.Fatalf("%s the page: %v", what, err)
		}
	}
	freeze("pausing", debugger.Pause)
	ws.Close()
	agent.stop(t)
	r.spawn(demoArgs)
	ws = r.hello(nil)
	second := demoScan("075070048422") // the 003 test patient: re-checked on the reissued card
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err = chromedp.Do(sctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, debugger.Resume, debugger.ResumeParams{})
		return err
	}))
	cancel()
	if err != nil {
		t.Fatalf("resuming the page: %v", err)
	}
	hisapitest.Poll(t, ctx, 30*time.Second, fmt.Sprintf(`!!document.querySelector('#verdicts li[data-check-id=%q]')`, second.CheckID), pageState)
	if n := requestsCounted(t, r.hisAddr, "events.since"); n < 1 { // the new process counts from zero
		t.Errorf("the page showed the missed result without calling events.since (%d calls)", n)
	}
	if n := requestsCounted(t, r.hisAddr, "receipts.list"); n < 1 {
		t.Errorf("the page showed the missed result without calling receipts.list after the restart (%d calls)", n)
	}
	// The Node back-end's check (announce: false) never showed on the page.
	sctx, cancel = context.WithTimeout(ctx, 5*time.Second)
	shown, err := chromedp.Run(sctx, chromedp.Evaluate[bool](fmt.Sprintf(`!!document.querySelector('#verdicts li[data-check-id=%q]')`, background)))
	cancel()
	if err != nil || shown {
		t.Errorf("the reception page shows the back-end's background check %s (%v)", background, err)
	}
	if n := pageChecked(); n < 10 {
		t.Errorf("only %d messages to the page were checked against the schema", n)
	}
	if got := hisapitest.Text(t, ctx, "#patient"); got != second.CheckID {
		t.Errorf("after the resync the page shows patient %q at the desk, want %q", got, second.CheckID)
	}
}

// nodeCheck installs the client package from its tarball into a fresh
// folder and runs the Node example of docs/his-api.md as it stands (the
// agent's address changed to the test's): a back-end's background check
// of the 000 test patient with the rig's token. It returns the check's ID.
func nodeCheck(t *testing.T, r *agentRig) (checkID string) {
	t.Helper()
	node := hisapitest.Tool(t, "node")
	npm := hisapitest.Tool(t, "npm")
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "his-api.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- node-quickstart:begin -->\n```js\n(.*?)```\n<!-- node-quickstart:end -->").FindSubmatch(doc)
	const url = `"ws://127.0.0.1:8733/v1/ws"`
	if m == nil || bytes.Count(m[1], []byte(url)) != 1 {
		t.Fatalf("docs/his-api.md has no Node example between <!-- node-quickstart:begin --> and <!-- node-quickstart:end --> naming %s once", url)
	}
	dir := t.TempDir()
	tgz := hisapitest.PackClient(t, dir)
	// ws, exactly this version (it has no dependencies): Node before 22 has no WebSocket.
	writeFile(t, filepath.Join(dir, "package.json"), `{"private": true, "dependencies": {"ws": "8.18.3"}}`)
	hisapitest.Run(t, dir, npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline", tgz)
	writeFile(t, filepath.Join(dir, "check.mjs"), strings.Replace(string(m[1]), url, `"ws://`+r.hisAddr+hisapi.WebSocketPath+`"`, 1))
	cmd := exec.Command(node, "check.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TIEPDON_TOKEN="+r.token)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node check.mjs (the Node example of docs/his-api.md): %v\n%s", err, out)
	}
	f := strings.Fields(string(out))
	if len(f) != 3 || f[1] != "eligible" || f[2] != "000" {
		t.Fatalf("the Node example printed %q, want the check's ID, eligible and 000", out)
	}
	return f[0]
}
