package hisapi

import (
	"os"
	"path/filepath"
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
