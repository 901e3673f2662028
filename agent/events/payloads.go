package events

import (
	"context"
	"time"

	"github.com/tiepdon/tiepdon/agent/patient"
)

// DeviceKind says what sort of device a Device event is about.
type DeviceKind string

// Device kinds.
const (
	Reader  DeviceKind = "reader"  // PC/SC card reader
	Scanner DeviceKind = "scanner" // serial or keyboard-wedge QR scanner
)

// DeviceState is a device's condition.
type DeviceState string

// Device states.
const (
	DeviceReady   DeviceState = "ready"   // present and usable
	DeviceCard    DeviceState = "card"    // reader with a card in its field
	DeviceMissing DeviceState = "missing" // unplugged or not found; tiepdon keeps trying
	DeviceError   DeviceState = "error"
)

// Device is the payload of DeviceChanged.
type Device struct {
	Kind   DeviceKind  `json:"kind"`
	Name   string      `json:"name"` // reader name or port path
	State  DeviceState `json:"state"`
	Detail string      `json:"detail,omitempty"`
}

// Presented is the payload of CardPresented: something was tapped or scanned.
type Presented struct {
	CheckID string         `json:"checkId"`
	Medium  patient.Medium `json:"medium"`
	Device  string         `json:"device,omitempty"`
	// HIS marks a check a HIS app asked for (eligibility.check), not one
	// presented or typed at the desk; App is the app's name as paired. The
	// window labels the check with it; it is not sent to HIS apps (one
	// app has no business learning another's name).
	HIS bool   `json:"-"`
	App string `json:"-"`
}

// hisKey is the context key of WithHISApp.
type hisKey struct{}

// WithHISApp marks ctx as a HIS app's request, for the agent to say so in
// the check's Presented event.
func WithHISApp(ctx context.Context, app string) context.Context {
	return context.WithValue(ctx, hisKey{}, app)
}

// HISAppOf reports whether ctx is a HIS app's request, and the app's name.
func HISAppOf(ctx context.Context) (app string, ok bool) {
	app, ok = ctx.Value(hisKey{}).(string)
	return app, ok
}

// Progress is the payload of CardProgress while a chip is being read.
type Progress struct {
	CheckID string `json:"checkId"`
	Step    string `json:"step"`    // the reader's step ("authenticating", "dg1", …, "waiting-for-key"); the HIS API names fewer (hisapi's wireStep)
	Percent int    `json:"percent"` // 0..100
}

// Identity is the payload of IdentityRead.
type Identity struct {
	CheckID  string           `json:"checkId"`
	Identity patient.Identity `json:"identity"`
}

// Result is the payload of EligibilityResult and EligibilityUpdated.
type Result struct {
	CheckID     string              `json:"checkId"`
	Identity    patient.Identity    `json:"identity"`
	Eligibility patient.Eligibility `json:"eligibility"`
	// Current reports that the check was the one on the reception screen
	// when the answer was published. An answer for any other check (a
	// patient already gone, or the screen cleared) is a late answer: the
	// window lists it apart and never lets it replace the verdict shown.
	Current bool `json:"current"`
	// Background marks a check a HIS back-end made with announce: false:
	// nobody waits at the desk for it, so the window does not show it and
	// reception pages should not treat it as the patient at the counter.
	Background bool `json:"background,omitempty"`
	// Receipt is the signed proof of this answer (agent/receipt), set by
	// the agent's finishing step when the desk has a receipt key.
	Receipt *Receipt `json:"receipt,omitempty"`
}

// Receipt is a signed record of one answer: Payload is the exact signed
// bytes (UTF-8 JSON, base64), Sig its Ed25519 signature (base64) by the key
// KeyID names. docs/his-api.md says how to check one in any language.
type Receipt struct {
	Alg     string `json:"alg"`     // "Ed25519"
	KeyID   string `json:"keyId"`   // first 8 bytes of SHA-256 of the public key, hex
	Payload string `json:"payload"` // base64 (standard, padded) of the signed JSON
	Sig     string `json:"sig"`     // base64 of the 64-byte signature
}

// GatewayState is the health of the national gateway as the circuit breaker sees it.
type GatewayState string

// Gateway states.
const (
	GatewayOnline   GatewayState = "online"
	GatewayDegraded GatewayState = "degraded" // slow or failing intermittently
	GatewayOffline  GatewayState = "offline"  // breaker open: answers come from the cache
	// GatewayAccountRefused: the gateway answers but refuses the facility's
	// account (login codes 401, 402, 403). Nothing recovers by waiting: IT
	// must fix the account or password. Answers come from the cache.
	GatewayAccountRefused GatewayState = "account-refused"
	// GatewayNotConfigured: the desk has no gateway account (username or
	// password) yet: the agent runs, and IT enters it in the settings.
	GatewayNotConfigured GatewayState = "not-configured"
)

// Gateway is the payload of GatewayChanged.
type Gateway struct {
	State  GatewayState `json:"state"`
	Since  time.Time    `json:"since"`
	Reason string       `json:"reason,omitempty"`
}

// Outbox is the payload of OutboxChanged.
type Outbox struct {
	Pending int `json:"pending"` // re-checks waiting for the gateway (on disk and in memory)
	// Unsaved is how many writes (journaled scans, queued re-checks, audit
	// lines, cached answers) wait in memory because the data folder refuses
	// them; Disk says whether it does, since DiskSince.
	Unsaved   int       `json:"unsaved"`
	Disk      DiskState `json:"disk"`
	DiskSince time.Time `json:"diskSince,omitzero"`
}

// DiskState is whether the data folder takes writes.
type DiskState string

// Disk states.
const (
	DiskOK       DiskState = "ok"
	DiskRefusing DiskState = "refusing" // writes fail (disk full, folder read-only or gone): kept in memory
)

// Clients is the payload of ClientsChanged.
type Clients struct {
	Connected int `json:"connected"`
}

// AlertData is the payload of Alert.
type AlertData struct {
	CheckID string `json:"checkId,omitempty"`
	Code    string `json:"code"` // e.g. "qr-chip-mismatch", "clone-suspected"
	Message string `json:"message"`
}

// Pairing is the payload of PairingRequested.
type Pairing struct {
	ID     string              `json:"id"`
	Origin string              `json:"origin"` // web origin or app name
	Code   string              `json:"code"`   // 6 digits, shown both in the window and on the HIS page
	Reply  func(approved bool) `json:"-"`
	Name   string              `json:"name,omitempty"`   // the app's name as it gave it (not verified)
	Scopes []string            `json:"scopes,omitempty"` // what it asks for: "eligibility", "identity", "photo", "history"
	// Expires is when the request lapses unanswered (the window counts
	// down to it and then drops the request); zero if it never does.
	Expires time.Time `json:"expires,omitzero"`
	// Ended says the request with this ID is over whoever answered it (IT
	// with tiepdon pairing approve, the window, the clock, or the app that
	// left): the window drops it. Only ID is set then.
	Ended bool `json:"ended,omitempty"`
}

// Failure is the payload of ReadFailed.
type Failure struct {
	CheckID string         `json:"checkId,omitempty"`
	Medium  patient.Medium `json:"medium"`
	Device  string         `json:"device,omitempty"`
	// Code says why, as a stable name (docs/his-api.md lists them; the
	// window words them in its catalogue).
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason"` // safe to show; no personal data
}
