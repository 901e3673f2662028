package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"path/filepath"
	"sync"
	"time"

	"github.com/tiepdon/tiepdon/agent"
	"github.com/tiepdon/tiepdon/agent/config"
	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/hisapi"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/agent/receipt"
	"github.com/tiepdon/tiepdon/agent/settings"
	"github.com/tiepdon/tiepdon/drivers"
	"github.com/tiepdon/tiepdon/drivers/payload"
	"github.com/tiepdon/tiepdon/drivers/virtual"
	"github.com/tiepdon/tiepdon/sync/bhxh"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
	"github.com/tiepdon/tiepdon/sync/cache"
	"github.com/tiepdon/tiepdon/sync/hospital"
	"github.com/tiepdon/tiepdon/sync/outbox"
	"golang.org/x/sync/errgroup"
)

// demoStaff is the staff member signed in by default in demo mode.
var demoStaff = patient.Staff{Name: "Nguyễn Thị Lan", CitizenID: "001190000123"}

// demoPassword is the simulator's account password in demo mode.
const demoPassword = "bhxh-sim"

// stack is a running agent with everything wired to it.
type stack struct {
	cfg   config.Config
	log   *slog.Logger
	bus   *events.Bus
	agent *agent.Agent
	db    *cache.DB
	// settings holds the running config (the settings page changes it);
	// cfg is the config the stack was built from.
	settings *settings.Store

	demo     bool
	hospital *hospital.DB // hospital mode, or nil
	// keyFile follows the hospital key file (hospital mode).
	keyFile *hospital.KeyFile
	// reload reads the config again with the fleet settings (hospital mode).
	reload     func(*config.Fleet) (config.Config, error)
	configFile string
	demoPKI    *virtual.PKI // demo: signs the virtual chips' SODs
	his        *hisapi.Server
	hisAt      net.Addr

	// Demo mode only.
	sim     *bhxhsim.Sim
	simAddr net.Addr
	scanner demoScanner

	windowMu sync.Mutex
	window   hisapi.WindowInfo // the window's state, for /healthz

	runs []func(context.Context) error // long-running parts, started by run
	ctx  context.Context               // ends when the stack stops
}

// demoScanner is the virtual QR scanner of demo mode.
type demoScanner interface {
	Path() string
	Scan(payload string) error
	Close() error
}

// backend is the agent as the HIS API sees it, with the cache's and
// outbox's figures for /healthz.
type backend struct {
	*agent.Agent
	db *cache.DB
	s  *stack
}

// Receipt returns a past check's answer: from the agent's memory, else as
// the cache kept it (an earlier run's check).
func (b backend) Receipt(checkID string) (events.Result, bool) {
	if r, ok := b.Agent.Receipt(checkID); ok {
		return r, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, ok, err := b.db.Result(ctx, checkID)
	if err != nil || !ok {
		return events.Result{}, false
	}
	return s.Result, true
}

// Receipts implements hisapi.ReceiptLister.
func (b backend) Receipts(ctx context.Context, since time.Time, after int64, limit int) ([]hisapi.ListedResult, error) {
	rows, err := b.db.Results(ctx, since, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]hisapi.ListedResult, len(rows))
	for i, r := range rows {
		out[i] = hisapi.ListedResult{Cursor: r.ID, At: r.At, Kind: r.Kind, Result: r.Result}
	}
	return out, nil
}

// WindowInfo implements hisapi.WindowStater.
func (b backend) WindowInfo() hisapi.WindowInfo {
	b.s.windowMu.Lock()
	defer b.s.windowMu.Unlock()
	return b.s.window
}

// CacheAge implements hisapi.CacheAger.
func (b backend) CacheAge() time.Duration {
	newest := b.db.Newest()
	if newest.IsZero() {
		return -1
	}
	return time.Since(newest)
}

// OutboxSize implements hisapi.OutboxSizer.
func (b backend) OutboxSize() int {
	st, err := b.db.Stats(context.Background())
	if err != nil {
		return 0
	}
	return st.Pending
}

// build wires every part of the agent from cfg. Parts that need a device
// that is absent keep waiting for it rather than failing.
func build(ctx context.Context, cfg config.Config, o runOptions, log *slog.Logger) (*stack, error) {
	s := &stack{cfg: cfg, log: log, bus: events.New(), demo: o.demo, configFile: o.configFile, ctx: ctx}
	built := false
	defer func() {
		if !built {
			s.close()
		}
	}()
	if o.demo {
		if err := s.startDemo(ctx, o); err != nil {
			return nil, err
		}
	}
	db, err := cache.Open(ctx, filepath.Join(s.cfg.DataDir, "cache.db"), cache.Options{
		Retention: s.cfg.Cache.Retention.Duration, Keyring: !o.demo, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("opening cache: %w", err)
	}
	s.db = db
	s.runs = append(s.runs, db.Run)
	var store agent.Store = db
	if h := s.cfg.Hospital; h.DSN != "" {
		// Hospital mode: the desk's answers go up to the hospital's
		// PostgreSQL in the background, and a lookup its own cache cannot
		// answer asks the other desks' (docs/hospital.md).
		hdb, kf, err := openHospital(s.cfg, log)
		if err != nil {
			return nil, err
		}
		s.hospital, s.keyFile = hdb, kf
		s.runs = append(s.runs, func(ctx context.Context) error { return hdb.Run(ctx, db) })
		s.runs = append(s.runs, func(ctx context.Context) error { return hdb.Listen(ctx, db) })
		store = hospital.Shared{DB: db, Hospital: hdb, Retention: s.cfg.Cache.Retention.Duration}
		s.reload = o.reload
		s.applyCachedFleet(o)
	}

	if s.cfg.Gateway.Password == "" {
		s.cfg.Gateway.Password, _, _ = config.PasswordStore{DataDir: s.cfg.DataDir}.Load(s.cfg.Gateway.Username)
	}
	var c agent.Checker
	switch gc, err := newGatewayClient(s.cfg, true, s.bus, log); {
	case errors.Is(err, bhxh.ErrNoAccount):
		// Start anyway: IT enters the account in the window's settings,
		// and meanwhile the desk answers from its cache and queues checks.
		log.Error("No gateway account is set up, so checks cannot reach the BHXH gateway; enter the gateway username and password in the window's Settings (or the config file and tiepdon's password store), then checks resume by themselves")
		// Why there is no account (e.g. an unreadable password file), for
		// /healthz and the window's status.
		var why []string
		for _, i := range o.setup {
			why = append(why, i.EN)
		}
		c = bhxh.NotConfigured(s.bus, time.Now(), why...)
	case err != nil:
		return nil, fmt.Errorf("gateway client: %w", err)
	default:
		c = gc
	}

	ob, err := outbox.New(outbox.Options{DB: db, Bus: s.bus, Reason: bhxh.Reason, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}

	var sources []drivers.Source
	if src := s.scannerSource(); src != nil {
		sources = append(sources, src)
	}
	if !s.cfg.Reader.Disabled {
		chip, err := s.chipSource()
		if err != nil {
			return nil, err
		}
		sources = append(sources, chip)
	}
	// Every answer leaves with a receipt signed by this desk's key.
	rkey, where, err := receipt.LoadKey(s.cfg.DataDir, !o.demo, log)
	if err != nil {
		return nil, fmt.Errorf("receipt key: %w", err)
	}
	log.Debug("receipt key", "in", where, "keyId", receipt.KeyID(rkey.Public().(ed25519.PublicKey)))
	signer := receipt.NewSigner(rkey, s.cfg.Facility.Code, "", version)
	s.agent, err = agent.New(agent.Deps{
		Bus: s.bus, Identify: payload.Identify, Checker: c, Store: store, Queue: ob, Journal: ob, Sources: sources, Seal: signer.Seal,
		Staff: s.cfg.Staff, Hedge: s.cfg.Gateway.Hedge.Duration, Timeout: s.cfg.Gateway.Timeout.Duration, Logger: log,
		CrossCheck: crossCheck, AskCAN: !o.headless && !s.cfg.Reader.Disabled,
	})
	if err != nil {
		return nil, err
	}
	ob.SetAgent(s.agent)
	ob.SetStaff(s.agent.Staff)
	if s.settings, err = s.newSettings(); err != nil {
		return nil, err
	}
	s.startFleet(o)
	s.runs = append(s.runs, s.agent.Run, ob.Run)

	s.his, err = hisapi.New(hisOptions(s.cfg, log), backend{s.agent, db, s}, s.bus)
	if err != nil {
		return nil, fmt.Errorf("HIS API: %w", err)
	}
	if s.hisAt, err = s.his.Listen(); err != nil {
		return nil, fmt.Errorf("HIS API on %s: %w", s.cfg.HIS.Addr, err)
	}
	s.runs = append(s.runs, s.his.Run)
	s.runs = append(s.runs, s.logResults)
	built = true
	return s, nil
}

// hisOptions is the HIS API's part of the config.
func hisOptions(cfg config.Config, log *slog.Logger) hisapi.Options {
	h := cfg.HIS
	return hisapi.Options{
		Addr: h.Addr, AllowNonLoopback: h.AllowNonLoopback, Origins: h.Origins, DisableDemo: !h.DemoPage,
		DataDir: cfg.DataDir, Version: version, Logger: log,
		Limits: hisapi.Limits{
			MaxClients: h.MaxClients, ClientsPerOrigin: h.ClientsPerOrigin,
			MessagesPerSecond: h.MessagesPerSecond, Burst: h.Burst, MaxMessageBytes: h.MaxMessageBytes,
			IdleTimeout: h.IdleTimeout.Duration, PairingTimeout: h.PairingTimeout.Duration,
		}, // the rest: hisapi.DefaultLimits
	}
}

// run runs every part until ctx ends or one fails.
func (s *stack) run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, r := range s.runs {
		g.Go(func() error {
			if err := r(gctx); err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
			return nil
		})
	}
	s.log.Info("tiepdon running", "version", version, "his", "ws://"+s.hisAt.String()+hisapi.WebSocketPath,
		"gateway", s.cfg.Gateway.URL, "data", s.cfg.DataDir)
	return g.Wait()
}

// close releases what build opened.
func (s *stack) close() {
	if s.scanner != nil {
		s.scanner.Close()
	}
	if s.sim != nil {
		s.sim.Close()
	}
	if s.hospital != nil {
		s.hospital.Close()
	}
	if s.db != nil {
		s.db.Close()
	}
}

// logResults writes one line per result, with no personal data: it is how
// an operator (and the screenshot script) sees checks complete.
func (s *stack) logResults(ctx context.Context) error {
	sub := s.bus.Subscribe(events.EligibilityResult|events.EligibilityUpdated|events.ReadFailed, 64)
	defer sub.Close()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-sub.C():
			switch d := ev.Data.(type) {
			case events.Result:
				s.log.Info("eligibility "+map[events.Kind]string{events.EligibilityResult: "result", events.EligibilityUpdated: "updated"}[ev.Kind],
					"check", d.CheckID, "medium", d.Identity.Medium, "id", d.Identity.CitizenID,
					"verdict", d.Eligibility.Verdict, "code", d.Eligibility.Code, "source", d.Eligibility.Source,
					"age", d.Eligibility.Age.Round(time.Second))
			case events.Failure:
				s.log.Warn("A scan or card could not be read; staff are asked to scan or tap again", "check", d.CheckID, "device", d.Device, "reason", d.Reason)
			}
		}
	}
}

// startDemo starts the gateway simulator and the virtual scanner, and points
// the config at them.
func (s *stack) startDemo(ctx context.Context, o runOptions) error {
	s.sim = bhxhsim.New(bhxhsim.Options{Seed: o.demoSeed, Password: demoPassword, Logger: s.log})
	addr, err := s.sim.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("starting gateway simulator: %w", err)
	}
	s.simAddr = addr
	s.cfg.Gateway.URL = bhxhsim.URL(addr)
	s.cfg.Gateway.Username, s.cfg.Gateway.Password = "demo_BV", demoPassword
	if o.scanner != "" {
		// The developer's own scanner (--scanner): it is the serial
		// source, and simulated scans go straight to the agent.
		s.scanner = directScanner{s}
		s.log.Info("demo mode with your scanner", "gateway simulator", s.cfg.Gateway.URL, "scanner", s.cfg.Scanner.Port)
		return nil
	}
	sc, err := newDemoScanner(filepath.Join(s.cfg.DataDir, "run"))
	if err != nil {
		// No ptys (Windows): simulated scans go straight to the agent.
		s.log.Warn("The demo's virtual scanner is not available, so simulated scans skip the serial port; nothing to do", "err", err)
		s.scanner = directScanner{s}
		s.cfg.Scanner.Port = ""
	} else {
		s.scanner = sc
		s.cfg.Scanner.Port = sc.Path()
	}
	s.log.Info("demo mode", "gateway simulator", s.cfg.Gateway.URL, "virtual scanner", s.scanner.Path())
	return nil
}

// directScanner hands simulated scans to the agent without a serial port.
type directScanner struct{ s *stack }

func (d directScanner) Path() string { return "" }
func (d directScanner) Close() error { return nil }
func (d directScanner) Scan(payload string) error {
	d.s.agent.Present(drivers.Presentation{Medium: patient.MediumQR, Device: "demo", At: time.Now(), Payload: []byte(payload)})
	return nil
}

var demoRand = struct {
	sync.Mutex
	*rand.Rand
}{Rand: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))}

// simulateScan makes the virtual scanner send the CCCD QR of a random
// synthetic person: one of the first people (every result code) most of the
// time, anyone else otherwise.
func (s *stack) simulateScan() error {
	if s.sim == nil || s.scanner == nil {
		return errors.New("simulated scans exist in demo mode only")
	}
	demoRand.Lock()
	i := demoRand.IntN(len(bhxhsim.Showcase) * 3)
	demoRand.Unlock()
	p := s.sim.Person(i)
	if err := s.scanner.Scan(p.CCCDQR()); err != nil {
		return err
	}
	s.demoTap(s.ctx, p)
	return nil
}

// demoFirstScan is the person the demo's first automatic scan shows: an
// eligible one, so the screenshot shows the common case.
func (s *stack) demoFirstScan() error {
	p, ok := s.sim.Example("000")
	if !ok {
		return s.simulateScan()
	}
	if err := s.scanner.Scan(p.CCCDQR()); err != nil {
		return err
	}
	s.demoTap(s.ctx, p)
	return nil
}

// serve builds the stack and runs it, with the window unless headless.
func serve(ctx context.Context, cfg config.Config, o runOptions, log *slog.Logger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := build(ctx, cfg, o, log)
	if err != nil {
		return err
	}
	defer s.close()
	if o.demo && s.sim != nil {
		s.runs = append(s.runs, s.demoScanRequests)
	}
	if o.demo && o.demoScanAfter > 0 {
		s.runs = append(s.runs, func(ctx context.Context) error {
			select {
			case <-ctx.Done():
			case <-time.After(o.demoScanAfter):
				if err := s.demoFirstScan(); err != nil {
					s.log.Error("The demo's simulated scan failed; try the button again", "err", err)
				}
			}
			return nil
		})
	}
	if o.headless {
		s.setWindow(hisapi.WindowInfo{State: "headless"})
		return s.run(ctx)
	}
	// The agent and the HIS API run before the window is tried: a
	// graphics driver that hangs must not keep the HIS waiting.
	stopped := make(chan error, 1)
	go func() { stopped <- s.run(ctx) }()
	// A probe that has not come back in glProbeWait is a window that will
	// not open: say so, as for one that fails.
	wait := glProbeWait
	hung := time.AfterFunc(wait, func() {
		s.windowFailed(fmt.Errorf("the OpenGL check did not come back within %s", wait))
	})
	err = probeOpenGL()
	if !hung.Stop() {
		return <-stopped
	}
	if err != nil {
		// The window cannot open here: keep the agent and the HIS API
		// running, and tell the person at the desk and IT why.
		s.windowFailed(err)
		return <-stopped
	}
	return s.runWindow(ctx, cancel, o, stopped)
}

// glProbeWait is how long the OpenGL check may take before the window is
// given up (it takes well under a second where OpenGL works).
var glProbeWait = 30 * time.Second

// setWindow records the window's state for /healthz.
func (s *stack) setWindow(w hisapi.WindowInfo) {
	s.windowMu.Lock()
	s.window = w
	s.windowMu.Unlock()
}

// windowFailed records that the window could not open (or failed), logs it
// in plain words with the fix, and tells the person at the desk.
func (s *stack) windowFailed(err error) {
	w := hisapi.WindowInfo{State: "failed", Reason: err.Error(),
		FixVI: "Máy này không mở được cửa sổ tiepdon (thiếu OpenGL 2.1). Cập nhật driver card đồ hoạ; nếu dùng Remote Desktop, bật OpenGL phần cứng cho phiên RDP. tiepdon vẫn chạy và vẫn gửi kết quả cho HIS.",
		FixEN: "This PC cannot open the tiepdon window (no OpenGL 2.1). Update the graphics driver; over Remote Desktop, enable hardware OpenGL for RDP sessions. tiepdon keeps running and still sends results to the HIS."}
	s.setWindow(w)
	s.log.Error("The tiepdon window could not open, so reception staff see nothing on this PC; update the graphics driver (over Remote Desktop: enable hardware OpenGL); tiepdon keeps running and the HIS still gets results", "err", err)
	tellDesk("tiepdon", w.FixVI+"\n\n"+w.FixEN, s.log)
}

// openHospital prepares hospital mode from the config: the hospital keys,
// this desk's ID, and the store (not connected yet: Run connects); and the
// follower of the key file, which takes a changed file without a restart.
func openHospital(cfg config.Config, log *slog.Logger) (*hospital.DB, *hospital.KeyFile, error) {
	keys, b, err := hospital.ReadKeys(cfg.Hospital.KeyFile)
	if err != nil {
		return nil, nil, err
	}
	id, err := hospital.ReadDeskID(cfg.DataDir)
	if err != nil {
		return nil, nil, fmt.Errorf("hospital desk ID: %w", err)
	}
	db, err := hospital.New(hospital.Options{DSN: cfg.Hospital.DSN, Keys: keys, DeskID: id, Desk: cfg.Hospital.Desk,
		LookupTimeout: cfg.Hospital.LookupTimeout.Duration, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	kf := hospital.NewKeyFile(cfg.Hospital.KeyFile, keys, b)
	kf.Pool, kf.Retention, kf.Logger = db.Pool(), cfg.Cache.Retention.Duration, log
	return db, kf, nil
}
