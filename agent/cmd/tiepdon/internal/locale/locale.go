// Package locale gives the process a well-formed locale name before Fyne
// reads it. Fyne's lang package parses the locale when it initialises and
// logs an error for the POSIX "C" locale (LANG unset, C or C.UTF-8: the
// default of services, containers and CI). tiepdon's window takes its
// language from the config, not the locale, so nothing else changes.
//
// Import it for its side effect, before anything that imports Fyne is
// initialised: Go initialises packages in import-path order when their
// dependencies allow, and Fyne's lang package waits for golang.org/x/text,
// whose path sorts after this one.
package locale

import (
	"os"
	"strings"
)

func init() {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		val := os.Getenv(v)
		if val == "" {
			continue
		}
		if posix(val) {
			os.Setenv(v, "en_US.UTF-8")
		}
		return
	}
	os.Setenv("LANG", "en_US.UTF-8")
}

// posix reports whether name is the C/POSIX locale, which has no language tag.
func posix(name string) bool {
	base, _, _ := strings.Cut(name, ".")
	return base == "C" || base == "POSIX"
}
