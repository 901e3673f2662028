// Package config loads tiepdon's settings: built-in defaults, the
// machine-wide and per-user TOML files, environment variables and flags, in
// that order. It also knows the per-OS directories for configuration and data.
//
// The gateway password is never read from a config file in plain text: it
// comes from TIEPDON_GATEWAY_PASSWORD, a password file, or the OS keyring.
package config

import (
	_ "embed"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/tiepdon/tiepdon/agent/patient"
)

// Defaults is the built-in configuration: every key with its default and
// meaning (shipped for reference as config.toml.example).
//
//go:embed defaults.toml
var Defaults string

// MachineTemplate is the machine-wide config file as installed: comments
// only, so that it holds just what IT sets and new defaults reach the
// machine (and a package upgrade never changes it).
//
//go:embed machine.toml
var MachineTemplate string

// Config is the whole of tiepdon's settings.
type Config struct {
	// MachineLocks is the machine-wide file's list of keys a user's file
	// cannot change (see Locked); only that file may set it.
	MachineLocks []string `toml:"locked"`
	DataDir      string   `toml:"data_dir"`
	Language     string   `toml:"language"`
	Facility     Facility `toml:"facility"`
	Gateway      Gateway  `toml:"gateway"`
	HIS          HIS      `toml:"his"`
	Scanner      Scanner  `toml:"scanner"`
	Reader       Reader   `toml:"reader"`
	Cache        Cache    `toml:"cache"`
	Log          Log      `toml:"log"`
	Settings     Settings `toml:"settings"`
	Hospital     Hospital `toml:"hospital"`

	// Staff is the staff member signed in for the shift, from
	// TIEPDON_STAFF_NAME and TIEPDON_STAFF_CCCD; the window can change it.
	Staff patient.Staff `toml:"-"`
	// Files lists the config files that were read, in order.
	Files []string `toml:"-"`
	// Ignored lists the locked keys whose value from the user's file, the
	// environment or a flag was ignored.
	Ignored []string `toml:"-"`
	// IgnoredFrom says, for each ignored value, where it came from.
	IgnoredFrom []IgnoredSetting `toml:"-"`

	locks *locks
}

// Facility identifies the hospital or clinic.
type Facility struct {
	Code string `toml:"code"`
}

// Gateway configures the national BHXH gateway client.
type Gateway struct {
	URL          string   `toml:"url"`
	Username     string   `toml:"username"`
	Password     string   `toml:"-"` // from env, password file or keyring only
	PasswordFile string   `toml:"password_file"`
	MD5Case      string   `toml:"md5_case"`
	Encoding     string   `toml:"encoding"`
	Timeout      Duration `toml:"timeout"`
	Hedge        Duration `toml:"hedge"`
}

// HIS configures the local API for the hospital information system.
type HIS struct {
	Addr             string   `toml:"addr"`
	Origins          []string `toml:"origins"`
	AllowNonLoopback bool     `toml:"allow_non_loopback"`
	DemoPage         bool     `toml:"demo_page"` // serve /demo and allow the agent's own origin

	// Limits on clients (see docs/his-api.md for how each refusal looks).
	MaxClients        int      `toml:"max_clients"`         // connections in all
	ClientsPerOrigin  int      `toml:"clients_per_origin"`  // connections from one origin
	MessagesPerSecond float64  `toml:"messages_per_second"` // sustained requests per connection
	Burst             int      `toml:"burst"`               // requests at once above that rate
	MaxMessageBytes   int64    `toml:"max_message_bytes"`   // largest request frame
	IdleTimeout       Duration `toml:"idle_timeout"`        // silence (not even a pong) before closing
	PairingTimeout    Duration `toml:"pairing_timeout"`     // time staff have to approve a pairing
}

// Scanner configures the serial QR scanner.
type Scanner struct {
	Port string `toml:"port"`
	Baud int    `toml:"baud"`
}

// Reader configures the PC/SC card reader.
type Reader struct {
	Name string `toml:"name"`
	// CSCA lists files or directories of trusted country signing CA
	// certificates (PEM, DER or ICAO master lists) for passive
	// authentication. Empty: chip data is checked against its own SOD only
	// ("intact, issuer not verified").
	CSCA []string `toml:"csca"`
	// Disabled turns chip reading off.
	Disabled bool `toml:"disabled"`
}

// Cache configures the local SQLite cache.
type Cache struct {
	Retention Duration `toml:"retention"`
}

// Hospital configures hospital mode: the desks of a hospital share what
// they know through its PostgreSQL (docs/hospital.md). Without a DSN the
// desk works alone, as before.
type Hospital struct {
	// DSN is the PostgreSQL connection string; use TLS (sslmode=verify-full)
	// with a client certificate (sslcert, sslkey) or a password from a
	// PGPASSFILE rather than in the DSN.
	DSN string `toml:"dsn"`
	// KeyFile is the hospital key file (tiepdon fleet new-key makes one):
	// the keys that seal personal fields in PostgreSQL.
	KeyFile string `toml:"key_file"`
	// Desk is this desk's name for people ("Quầy 3"); empty: the host name.
	Desk string `toml:"desk"`
	// LookupTimeout bounds a shared-cache lookup on the verdict path.
	LookupTimeout Duration `toml:"lookup_timeout"`
}

// Settings guards the window's settings page.
type Settings struct {
	// PINHash is the bcrypt hash of the IT PIN that unlocks the settings
	// page (made by `tiepdon settings-pin`). It is read from the
	// machine-wide file only, so a user's own file cannot replace it.
	// Empty: only an OS administrator can change settings in the window.
	PINHash string `toml:"pin_hash"`
}

// Log configures logging.
type Log struct {
	Level string `toml:"level"`
}

// Duration is a time.Duration written as "300ms", "10s" or "720h".
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }

// Default returns the built-in configuration.
func Default() Config {
	var c Config
	if _, err := toml.Decode(Defaults, &c); err != nil {
		panic("config: built-in defaults: " + err.Error())
	}
	return c
}

// Env is the environment variables tiepdon reads, for documentation and tests.
var Env = []string{
	"TIEPDON_CONFIG", "TIEPDON_DATA_DIR", "TIEPDON_GATEWAY_URL", "TIEPDON_GATEWAY_USER",
	"TIEPDON_GATEWAY_PASSWORD", "TIEPDON_HIS_ADDR", "TIEPDON_SCANNER", "TIEPDON_STAFF_NAME",
	"TIEPDON_STAFF_CCCD", "TIEPDON_LANG", "TIEPDON_LOG_LEVEL",
}

// Load reads the defaults, then the machine-wide file, then file (or the
// per-user file if file is ""), then the environment through getenv.
// Missing files are skipped, except an explicitly named one.
func Load(file string, getenv func(string) string) (Config, error) {
	return LoadFleet(file, getenv, nil)
}

// LoadFleet is Load with the hospital's fleet settings (nil: none) between
// the machine-wide file and the user's file.
func LoadFleet(file string, getenv func(string) string, fleet *Fleet) (Config, error) {
	c := Default()
	if v := getenv("TIEPDON_CONFIG"); file == "" && v != "" {
		file = v
	}
	files := []string{machineFile()}
	explicit := file != ""
	if !explicit {
		file = UserConfigFile()
	}
	files = append(files, file)
	for i, f := range files {
		user := i == len(files)-1
		if user {
			// The fleet's layer, then the locks of both, before the
			// user's file.
			if fleet != nil {
				if err := applyFleet(&c, fleet); err != nil {
					return c, err
				}
			}
			if err := c.pin(c.MachineLocks, fleet); err != nil {
				return c, err
			}
		}
		if f == "" {
			continue
		}
		machinePIN := c.Settings.PINHash
		md, err := toml.DecodeFile(f, &c)
		if i > 0 {
			c.Settings.PINHash = machinePIN // IT's PIN comes from the machine-wide file only
		}
		if err != nil {
			if errors.Is(err, os.ErrNotExist) && !(explicit && user) {
				continue
			}
			return c, fmt.Errorf("reading config %s: %w", f, err)
		}
		if und := md.Undecoded(); len(und) > 0 {
			return c, fmt.Errorf("config %s: unknown key %q", f, und[0].String())
		}
		if user && md.IsDefined("locked") {
			return c, fmt.Errorf("config %s: locked may be set only in the machine-wide file %s", f, MachineConfigFile())
		}
		c.Files = append(c.Files, f)
		if user {
			c.enforceLocks(FromUserFile, f)
		}
	}
	set := func(dst *string, key string) {
		if v := getenv(key); v != "" {
			*dst = v
		}
	}
	set(&c.DataDir, "TIEPDON_DATA_DIR")
	set(&c.Gateway.URL, "TIEPDON_GATEWAY_URL")
	set(&c.Gateway.Username, "TIEPDON_GATEWAY_USER")
	set(&c.Gateway.Password, "TIEPDON_GATEWAY_PASSWORD")
	set(&c.HIS.Addr, "TIEPDON_HIS_ADDR")
	set(&c.Scanner.Port, "TIEPDON_SCANNER")
	set(&c.Language, "TIEPDON_LANG")
	set(&c.Log.Level, "TIEPDON_LOG_LEVEL")
	c.Staff.Name = patient.Name(getenv("TIEPDON_STAFF_NAME"))
	c.Staff.CitizenID = patient.CitizenID(getenv("TIEPDON_STAFF_CCCD"))
	c.enforceLocks(FromEnv, "")
	if c.Gateway.Password == "" && c.Gateway.PasswordFile != "" {
		b, err := os.ReadFile(c.Gateway.PasswordFile)
		if err != nil {
			return c, fmt.Errorf("reading gateway password file: %w", err)
		}
		c.Gateway.Password = strings.TrimSpace(string(b))
		c.enforceLocks(FromUserFile, c.Gateway.PasswordFile)
	}
	return c, nil
}

// Validate reports the first setting that cannot work, in words IT staff
// can act on.
func (c *Config) Validate() error {
	var errs []error
	if c.Language != "vi" && c.Language != "en" {
		errs = append(errs, fmt.Errorf("language: %q is not \"vi\" or \"en\"", c.Language))
	}
	if u, err := url.Parse(c.Gateway.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("gateway.url: %q is not an http(s) URL", c.Gateway.URL))
	}
	if c.Gateway.MD5Case != "upper" && c.Gateway.MD5Case != "lower" {
		errs = append(errs, fmt.Errorf("gateway.md5_case: %q is not \"upper\" or \"lower\"", c.Gateway.MD5Case))
	}
	if c.Gateway.Encoding != "form" && c.Gateway.Encoding != "json" {
		errs = append(errs, fmt.Errorf("gateway.encoding: %q is not \"form\" or \"json\"", c.Gateway.Encoding))
	}
	if c.Gateway.Timeout.Duration <= 0 || c.Gateway.Hedge.Duration < 0 {
		errs = append(errs, errors.New("gateway.timeout must be positive and gateway.hedge not negative"))
	}
	if c.Facility.Code != "" && !digits(c.Facility.Code, 5) {
		errs = append(errs, fmt.Errorf("facility.code: %q is not 5 digits", c.Facility.Code))
	}
	host, port, err := net.SplitHostPort(c.HIS.Addr)
	if err != nil || port == "" {
		errs = append(errs, fmt.Errorf("his.addr: %q is not host:port", c.HIS.Addr))
	} else if !c.HIS.AllowNonLoopback && !IsLoopback(host) {
		errs = append(errs, fmt.Errorf("his.addr: %q is not a loopback address; set his.allow_non_loopback = true to allow it", c.HIS.Addr))
	}
	for _, o := range c.HIS.Origins {
		if u, err := url.Parse(o); err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" {
			errs = append(errs, fmt.Errorf("his.origins: %q is not an origin like https://his.example.vn", o))
		}
	}
	errs = append(errs, c.HIS.validateLimits()...)
	if c.Scanner.Baud <= 0 {
		errs = append(errs, fmt.Errorf("scanner.baud: %d is not positive", c.Scanner.Baud))
	}
	if c.Cache.Retention.Duration < time.Hour {
		errs = append(errs, errors.New("cache.retention: must be at least 1h"))
	}
	if c.Hospital.DSN != "" && c.Hospital.KeyFile == "" {
		errs = append(errs, errors.New("hospital.key_file: hospital mode needs the hospital key file beside hospital.dsn"))
	}
	if t := c.Hospital.LookupTimeout.Duration; t < 10*time.Millisecond || t > 5*time.Second {
		errs = append(errs, fmt.Errorf("hospital.lookup_timeout: %v is not between 10ms and 5s", t))
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log.level: %q is not debug, info, warn or error", c.Log.Level))
	}
	if c.Staff.CitizenID != "" && !c.Staff.CitizenID.Valid() {
		errs = append(errs, errors.New("TIEPDON_STAFF_CCCD: not a 12-digit citizen ID"))
	}
	return errors.Join(errs...)
}

// validateLimits checks the HIS client limits against what the API and its
// documented clients need (a check request is under 2 KiB; the JS client
// pings well within 10 s).
func (h *HIS) validateLimits() []error {
	var errs []error
	between := func(key string, v, lo, hi float64) {
		if v < lo || v > hi {
			errs = append(errs, fmt.Errorf("his.%s: %v is not between %v and %v", key, v, lo, hi))
		}
	}
	between("max_clients", float64(h.MaxClients), 1, 10000)
	between("clients_per_origin", float64(h.ClientsPerOrigin), 1, float64(max(h.MaxClients, 1)))
	between("messages_per_second", h.MessagesPerSecond, 1, 100000)
	between("burst", float64(h.Burst), 1, 100000)
	between("max_message_bytes", float64(h.MaxMessageBytes), 4096, 16<<20)
	if d := h.IdleTimeout.Duration; d < 10*time.Second || d > 24*time.Hour {
		errs = append(errs, fmt.Errorf("his.idle_timeout: %s is not between 10s and 24h", d))
	}
	if d := h.PairingTimeout.Duration; d < 30*time.Second || d > 10*time.Minute {
		errs = append(errs, fmt.Errorf("his.pairing_timeout: %s is not between 30s and 10m", d))
	}
	return errs
}

// IsLoopback reports whether host is a loopback name or address.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// machineFile is the machine-wide file Load reads; tests of this package
// point it elsewhere. (No environment variable does: it would let a user
// step around the machine-wide locks.)
var machineFile = MachineConfigFile

// MachineFileForTest makes Load read f as the machine-wide file, for the
// tests of other packages, and returns what puts the real one back. Only
// tests call it.
func MachineFileForTest(f string) (restore func()) {
	old := machineFile
	machineFile = func() string { return f }
	return func() { machineFile = old }
}

// MachineConfigFile returns the machine-wide config file that installers
// write: %ProgramData%\tiepdon\config.toml on Windows, /etc/tiepdon/config.toml elsewhere.
func MachineConfigFile() string {
	if runtime.GOOS == "windows" {
		pd := os.Getenv("ProgramData")
		if pd == "" {
			pd = `C:\ProgramData`
		}
		return filepath.Join(pd, "tiepdon", "config.toml")
	}
	return "/etc/tiepdon/config.toml"
}

// UserConfigFile returns the per-user config file: %LocalAppData%\tiepdon\config.toml
// on Windows, $XDG_CONFIG_HOME/tiepdon/config.toml on Linux.
func UserConfigFile() string {
	if runtime.GOOS == "windows" {
		return filepath.Join(localAppData(), "tiepdon", "config.toml")
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "tiepdon", "config.toml")
}

// DefaultDataDir returns the per-user data directory: %LocalAppData%\tiepdon on
// Windows, $XDG_DATA_HOME/tiepdon (default ~/.local/share/tiepdon) elsewhere.
func DefaultDataDir() string {
	if runtime.GOOS == "windows" {
		return filepath.Join(localAppData(), "tiepdon")
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "tiepdon")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "tiepdon")
	}
	return filepath.Join(home, ".local", "share", "tiepdon")
}

func localAppData() string {
	if d := os.Getenv("LocalAppData"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, "AppData", "Local")
}

// ResolvedDataDir returns DataDir, or the per-OS default if it is empty.
func (c *Config) ResolvedDataDir() string {
	if c.DataDir != "" {
		return c.DataDir
	}
	return DefaultDataDir()
}
