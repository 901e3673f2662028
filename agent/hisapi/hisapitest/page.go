package hisapitest

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// CheckPage checks every WebSocket message that the page of ctx receives
// from the agent at addr, until the test ends, against the schema the agent
// serves at /v1/schema.json (fetched at the first message, so the agent may
// start after the page), and fails t on the first that does not follow it.
// It returns how many messages it checked so far.
func CheckPage(t testing.TB, ctx context.Context, addr string) (checked func() int) {
	t.Helper()
	var mu sync.Mutex
	done := false
	conv := newConversation(addr, func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			t.Errorf("in the page: "+format, args...)
		}
	})
	stop := make(chan struct{})
	finished := make(chan struct{})
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		sent, cancelSent := tg.Subscribe(network.WebSocketFrameSent.Method)
		recv, cancelRecv := tg.Subscribe(network.WebSocketFrameReceived.Method)
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			cancelSent()
			cancelRecv()
			return err
		}
		go func() {
			defer close(finished)
			defer cancelSent()
			defer cancelRecv()
			frame := func(raw []byte) ([]byte, bool) {
				var ev network.EventWebSocketFrameReceived // the same shape as EventWebSocketFrameSent
				if json.Unmarshal(raw, &ev) != nil || ev.Response == nil || ev.Response.Opcode != 1 {
					return nil, false // not a text frame
				}
				return []byte(ev.Response.PayloadData), true
			}
			noteSent := func(raw []byte) {
				if m, ok := frame(raw); ok {
					conv.sent(m)
				}
			}
			for {
				select {
				case <-stop:
					return
				case raw, ok := <-sent:
					if !ok {
						return
					}
					noteSent(raw)
				case raw, ok := <-recv:
					if !ok {
						return
					}
					// A request's frame reaches its channel before its
					// answer's: take what was sent first.
				drain:
					for {
						select {
						case s, ok := <-sent:
							if !ok {
								break drain
							}
							noteSent(s)
						default:
							break drain
						}
					}
					if m, ok := frame(raw); ok {
						conv.received(m)
					}
				}
			}
		}()
		return nil
	}))
	if err != nil {
		t.Fatalf("watching the page's WebSocket frames: %v", err)
	}
	t.Cleanup(func() {
		mu.Lock()
		done = true
		mu.Unlock()
		close(stop)
		<-finished
	})
	return func() int {
		conv.mu.Lock()
		defer conv.mu.Unlock()
		return conv.checked
	}
}
