package doctor

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"time"
)

// IgnoredFlags are the locked keys that flags of a running "tiepdon run"
// set but the lock overrides. tiepdon doctor cannot see another process's
// flags, so the agent keeps these in its data folder (WriteIgnoredFlags)
// at its start and whenever it applies new fleet settings.
type IgnoredFlags struct {
	Started time.Time `json:"started"` // when that tiepdon run started
	Keys    []string  `json:"keys"`
}

func ignoredFlagsFile(dataDir string) string { return filepath.Join(dataDir, "ignored-flags.json") }

// WriteIgnoredFlags keeps f in dataDir, or removes the file when no flag
// is ignored.
func WriteIgnoredFlags(dataDir string, f IgnoredFlags) error {
	file := ignoredFlagsFile(dataDir)
	if len(f.Keys) == 0 {
		if err := os.Remove(file); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}

// ReadIgnoredFlags returns what the last "tiepdon run" on dataDir kept;
// nothing if it kept nothing or the file does not read.
func ReadIgnoredFlags(dataDir string) IgnoredFlags {
	var f IgnoredFlags
	if b, err := os.ReadFile(ignoredFlagsFile(dataDir)); err == nil {
		json.Unmarshal(b, &f)
	}
	return f
}
