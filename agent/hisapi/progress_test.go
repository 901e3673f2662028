package hisapi

import (
	"encoding/json"
	"testing"

	"github.com/tiepdon/tiepdon/agent/events"
)

// TestProgressStepsOnTheWire: every step the chip reader reports
// (drivers/emrtd's and drivers/chip's own names, which the window shows)
// reaches a HIS client as one of card.progress's documented steps; the
// schema check of every frame the server sends (main_test.go) fails
// otherwise, as it did when the reader's names went out as they were.
func TestProgressStepsOnTheWire(t *testing.T) {
	ts := startServer(t, nil)
	c := helloWith(t, ts, testOrigin, ts.token(t, testOrigin, ScopeEligibility))
	for _, s := range []struct{ reader, wire string }{
		{"waiting-for-key", "waiting-for-key"}, {"authenticating", "pace"}, {"authenticated", "pace"},
		{"dg1", "dg1"}, {"sod", "sod"}, {"dg13", "dg13"}, {"verifying", "verify"}, {"ef.com", "verify"},
		{"dg14", "verify"}, {"chip authentication", "verify"}, {"dg15", "verify"},
		{"active authentication", "verify"}, {"dg2", "dg2"}, {"done", "verify"}, {"a step yet to come", "verify"},
	} {
		ts.bus.Publish(events.CardProgress, events.Progress{CheckID: "c-" + s.reader, Step: s.reader, Percent: 50})
		var p struct{ CheckID, Step string }
		if err := json.Unmarshal(c.waitNote("card.progress").Params, &p); err != nil {
			t.Fatal(err)
		}
		if p.CheckID != "c-"+s.reader || p.Step != s.wire {
			t.Errorf("the reader's step %q reached the client as %q (check %s), want %q", s.reader, p.Step, p.CheckID, s.wire)
		}
	}
}
