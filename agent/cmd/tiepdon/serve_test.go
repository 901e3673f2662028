package main

import (
	"log/slog"
	"testing"

	"github.com/tiepdon/tiepdon/agent"
	"github.com/tiepdon/tiepdon/agent/config"
	"github.com/tiepdon/tiepdon/agent/hisapi"
	"github.com/tiepdon/tiepdon/ui"
)

// TestHISDefaults keeps the HIS limits in defaults.toml (what IT reads and
// edits) equal to the API's own defaults.
func TestHISDefaults(t *testing.T) {
	o := hisOptions(config.Default(), slog.New(slog.DiscardHandler))
	d := hisapi.DefaultLimits
	l := o.Limits
	if l.MaxClients != d.MaxClients || l.ClientsPerOrigin != d.ClientsPerOrigin || l.MessagesPerSecond != d.MessagesPerSecond ||
		l.Burst != d.Burst || l.MaxMessageBytes != d.MaxMessageBytes || l.IdleTimeout != d.IdleTimeout || l.PairingTimeout != d.PairingTimeout {
		t.Errorf("defaults.toml [his] limits %+v differ from hisapi.DefaultLimits %+v", l, d)
	}
	if o.DisableDemo {
		t.Error("the demo page is off by default")
	}
}

// TestWindowKnowsTheAgentsCodes: the alert that makes the window ask for
// the CAN is the one the agent raises (the window cannot import the agent).
func TestWindowKnowsTheAgentsCodes(t *testing.T) {
	if ui.AlertCANRequired != agent.AlertCANRequired {
		t.Errorf("window waits for alert %q, the agent raises %q", ui.AlertCANRequired, agent.AlertCANRequired)
	}
}

// The window and the HIS API read the agent's device table.
var (
	_ ui.DeviceLister     = (*windowActions)(nil)
	_ hisapi.DeviceLister = backend{}
	_ ui.CANProvider      = (*windowActions)(nil)
)
