package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/tiepdon/tiepdon/drivers/emrtd"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

// buildInfo describes this binary.
type buildInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	GoVersion string `json:"go"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	JPEG2000  bool   `json:"jpeg2000"` // decodes JPEG 2000 chip photos
}

func currentBuild() buildInfo {
	b := buildInfo{Version: version, GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH, JPEG2000: emrtd.JPEG2000Supported}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				b.Commit = s.Value[:12]
			}
		}
	}
	return b
}

func init() {
	register(&command{
		name:    "version",
		summary: "print the version and build details",
		run: func(ctx context.Context, args []string, stdout, stderr io.Writer) int {
			fs := newFlagSet("version", "version [--json]", stderr)
			asJSON := fs.Bool("json", false, "print as JSON")
			if code := parseFlags(fs, args); code >= 0 {
				return code
			}
			b := currentBuild()
			if *asJSON {
				json.NewEncoder(stdout).Encode(b)
				return 0
			}
			fmt.Fprintf(stdout, "tiepdon %s", b.Version)
			if b.Commit != "" {
				fmt.Fprintf(stdout, " (%s)", b.Commit)
			}
			fmt.Fprintf(stdout, " %s %s/%s", b.GoVersion, b.OS, b.Arch)
			if !b.JPEG2000 {
				fmt.Fprint(stdout, ", without JPEG 2000 photos")
			}
			fmt.Fprintln(stdout)
			return 0
		},
	})
}
