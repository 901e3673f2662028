package hisapi

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tiepdon/tiepdon/agent/hisapi/hisapitest"
)

// TestOffTheShelfClients runs json-rpc-2.0, jayson and rpc-websockets
// (pinned in testdata/node-clients, installed with npm ci), unmodified, in
// Node against the server: hello, a single call, a -32602, and a batch with
// a call, a notification and an invalid member (testdata/node-clients/clients.mjs).
// TestMain checks every frame they receive against the schema.
func TestOffTheShelfClients(t *testing.T) {
	dir := hisapitest.NodeClients(t)
	script, err := os.ReadFile(filepath.Join("testdata", "node-clients", "clients.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "clients.mjs"), script, 0o644); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, nil)
	out := hisapitest.Run(t, dir, hisapitest.Tool(t, "node"), "clients.mjs", "ws://"+ts.addr+WebSocketPath, ts.token(t, "", ScopeEligibility))
	for _, c := range []string{"json-rpc-2.0", "jayson", "rpc-websockets"} {
		if !strings.Contains(out, "ok "+c+"\n") {
			t.Errorf("%s did not pass:\n%s", c, out)
		}
	}
}

// TestClientTypes installs the client package from its tarball (as `make
// npm-package` packs it), then: in Node, client.js exports what
// web/client.d.ts declares (API_LEVEL, Events, ErrorCodes and CloseCodes
// as in schema.json, TiepdonError, every TiepdonClient method); and the
// pinned typescript type-checks testdata/ts-usage/usage.ts against the
// declarations with --strict, mistakes included as @ts-expect-error.
func TestClientTypes(t *testing.T) {
	deps := hisapitest.NodeClients(t)
	node, npm := hisapitest.Tool(t, "node"), hisapitest.Tool(t, "npm")
	dir := t.TempDir()
	tgz := hisapitest.PackClient(t, dir)
	for name, body := range map[string]string{
		"package.json": `{"private": true, "type": "module"}`,
		"exports.mjs": `import * as c from "@tiepdon/his-client";
console.log(JSON.stringify({ apiLevel: c.API_LEVEL, events: c.Events, errorCodes: c.ErrorCodes, closeCodes: c.CloseCodes,
  errorName: new c.TiepdonError(-1, "x").name, methods: Object.getOwnPropertyNames(c.TiepdonClient.prototype),
  exports: Object.keys(c).sort() }));`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"usage.ts", "tsconfig.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "ts-usage", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, f), b, 0o644)
	}
	hisapitest.Run(t, dir, npm, "install", "--no-audit", "--no-fund", "--offline", tgz)

	var got struct {
		APILevel   int               `json:"apiLevel"`
		Events     map[string]string `json:"events"`
		ErrorCodes map[string]int    `json:"errorCodes"`
		CloseCodes map[string]int    `json:"closeCodes"`
		ErrorName  string            `json:"errorName"`
		Methods    []string          `json:"methods"`
		Exports    []string          `json:"exports"`
	}
	out := hisapitest.Run(t, dir, node, "exports.mjs")
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var schema struct {
		Notes      []string       `json:"x-notifications"`
		ErrorCodes map[string]int `json:"x-errorCodes"`
		CloseCodes map[string]int `json:"x-closeCodes"`
	}
	raw, _ := webFS.ReadFile("web/schema.json")
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	wantEvents := map[string]string{"STATE": "state"}
	for _, n := range schema.Notes {
		wantEvents[constName(n)] = n
	}
	wantErrors := maps.Clone(schema.ErrorCodes)
	wantErrors["DISCONNECTED"], wantErrors["TIMEOUT"] = -1, -2
	if got.APILevel != APILevel || !maps.Equal(got.Events, wantEvents) || !maps.Equal(got.ErrorCodes, wantErrors) ||
		!maps.Equal(got.CloseCodes, schema.CloseCodes) || got.ErrorName != "TiepdonError" {
		t.Errorf("client.js exports differ from client.d.ts (schema.json):\n got %+v\nwant events %v errors %v close %v", got, wantEvents, wantErrors, schema.CloseCodes)
	}
	for _, m := range clientMethods {
		if !slices.Contains(got.Methods, m) {
			t.Errorf("client.d.ts declares TiepdonClient.%s, client.js has no such method", m)
		}
	}
	if want := []string{"API_LEVEL", "CloseCodes", "ErrorCodes", "Events", "TiepdonClient", "TiepdonError"}; !slices.Equal(got.Exports, want) {
		t.Errorf("client.js exports %v, client.d.ts declares %v", got.Exports, want)
	}

	tsc := filepath.Join(deps, "node_modules", "typescript", "bin", "tsc")
	cmd := exec.Command(node, tsc, "-p", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tsc --strict on testdata/ts-usage/usage.ts against the package's client.d.ts: %v\n%s", err, out)
	}
}
