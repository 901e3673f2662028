// Package fleet is what IT sees and sets of a hospital's desks through the
// hospital's PostgreSQL (hospital mode): each desk reports its health into
// desk_status every 30 s; "tiepdon fleet status" and the fleet page list the
// desks with what needs attention; "tiepdon fleet set" and "set-password"
// write fleet settings, which desks read back and apply without a restart.
//
// A desk's report holds no personal data: device names and states, the
// gateway's state, counts and times only.
package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// ReportEvery is how often a desk reports its health.
const ReportEvery = 30 * time.Second

// MissingAfter is how long a desk may stay silent before the fleet lists
// it as missing (four reports lost).
const MissingAfter = 2 * time.Minute

// Status is one desk's health report: what /healthz says, without anything
// about the patients it checked.
type Status struct {
	Name      string    `json:"name"`    // the desk's name, e.g. "Quầy 3"
	Version   string    `json:"version"` // tiepdon's version
	Host      string    `json:"host,omitempty"`
	StartedAt time.Time `json:"startedAt"`
	SentAt    time.Time `json:"sentAt"` // the desk's clock when it wrote the report
	Gateway   Gateway   `json:"gateway"`
	Readers   []Device  `json:"readers"`
	Scanners  []Device  `json:"scanners"`
	Window    Window    `json:"window"`
	Outbox    Outbox    `json:"outbox"`
	// LastScan is when the desk last began a check (a scan, tap, typed or
	// HIS check); zero if none since it started.
	LastScan time.Time `json:"lastScan,omitzero"`
	// Settings is the fleet settings version the desk has applied (the
	// newest updated_at it saw), and SettingsError why it could not apply
	// the latest, if so.
	Settings      time.Time `json:"settings,omitzero"`
	SettingsError string    `json:"settingsError,omitempty"`
	// KeyFileError is why the desk does not use its hospital key file as it
	// is now (it does not parse, or drops a key still needed): the desk
	// keeps the keys it had.
	KeyFileError string `json:"keyFileError,omitempty"`
	// PurgeError is why the store refused the desk's hourly deletion of
	// expired answers (its role may not call tiepdon_purge): nothing
	// expires until IT runs the grants again.
	PurgeError string `json:"purgeError,omitempty"`
}

// Gateway is the national gateway's state as the desk sees it: "online",
// "degraded", "offline", "account-refused" or "not-configured".
type Gateway struct {
	State  string    `json:"state"`
	Since  time.Time `json:"since,omitzero"`
	Reason string    `json:"reason,omitempty"`
}

// Device is a reader or scanner: its name (reader name or port) and state
// ("ready", "card", "missing", "error").
type Device struct {
	Name   string `json:"name"`
	State  string `json:"state"`
	Detail string `json:"detail,omitempty"`
}

// Window is the reception window's state: "open", "failed" or "headless".
type Window struct {
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
}

// Outbox is the desk's queue of checks waiting for the gateway and of
// writes its disk refused.
type Outbox struct {
	Pending int    `json:"pending"`
	Unsaved int    `json:"unsaved"`
	Disk    string `json:"disk"` // "ok" or "refusing"
}

// Reporter writes a desk's status into desk_status every Every.
type Reporter struct {
	Pool   *pgxpool.Pool
	DeskID string
	// Collect returns the desk's status now (SentAt is set by Report).
	Collect func() Status
	Every   time.Duration // 0: ReportEvery
	Logger  *slog.Logger
}

// Report writes one status now: the desk's row in desks (kept with its
// name) and its row in desk_status, stamped with the server's now().
func (r *Reporter) Report(ctx context.Context) error {
	st := r.Collect()
	st.SentAt = time.Now()
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	name := st.Name
	if name == "" {
		name = r.DeskID
	}
	_, err = r.Pool.Exec(ctx, `WITH d AS (
		INSERT INTO desks (desk_id, name) VALUES ($1, $2)
		ON CONFLICT (desk_id) DO UPDATE SET name = EXCLUDED.name WHERE desks.name <> EXCLUDED.name)
	INSERT INTO desk_status (desk_id, reported_at, status) VALUES ($1, now(), $3)
	ON CONFLICT (desk_id) DO UPDATE SET reported_at = now(), status = EXCLUDED.status`, r.DeskID, name, b)
	if err != nil {
		return fmt.Errorf("reporting the desk's status: %w", err)
	}
	return nil
}

// Run reports at once and then every Every until ctx ends. A failed report
// is logged (a few times a minute at most through the agent's log handler)
// and tried again at the next tick: the desk works on without PostgreSQL.
func (r *Reporter) Run(ctx context.Context) error {
	every := r.Every
	if every <= 0 {
		every = ReportEvery
	}
	log := r.Logger
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		if err := r.Report(ctx); err != nil && ctx.Err() == nil {
			if !failing {
				log.Warn("The desk could not report its health to the hospital database, so IT's fleet page will list it as missing; check that PostgreSQL is reachable (tiepdon doctor)", "err", err)
			}
			failing = true
		} else if err == nil && failing {
			log.Info("the desk reports its health to the hospital database again")
			failing = false
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
