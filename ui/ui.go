// Package ui is tiepdon's reception window, built with Fyne. It shows the
// verdict for the patient at the counter in a form staff can read from a
// metre away, with the patient, card, provenance and visit history, and
// lets staff type a card number, sign in for their shift, re-check, approve
// HIS pairings and change settings.
//
// The window only reads the event bus (agent/events) and calls the agent
// through the small Actions interface, plus optional extras it detects by
// type assertion (Scanner, Simulator, CANProvider, PairingManager,
// SettingsStore, DeviceLister). It never imports fyne.io/fyne/v2/app:
// cmd/tiepdon creates the app and passes it to New, and tests use the Fyne
// test driver with no GL or display.
//
// Every widget is touched on the Fyne goroutine only: bus events and the
// results of calls to the agent reach the widgets through fyne.Do.
package ui

import (
	"context"
	"image"
	"log/slog"
	"sync"
	"time"

	"fyne.io/fyne/v2"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
)

// Actions is what the window asks of the agent. Check and SetStaff are
// required; the rest is optional and detected by type assertion on the
// same value (see Scanner, Simulator, CANProvider, PairingManager,
// SettingsStore, DeviceLister), so the window can be wired piece by piece.
type Actions interface {
	// Check starts an eligibility check for a typed identity or a
	// re-check and returns its check ID; the answer comes on the bus.
	Check(ctx context.Context, id patient.Identity) (checkID string, err error)
	// SetStaff signs a staff member in for the shift (hoTenCb, cccdCb).
	SetStaff(s patient.Staff)
}

// Scanner takes a keyboard-wedge scan the window detected (fast keystrokes
// ending in Enter) and handles it like a line from a serial scanner.
type Scanner interface {
	Scan(payload string)
}

// Simulator presents a synthetic patient (demo mode only). When Actions
// does not implement it, or Options.Demo is false, the button is hidden.
type Simulator interface {
	SimulateScan() error
}

// CANProvider takes the last 6 digits of the citizen ID that staff typed
// for a chip tapped without a QR scan first (PACE needs them as the CAN).
type CANProvider interface {
	ProvideCAN(can string) error
}

// PairingManager lists and revokes the HIS apps paired with this agent.
// Pairing requests themselves arrive on the bus (events.PairingRequested)
// and are answered through their Reply func.
type PairingManager interface {
	Pairings() []PairingInfo
	RevokePairing(id string) error
}

// SettingsStore reads and saves the settings IT may change in the window.
// SaveSettings stores the password in the OS keyring where there is one
// and applies what it can without a restart; it returns an error for
// settings it refuses.
type SettingsStore interface {
	Settings() Settings
	SaveSettings(s Settings) error
}

// DeviceLister returns the current state of every device, so the status
// bar is right from the first frame (the bus only remembers the last
// DeviceChanged event).
type DeviceLister interface {
	Devices() []events.Device
}

// StaffSource returns the staff member already signed in (for example
// from an earlier start within the same shift).
type StaffSource interface {
	Staff() patient.Staff
}

// PairingInfo is one paired HIS app.
type PairingInfo struct {
	ID       string
	Origin   string   // web origin ("" for an app outside a browser)
	Name     string   // the app's name, as it gave it when pairing or as IT set it
	Scopes   []string // what it may receive: "eligibility", "identity", "photo", "history"
	Since    time.Time
	LastSeen time.Time // zero if never connected since pairing
}

// SettingsGuard, when the SettingsStore implements it, keeps the settings
// page read-only until the IT PIN is typed, or for an OS administrator.
type SettingsGuard interface {
	PINSet() bool
	Admin() bool
	// Unlock checks pin; while wrong PINs have locked the page it returns
	// false and how long is left.
	Unlock(pin string) (ok bool, wait time.Duration)
}

// GatewayTester, when the SettingsStore implements it, signs in to the
// gateway with changed settings before they are saved.
type GatewayTester interface {
	TryGateway(s Settings) error
}

// Settings are the settings IT may change in the window.
type Settings struct {
	GatewayURL  string // e.g. https://egw.baohiemxahoi.gov.vn
	GatewayUser string
	// GatewayPassword is write-only: empty means "keep the stored one".
	GatewayPassword string
	// PasswordStored reports that a password is stored (read-only).
	PasswordStored bool
	// PasswordInKeyring reports that the password lives in the OS keyring
	// rather than in an encrypted file (read-only).
	PasswordInKeyring bool

	Reader   string   // PC/SC reader name; "" picks the first one
	Readers  []string // choices (read-only)
	Scanner  string   // serial port, "" auto-picks, "wedge" for keyboard-wedge only
	Scanners []string // choices (read-only)

	HISOrigins    []string // web origins allowed to connect, e.g. https://his.example.vn
	RetentionDays int      // how long cached answers and audit lines are kept
	Language      string   // "vi" or "en"

	// Locked lists the config keys IT has locked ("gateway.url",
	// "gateway.password", ...: the machine-wide file's locked list or the
	// hospital's fleet settings); the page shows them read-only.
	Locked []string
}

// deskSize is the window's default size: the working area of the
// commonest reception screens (1280×720 and 1366×768) less a Windows
// taskbar (40 px) and the window's title bar (about 30 px). The window's
// content never needs more (TestFitsTheDesk).
var deskSize = fyne.NewSize(1270, 650)

// ScannerWedge is the Settings.Scanner value for keyboard-wedge scanners only.
const ScannerWedge = "wedge"

// AlertCANRequired is the events.AlertData.Code that makes the window ask for
// the last 6 digits of the citizen ID (a chip tapped without a QR first).
const AlertCANRequired = "can-required"

// Options configure the window.
type Options struct {
	Language string // "vi" (default) or "en"
	Demo     bool   // show the demo button (when Actions implements Simulator)
	Title    string // window title; default "tiepdon"
	// Facility is this facility's code (maCSKCB): the card panel says
	// whether it is the patient's initial-registration facility.
	Facility string
	// Size is the initial window size (default deskSize, which fits a
	// 1280×720 or 1366×768 screen above a Windows taskbar); cmd/tiepdon
	// then maximises the window where the platform allows.
	Size fyne.Size
	// Beeper plays the sound cue of each verdict; nil uses the platform
	// player (winmm on Windows, aplay where installed), Mute turns it off.
	Beeper Beeper
	Mute   bool
	// Now is the clock for ages and keystroke timing (default time.Now).
	Now func() time.Time
	// Rendered, if set, is called on the Fyne goroutine after each bus
	// event has been rendered (tests and the screenshot tool wait on it).
	Rendered func(ev events.Event)
	// Setup lists what IT must fix that tiepdon started without (an
	// unreadable password file, a broken settings file): the window shows
	// it in the alert strip while no patient alert is up.
	Setup []SetupIssue
	// Location is the zone times are shown in (default time.Local).
	Location *time.Location
	Logger   *slog.Logger
}

// SetupIssue is one thing start-up could not use, in both languages.
type SetupIssue struct{ VI, EN string }

// UI is the reception window.
type UI struct {
	app  fyne.App
	win  fyne.Window
	bus  *events.Bus
	act  Actions
	opts Options
	log  *slog.Logger
	now  func() time.Time
	cat  catalogue
	beep Beeper

	ctx    context.Context
	cancel context.CancelFunc
	sub    *events.Subscription
	wg     sync.WaitGroup

	st    state
	w     *widgets
	wedge Wedge
	// wedgePause fires a pause after the last key, for scanners that send
	// no Enter; wedgeField is the text field the current burst went into.
	wedgePause *time.Timer
	wedgeField *wedgeEntry
	// pairTimer counts pairing requests down while any wait.
	pairTimer *time.Timer

	photoSrc []byte // the chip photo last decoded, and its image
	photoImg image.Image

	// do runs f on the Fyne goroutine: fyne.Do, or in tests a queue the
	// test goroutine drains, so that updates never race with the test.
	do      func(f func())
	onAsync func() // test hook: an async call's update has run
}

// New builds the window for app, driven by bus and acting through actions.
// Call Start (or ShowAndRun) to subscribe to the bus.
func New(app fyne.App, bus *events.Bus, actions Actions, opts Options) *UI {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Title == "" {
		opts.Title = "tiepdon"
	}
	if opts.Size.IsZero() {
		opts.Size = deskSize
	}
	u := &UI{app: app, bus: bus, act: actions, opts: opts, log: opts.Logger, now: opts.Now, do: fyne.Do}
	u.cat = catalogueFor(opts.Language)
	switch {
	case opts.Mute:
		u.beep = nil
	case opts.Beeper != nil:
		u.beep = opts.Beeper
	default:
		u.beep = platformBeeper(u.log)
	}
	u.ctx, u.cancel = context.WithCancel(context.Background())
	u.st.devices = map[string]events.Device{}
	if ss, ok := actions.(StaffSource); ok {
		u.st.staff = ss.Staff()
	}
	if dl, ok := actions.(DeviceLister); ok {
		for _, d := range dl.Devices() {
			u.st.devices[deviceKey(d)] = d
		}
	}
	u.win = app.NewWindow(opts.Title)
	u.win.Resize(opts.Size)
	u.build()
	u.win.SetOnClosed(u.Close)
	return u
}

// Window returns the window.
func (u *UI) Window() fyne.Window { return u.win }

// Start subscribes to the bus and shows the state it already knows
// (gateway, outbox, clients, last device). It returns at once.
func (u *UI) Start() {
	if u.sub != nil || u.bus == nil {
		return
	}
	for _, k := range []events.Kind{events.GatewayChanged, events.OutboxChanged, events.ClientsChanged, events.DeviceChanged} {
		if ev, ok := u.bus.Last(k); ok {
			u.apply(ev)
		}
	}
	u.sub = u.bus.Subscribe(uiKinds, 256)
	u.wg.Add(1)
	go u.loop(u.sub)
}

// uiKinds are the events the window renders.
const uiKinds = events.DeviceChanged | events.CardPresented | events.CardProgress | events.IdentityRead |
	events.EligibilityResult | events.EligibilityUpdated | events.GatewayChanged | events.OutboxChanged |
	events.ClientsChanged | events.Alert | events.PairingRequested | events.ReadFailed

// Show starts the window and shows it; the caller runs the app.
func (u *UI) Show() {
	u.Start()
	u.startShift()
	u.win.Show()
}

// startShift opens the sign-in when no one is signed in for the shift.
func (u *UI) startShift() {
	if u.st.staff.CitizenID == "" {
		u.showSignIn()
	}
}

// ShowAndRun starts the window, shows it and runs the app until the window
// is closed. It must be called on the main goroutine.
func (u *UI) ShowAndRun() {
	u.Start()
	u.startShift()
	u.win.ShowAndRun()
}

// Close ends the bus subscription and waits (at most two seconds: a call
// into the agent may still be running) for the window's goroutines to end.
// It is called when the window closes and may be called more than once.
func (u *UI) Close() {
	u.cancel()
	if u.sub != nil {
		u.sub.Close()
	}
	done := make(chan struct{})
	go func() { u.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		u.log.Warn("The window closed while some of its background work was still running; nothing to do unless tiepdon does not exit")
	}
}

func (u *UI) loop(sub *events.Subscription) {
	defer u.wg.Done()
	for ev := range sub.C() {
		u.do(func() {
			u.apply(ev)
			if u.opts.Rendered != nil {
				u.opts.Rendered(ev)
			}
		})
	}
}

// async runs call off the Fyne goroutine (calls into the agent may block)
// and then applies the UI update it returns on the Fyne goroutine.
func (u *UI) async(call func() func()) {
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		update := call()
		u.do(func() {
			if update != nil {
				update()
			}
			if u.onAsync != nil {
				u.onAsync()
			}
		})
	}()
}
