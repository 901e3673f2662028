package hisapi

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tiepdon/tiepdon/agent/hisapi/hisapitest"
)

// The published schema (web/schema.json, served at /v1/schema.json) is
// the contract: TestMain validates every frame the server writes and
// every result it returns, in every test of this package (Go, Node and
// Chromium clients alike), against it.

var updateTypes = flag.Bool("update", false, "rewrite web/client.d.ts from web/schema.json")

// schemaCheck validates what the server sends.
type schemaCheck struct {
	schema *hisapitest.Schema

	mu       sync.Mutex
	checked  int
	failures []string
}

func compileSchema() (*schemaCheck, error) {
	raw, err := webFS.ReadFile("web/schema.json")
	if err != nil {
		return nil, err
	}
	s, err := hisapitest.CompileSchema(raw)
	if err != nil {
		return nil, err
	}
	return &schemaCheck{schema: s}, nil // with a result per method of x-methods (TestSchemaCoversAPI)
}

func (sc *schemaCheck) validate(what string, check func([]byte) error, b []byte) {
	sc.mu.Lock()
	sc.checked++
	sc.mu.Unlock()
	if err := check(b); err != nil {
		if len(b) > 600 {
			b = append(b[:600:600], "…"...)
		}
		sc.mu.Lock()
		sc.failures = append(sc.failures, fmt.Sprintf("%s does not follow web/schema.json: %v\n  %s", what, err, b))
		sc.mu.Unlock()
	}
}

func (sc *schemaCheck) result(method string) func([]byte) error {
	return func(b []byte) error { return sc.schema.Result(method, b) }
}

// hook makes the server report what it sends to sc.
func (sc *schemaCheck) hook() {
	traceFrame = func(b []byte) { sc.validate("a frame", sc.schema.Message, b) }
	traceResult = func(method string, result any) {
		b, err := marshalWire(result)
		if err != nil {
			return // the server reports this itself
		}
		sc.validate("the result of "+method, sc.result(method), b)
	}
}

// report prints what failed and returns whether everything passed.
func (sc *schemaCheck) report(w io.Writer) bool {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for i, f := range sc.failures {
		if i == 20 {
			fmt.Fprintf(w, "… and %d more\n", len(sc.failures)-20)
			break
		}
		fmt.Fprintln(w, f)
	}
	return len(sc.failures) == 0
}

func (sc *schemaCheck) take() (checked int, failures []string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	checked, failures = sc.checked, sc.failures
	sc.checked, sc.failures = 0, nil
	return
}

var suiteSchema *schemaCheck

// TestSchemaCatches: the check TestMain runs fails on what breaks the
// contract: an unknown field, an instant with nanoseconds, a missing
// required field, a wrong enum value; and passes a correct frame.
func TestSchemaCatches(t *testing.T) {
	sc, err := compileSchema()
	if err != nil {
		t.Fatal(err)
	}
	good := `{"jsonrpc":"2.0","method":"gateway.state","params":{"seq":3,"time":"2026-11-23T08:00:00.000Z","state":"online","since":"2026-11-23T07:00:00.120Z"}}`
	bad := map[string]string{
		"unknown field":  strings.Replace(good, `"state":"online"`, `"state":"online","note":"x"`, 1),
		"nanoseconds":    strings.Replace(good, `07:00:00.120Z`, `07:00:00.120000001Z`, 1),
		"offset":         strings.Replace(good, `07:00:00.120Z`, `14:00:00.120+07:00`, 1),
		"missing field":  strings.Replace(good, `"seq":3,`, ``, 1),
		"wrong enum":     strings.Replace(good, `"online"`, `"up"`, 1),
		"unknown method": strings.Replace(good, `gateway.state`, `gateway.status`, 1),
	}
	sc.validate("good", sc.schema.Message, []byte(good))
	if _, f := sc.take(); len(f) != 0 {
		t.Fatalf("a correct frame fails: %v", f)
	}
	for name, b := range bad {
		sc.validate(name, sc.schema.Message, []byte(b))
		if _, f := sc.take(); len(f) != 1 {
			t.Errorf("%s: the schema accepts %s", name, b)
		}
	}
	res := `{"checkId":"c1","pending":false,"result":{"checkId":"c1","identity":{"medium":"typed","authenticity":{"level":"unverified"}},"eligibility":{"verdict":"eligible","code":"000","reasonVi":"x","reasonEn":"x","source":"live","checkedAt":"2026-11-23T07:00:00.000Z","answeredBy":"card","note":"x","visits":[{"recordId":"1","facility":"01043","admitted":"2026-01-02T03:04:05.000Z"}]}}}`
	sc.validate("check", sc.result("eligibility.check"), []byte(res))
	if _, f := sc.take(); len(f) != 0 {
		t.Fatalf("a correct result fails: %v", f)
	}
	st := `{"status":"ok","version":"1","apiLevel":1,"uptimeSeconds":3,"gateway":null,"readers":[],"scanners":[],"cache":{"ageSeconds":null},"outbox":{"pending":0,"unsaved":0,"disk":"ok"},"clients":0,"window":{"state":"failed","reason":"no OpenGL"}}`
	sc.validate("status", sc.result("status"), []byte(st))
	if _, f := sc.take(); len(f) != 0 {
		t.Fatalf("a correct status fails: %v", f)
	}
	sc.validate("check", sc.result("eligibility.check"), []byte(strings.Replace(res, `"birthDate"`, `"birthdate"`, 1)+``))
	sc.validate("check", sc.result("eligibility.check"), []byte(strings.Replace(res, `"pending":false,`, ``, 1)))
	if _, f := sc.take(); len(f) != 1 { // the first is unchanged: res has no birthDate
		t.Fatalf("want 1 failure, got %d: %v", len(f), f)
	}
}

// TestSchemaCoversAPI: every method, every notification and every scope
// the server knows is in the schema, and nothing else.
func TestSchemaCoversAPI(t *testing.T) {
	var doc struct {
		Level   int            `json:"x-apiLevel"`
		Methods []string       `json:"x-methods"`
		Notes   []string       `json:"x-notifications"`
		Defs    map[string]any `json:"$defs"`
	}
	raw, _ := webFS.ReadFile("web/schema.json")
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Level != APILevel {
		t.Errorf("schema x-apiLevel %d, server %d", doc.Level, APILevel)
	}
	slices.Sort(doc.Methods)
	if !slices.Equal(doc.Methods, MethodNames()) {
		t.Errorf("schema methods %v, server %v", doc.Methods, MethodNames())
	}
	notes := append(EventNames(), "events.dropped", "pairing.code")
	slices.Sort(notes)
	slices.Sort(doc.Notes)
	if !slices.Equal(doc.Notes, notes) {
		t.Errorf("schema notifications %v, server %v", doc.Notes, notes)
	}
	for _, m := range MethodNames() {
		for _, k := range []string{"params:" + m, "result:" + m} {
			if doc.Defs[k] == nil {
				t.Errorf("schema lacks %s", k)
			}
		}
	}
	scopes := doc.Defs["scope"].(map[string]any)["enum"].([]any)
	if len(scopes) != len(AllScopes) {
		t.Errorf("schema scopes %v, server %v", scopes, AllScopes)
	}
}

// TestSchemaServed: /v1/schema.json and /v1/client.d.ts serve the files in
// the repository, to pages of any origin.
func TestSchemaServed(t *testing.T) {
	ts := startServer(t, nil)
	for path, file := range map[string]string{"/v1/schema.json": "web/schema.json", "/v1/client.d.ts": "web/client.d.ts"} {
		resp, err := http.Get("http://" + ts.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want, _ := webFS.ReadFile(file)
		if resp.StatusCode != 200 || !bytes.Equal(body, want) || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s: %d, %d bytes (want %d), CORS %q", path, resp.StatusCode, len(body), len(want), resp.Header.Get("Access-Control-Allow-Origin"))
		}
	}
}

// TestTypesUpToDate: web/client.d.ts is what the generator makes of
// web/schema.json (go test ./agent/hisapi -run TestTypesUpToDate -update
// rewrites it).
func TestTypesUpToDate(t *testing.T) {
	raw, _ := webFS.ReadFile("web/schema.json")
	got, err := typescriptFromSchema(raw)
	if err != nil {
		t.Fatal(err)
	}
	if *updateTypes {
		if err := os.WriteFile("web/client.d.ts", got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, _ := os.ReadFile("web/client.d.ts")
	if !bytes.Equal(got, want) {
		t.Fatal("web/client.d.ts is not up to date with web/schema.json: run go test ./agent/hisapi -run TestTypesUpToDate -update")
	}
}

// TestNPMPackage: the client package packs client.js, its types, the
// schema and the changelog; its version is in the changelog and it speaks
// the server's API level.
func TestNPMPackage(t *testing.T) {
	var pkg struct {
		Name    string
		Version string
		Files   []string
		Tiepdon struct{ APILevel int }
	}
	raw, _ := os.ReadFile("web/package.json")
	if err := json.Unmarshal(raw, &pkg); err != nil {
		t.Fatal(err)
	}
	changelog, _ := os.ReadFile("web/CHANGELOG.md")
	if pkg.Tiepdon.APILevel != APILevel || !bytes.Contains(changelog, []byte("package "+pkg.Version+" ")) {
		t.Fatalf("package %s: apiLevel %d (server %d); version in CHANGELOG.md: %v", pkg.Version, pkg.Tiepdon.APILevel, APILevel, bytes.Contains(changelog, []byte(pkg.Version)))
	}
	if doc, _ := os.ReadFile("../../docs/his-api.md"); !bytes.Contains(doc, []byte("tiepdon-his-client-"+pkg.Version+".tgz")) {
		t.Errorf("docs/his-api.md does not name the package's tarball tiepdon-his-client-%s.tgz", pkg.Version)
	}
	// The changelog states the promise for every level the agent speaks.
	for level := MinAPILevel; level <= APILevel; level++ {
		for _, want := range []string{fmt.Sprintf("\n## apiLevel %d\n", level), fmt.Sprintf("\n| %d | ", level)} {
			if !bytes.Contains(changelog, []byte(want)) {
				t.Errorf("CHANGELOG.md lacks %q: the changes and the compatibility promise of apiLevel %d", strings.TrimSpace(want), level)
			}
		}
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("npm is not installed (.ci/debian-packages, test group)")
		}
		t.Skip("SKIP LOUDLY: npm is not installed here, so the package is not packed (CI installs it)")
	}
	out, err := exec.Command(npm, "pack", "--dry-run", "--json", "--prefix", "web", "./web").Output()
	if err != nil {
		t.Fatalf("npm pack: %v", err)
	}
	var packed []struct {
		Filename string
		Files    []struct{ Path string }
	}
	if err := json.Unmarshal(out, &packed); err != nil || len(packed) != 1 {
		t.Fatalf("npm pack --json: %v: %s", err, out)
	}
	var files []string
	for _, f := range packed[0].Files {
		files = append(files, f.Path)
	}
	slices.Sort(files)
	want := []string{"CHANGELOG.md", "client.d.ts", "client.js", "package.json", "schema.json"}
	if !slices.Equal(files, want) || packed[0].Filename != "tiepdon-his-client-"+pkg.Version+".tgz" {
		t.Fatalf("npm pack makes %s with %v, want %v", packed[0].Filename, files, want)
	}
}
