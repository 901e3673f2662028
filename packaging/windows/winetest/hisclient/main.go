// Command hisclient is a minimal HIS app for the MSI checks under Wine
// (packaging/windows/winetest/msi.sh): it connects to a running agent's
// WebSocket API with a paired token, says session.hello, prints "ready",
// and then prints the first eligibility.result it receives as
// "verdict=V code=C source=S" and exits 0 (1 on any error or after -wait).
//
//	hisclient -addr 127.0.0.1:8744 -token TOKEN [-wait 60s]
//
// It runs on the Linux side; the agent under Wine serves it on loopback.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tiepdon/tiepdon/agent/hisapi"
)

type message struct {
	ID     *int            `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func main() {
	addr := flag.String("addr", "", "the agent's HIS address, host:port")
	token := flag.String("token", "", "a paired token (tiepdon pairing add)")
	wait := flag.Duration("wait", 60*time.Second, "how long to wait for a result")
	flag.Parse()
	if err := run(*addr, *token, *wait); err != nil {
		fmt.Fprintln(os.Stderr, "hisclient:", err)
		os.Exit(1)
	}
}

func run(addr, token string, wait time.Duration) error {
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+hisapi.WebSocketPath, nil)
	if err != nil {
		return err
	}
	defer ws.Close()
	hello := map[string]any{"jsonrpc": "2.0", "id": 1, "method": "session.hello", "params": map[string]any{
		"token": token, "client": map[string]string{"name": "winetest"}, "apiLevel": hisapi.APILevel}}
	if err := ws.WriteJSON(hello); err != nil {
		return err
	}
	ws.SetReadDeadline(time.Now().Add(wait))
	for {
		var m message
		if err := ws.ReadJSON(&m); err != nil {
			return fmt.Errorf("reading: %w", err)
		}
		switch {
		case m.ID != nil && m.Error != nil:
			return fmt.Errorf("session.hello: %d %s", m.Error.Code, m.Error.Message)
		case m.ID != nil:
			var r struct {
				Paired bool     `json:"paired"`
				Scopes []string `json:"scopes"`
			}
			json.Unmarshal(m.Result, &r)
			fmt.Printf("ready paired=%v scopes=%v\n", r.Paired, r.Scopes)
		case m.Method == "eligibility.result":
			var p struct {
				Eligibility struct {
					Verdict string `json:"verdict"`
					Code    string `json:"code"`
					Source  string `json:"source"`
				} `json:"eligibility"`
			}
			if err := json.Unmarshal(m.Params, &p); err != nil {
				return fmt.Errorf("eligibility.result: %w", err)
			}
			e := p.Eligibility
			fmt.Printf("verdict=%s code=%s source=%s\n", e.Verdict, e.Code, e.Source)
			return nil
		}
	}
}
