package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent/config"
)

// testCSCA writes a self-signed CSCA certificate for country to a PEM file
// and returns the file and its SHA-256 fingerprint.
func testCSCA(t *testing.T, country string) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{Country: []string{country}, CommonName: "CSCA " + country + " test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(10 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "csca-"+country+".pem")
	os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	sum := sha256.Sum256(der)
	return f, strings.ToUpper(hex.EncodeToString(sum[:]))
}

func TestCSCACommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "csca")
	cfg := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(cfg, nil, 0o644)
	file, fp := testCSCA(t, "VN")
	answer := func(s string) { cscaStdin = func() io.Reader { return strings.NewReader(s) } }
	t.Cleanup(func() { cscaStdin = osStdin })
	installed := func() int {
		m, _ := filepath.Glob(filepath.Join(dir, "*"))
		return len(m)
	}

	// Nothing installed without a confirmation.
	code, out, errs := runCmd(t, "csca", "list", "--dir", dir, "--config", cfg)
	if code != 0 || !strings.Contains(out, "No CSCA") {
		t.Fatalf("empty list: %d %q %q", code, out, errs)
	}
	code, _, errs = runCmd(t, "csca", "import", "--dir", dir, "--config", cfg, "--fingerprint", strings.Repeat("AB", 32), file)
	if code != 1 || !strings.Contains(errs, "does not match") || installed() != 0 {
		t.Fatalf("wrong fingerprint: exit %d, %q, %d installed", code, errs, installed())
	}
	for _, a := range []string{"", "no\n"} { // no terminal (EOF), or a no
		answer(a)
		code, out, errs = runCmd(t, "csca", "import", "--dir", dir, "--config", cfg, file)
		if code != 1 || !strings.Contains(out, fp) || !strings.Contains(errs, "--fingerprint") || installed() != 0 {
			t.Fatalf("answer %q: exit %d, %q / %q, %d installed", a, code, out, errs, installed())
		}
	}
	code, _, errs = runCmd(t, "csca", "import", "--dir", dir, "--config", cfg, filepath.Join(t.TempDir(), "missing.pem"))
	if code != 1 || installed() != 0 {
		t.Fatalf("missing file: %d %q", code, errs)
	}
	junk := filepath.Join(t.TempDir(), "junk.ml")
	os.WriteFile(junk, []byte("<html>not found</html>"), 0o644)
	if code, _, errs = runCmd(t, "csca", "import", "--dir", dir, "--config", cfg, "--fingerprint", fp, junk); code != 1 || !strings.Contains(errs, "neither a certificate") {
		t.Fatalf("junk: %d %q", code, errs)
	}

	// The published fingerprint, as IT scripts pass it (colons, lower case).
	var colons []string
	for i := 0; i < len(fp); i += 2 {
		colons = append(colons, strings.ToLower(fp[i:i+2]))
	}
	code, out, errs = runCmd(t, "csca", "import", "--dir", dir, "--config", cfg, "--fingerprint", strings.Join(colons, ":"), file)
	if code != 0 || installed() != 1 || !strings.Contains(out, "Installed 1") {
		t.Fatalf("import with the fingerprint: exit %d, %q %q, %d installed", code, out, errs, installed())
	}
	// Interactively, "yes" installs another country's CSCA.
	other, ofp := testCSCA(t, "DE")
	answer("yes\n")
	if code, _, errs = runCmd(t, "csca", "import", "--dir", dir, "--config", cfg, other); code != 0 || installed() != 2 {
		t.Fatalf("interactive yes: %d %q", code, errs)
	}

	code, out, errs = runCmd(t, "csca", "list", "--dir", dir, "--config", cfg, "--json")
	var list []cscaEntry
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 2 {
		t.Fatalf("list: %d %q %q", code, out, errs)
	}
	got := map[string]string{}
	for _, e := range list {
		got[e.Country] = e.Fingerprint
	}
	if got["VN"] != fp || got["DE"] != ofp {
		t.Errorf("listed %v, want VN %s and DE %s", got, fp, ofp)
	}
	// The agent reads the same folder beside reader.csca.
	if p := cscaPaths(config.Config{Reader: config.Reader{CSCA: []string{"x.pem"}}}, dir); len(p) != 2 || p[1] != dir {
		t.Errorf("agent CSCA paths %v, want reader.csca then %s", p, dir)
	}
}
