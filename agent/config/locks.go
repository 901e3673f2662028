package config

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Locks: IT pins settings so that a user's own config file (and the
// environment and flags of one user's session) cannot change them. A key
// is locked by the machine-wide file's top-level list
//
//	locked = ["gateway.url", "gateway.username"]
//
// or by the hospital's fleet settings ("tiepdon fleet set KEY VALUE
// --lock"). A locked key keeps the value the machine-wide file and the
// fleet settings give it; a user's value for it is ignored (and listed in
// Config.Ignored, which the agent logs at its start). The
// window's settings page shows a locked key read-only.

// Fleet is the hospital's fleet settings layer, read from PostgreSQL by a
// desk in hospital mode. It sits between the machine-wide file and the
// user's file: it overrides the machine-wide file, and a user's file
// overrides it unless the key is locked.
type Fleet struct {
	// Values maps a config key ("gateway.url") to its value as IT gave it
	// to "tiepdon fleet set": text for a text or duration key, a TOML value
	// for the others (true, 9600, ["https://his.example.vn"]).
	Values map[string]string
	// Locked lists the keys the fleet locks.
	Locked []string
	// GatewayPassword is the fleet's gateway password (opened with the
	// hospital key); when set it is used by every desk and is locked.
	GatewayPassword string
}

// PasswordKey is the lock name of the gateway password, which has no
// config key (it is never in a file).
const PasswordKey = "gateway.password"

// ErrLocked is returned when a change names a locked key.
var ErrLocked = errors.New("locked by IT")

// unsettable are the keys the fleet may not set: where a desk keeps its
// data and how it reaches the hospital database are the desk's own.
func unsettable(key string) bool {
	return key == "data_dir" || key == "locked" || strings.HasPrefix(key, "hospital.")
}

// Keys returns every config key a file may set, sorted ("gateway.url").
func Keys() []string {
	var keys []string
	walk(reflect.TypeOf(Config{}), "", func(key string, _ reflect.Type) { keys = append(keys, key) })
	sort.Strings(keys)
	return keys
}

// FleetKeys returns the keys "tiepdon fleet set" may set, and PasswordKey
// (set with "tiepdon fleet set-password").
func FleetKeys() []string {
	var keys []string
	for _, k := range Keys() {
		if !unsettable(k) {
			keys = append(keys, k)
		}
	}
	return keys
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// walk calls f for each leaf key of t: a field that is not a struct, or a
// struct that reads itself from text (Duration).
func walk(t reflect.Type, prefix string, f func(key string, t reflect.Type)) {
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("toml"), ",")
		if name == "" || name == "-" || !sf.IsExported() {
			continue
		}
		key := prefix + name
		if sf.Type.Kind() == reflect.Struct && !reflect.PointerTo(sf.Type).Implements(textUnmarshaler) {
			walk(sf.Type, key+".", f)
			continue
		}
		f(key, sf.Type)
	}
}

// field returns the field of c (a pointer to a Config) named by key.
func field(c reflect.Value, key string) (reflect.Value, bool) {
	v := c.Elem()
	for part := range strings.SplitSeq(key, ".") {
		if v.Kind() != reflect.Struct {
			return reflect.Value{}, false
		}
		found := false
		for i := range v.NumField() {
			name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("toml"), ",")
			if name == part && name != "-" {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			return reflect.Value{}, false
		}
	}
	return v, true
}

// fleetTOML turns a fleet value into a TOML line "key = value": text keys
// take value as text, the others as a TOML value.
func fleetTOML(key, value string) (string, error) {
	if unsettable(key) {
		return "", fmt.Errorf("%s cannot be set for the fleet: it is each desk's own", key)
	}
	var c Config
	f, ok := field(reflect.ValueOf(&c), key)
	if !ok || !slices.Contains(Keys(), key) {
		return "", fmt.Errorf("%q is not a config key (docs/configuration.md lists them)", key)
	}
	if f.Kind() == reflect.String || reflect.PointerTo(f.Type()).Implements(textUnmarshaler) {
		return key + " = " + strconv.Quote(value), nil
	}
	return key + " = " + value, nil
}

// applyFleet decodes the fleet's values into c.
func applyFleet(c *Config, f *Fleet) error {
	keys := make([]string, 0, len(f.Values))
	for k := range f.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		line, err := fleetTOML(k, f.Values[k])
		if err != nil {
			return fmt.Errorf("fleet setting %s: %w", k, err)
		}
		md, err := toml.Decode(line, c)
		if err != nil {
			return fmt.Errorf("fleet setting %s: %q is not a valid value: %w", k, f.Values[k], err)
		}
		if und := md.Undecoded(); len(und) > 0 {
			return fmt.Errorf("fleet setting %s: unknown key", k)
		}
	}
	if f.GatewayPassword != "" {
		c.Gateway.Password = f.GatewayPassword
	}
	return nil
}

// CheckFleetSetting reports whether "tiepdon fleet set key value" makes a
// valid config on its own (over the defaults), in words IT can act on.
func CheckFleetSetting(key, value string) error {
	c := Default()
	if err := applyFleet(&c, &Fleet{Values: map[string]string{key: value}}); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	return nil
}

// locks is what a Config remembers of its locked keys: the value each had
// after the machine-wide file and the fleet, and who locked it.
type locks struct {
	pinned Config
	by     map[string]string // key → "machine-wide file" or "fleet settings"
}

// Locked reports whether key is locked, and by whom ("machine-wide
// file" or "fleet settings").
func (c *Config) Locked(key string) (by string, ok bool) {
	if c.locks == nil {
		return "", false
	}
	by, ok = c.locks.by[key]
	return by, ok
}

// LockedKeys returns the locked keys, sorted.
func (c *Config) LockedKeys() []string {
	if c.locks == nil {
		return nil
	}
	keys := make([]string, 0, len(c.locks.by))
	for k := range c.locks.by {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// pin records the locked keys and their values as they are now (after
// the machine-wide file and the fleet).
func (c *Config) pin(machine []string, fleet *Fleet) error {
	l := &locks{by: map[string]string{}}
	known := Keys()
	for _, k := range machine {
		if !slices.Contains(known, k) && k != PasswordKey {
			return fmt.Errorf("config %s: locked names %q, which is not a config key", MachineConfigFile(), k)
		}
		l.by[k] = "machine-wide file"
	}
	if fleet != nil {
		for _, k := range fleet.Locked {
			l.by[k] = "fleet settings"
		}
		if fleet.GatewayPassword != "" {
			l.by[PasswordKey] = "fleet settings"
		}
	}
	if len(l.by) == 0 {
		c.locks = nil
		return nil
	}
	l.pinned = *c
	// The later layers get their own slices.
	c.HIS.Origins, c.Reader.CSCA = slices.Clone(c.HIS.Origins), slices.Clone(c.Reader.CSCA)
	c.locks = l
	return nil
}

// Where an ignored value came from (IgnoredSetting.From).
const (
	FromUserFile = "file" // the user's config file (Where is its path)
	FromEnv      = "env"  // an environment variable (Where names it)
	FromFlag     = "flag" // a command-line flag of tiepdon run
)

// IgnoredSetting is a value a user's file, the environment or a flag gave
// a locked key, which the lock put back.
type IgnoredSetting struct {
	Key   string `json:"key"`
	From  string `json:"from"` // FromUserFile, FromEnv or FromFlag
	Where string `json:"where,omitempty"`
}

// envKeys are the config keys the environment sets, and their variables.
var envKeys = map[string]string{
	"data_dir": "TIEPDON_DATA_DIR", "gateway.url": "TIEPDON_GATEWAY_URL", "gateway.username": "TIEPDON_GATEWAY_USER",
	PasswordKey: "TIEPDON_GATEWAY_PASSWORD", "his.addr": "TIEPDON_HIS_ADDR", "scanner.port": "TIEPDON_SCANNER",
	"language": "TIEPDON_LANG", "log.level": "TIEPDON_LOG_LEVEL",
}

// EnforceLocks puts back the locked keys' values where a later layer (the
// user's file, the environment, a flag) changed them, and lists those in
// Ignored and IgnoredFrom. Load calls it for the file and the environment;
// whoever applies flags after Load calls it again (what it then puts back
// is noted as a flag's).
func (c *Config) EnforceLocks() { c.enforceLocks(FromFlag, "") }

func (c *Config) enforceLocks(from, where string) {
	if c.locks == nil {
		return
	}
	for _, k := range c.LockedKeys() {
		if k == PasswordKey {
			if c.Gateway.Password != c.locks.pinned.Gateway.Password {
				c.Gateway.Password = c.locks.pinned.Gateway.Password
				c.noteIgnored(k, from, where)
			}
			continue
		}
		dst, ok := field(reflect.ValueOf(c), k)
		if !ok {
			continue
		}
		src, _ := field(reflect.ValueOf(&c.locks.pinned), k)
		if !reflect.DeepEqual(dst.Interface(), src.Interface()) {
			dst.Set(src)
			c.noteIgnored(k, from, where)
		}
	}
}

func (c *Config) noteIgnored(k, from, where string) {
	if !slices.Contains(c.Ignored, k) {
		c.Ignored = append(c.Ignored, k)
	}
	if from == FromEnv && where == "" {
		where = envKeys[k]
	}
	is := IgnoredSetting{Key: k, From: from, Where: where}
	if !slices.Contains(c.IgnoredFrom, is) {
		c.IgnoredFrom = append(c.IgnoredFrom, is)
	}
}
