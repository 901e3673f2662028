package doctor

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent/config"
)

func TestRedact(t *testing.T) {
	cases := []struct{ in, want string }{
		// digit runs: citizen ID, BHYT card digits, phone; short numbers stay
		{"cccd=001203004567 ok", "cccd=0012******67 ok"},
		{"card GD4797933357777", "card GD4797*******77"},
		{"phone 0912345678, port 8733, took 312ms", "phone 0912****78, port 8733, took 312ms"},
		// secrets
		{`level=INFO msg=login password=hunter2 user=79014_BV`, `level=INFO msg=login password=[removed] user=79014_BV`},
		{`{"access_token":"eyJhbGci","id_token":"a-b-c"}`, `{"access_token":[removed],"id_token":[removed]}`},
		{`url=/api/egw/x?token=AT&id_token=ID&username=u&password=P`, `url=/api/egw/x?token=[removed]&id_token=[removed]&username=u&password=[removed]`},
		{`Authorization: Bearer abc.def`, `Authorization: [removed] [removed]`},
		{`header "Bearer abc.def"`, `header "Bearer [removed]"`},
		// personal data in keys
		{`hoTen="Nguyễn Văn A" ngaySinh=01/01/1990 maThe=GD4797933357777`, `hoTen=[removed] ngaySinh=[removed] maThe=GD4797*******77`},
		{`staff_name="Trần Thị B" level=INFO`, `staff_name=[removed] level=INFO`},
		{`"diaChi": "12 Lê Lợi, Huế"`, `"diaChi": [removed]`},
		// things that must stay
		{`username=79014_BV hostname=pc-01 reader="ACS ACR1252"`, `username=79014_BV hostname=pc-01 reader="ACS ACR1252"`},
	}
	for _, c := range cases {
		if got := Redact(c.in); got != c.want {
			t.Errorf("Redact(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

var longDigits = regexp.MustCompile(`[0-9]{9,}`)

func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		"cccd=001203004567 ok", "password=hunter2", `{"access_token":"x"}`, `hoTen="A B"`,
		"0012******67", "1234567890123456789012345", "token=\"a\\\"b\" rest", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Redact(s)
		if longDigits.MatchString(out) {
			t.Fatalf("Redact(%q) = %q keeps a run of 9+ digits", s, out)
		}
		if again := Redact(out); again != out {
			t.Fatalf("Redact is not stable: %q -> %q -> %q", s, out, again)
		}
	})
}

func readZip(t *testing.T, b []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = string(data)
	}
	return files
}

func TestWriteBundle(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	os.MkdirAll(logs, 0o700)
	os.WriteFile(filepath.Join(logs, "tiepdon.log"), []byte(
		"time=2026-11-23T10:00:00Z level=INFO msg=check cccd=001203004567 verdict=eligible\n"+
			"time=2026-11-23T10:00:01Z level=DEBUG msg=login password=hunter2\n"), 0o600)
	os.WriteFile(filepath.Join(logs, "notes.txt"), []byte("not a log"), 0o600)
	cfgFile := filepath.Join(dir, "config.toml")
	os.WriteFile(cfgFile, []byte("[gateway]\nusername = \"79014_BV\"\npassword_file = \"/etc/tiepdon/pw\"\n"), 0o600)
	cfg, err := config.Load(cfgFile, func(k string) string {
		if k == "TIEPDON_GATEWAY_PASSWORD" {
			return "hunter2"
		}
		return ""
	})
	if err != nil && !strings.Contains(err.Error(), "password file") {
		t.Fatal(err)
	}
	cfg.Gateway.Password = "hunter2"
	rep := Report{Version: "v1.2.3", Results: []Result{{Check: "pcsc-service", Status: Fail, Found: bi("down", "hỏng")}}}

	var buf bytes.Buffer
	err = WriteBundle(&buf, Bundle{
		Version:  map[string]string{"version": "v1.2.3"},
		Config:   &cfg,
		Report:   &rep,
		Readers:  []string{"ACS ACR1252 1S CL Reader PICC 00 00"},
		PortsErr: errors.New("no /sys"),
		LogDirs:  []string{logs, dir},
		Environ:  []string{"TIEPDON_GATEWAY_PASSWORD=hunter2", "TIEPDON_STAFF_CCCD=001203004567", "TIEPDON_STAFF_NAME=Tran B", "PATH=/bin", "TIEPDON_LANG=vi"},
		Now:      time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	files := readZip(t, buf.Bytes())
	for _, name := range []string{"README.txt", "version.json", "system.txt", "doctor.txt", "doctor.json", "config.toml",
		"env.txt", "readers.txt", "serial-ports.txt", "logs/tiepdon.log", "config-files/1-config.toml"} {
		if _, ok := files[name]; !ok {
			t.Errorf("bundle lacks %s (has %d files)", name, len(files))
		}
	}
	if _, ok := files["logs/notes.txt"]; ok {
		t.Error("bundle took a non-log file")
	}
	for name, data := range files {
		if strings.Contains(data, "hunter2") || strings.Contains(data, "001203004567") || strings.Contains(data, "Tran B") {
			t.Errorf("%s leaks a secret or personal data:\n%s", name, data)
		}
	}
	mustHave := map[string]string{
		"logs/tiepdon.log": "cccd=0012******67",
		"env.txt":          "TIEPDON_LANG=vi",
		"readers.txt":      "ACR1252",
		"serial-ports.txt": "error: no /sys",
		"config.toml":      `username = "79014_BV"`,
		"doctor.txt":       "[FAIL] pcsc-service",
		"version.json":     "v1.2.3",
	}
	for name, want := range mustHave {
		if !strings.Contains(files[name], want) {
			t.Errorf("%s lacks %q:\n%s", name, want, files[name])
		}
	}
}

func TestRunAndText(t *testing.T) {
	srv := httptest.NewServer(&gateway{})
	defer srv.Close()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Gateway.URL = srv.URL
	cfg.Gateway.Username = "79014_BV"
	cfg.Gateway.Password = "secret"
	cfg.Facility.Code = "79014"
	cfg.HIS.Origins = []string{"https://his.example.vn"}
	cfg.HIS.Addr = freeAddr(t)
	cfg.Scanner.Port = ""

	readers := func() ([]string, error) { return []string{"Virtual PCD 00 00"}, nil }
	policies := func() BrowserPolicies { return BrowserPolicies{"Edge": {"https://his.example.vn"}} }
	rep := Run(context.Background(), Options{Version: "v9", Config: &cfg, ListReaders: readers, HTTP: srv.Client(), BrowserPolicies: policies})
	order := []string{"config", "locked-settings", "data-dir", "his-port", "window", "browser-policy", "pcsc-service", "card-readers", "scanner", "gateway", "gateway-account", "clock"}
	if len(rep.Results) != len(order) {
		t.Fatalf("got %d results, want %d: %+v", len(rep.Results), len(order), rep.Results)
	}
	for i, c := range order {
		if rep.Results[i].Check != c {
			t.Errorf("result %d is %s, want %s", i, rep.Results[i].Check, c)
		}
		if s := rep.Results[i].Status; s != OK && s != Skip {
			t.Errorf("%s: %s: %s", c, s, rep.Results[i].Found.EN)
		}
	}
	if rep.ExitCode(true) != 0 {
		t.Error("exit code not 0 on a healthy report")
	}

	// Break two things: the readers and the account.
	cfg.Gateway.Password = "wrong"
	rep = Run(context.Background(), Options{Version: "v9", Config: &cfg, HTTP: srv.Client(), BrowserPolicies: policies,
		ListReaders: func() ([]string, error) { return nil, nil }})
	if rep.ExitCode(false) != 1 || rep.Count(Fail) != 1 || rep.Count(Warn) != 1 {
		t.Fatalf("exit %d, %d fail, %d warn: %+v", rep.ExitCode(false), rep.Count(Fail), rep.Count(Warn), rep.Results)
	}
	var en, vi bytes.Buffer
	rep.WriteText(&en, "en")
	rep.WriteText(&vi, "vi")
	for _, w := range []string{"[FAIL] gateway-account", "[WARN] card-readers", "1 problem(s), 1 warning(s)", "wrong account name or password"} {
		if !strings.Contains(en.String(), w) {
			t.Errorf("English text lacks %q:\n%s", w, en.String())
		}
	}
	for _, w := range []string{"[FAIL] gateway-account", "1 lỗi, 1 cảnh báo", "sai tên tài khoản hoặc mật khẩu", "Chưa cắm đầu đọc thẻ"} {
		if !strings.Contains(vi.String(), w) {
			t.Errorf("Vietnamese text lacks %q:\n%s", w, vi.String())
		}
	}
}
