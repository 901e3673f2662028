package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tiepdon/tiepdon/agent/doctor"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
)

// doctorConfig writes a config that points at a simulator, a temp data dir
// and a free HIS port.
func doctorConfig(t *testing.T) (file, data string) {
	t.Helper()
	sim := bhxhsim.New(bhxhsim.Options{Size: 10, Username: "79014_BV", Password: "mat-khau"})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	data = filepath.Join(dir, "data")
	file = filepath.Join(dir, "config.toml")
	cfg := fmt.Sprintf("data_dir = %q\nlanguage = \"en\"\n[facility]\ncode = \"79014\"\n[gateway]\nurl = %q\nusername = \"79014_BV\"\n"+
		"[his]\naddr = %q\norigins = [\"https://his.benhvien.vn\"]\n[scanner]\nport = \"\"\n", data, srv.URL, addr)
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TIEPDON_CONFIG", "")
	t.Setenv("TIEPDON_GATEWAY_PASSWORD", "mat-khau")
	return file, data
}

func TestDoctorCommand(t *testing.T) {
	file, _ := doctorConfig(t)
	var out, errb bytes.Buffer
	code := dispatch(context.Background(), []string{"doctor", "--json", "--config", file}, &out, &errb)
	var rep doctor.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("doctor --json: %v\n%s\n%s", err, out.String(), errb.String())
	}
	for _, c := range []string{"config", "data-dir", "his-port", "scanner", "gateway", "gateway-account", "clock"} {
		r, ok := rep.Result(c)
		if !ok || (r.Status != doctor.OK && r.Status != doctor.Skip) {
			t.Errorf("%s: %+v", c, r)
		}
	}
	// The PC/SC service is whatever this machine has; the exit code must follow the report.
	if want := rep.ExitCode(false); code != want {
		t.Errorf("exit %d, but the report says %d", code, want)
	}
	if _, ok := rep.Result("pcsc-service"); !ok {
		t.Error("no pcsc-service result")
	}

	// Plain text, in the configured language, and --strict.
	out.Reset()
	code = dispatch(context.Background(), []string{"doctor", "--config", file, "--strict"}, &out, &errb)
	if !strings.Contains(out.String(), "The gateway accepted the account 79014_BV") {
		t.Errorf("text report:\n%s", out.String())
	}
	if want := rep.ExitCode(true); code != want {
		t.Errorf("--strict: exit %d, want %d", code, want)
	}
}

func TestSupportBundleCommand(t *testing.T) {
	file, data := doctorConfig(t)
	os.MkdirAll(filepath.Join(data, "logs"), 0o700)
	os.WriteFile(filepath.Join(data, "logs", "tiepdon.log"), []byte("level=INFO msg=check cccd=001203004567\n"), 0o600)
	zipPath := filepath.Join(t.TempDir(), "bundle.zip")
	var out, errb bytes.Buffer
	if code := dispatch(context.Background(), []string{"support-bundle", "--config", file, "-o", zipPath}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if strings.Contains(string(b), "mat-khau") || strings.Contains(string(b), "001203004567") {
			t.Errorf("%s leaks the password or a citizen ID", f.Name)
		}
	}
	for _, n := range []string{"logs/tiepdon.log", "config.toml", "doctor.json", "readers.txt", "version.json", "config-files/1-config.toml"} {
		if !names[n] {
			t.Errorf("bundle lacks %s", n)
		}
	}
	// It refuses to overwrite.
	if code := dispatch(context.Background(), []string{"support-bundle", "--config", file, "-o", zipPath}, &out, &errb); code == 0 {
		t.Error("support-bundle overwrote an existing file")
	}
}

func TestMachineConfigCommand(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.toml")
	var out, errb bytes.Buffer
	if code := dispatch(context.Background(), []string{"machine-config", "--file", file, "HIS_PORT=9000", "FACILITY_CODE=79014", "GATEWAY_URL="}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	b, _ := os.ReadFile(file)
	if !strings.Contains(string(b), `addr = "127.0.0.1:9000"`) || !strings.Contains(string(b), `code = "79014"`) ||
		!strings.Contains(string(b), `url = "https://egw.baohiemxahoi.gov.vn"`) {
		t.Errorf("config:\n%s", b)
	}
	if code := dispatch(context.Background(), []string{"machine-config", "--file", file, "HIS_PORT=http"}, &out, &errb); code != 2 {
		t.Errorf("a bad property: exit %d", code)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "install.log"))
	if !strings.Contains(string(log), "wrote "+file+" (his.addr, facility.code)") || !strings.Contains(string(log), "HIS_PORT") {
		t.Errorf("install.log:\n%s", log)
	}
}
