package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tiepdon/tiepdon/agent/hisapi"
	"github.com/tiepdon/tiepdon/agent/hisapi/hisapitest"
	"github.com/tiepdon/tiepdon/drivers/virtual"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
)

// agentRig holds the real parts the integration tests run tiepdon on: the
// gateway simulator over HTTP, a virtual QR scanner on a real pty, a data
// folder holding a HIS token, a free HIS address, and the environment a
// desk's agent reads (gateway account, staff, config file).
type agentRig struct {
	t       *testing.T
	dir     string
	dataDir string
	hisAddr string
	token   string
	sim     *bhxhsim.Sim
	simAddr net.Addr
	sc      *virtual.Scanner
}

// newAgentRig starts the simulator (whose gateway password is "s3cret";
// the agent is given password) and writes config as the user's config file.
func newAgentRig(t *testing.T, simOpts bhxhsim.Options, password, config string, scopes ...hisapi.Scope) *agentRig {
	t.Helper()
	r := &agentRig{t: t, dir: t.TempDir()}
	r.dataDir = filepath.Join(r.dir, "data")
	simOpts.Password = "s3cret"
	r.sim = bhxhsim.New(simOpts)
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	var err error
	if r.simAddr, err = r.sim.Serve(ctx, "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if r.sc, err = virtual.NewScanner(virtual.ScannerOptions{Dir: r.dir}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.sc.Close() })
	store, err := hisapi.OpenStore(r.dataDir)
	if err != nil {
		t.Fatal(err)
	}
	r.token, _, err = store.Add(context.Background(), t.Name(), "", scopes)
	store.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TIEPDON_GATEWAY_USER", "79014_BV")
	t.Setenv("TIEPDON_GATEWAY_PASSWORD", password)
	t.Setenv("TIEPDON_STAFF_NAME", "Trần Thị Bình")
	t.Setenv("TIEPDON_STAFF_CCCD", "079190000001")
	t.Setenv("TIEPDON_CONFIG", filepath.Join(r.dir, "user.toml"))
	// The agent under test finds no smart-card service: a PC/SC test of
	// another package may have its virtual card in the machine's pcscd at
	// the same moment (libpcsclite takes its socket from this variable).
	t.Setenv("PCSCLITE_CSOCK_NAME", filepath.Join(r.dir, "no-pcscd.comm"))
	writeFile(t, filepath.Join(r.dir, "user.toml"), config)
	r.hisAddr = freeAddr(t)
	return r
}

// args are tiepdon run's arguments for a headless desk on the rig.
func (r *agentRig) args() []string {
	return []string{"run", "--headless", "--data-dir", r.dataDir, "--his-addr", r.hisAddr,
		"--scanner", r.sc.Path(), "--gateway", bhxhsim.URL(r.simAddr)}
}

// start runs the agent in this process until stop, which returns its log.
func (r *agentRig) start(args []string) (stop func() string) {
	r.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log := &lockedBuffer{}
	done := make(chan int, 1)
	go func() { done <- dispatch(ctx, args, &bytes.Buffer{}, log) }()
	stopped := false
	stop = func() string {
		if !stopped {
			stopped = true
			cancel()
			select {
			case code := <-done:
				if code != 0 {
					r.t.Errorf("agent exited %d: %s", code, log.String())
				}
			case <-time.After(10 * time.Second):
				r.t.Error("agent did not stop within 10 s of cancellation")
			}
		}
		return log.String()
	}
	r.t.Cleanup(func() { stop() })
	r.waitReady(log.String)
	return stop
}

// waitReady waits until /healthz shows the scanner ready.
func (r *agentRig) waitReady(log func() string) {
	r.t.Helper()
	waitFor(r.t, 30*time.Second, func() bool {
		resp, err := http.Get("http://" + r.hisAddr + "/healthz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var h struct {
			Scanners []struct{ State string } `json:"scanners"`
		}
		json.NewDecoder(resp.Body).Decode(&h)
		return len(h.Scanners) == 1 && h.Scanners[0].State == "ready"
	}, func() string { return "agent not up:\n" + log() })
}

// hello connects a HIS client with the rig's token and decodes the
// session.hello result into res (may be nil).
func (r *agentRig) hello(res any) *websocket.Conn {
	r.t.Helper()
	ws, _, err := hisapitest.Dialer(r.t).Dial("ws://"+r.hisAddr+hisapi.WebSocketPath, nil) // checks every frame against /v1/schema.json
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { ws.Close() })
	if res == nil {
		res = &struct{}{}
	}
	call(r.t, ws, "session.hello", map[string]any{"token": r.token, "client": map[string]string{"name": r.t.Name()}, "apiLevel": hisapi.APILevel}, res)
	return ws
}
