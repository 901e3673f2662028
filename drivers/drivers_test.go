package drivers

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestFailureCodesDocumented: every failure code a driver reports (the
// Failure* constants here, and the payload reader's codes) is listed in
// docs/his-api.md, where HIS developers look them up.
func TestFailureCodesDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "his-api.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(doc), "### Failure codes")
	if !ok {
		t.Fatal("docs/his-api.md has no Failure codes section")
	}
	table, _, _ = strings.Cut(table, "\n#")
	codes := map[string]string{} // code → where it is defined
	fset := token.NewFileSet()
	for _, file := range []string{"drivers.go", filepath.Join("payload", "payload.go")} {
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec: // const FailureX = "code"
				for i, name := range n.Names {
					if strings.HasPrefix(name.Name, "Failure") && i < len(n.Values) {
						if lit, ok := n.Values[i].(*ast.BasicLit); ok {
							c, _ := strconv.Unquote(lit.Value)
							codes[c] = file
						}
					}
				}
			case *ast.FuncDecl: // func (e *Error) FailureCode() string { … return "code" … }
				if n.Name.Name == "FailureCode" {
					ast.Inspect(n.Body, func(m ast.Node) bool {
						if r, ok := m.(*ast.ReturnStmt); ok && len(r.Results) == 1 {
							if lit, ok := r.Results[0].(*ast.BasicLit); ok {
								c, _ := strconv.Unquote(lit.Value)
								codes[c] = file
							}
						}
						return true
					})
				}
			}
			return true
		})
	}
	if len(codes) < 15 {
		t.Fatalf("found only %d codes: %v", len(codes), codes)
	}
	for c, file := range codes {
		if !strings.Contains(table, "| `"+c+"` |") {
			t.Errorf("failure code %s (%s) is not listed in docs/his-api.md", c, file)
		}
	}
}
