package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tiepdon/tiepdon/agent/config"
	"github.com/tiepdon/tiepdon/agent/doctor"
	"github.com/tiepdon/tiepdon/drivers/emrtd"
)

func init() {
	register(&command{
		name:    "csca",
		summary: "install (after checking its fingerprint) or list the country signing CA certificates that vouch for chip cards",
		run:     runCSCA,
	})
}

const cscaSynopsis = `csca import [--dir DIR] [--config FILE] [--fingerprint SHA256] FILE
       tiepdon csca list   [--dir DIR] [--config FILE] [--json]`

// cscaStdin is where csca import reads the operator's confirmation.
var cscaStdin = osStdin

// machineCSCADir is where "tiepdon csca import" installs certificates by
// default, beside the machine-wide config file: every user's agent trusts
// what is there.
func machineCSCADir() string { return filepath.Join(filepath.Dir(config.MachineConfigFile()), "csca") }

// cscaPaths lists where the agent reads trusted CSCAs: reader.csca, and the
// import directory (dir, or the machine-wide one) when it exists.
func cscaPaths(cfg config.Config, dir string) []string {
	paths := append([]string(nil), cfg.Reader.CSCA...)
	if dir == "" {
		dir = machineCSCADir()
	}
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		paths = append(paths, dir)
	}
	return paths
}

func runCSCA(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "import" && args[0] != "list") {
		fmt.Fprintf(stderr, "Usage: tiepdon %s\n", cscaSynopsis)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return 0
		}
		return 2
	}
	sub := args[0]
	fs := newFlagSet("csca "+sub, cscaSynopsis, stderr)
	dir := fs.String("dir", "", "folder of installed certificates (default: "+machineCSCADir()+")")
	cfgFile := fs.String("config", "", "config file to read instead of the per-user one")
	fp := fs.String("fingerprint", "", "import: the SHA-256 fingerprint the issuer published; installs without asking when it matches")
	asJSON := fs.Bool("json", false, "list: print as JSON")
	if code := parseFlags(fs, args[1:]); code >= 0 {
		return code
	}
	cfg, err := config.Load(*cfgFile, os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "tiepdon csca: %v\n", err)
		return 1
	}
	target := *dir
	if target == "" {
		target = machineCSCADir()
	}
	if sub == "list" {
		return cscaList(cfg, *dir, *asJSON, stdout, stderr)
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "Usage: tiepdon %s\n", cscaSynopsis)
		return 2
	}
	return cscaImport(cfg, target, fs.Arg(0), *fp, stdout, stderr)
}

// normFingerprint drops separators and case: "ab:CD 12" → "ABCD12".
func normFingerprint(s string) string {
	return strings.ToUpper(strings.NewReplacer(":", "", " ", "", "-", "").Replace(strings.TrimSpace(s)))
}

func cscaImport(cfg config.Config, dir, file, want string, stdout, stderr io.Writer) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "tiepdon csca import: "+format+"\n", a...)
		return 1
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return fail("%v", err)
	}
	fileSum := sha256.Sum256(b)
	fileFP := strings.ToUpper(hex.EncodeToString(fileSum[:]))

	// Certificates on their own, or a master list checked against the
	// CSCAs already trusted.
	var (
		certs  []*emrtd.Certificate
		signer *emrtd.Certificate
		isML   bool
	)
	one := emrtd.NewCSCAStore()
	if _, err := one.AddBytes(b); err == nil {
		certs = one.Certificates()
	} else {
		trusted, lerr := emrtd.LoadCSCAStore(cscaPaths(cfg, dir)...)
		if lerr != nil {
			return fail("reading the certificates already installed: %v", lerr)
		}
		var mlErr error
		certs, signer, mlErr = emrtd.ParseMasterList(b, trusted.Certificates())
		switch {
		case errors.Is(mlErr, emrtd.ErrMasterListUntrusted):
			return fail("%v.\nThe list is only trusted when its signer's CSCA is installed: import that country's CSCA certificate first (checking its fingerprint), then the list.", mlErr)
		case mlErr != nil && signer != nil:
			return fail("the master list's own signature does not hold: %v. Do not install it; download it again from its publisher.", mlErr)
		case mlErr != nil:
			return fail("%s is neither a certificate (PEM or DER) nor an ICAO CSCA master list: %v", filepath.Base(file), err)
		}
		isML = true
	}
	if len(certs) == 0 {
		return fail("%s holds no certificate", filepath.Base(file))
	}
	for _, c := range certs {
		if !isML && c.Subject() == c.Issuer() {
			if err := c.CheckSignatureFrom(c); err != nil {
				return fail("the self-signed certificate %s does not verify: %v", c.Subject(), err)
			}
		}
	}

	// What to confirm: a single certificate's fingerprint, else the file's.
	confirm, what := fileFP, "file"
	if len(certs) == 1 && !isML {
		confirm, what = certs[0].SHA256Fingerprint(), "certificate"
	}
	if isML {
		fmt.Fprintf(stdout, "CSCA master list signed by %s (verified), %d certificates\n", signer.Subject(), len(certs))
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SUBJECT\tCOUNTRY\tVALID UNTIL\tSHA-256")
	for _, c := range certs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Subject(), c.Country(), c.NotAfter.Format("2006-01-02"), c.SHA256Fingerprint())
	}
	tw.Flush()
	fmt.Fprintf(stdout, "SHA-256 of the %s: %s\n", what, confirm)

	switch {
	case want != "" && normFingerprint(want) != confirm:
		return fail("the fingerprint given does not match the %s's (%s): not installed. Check that the file is the one the issuer published.", what, confirm)
	case want == "":
		fmt.Fprintf(stdout, "Compare this fingerprint with the one the issuing authority published (on paper or its website, not from the same download).\nInstall? Type yes to confirm: ")
		line, _ := bufio.NewReader(cscaStdin()).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "yes" && a != "y" && a != "có" {
			return fail("not confirmed: nothing installed. For scripts, pass --fingerprint with the published SHA-256.")
		}
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail("%v", err)
	}
	var dest string
	if isML {
		dest = filepath.Join(dir, "masterlist-"+fileFP[:16]+".ml")
		err = os.WriteFile(dest, b, 0o644)
	} else {
		var out []byte
		for _, c := range certs {
			out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
		}
		dest = filepath.Join(dir, "csca-"+strings.ToLower(certs[0].Country())+"-"+confirm[:16]+".pem")
		err = os.WriteFile(dest, out, 0o644)
	}
	if err != nil {
		return fail("%v", err)
	}
	fmt.Fprintf(stdout, "Installed %d certificate(s) in %s. Restart tiepdon for chip reads to use them.\n", len(certs), dest)
	return 0
}

// cscaEntry is one trusted certificate in "csca list --json".
type cscaEntry struct {
	Subject     string    `json:"subject"`
	Country     string    `json:"country"`
	NotAfter    time.Time `json:"notAfter"`
	Fingerprint string    `json:"sha256"`
}

func cscaList(cfg config.Config, dir string, asJSON bool, stdout, stderr io.Writer) int {
	store, err := emrtd.LoadCSCAStore(cscaPaths(cfg, dir)...)
	if err != nil {
		fmt.Fprintf(stderr, "tiepdon csca list: %v\n", err)
		return 1
	}
	entries := []cscaEntry{}
	for _, c := range store.Certificates() {
		entries = append(entries, cscaEntry{Subject: c.Subject(), Country: c.Country(), NotAfter: c.NotAfter, Fingerprint: c.SHA256Fingerprint()})
	}
	if asJSON {
		writeJSON(stdout, entries)
		return 0
	}
	if len(entries) == 0 {
		fmt.Fprintln(stdout, "No CSCA certificate is installed: chip reads show \"intact, issuer not verified\". Install one with: tiepdon csca import FILE")
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SUBJECT\tCOUNTRY\tVALID UNTIL\tSHA-256")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Subject, e.Country, e.NotAfter.Format("2006-01-02"), e.Fingerprint)
	}
	tw.Flush()
	return 0
}

// doctorCSCAs lists the trusted CSCAs for tiepdon doctor.
func doctorCSCAs(cfg *config.Config) func() ([]doctor.CSCAInfo, error) {
	return func() ([]doctor.CSCAInfo, error) {
		store, err := emrtd.LoadCSCAStore(cscaPaths(*cfg, "")...)
		if err != nil {
			return nil, err
		}
		var out []doctor.CSCAInfo
		for _, c := range store.Certificates() {
			out = append(out, doctor.CSCAInfo{Subject: c.Subject(), Country: c.Country(), NotAfter: c.NotAfter})
		}
		return out, nil
	}
}
