package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"
)

// userSettings are the keys the window's settings page may change; they are
// what SaveUser writes to the per-user file.
type userSettings struct {
	Language string `toml:"language"`
	Gateway  struct {
		URL      string `toml:"url"`
		Username string `toml:"username"`
	} `toml:"gateway"`
	HIS struct {
		Origins []string `toml:"origins"`
	} `toml:"his"`
	Scanner struct {
		Port string `toml:"port"`
	} `toml:"scanner"`
	Reader struct {
		Name string `toml:"name"`
	} `toml:"reader"`
	Cache struct {
		Retention Duration `toml:"retention"`
	} `toml:"cache"`
}

// SaveUser validates c and writes the settings staff may change in the
// window (language, gateway URL and account, HIS origins, scanner, reader,
// retention) to file, replacing it atomically. Other keys of an existing
// file are kept.
func SaveUser(file string, c Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	var s userSettings
	s.Language = c.Language
	s.Gateway.URL, s.Gateway.Username = c.Gateway.URL, c.Gateway.Username
	s.HIS.Origins = c.HIS.Origins
	s.Scanner.Port = c.Scanner.Port
	s.Reader.Name = c.Reader.Name
	s.Cache.Retention = c.Cache.Retention

	// Start from what the file already holds, so keys the window does not
	// manage survive.
	existing := map[string]any{}
	if _, err := toml.DecodeFile(file, &existing); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("reading %s: %w", file, err)
	}
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(s); err != nil {
		return err
	}
	var ours map[string]any
	if _, err := toml.Decode(buf.String(), &ours); err != nil {
		return err
	}
	// A locked key is IT's: the user's file does not get it.
	for _, k := range c.LockedKeys() {
		section, name, ok := strings.Cut(k, ".")
		if m, isMap := ours[section].(map[string]any); ok && isMap {
			delete(m, name)
		} else if !ok {
			delete(ours, k)
		}
	}
	merge(existing, ours)
	buf.Reset()
	buf.WriteString("# Written by tiepdon's settings page. See docs/configuration.md for every key.\n")
	if err := toml.NewEncoder(&buf).Encode(existing); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}

func merge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}
