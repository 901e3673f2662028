package hisapitest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// hisapiDir is agent/hisapi in the source tree.
func hisapiDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// Tool finds node, npm or npx, or skips loudly (fails in CI, where
// .ci/deps installs them in the test group).
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if runtime.GOOS == "windows" { // the Windows lane runs the test binaries under Wine
			t.Skipf("SKIPPED on Windows: %s is not installed for Windows here; the Linux lane runs this test", name)
		}
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed: .ci/deps installs nodejs and npm (test group)", name)
		}
		t.Skipf("SKIPPED LOUDLY: %s is not installed here (apt-get install nodejs npm); the Node test did not run", name)
	}
	return p
}

// Run runs a command in dir and fails the test with its output if it fails.
func Run(t testing.TB, dir string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "npm_config_update_notifier=false", "npm_config_fund=false", "npm_config_audit=false")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s (in %s): %v\n%s", filepath.Base(name), strings.Join(args, " "), dir, err, out)
	}
	return string(out)
}

// PackClient packs the client package (agent/hisapi/web) into dir as
// `make npm-package` does, and returns the tarball's path.
func PackClient(t testing.TB, dir string) string {
	t.Helper()
	npm := Tool(t, "npm")
	out := Run(t, filepath.Join(hisapiDir(), "web"), npm, "pack", "--pack-destination", dir)
	lines := strings.Fields(out)
	name := lines[len(lines)-1] // npm pack prints the tarball's name last
	tgz := filepath.Join(dir, name)
	if !strings.HasPrefix(name, "tiepdon-his-client-") || !strings.HasSuffix(name, ".tgz") {
		t.Fatalf("npm pack made %q:\n%s", name, out)
	}
	if _, err := os.Stat(tgz); err != nil {
		t.Fatal(err)
	}
	return tgz
}

var nodeClients struct {
	once sync.Once
	dir  string
	out  string
	err  error
}

// NodeClients installs the pinned Node packages of
// agent/hisapi/testdata/node-clients (package-lock.json, npm ci: from the
// npm registry, or npm's cache) once per test process, into a temporary
// folder, and returns that folder: its node_modules holds ws,
// json-rpc-2.0, jayson, rpc-websockets and typescript.
func NodeClients(t testing.TB) string {
	t.Helper()
	npm := Tool(t, "npm")
	Tool(t, "node")
	nodeClients.once.Do(func() {
		dir, err := os.MkdirTemp("", "tiepdon-node-clients-")
		if err != nil {
			nodeClients.err = err
			return
		}
		src := filepath.Join(hisapiDir(), "testdata", "node-clients")
		for _, f := range []string{"package.json", "package-lock.json"} {
			b, err := os.ReadFile(filepath.Join(src, f))
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, f), b, 0o644)
			}
			if err != nil {
				nodeClients.err = err
				return
			}
		}
		cmd := exec.Command(npm, "ci", "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "npm_config_update_notifier=false")
		out, err := cmd.CombinedOutput()
		nodeClients.dir, nodeClients.out, nodeClients.err = dir, string(out), err
	})
	if nodeClients.err != nil {
		t.Fatalf("npm ci of the pinned Node test packages: %v\n%s", nodeClients.err, nodeClients.out)
	}
	return nodeClients.dir
}

// RemoveNodeClients deletes what NodeClients installed; call it from
// TestMain after the tests.
func RemoveNodeClients() {
	if nodeClients.dir != "" {
		os.RemoveAll(nodeClients.dir)
	}
}
