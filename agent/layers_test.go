package agent

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/tiepdon/tiepdon/"

// pkgInfo is what go list says of one package.
type pkgInfo struct {
	path  string   // relative to the module, e.g. "drivers/chip"
	dir   string   // on disk
	files []string // non-test Go files
	deps  []string // module packages it depends on, transitively, relative
}

// listPackages runs go list over the whole module.
func listPackages(t *testing.T) map[string]pkgInfo {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go") //nolint:staticcheck // the toolchain running this test
	}
	cmd := exec.Command(goTool, "list", "-f", "{{.ImportPath}}\t{{.Dir}}\t{{join .GoFiles \" \"}}\t{{join .Deps \" \"}}", "./...")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list ./...: %v", err)
	}
	pkgs := map[string]pkgInfo{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			t.Fatalf("go list line %q", line)
		}
		p := pkgInfo{path: strings.TrimPrefix(f[0], module), dir: f[1], files: strings.Fields(f[2])}
		for _, d := range strings.Fields(f[3]) {
			if strings.HasPrefix(d, module) {
				p.deps = append(p.deps, strings.TrimPrefix(d, module))
			} else if strings.HasPrefix(d, "fyne.io/") {
				p.deps = append(p.deps, d)
			}
		}
		pkgs[p.path] = p
	}
	return pkgs
}

func under(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

// TestLayers keeps the shape of docs/architecture.md: drivers report to the
// agent and never touch the bus, the window knows the core's contracts
// only, the core has no Fyne and no concrete device or gateway, and
// cmd/tiepdon alone wires everything. Only the agent (checks, devices), the
// gateway client (its state) and the HIS API (its clients) publish events.
func TestLayers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	pkgs := listPackages(t)
	for _, want := range []string{"agent", "agent/events", "drivers", "drivers/chip", "drivers/pcsc", "ui", "sync/bhxh", "agent/cmd/tiepdon"} {
		if _, ok := pkgs[want]; !ok {
			t.Fatalf("go list did not list %s", want)
		}
	}
	// The programs that wire everything: main, and the screenshot program,
	// which runs the real agent, gateway simulator and devices behind the
	// window as main does.
	wiring := map[string]bool{"agent/cmd/tiepdon": true, "ui/internal/screens": true}
	for _, p := range pkgs {
		switch {
		case wiring[p.path]:
		case under(p.path, "drivers"):
			// Drivers: the patient value types and other drivers only.
			for _, d := range p.deps {
				if !under(d, "drivers") && d != "agent/patient" {
					t.Errorf("%s imports %s: drivers report through drivers.Reporter and know only agent/patient", p.path, d)
				}
			}
		case under(p.path, "ui"):
			for _, d := range p.deps {
				if under(d, "agent") && d != "agent/events" && d != "agent/patient" || under(d, "drivers") || under(d, "sync") {
					t.Errorf("%s imports %s: the window knows agent/events and agent/patient only", p.path, d)
				}
			}
		case under(p.path, "agent") && !under(p.path, "agent/cmd"):
			for _, d := range p.deps {
				if strings.HasPrefix(d, "fyne.io/") || under(d, "ui") || under(d, "sync") || (under(d, "drivers") && d != "drivers") {
					t.Errorf("%s imports %s: the core has no window, gateway or concrete driver", p.path, d)
				}
			}
		}
		// The outbox asks the agent to re-check: it knows no gateway client.
		if under(p.path, "sync/outbox") && slices.ContainsFunc(p.deps, func(d string) bool { return under(d, "sync/bhxh") }) {
			t.Errorf("%s imports sync/bhxh: the outbox asks the agent to Recheck", p.path)
		}
		// Only main wires the window to the devices and the gateway.
		if !wiring[p.path] && slices.ContainsFunc(p.deps, func(d string) bool { return under(d, "ui") }) &&
			slices.ContainsFunc(p.deps, func(d string) bool { return under(d, "sync") || (under(d, "drivers") && d != "drivers") }) {
			t.Errorf("%s imports both the window and devices or the gateway: that is cmd/tiepdon's job", p.path)
		}
	}

	// Publishers on the bus, found in the source (non-test files).
	publishers := map[string]bool{
		"agent":               true, // checks, devices, alerts, the outbox's size
		"agent/events":        true, // the bus itself
		"sync/bhxh":           true, // the gateway's state
		"agent/hisapi":        true, // its clients, pairing requests
		"ui/internal/screens": true, // replays recorded scenes into a window for screenshots (a tool, not the agent)
	}
	var found []string
	for _, p := range pkgs {
		if !slices.Contains(p.deps, "agent/events") && p.path != "agent/events" {
			continue
		}
		fset := token.NewFileSet()
		for _, name := range p.files {
			f, err := parser.ParseFile(fset, filepath.Join(p.dir, name), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Publish" && len(call.Args) == 2 {
					found = append(found, p.path)
					if !publishers[p.path] {
						t.Errorf("%s publishes on the bus (%s): only the agent, the gateway client and the HIS API do",
							p.path, fset.Position(call.Pos()))
					}
				}
				return true
			})
		}
	}
	if !slices.Contains(found, "agent") || !slices.Contains(found, "sync/bhxh") {
		t.Errorf("publishers found %v: the scan missed the agent or the gateway client", found)
	}
}
