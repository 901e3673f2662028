package lograte

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestWarningsSayWhatToDo keeps every WARN and ERROR log line of the module
// readable by IT: its message (a string literal) is a sentence that says
// what happened and what to do, not an internal step name; the technical
// detail goes in fields. Printing-like calls with a non-literal message
// are left to review.
func TestWarningsSayWhatToDo(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(nd ast.Node) bool {
			call, ok := nd.(*ast.CallExpr)
			if !ok || len(call.Args) < 1 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Warn" && sel.Sel.Name != "Error") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if len(call.Args) > 1 && len(call.Args)%2 == 0 {
				return true // not slog's (msg, key, value, …) shape
			}
			msg, _ := strconv.Unquote(lit.Value)
			n++
			words := len(strings.Fields(msg))
			if words < 6 || strings.Contains(strings.SplitN(msg, " ", 2)[0], ":") {
				t.Errorf("%s: %s(%q) should say in plain words what happened and what to do (detail in fields)",
					fset.Position(lit.Pos()), sel.Sel.Name, msg)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 30 {
		t.Errorf("found only %d WARN/ERROR log calls: the walk is broken", n)
	}
}
