package doctor

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/tiepdon/tiepdon/agent/config"
)

// Bundle is what goes into a support bundle.
type Bundle struct {
	// Version is written as version.json (the output of `tiepdon version --json`).
	Version any
	// Config is the effective configuration; ConfigErr the error loading it.
	Config    *config.Config
	ConfigErr error
	// Report is the doctor's report.
	Report *Report
	// Readers and ReadersErr are the PC/SC reader list.
	Readers    []string
	ReadersErr error
	// Ports and PortsErr are the serial ports.
	Ports    []Port
	PortsErr error
	// LogDirs are searched for *.log files (not recursively).
	LogDirs []string
	// Environ is the process environment (os.Environ()); only TIEPDON_*
	// variables are kept, secrets removed.
	Environ []string
	// Now stamps the bundle.
	Now time.Time
}

// Log limits: the newest maxLogFiles files, the last maxLogBytes of each.
const (
	maxLogFiles = 8
	maxLogBytes = 4 << 20
)

const bundleReadme = `tiepdon support bundle
======================
Attach this file to the support ticket. Nothing in it was sent anywhere.

What is inside:
  version.json      tiepdon version and build
  system.txt        operating system
  doctor.txt/.json  the output of "tiepdon doctor"
  config.toml       the effective settings (no password: tiepdon never keeps it in a file)
  config-files/     the config files as written, with secret values removed
  env.txt           TIEPDON_* environment variables, secrets removed
  readers.txt       PC/SC card readers
  serial-ports.txt  serial ports
  logs/             the newest log files (last 4 MB of each)

Redaction: runs of 9 or more digits (citizen ID, BHXH, card and phone
numbers) keep only their first 4 and last 2 digits; values of keys that hold
secrets (password, token, …) or personal data (name, address, birth date)
are replaced by [removed]. tiepdon does not log names or full IDs in the
first place (Decree 13/2023); this is a second line of defence.
`

// WriteBundle writes the support bundle as a zip to w.
func WriteBundle(w io.Writer, b Bundle) error {
	zw := zip.NewWriter(w)
	add := func(name string, data []byte) error {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: b.Now})
		if err != nil {
			return fmt.Errorf("adding %s to the bundle: %w", name, err)
		}
		_, err = f.Write(data)
		return err
	}
	files := []struct {
		name string
		data func() []byte
	}{
		{"README.txt", func() []byte { return []byte(bundleReadme) }},
		{"version.json", func() []byte { return jsonOf(b.Version) }},
		{"system.txt", b.system},
		{"doctor.txt", func() []byte {
			if b.Report == nil {
				return []byte("doctor did not run\n")
			}
			var buf bytes.Buffer
			b.Report.WriteText(&buf, "en")
			return []byte(Redact(buf.String()))
		}},
		{"doctor.json", func() []byte { return []byte(Redact(string(jsonOf(b.Report)))) }},
		{"config.toml", b.config},
		{"env.txt", b.env},
		{"readers.txt", func() []byte { return listing(b.Readers, b.ReadersErr, "no readers") }},
		{"serial-ports.txt", func() []byte {
			var names []string
			for _, p := range b.Ports {
				names = append(names, p.String())
			}
			return listing(names, b.PortsErr, "no serial ports")
		}},
	}
	for _, f := range files {
		if err := add(f.name, f.data()); err != nil {
			return err
		}
	}
	if b.Config != nil {
		for i, f := range b.Config.Files {
			data, err := os.ReadFile(f)
			if err != nil {
				data = []byte(fmt.Sprintf("# cannot read %s: %v\n", f, err))
			}
			name := fmt.Sprintf("config-files/%d-%s", i+1, filepath.Base(f))
			if err := add(name, []byte("# "+f+"\n"+Redact(string(data)))); err != nil {
				return err
			}
		}
	}
	for _, lf := range logFiles(b.LogDirs) {
		data, err := tail(lf, maxLogBytes)
		if err != nil {
			data = []byte(fmt.Sprintf("cannot read %s: %v\n", lf, err))
		}
		if err := add("logs/"+filepath.Base(lf), []byte(Redact(string(data)))); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("closing the bundle: %w", err)
	}
	return nil
}

func jsonOf(v any) []byte {
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return []byte(fmt.Sprintf("%q\n", err.Error()))
	}
	return append(out, '\n')
}

func listing(items []string, err error, none string) []byte {
	var b strings.Builder
	if err != nil {
		fmt.Fprintf(&b, "error: %v\n", err)
	}
	if len(items) == 0 && err == nil {
		b.WriteString(none + "\n")
	}
	for _, it := range items {
		b.WriteString(it + "\n")
	}
	return []byte(b.String())
}

func (b Bundle) system() []byte {
	var s strings.Builder
	fmt.Fprintf(&s, "os/arch: %s/%s\ncpus: %d\ntime: %s\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), b.Now.Format(time.RFC3339))
	if h, err := os.Hostname(); err == nil {
		fmt.Fprintf(&s, "hostname: %s\n", h)
	}
	if rel, err := os.ReadFile("/etc/os-release"); err == nil {
		s.WriteString("\n/etc/os-release:\n")
		s.Write(rel)
	}
	return []byte(s.String())
}

func (b Bundle) config() []byte {
	var buf bytes.Buffer
	if b.ConfigErr != nil {
		fmt.Fprintf(&buf, "# error loading the config: %s\n", Redact(b.ConfigErr.Error()))
	}
	if b.Config == nil {
		return buf.Bytes()
	}
	fmt.Fprintf(&buf, "# effective settings; files read: %s\n", filesOr(b.Config.Files).EN)
	c := *b.Config // Password, Staff and Files are not encoded (toml:"-").
	c.Gateway.Password = ""
	if err := toml.NewEncoder(&buf).Encode(c); err != nil {
		fmt.Fprintf(&buf, "# cannot encode: %v\n", err)
	}
	return []byte(Redact(buf.String()))
}

func (b Bundle) env() []byte {
	var lines []string
	for _, kv := range b.Environ {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "TIEPDON_") {
			continue
		}
		switch {
		case strings.Contains(k, "PASSWORD"), strings.Contains(k, "TOKEN"), strings.Contains(k, "SECRET"),
			strings.HasSuffix(k, "_NAME"):
			v = "[removed]"
		}
		lines = append(lines, k+"="+Redact(v))
	}
	sort.Strings(lines)
	if len(lines) == 0 {
		return []byte("no TIEPDON_* variables\n")
	}
	return []byte(strings.Join(lines, "\n") + "\n")
}

// logFiles returns the newest *.log files in dirs, newest first.
func logFiles(dirs []string) []string {
	type lf struct {
		path string
		mod  time.Time
	}
	var all []lf
	seen := map[string]bool{}
	for _, d := range dirs {
		matches, _ := filepath.Glob(filepath.Join(d, "*.log"))
		for _, m := range matches {
			fi, err := os.Stat(m)
			if err != nil || !fi.Mode().IsRegular() || seen[m] {
				continue
			}
			seen[m] = true
			all = append(all, lf{m, fi.ModTime()})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].mod.After(all[j].mod) })
	var out []string
	for i := 0; i < len(all) && i < maxLogFiles; i++ {
		out = append(out, all[i].path)
	}
	return out
}

// tail returns the last n bytes of a file, starting at a line boundary.
func tail(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > n {
		if _, err := f.Seek(fi.Size()-n, io.SeekStart); err != nil {
			return nil, err
		}
		r := bufio.NewReader(f)
		if _, err := r.ReadString('\n'); err != nil {
			return nil, err
		}
		return io.ReadAll(r)
	}
	return io.ReadAll(f)
}

var (
	// digitRun is a run of 9 or more digits: CMND (9), BHXH number (10),
	// phone (10-11), citizen ID (12), the digits of a BHYT card (13).
	digitRun = regexp.MustCompile(`[0-9]{9,}`)
	// bearer is an HTTP credential after its scheme.
	bearer = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+`)
	// sensitiveKV is key=value, key: value or "key":"value" where the key
	// names a secret or personal data. The value is a quoted string or a
	// run of characters up to a separator.
	sensitiveKV = regexp.MustCompile(`(?i)("?\b(?:[a-z_]*password[a-z_]*|passwd|pwd|[a-z_]*token[a-z_]*|secret|api_?key|authorization|cookie|` +
		`hoten[a-z]*|ho_ten|name|staff_name|full_?name|diachi|dia_chi|address|ngaysinh|ngay_sinh|dob|birth[a-z_]*)"?\s*[=:]\s*)` +
		`(\[removed\]|"(?:[^"\\]|\\.)*"|[^\s,;&"}\]]+)`)
)

// Redact removes secrets and personal data from text meant for a support
// ticket: digit runs of 9 or more keep their first 4 and last 2 digits, and
// values of secret or personal keys become [removed]. A value with spaces is
// only caught when quoted, as log/slog writes it.
func Redact(s string) string {
	s = bearer.ReplaceAllString(s, `${1} [removed]`)
	s = sensitiveKV.ReplaceAllString(s, `${1}[removed]`)
	return digitRun.ReplaceAllStringFunc(s, func(d string) string {
		return d[:4] + strings.Repeat("*", len(d)-6) + d[len(d)-2:]
	})
}
