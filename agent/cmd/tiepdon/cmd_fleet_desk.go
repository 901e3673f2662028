package main

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/sync/fleet"
	"github.com/tiepdon/tiepdon/sync/hospital"
)

// fleetEvery are the desk's report, settings and key file intervals (tests
// shorten them).
var fleetEvery = struct{ report, poll, keyFile time.Duration }{fleet.ReportEvery, fleet.PollEvery, hospital.KeyFileEvery}

// fleetCacheFile keeps the last fleet settings in the data folder (the
// password still sealed), for a start while PostgreSQL is down.
func fleetCacheFile(dataDir string) string { return filepath.Join(dataDir, "fleet-settings.json") }

// applyCachedFleet applies the fleet settings kept from the last run before
// the desk's parts are built (hospital mode, not demo): IT's locked keys
// and the fleet's password hold from the first second.
func (s *stack) applyCachedFleet(o runOptions) {
	if s.hospital == nil || o.reload == nil || o.demo {
		return
	}
	w := &fleet.Watcher{Keys: s.hospital.Keys(), File: fleetCacheFile(s.cfg.DataDir)}
	layer, err := w.Cached()
	if err != nil {
		s.log.Warn("The fleet settings kept from the last run cannot be used, so this desk starts on its own settings until PostgreSQL answers; check the hospital key file", "err", err)
	}
	if layer == nil {
		return
	}
	cfg, err := o.reload(layer)
	if err != nil {
		s.log.Warn("The fleet settings kept from the last run do not make a valid config, so this desk starts on its own settings; fix them with tiepdon fleet set", "err", err)
		return
	}
	s.cfg = cfg
}

// startFleet adds hospital mode's fleet parts to the desk: its health
// report every 30 s, the fleet settings, applied through the settings
// store as the window's settings page applies its own, and the hospital
// key file, read again every 20 s.
func (s *stack) startFleet(o runOptions) {
	if s.hospital == nil {
		return
	}
	if s.keyFile != nil {
		s.keyFile.Every = fleetEvery.keyFile
		s.runs = append(s.runs, s.keyFile.Run)
	}
	started := time.Now()
	host, _ := os.Hostname()
	var w *fleet.Watcher
	if o.reload != nil && !o.demo {
		w = &fleet.Watcher{Pool: s.hospital.Pool(), Keys: s.hospital.Keys(), File: fleetCacheFile(s.cfg.DataDir),
			Apply: s.settings.ApplyFleet, Every: fleetEvery.poll, Logger: s.log}
		s.runs = append(s.runs, whenReady(s, w.Run))
	}
	r := &fleet.Reporter{Pool: s.hospital.Pool(), DeskID: s.hospital.DeskID(), Every: fleetEvery.report, Logger: s.log,
		Collect: func() fleet.Status {
			st := s.deskStatus()
			st.Name, st.Host, st.StartedAt = s.hospital.Desk(), host, started
			if w != nil {
				st.Settings, st.SettingsError = w.State()
			}
			if s.keyFile != nil {
				st.KeyFileError = s.keyFile.Problem()
			}
			st.PurgeError = s.hospital.PurgeProblem()
			return st
		}}
	s.runs = append(s.runs, whenReady(s, r.Run))
}

// whenReady runs f once the hospital store is connected and migrated (its
// Run does that, retrying), so the first report does not fail for want of
// a table.
func whenReady(s *stack, f func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			if ok, _ := s.hospital.Ready(); ok {
				return f(ctx)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
	}
}

// deskStatus is the desk's health as the fleet sees it: what /healthz
// says, with no patient's data (device names, states, counts, times).
func (s *stack) deskStatus() fleet.Status {
	st := fleet.Status{Version: version, Readers: []fleet.Device{}, Scanners: []fleet.Device{}, Outbox: fleet.Outbox{Disk: string(events.DiskOK)}}
	if ev, ok := s.bus.Last(events.GatewayChanged); ok {
		g := ev.Data.(events.Gateway)
		st.Gateway = fleet.Gateway{State: string(g.State), Since: g.Since, Reason: g.Reason}
	}
	for _, d := range s.agent.Devices() {
		fd := fleet.Device{Name: d.Name, State: string(d.State), Detail: d.Detail}
		if d.Kind == events.Reader {
			st.Readers = append(st.Readers, fd)
		} else {
			st.Scanners = append(st.Scanners, fd)
		}
	}
	s.windowMu.Lock()
	st.Window = fleet.Window{State: s.window.State, Reason: s.window.Reason}
	s.windowMu.Unlock()
	if ev, ok := s.bus.Last(events.OutboxChanged); ok {
		ob := ev.Data.(events.Outbox)
		st.Outbox.Unsaved = ob.Unsaved
		if ob.Disk != "" {
			st.Outbox.Disk = string(ob.Disk)
		}
	}
	st.Outbox.Pending = backend{s.agent, s.db, s}.OutboxSize() + st.Outbox.Unsaved
	for _, k := range []events.Kind{events.CardPresented, events.IdentityRead} {
		if ev, ok := s.bus.Last(k); ok && ev.Time.After(st.LastScan) {
			st.LastScan = ev.Time
		}
	}
	return st
}
