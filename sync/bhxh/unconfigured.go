package bhxh

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tiepdon/tiepdon/agent"
	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
)

// Unconfigured is the gateway client of a desk with no gateway account yet:
// the agent runs (window, HIS API, cache), its gateway state is
// not-configured, and every check fails with agent.ErrNotConfigured (so it
// is answered from the cache, or queued) until IT enters the account and
// the settings swap in a real client.
type Unconfigured struct{}

// NotConfigured returns an Unconfigured client and publishes the
// not-configured state on bus (if not nil), with why when start-up knows
// more than "no account" (e.g. an unreadable password file).
func NotConfigured(bus *events.Bus, now time.Time, why ...string) Unconfigured {
	if bus != nil {
		reason := "no gateway username or password: enter them in Settings (IT PIN), or in the config and password store"
		if len(why) > 0 {
			reason = strings.Join(why, "; ")
		}
		bus.Publish(events.GatewayChanged, events.Gateway{State: events.GatewayNotConfigured, Since: now, Reason: reason})
	}
	return Unconfigured{}
}

// Check implements agent.Checker.
func (Unconfigured) Check(context.Context, patient.Query) (patient.Eligibility, error) {
	return patient.Eligibility{}, notConfigured{}
}

type notConfigured struct{}

func (notConfigured) Error() string { return fmt.Sprint(agent.ErrNotConfigured) }
func (notConfigured) Is(target error) bool {
	return target == agent.ErrNotConfigured || target == agent.ErrUnavailable
}
