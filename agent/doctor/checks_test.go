package doctor

import (
	"context"
	"crypto/md5"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/tiepdon/tiepdon/agent/config"
)

// --- running a check as an unprivileged user ---------------------------

// TestHelperChild is not a test: asNobody runs the test binary with it to
// run one check as another user and print the result as JSON.
func TestHelperChild(t *testing.T) {
	what, arg, ok := strings.Cut(os.Getenv("DOCTOR_CHILD"), "=")
	if !ok {
		return
	}
	var r Result
	switch what {
	case "data-dir":
		r = DataDir(arg)
	case "scanner":
		r = Scanner(arg, func() ([]Port, error) { return nil, nil })
	default:
		t.Fatalf("unknown child check %q", what)
	}
	json.NewEncoder(os.Stdout).Encode(r)
	os.Exit(0)
}

func wantStatus(t *testing.T, r Result, s Status, words ...string) {
	t.Helper()
	if r.Status != s {
		t.Fatalf("%s: status %s, want %s (found: %s / fix: %s)", r.Check, r.Status, s, r.Found.EN, r.Fix.EN)
	}
	if r.Found.EN == "" || r.Found.VI == "" {
		t.Errorf("%s: found text missing a language: %+v", r.Check, r.Found)
	}
	if (s == Fail) && (r.Fix.EN == "" || r.Fix.VI == "") && r.Check != "scanner" {
		t.Errorf("%s: a failure without a fix in both languages: %+v", r.Check, r.Fix)
	}
	all := r.Found.EN + " " + r.Fix.EN
	for _, w := range words {
		if !strings.Contains(all, w) {
			t.Errorf("%s: %q does not mention %q", r.Check, all, w)
		}
	}
}

// --- data dir -------------------------------------------------------------

func TestDataDirWritable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "tiepdon")
	wantStatus(t, DataDir(dir), OK, dir)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("DataDir did not create %s: %v", dir, err)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 0 {
		t.Errorf("DataDir left files behind: %v", left)
	}
}

func TestDataDirReadOnly(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows ignores a directory's read-only attribute; write access there is an ACL matter")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	r := unprivileged(t, "data-dir", dir, func() Result { return DataDir(dir) })
	wantStatus(t, r, Fail, dir, "no permission", "data_dir")
}

func TestDataDirIsAFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, DataDir(filepath.Join(f, "tiepdon")), Fail, "data_dir")
}

// --- HIS port -------------------------------------------------------------

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestHISPortFree(t *testing.T) {
	addr := freeAddr(t)
	wantStatus(t, HISPort(context.Background(), http.DefaultClient, addr), OK, addr)
	// The check must not keep the port.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("port still held after the check: %v", err)
	}
	ln.Close()
}

func TestHISPortTakenByAnotherProgram(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// A raw TCP listener that accepts and hangs up, like a foreign service.
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	addr := ln.Addr().String()
	r := HISPort(context.Background(), &http.Client{Timeout: 2 * time.Second}, addr)
	words := []string{addr, "already used", "HIS_PORT"}
	if runtime.GOOS == "linux" {
		// /proc names this very process as the holder.
		words = append(words, fmt.Sprintf("process %d", os.Getpid()))
	}
	wantStatus(t, r, Fail, words...)
}

func TestHISPortHeldByTiepdon(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Server", "tiepdon/test")
		io.WriteString(w, `{"status":"ok"}`)
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	wantStatus(t, HISPort(context.Background(), srv.Client(), addr), OK, "already running")
}

func TestHISPortNotLocal(t *testing.T) {
	// 192.0.2.1 (TEST-NET-1) is not an address of this machine.
	wantStatus(t, HISPort(context.Background(), http.DefaultClient, "192.0.2.1:8733"), Fail, "his.addr")
}

// --- PC/SC ----------------------------------------------------------------

func TestPCSC(t *testing.T) {
	list := func(names []string, err error) func() ([]string, error) {
		return func() ([]string, error) { return names, err }
	}
	acs := []string{"ACS ACR1252 1S CL Reader PICC 00 00", "ACS ACR1252 1S CL Reader SAM 00 01"}
	cases := []struct {
		name      string
		list      func() ([]string, error)
		want      string
		svc, rdrs Status
		words     []string
	}{
		// service down: the hint is the OS's way to start it
		{"no service", list(nil, fmt.Errorf("establish context: %w", ErrNoService)), "", Fail, Skip, []string{"not running"}},
		{"other error", list(nil, errors.New("pcsc list readers: internal error")), "", Fail, Skip, []string{"internal error"}},
		// service up
		{"no readers", list(nil, nil), "", OK, Warn, []string{"QR codes"}},
		{"any reader", list(acs, nil), "", OK, OK, []string{"2 reader(s)", "ACR1252"}},
		{"named reader found", list(acs, nil), "acr1252", OK, OK, nil},
		{"named reader missing", list(acs, nil), "Omnikey", OK, Fail, []string{`"Omnikey"`, "ACR1252"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rs := PCSC(c.list, c.want)
			if len(rs) != 2 || rs[0].Check != "pcsc-service" || rs[1].Check != "card-readers" {
				t.Fatalf("results %+v", rs)
			}
			wantStatus(t, rs[0], c.svc)
			wantStatus(t, rs[1], c.rdrs)
			all := rs[0].Found.EN + rs[0].Fix.EN + rs[1].Found.EN + rs[1].Fix.EN
			for _, w := range c.words {
				if !strings.Contains(all, w) {
					t.Errorf("%q does not mention %q", all, w)
				}
			}
		})
	}
}

// --- scanner --------------------------------------------------------------

func TestScanner(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs a pseudo-terminal, which Windows has not (the Linux lane runs it)")
	}
	ptm, pts, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptm.Close()
	defer pts.Close()
	none := func() ([]Port, error) { return nil, nil }
	usb := func() ([]Port, error) {
		return []Port{{Name: "/dev/ttyS0"}, {Name: pts.Name(), USB: true, VID: "1eab", PID: "1a03", Product: "QR Scanner"}}, nil
	}
	wantStatus(t, Scanner("", none), Skip, "switched off")
	wantStatus(t, Scanner("auto", none), Warn, "No USB serial port", "USB-COM")
	wantStatus(t, Scanner("auto", usb), OK, pts.Name())
	// A real pty given by path, which no enumerator lists.
	wantStatus(t, Scanner(pts.Name(), none), OK, pts.Name())
	wantStatus(t, Scanner("/dev/ttyDOESNOTEXIST9", usb), Fail, "does not exist", "/dev/ttyS0")
	wantStatus(t, Scanner("auto", func() ([]Port, error) { return nil, errors.New("boom") }), Fail, "boom")
}

func TestScannerNoPermission(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("serial port permissions are checked on Linux only")
	}
	ptm, pts, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptm.Close()
	defer pts.Close()
	if err := os.Chmod(pts.Name(), 0o600); err != nil {
		t.Fatal(err)
	}
	r := unprivileged(t, "scanner", pts.Name(), func() Result {
		return Scanner(pts.Name(), func() ([]Port, error) { return nil, nil })
	})
	wantStatus(t, r, Fail, "cannot open", "dialout")
}

// --- config -----------------------------------------------------------------

func TestConfig(t *testing.T) {
	d := config.Default()
	wantStatus(t, Config(&d, nil), Warn, "his.origins", "facility.code")

	good := config.Default()
	good.Facility.Code = "79014"
	good.HIS.Origins = []string{"https://his.benhvien.vn"}
	good.Files = []string{"/etc/tiepdon/config.toml"}
	wantStatus(t, Config(&good, nil), OK, "/etc/tiepdon/config.toml")

	bad := good
	bad.Gateway.URL = "egw.baohiemxahoi.gov.vn"
	bad.HIS.Addr = "0.0.0.0:8733"
	wantStatus(t, Config(&bad, nil), Fail, "gateway.url", "his.addr")

	// A real file with a typo, loaded the way the commands load it.
	f := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(f, []byte("[gateway]\nulr = \"https://x\"\n"), 0o644)
	c, err := config.Load(f, func(string) string { return "" })
	wantStatus(t, Config(&c, err), Fail, "ulr")
}

// --- gateway ----------------------------------------------------------------

// gateway is an httptest server answering /api/token/take like the BHXH
// gateway: form or JSON body, password as the MD5 of "secret" in upper case.
type gateway struct {
	dateShift time.Duration // added to the Date header
	status    int           // if set, answer with this HTTP status
	html      bool          // answer with a login page instead of JSON
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.dateShift != 0 {
		w.Header().Set("Date", time.Now().Add(g.dateShift).UTC().Format(http.TimeFormat))
	}
	if g.status != 0 {
		w.WriteHeader(g.status)
		return
	}
	if g.html {
		io.WriteString(w, "<html><body>Please sign in to the Wi-Fi</body></html>")
		return
	}
	if r.URL.Path != "/api/token/take" || r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	var user, pass string
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var b struct{ Username, Password string }
		json.NewDecoder(r.Body).Decode(&b)
		user, pass = b.Username, b.Password
	} else {
		r.ParseForm()
		user, pass = r.PostForm.Get("username"), r.PostForm.Get("password")
	}
	sum := md5.Sum([]byte("secret"))
	w.Header().Set("Content-Type", "application/json")
	if user != "79014_BV" || pass != strings.ToUpper(hex.EncodeToString(sum[:])) {
		io.WriteString(w, `{"maKetQua":"401","APIKey":null}`)
		return
	}
	fmt.Fprintf(w, `{"maKetQua":"200","APIKey":{"access_token":"AT","id_token":"ID","token_type":"Bearer","username":%q,"expires_in":%q}}`,
		user, time.Now().Add(10*time.Minute).UTC().Format(time.RFC3339))
}

func gwResults(t *testing.T, rs []Result) (gw, acct, clk Result) {
	t.Helper()
	if len(rs) != 3 || rs[0].Check != "gateway" || rs[1].Check != "gateway-account" || rs[2].Check != "clock" {
		t.Fatalf("results %+v", rs)
	}
	return rs[0], rs[1], rs[2]
}

func TestGateway(t *testing.T) {
	ctx := context.Background()
	good := GatewayParams{Username: "79014_BV", Password: "secret", MD5Case: "upper", Encoding: "form"}
	run := func(g *gateway, p GatewayParams, now func() time.Time) (Result, Result, Result) {
		srv := httptest.NewServer(g)
		defer srv.Close()
		p.URL = srv.URL
		return gwResults(t, Gateway(ctx, srv.Client(), p, now))
	}

	gw, acct, clk := run(&gateway{}, good, time.Now)
	wantStatus(t, gw, OK, "answers")
	wantStatus(t, acct, OK, "79014_BV")
	wantStatus(t, clk, OK)

	asJSON := good
	asJSON.Encoding = "json"
	_, acct, _ = run(&gateway{}, asJSON, time.Now)
	wantStatus(t, acct, OK)

	wrong := good
	wrong.Password = "guess"
	gw, acct, _ = run(&gateway{}, wrong, time.Now)
	wantStatus(t, gw, OK)
	wantStatus(t, acct, Fail, "refused", "401", "md5_case")
	if strings.Contains(acct.Found.EN+acct.Fix.EN, "guess") {
		t.Errorf("the password shows in the result: %+v", acct)
	}

	lower := good
	lower.MD5Case = "lower"
	_, acct, _ = run(&gateway{}, lower, time.Now)
	wantStatus(t, acct, Fail, "401")

	noUser := good
	noUser.Username = ""
	gw, acct, _ = run(&gateway{}, noUser, time.Now)
	wantStatus(t, gw, OK)
	wantStatus(t, acct, Fail, "gateway.username")

	noPass := good
	noPass.Password = ""
	_, acct, _ = run(&gateway{}, noPass, time.Now)
	wantStatus(t, acct, Fail, "No password", "TIEPDON_GATEWAY_PASSWORD")

	// The machine's clock against the gateway's Date header.
	_, _, clk = run(&gateway{dateShift: 3 * time.Minute}, good, time.Now)
	wantStatus(t, clk, Warn, "behind")
	_, _, clk = run(&gateway{}, good, func() time.Time { return time.Now().Add(10 * time.Minute) })
	wantStatus(t, clk, Fail, "ahead of")

	// Not the gateway.
	gw, acct, _ = run(&gateway{status: http.StatusServiceUnavailable}, good, time.Now)
	wantStatus(t, gw, Fail, "HTTP 503")
	wantStatus(t, acct, Skip)
	gw, _, _ = run(&gateway{html: true}, good, time.Now)
	wantStatus(t, gw, Fail, "not like the BHXH gateway")
	srv := httptest.NewServer(http.NotFoundHandler())
	p := good
	p.URL = srv.URL + "/wrong/base"
	gw, _, clk = gwResults(t, Gateway(ctx, srv.Client(), p, time.Now))
	srv.Close()
	wantStatus(t, gw, Fail, "404", "daotaoegw")
	wantStatus(t, clk, OK)

	// Nothing listening.
	p.URL = "http://" + freeAddr(t)
	gw, acct, clk = gwResults(t, Gateway(ctx, http.DefaultClient, p, time.Now))
	wantStatus(t, gw, Fail, "cannot be reached", "port 443")
	wantStatus(t, acct, Skip)
	wantStatus(t, clk, Skip)

	p.URL = "ftp://egw"
	gw, _, _ = gwResults(t, Gateway(ctx, http.DefaultClient, p, time.Now))
	wantStatus(t, gw, Fail, "GATEWAY_URL")
}

func TestGatewayTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(&gateway{})
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the point
	srv.StartTLS()
	defer srv.Close()
	p := GatewayParams{URL: srv.URL, Username: "79014_BV", Password: "secret", MD5Case: "upper"}

	// A client that does not trust the server's certificate: what a
	// TLS-inspecting proxy looks like.
	gw, _, _ := gwResults(t, Gateway(context.Background(), &http.Client{}, p, time.Now))
	wantStatus(t, gw, Fail, "does not trust", "proxy")

	// A client whose clock is in 2100: the certificate looks expired.
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	late := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: pool, Time: func() time.Time { return time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC) },
	}}}
	gw, _, clk := gwResults(t, Gateway(context.Background(), late, p, time.Now))
	wantStatus(t, gw, Fail, "current time")
	wantStatus(t, clk, Fail, "date is wrong")

	gw, acct, _ := gwResults(t, Gateway(context.Background(), srv.Client(), p, time.Now))
	wantStatus(t, gw, OK)
	wantStatus(t, acct, OK)
}

// TestDataDirFull: on a real file system filled to the last byte, doctor
// says the disk is full and how to fix it (mounting a small tmpfs needs root,
// as in CI).
func TestDataDirFull(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("mounts a small tmpfs: Linux only (the Windows lane runs under Wine)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("mounting a small tmpfs: %v %s", err, out)
		}
		t.Skipf("SKIPPED LOUDLY: this test mounts a small tmpfs and needs root: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		_, err = f.Write(make([]byte, 4096))
	}
	f.Close()
	wantStatus(t, DataDir(dir), Fail, "disk is full", "Free disk space")
}
