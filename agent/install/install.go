// Package install holds what the installers run on the target machine: it
// writes the MSI's public properties (GATEWAY_URL, FACILITY_CODE,
// HIS_ORIGINS, HIS_PORT, …) into the machine-wide config file, editing the
// file in place so that comments and settings made by hand survive, and it
// removes tiepdon's data when an uninstall asks for it (REMOVE_DATA=1).
//
// Who should use it: the `tiepdon machine-config` and `tiepdon purge-data`
// commands, which the MSI runs as deferred custom actions and IT staff can
// run by hand on Linux. The MSI itself (packaging/windows) only passes the
// property values on the command line: wixl cannot run scripts or DLL
// custom actions, and TOML is easier to get right in Go than in MSI tables.
package install

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/tiepdon/tiepdon/agent/config"
)

// Property is one MSI public property and the config key it sets.
type Property struct {
	Name string // MSI property, upper case
	Key  string // config key, "section.key" or "key"
	// Value turns the property's text into a TOML value.
	Value func(string) (string, error)
	Doc   string // one line for the docs and --help
}

// Properties are the MSI properties that write config keys, in the order
// the docs list them. AUTOSTART is not a config key (see SetAutostart) and
// REMOVE_DATA is handled by the MSI's uninstall sequence.
var Properties = []Property{
	{"GATEWAY_URL", "gateway.url", tomlURL, "BHXH gateway base URL"},
	{"GATEWAY_USER", "gateway.username", tomlString, "facility account on the gateway, e.g. 79014_BV"},
	{"FACILITY_CODE", "facility.code", tomlString, "5-digit facility code (mã cơ sở KCB)"},
	{"HIS_ORIGINS", "his.origins", tomlOrigins, "web origins of the HIS pages, separated by commas or spaces"},
	{"HIS_PORT", "his.addr", tomlPort, "loopback port of the HIS API (his.addr = 127.0.0.1:PORT)"},
	{"LANGUAGE", "language", tomlString, "window language: vi or en"},
	{"SCANNER_PORT", "scanner.port", tomlString, "serial port of the QR scanner: auto, COM3, or empty for none"},
}

// ErrBadProperty is wrapped by errors about a property's value.
var ErrBadProperty = errors.New("bad property value")

func tomlString(s string) (string, error) {
	b, err := json.Marshal(s) // JSON string escapes are valid TOML basic-string escapes
	return string(b), err
}

func tomlURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%w: %q is not an http(s) URL", ErrBadProperty, s)
	}
	return tomlString(strings.TrimRight(s, "/"))
}

func tomlOrigins(s string) (string, error) {
	var quoted []string
	for _, o := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
		u, err := url.Parse(o)
		if err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return "", fmt.Errorf("%w: %q is not an origin like https://his.benhvien.vn", ErrBadProperty, o)
		}
		q, _ := tomlString(strings.TrimSuffix(o, "/"))
		quoted = append(quoted, q)
	}
	return "[" + strings.Join(quoted, ", ") + "]", nil
}

func tomlPort(s string) (string, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%w: %q is not a TCP port (1-65535)", ErrBadProperty, s)
	}
	return tomlString("127.0.0.1:" + s)
}

// Setting is one config key and its value as TOML text.
type Setting struct {
	Key   string // "section.key" or "key"
	Value string // TOML: "\"text\"", "[\"a\", \"b\"]", "true"
}

// FromProperties turns NAME=value arguments into settings. Empty values are
// skipped, so that an upgrade run without the property keeps what the file
// says. Unknown names are an error. AUTOSTART=1|0 is returned apart:
// autostart is nil when the property is absent or empty.
func FromProperties(args []string) (sets []Setting, autostart *bool, err error) {
	var out []Setting
	for _, a := range args {
		name, val, ok := strings.Cut(a, "=")
		if !ok {
			return nil, nil, fmt.Errorf("%w: %q is not NAME=value", ErrBadProperty, a)
		}
		if strings.EqualFold(name, "AUTOSTART") {
			switch strings.TrimSpace(val) {
			case "":
			case "1":
				autostart = new(true)
			case "0":
				autostart = new(false)
			default:
				return nil, nil, fmt.Errorf("%w: AUTOSTART=%q is not 1 or 0", ErrBadProperty, val)
			}
			continue
		}
		i := slices.IndexFunc(Properties, func(p Property) bool { return strings.EqualFold(p.Name, name) })
		if i < 0 {
			return nil, nil, fmt.Errorf("%w: unknown property %q", ErrBadProperty, name)
		}
		val = strings.TrimSpace(val)
		if val == "" {
			continue
		}
		p := Properties[i]
		v, err := p.Value(val)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", p.Name, err)
		}
		out = append(out, Setting{Key: p.Key, Value: v})
	}
	return out, autostart, nil
}

var (
	tableLine = regexp.MustCompile(`^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]\s*(#.*)?$`)
	keyLine   = regexp.MustCompile(`^(\s*)([A-Za-z0-9_-]+)\s*=`)
	validKey  = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)
)

// Apply sets keys in the TOML text of a config file and returns the new
// text. A key that is there gets its line replaced (a multi-line array
// with it); a missing key goes at the end of its table, and a missing table
// at the end of the file. Comments and other lines stay as they are. The
// result must decode; if it does not, Apply returns an error and the text
// is not to be written.
func Apply(text string, sets []Setting) (string, error) {
	var lines []string
	if t := strings.TrimRight(text, "\n"); t != "" {
		lines = strings.Split(t, "\n")
	}
	for _, s := range sets {
		if !validKey.MatchString(s.Key) {
			return "", fmt.Errorf("%w: %q is not a config key", ErrBadProperty, s.Key)
		}
		var probe map[string]any
		if _, err := toml.Decode("v = "+s.Value, &probe); err != nil || strings.ContainsAny(s.Value, "\r\n") {
			return "", fmt.Errorf("%w: %s = %s is not a one-line TOML value", ErrBadProperty, s.Key, s.Value)
		}
		table, key := "", s.Key
		if i := strings.LastIndexByte(s.Key, '.'); i >= 0 {
			table, key = s.Key[:i], s.Key[i+1:]
		}
		newLine := key + " = " + s.Value
		cur := ""
		tableEnd := -1 // index after the table's last key line (or its header); -1: not in the file
		firstTable := -1
		done := false
		for i := 0; i < len(lines); i++ {
			if m := tableLine.FindStringSubmatch(lines[i]); m != nil {
				if firstTable < 0 {
					firstTable = i
				}
				cur = m[1]
				if cur == table {
					tableEnd = i + 1
				}
				continue
			}
			m := keyLine.FindStringSubmatch(lines[i])
			if m == nil || cur != table {
				continue
			}
			end := valueEnd(lines, i)
			if m[2] == key {
				lines = slices.Replace(lines, i, end+1, m[1]+newLine)
				done = true
				break
			}
			tableEnd = end + 1
			i = end
		}
		if done {
			continue
		}
		switch {
		case tableEnd >= 0: // after the table's last key (or its header)
			lines = slices.Insert(lines, tableEnd, newLine)
		case table == "":
			// No top-level key yet: after the opening comments, before the
			// first table (top-level keys must come before any).
			switch {
			case firstTable >= 0:
				lines = slices.Insert(lines, firstTable, newLine, "")
			case len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) != "":
				lines = append(lines, "", newLine)
			default:
				lines = append(lines, newLine)
			}
		default:
			if len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) != "" {
				lines = append(lines, "")
			}
			lines = append(lines, "["+table+"]", newLine)
		}
	}
	out := strings.Join(lines, "\n") + "\n"
	var probe map[string]any
	if _, err := toml.Decode(out, &probe); err != nil {
		return "", fmt.Errorf("the edited config would not parse: %w", err)
	}
	return out, nil
}

// valueEnd returns the index of the last line of the value that starts on
// line i: the same line, unless it opens an array that closes later.
func valueEnd(lines []string, i int) int {
	depth := 0
	for j := i; j < len(lines); j++ {
		depth += bracketDepth(lines[j], j == i)
		if depth <= 0 {
			return j
		}
	}
	return len(lines) - 1
}

// bracketDepth counts [ minus ] outside strings and comments; on the key's
// own line it starts after the "=".
func bracketDepth(line string, first bool) int {
	if first {
		_, line, _ = strings.Cut(line, "=")
	}
	d := 0
	var quote rune
	esc := false
	for _, r := range line {
		switch {
		case esc:
			esc = false
		case quote != 0:
			if r == '\\' && quote == '"' {
				esc = true
			} else if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
		case r == '#':
			return d
		case r == '[':
			d++
		case r == ']':
			d--
		}
	}
	return d
}

// WriteMachineConfig applies sets to the config file at path, starting
// from config.MachineTemplate (comments only) if the file does not exist,
// so that the file holds what IT set and nothing that pins a default. The result must load and validate as a whole config; then it is
// written atomically (0644: every user reads it, only administrators write
// it). It returns whether the file changed.
func WriteMachineConfig(path string, sets []Setting) (bool, error) {
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		old = nil
	case err != nil:
		return false, fmt.Errorf("reading %s: %w", path, err)
	}
	base := string(old)
	if old == nil {
		base = config.MachineTemplate
	}
	text, err := Apply(base, sets)
	if err != nil {
		return false, err
	}
	c := config.Default()
	md, err := toml.Decode(text, &c)
	if err != nil {
		return false, fmt.Errorf("checking the new config: %w", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return false, fmt.Errorf("checking the new config: unknown key %q", und[0].String())
	}
	if err := c.Validate(); err != nil {
		return false, fmt.Errorf("checking the new config: %w", err)
	}
	if old != nil && text == string(old) {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, fmt.Errorf("creating %s: %w", filepath.Dir(path), err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".config-*.toml")
	if err != nil {
		return false, fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(text); err != nil {
		tmp.Close()
		return false, fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return false, fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return false, fmt.Errorf("replacing %s: %w", path, err)
	}
	return true, nil
}

// AppendLog adds a time-stamped line to the install log next to the
// machine config, so that IT staff can see what each install changed.
// Values are not logged, only keys.
func AppendLog(path string, now time.Time, line string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "%s %s\n", now.UTC().Format(time.RFC3339), line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// DataDirs returns the directories tiepdon keeps data in on this machine
// for every user: the machine config directory and each user's data and
// config directories that exist. home is the directory that holds the
// users' homes (C:\Users, /home); machineDir the machine config directory.
func DataDirs(machineDir, home string) []string {
	dirs := []string{machineDir}
	users, _ := os.ReadDir(home)
	var rel []string
	if filepath.Separator == '\\' {
		rel = []string{`AppData\Local\tiepdon`, `AppData\Roaming\tiepdon`}
	} else {
		rel = []string{".local/share/tiepdon", ".config/tiepdon"}
	}
	for _, u := range users {
		if !u.IsDir() {
			continue
		}
		for _, r := range rel {
			d := filepath.Join(home, u.Name(), r)
			if fi, err := os.Stat(d); err == nil && fi.IsDir() {
				dirs = append(dirs, d)
			}
		}
	}
	return dirs
}
