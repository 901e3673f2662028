// Package receipt signs a lasting proof of every answer the agent gives: who
// was checked (card), when, by which desk and staff member (a keyed
// reference, not the ID), how the identity was proven, what the national
// gateway answered (its code, message and a hash of its raw answer) and
// whether that answer was live or cached. BHXH rejects claims ("xuất toán")
// when a card was not valid on the visit date; a receipt lets the hospital
// show what the gateway said at the counter, as Germany's VSDM writes a
// signed check proof (Prüfungsnachweis) into the billing record.
//
// A receipt is Ed25519 (RFC 8032) over the exact bytes of a JSON object,
// carried base64-encoded beside the signature, so any language can check it
// without re-encoding JSON: decode payload, verify sig with the desk's public
// key, then parse payload.
package receipt

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tiepdon/tiepdon/agent"
	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
)

// Version is the receipt format's version (the payload's "v").
const Version = 1

// Alg is the only signature algorithm receipts use.
const Alg = "Ed25519"

// Fields is what a receipt's payload holds. Times are UTC RFC 3339 with
// milliseconds; durations are milliseconds.
type Fields struct {
	V          int    `json:"v"`
	CheckID    string `json:"checkId"`
	Kind       string `json:"kind"`     // "eligibility.result" or "eligibility.updated"
	Facility   string `json:"facility"` // the facility's code (maCSKCB) of the desk that checked
	Desk       string `json:"desk,omitempty"`
	StaffRef   string `json:"staffRef,omitempty"` // HMAC-SHA-256 of the staff member's CCCD under the desk's key: stable per desk, not the ID
	Medium     string `json:"medium"`             // chip, qr-cccd, qr-bhyt, typed, his
	Auth       Auth   `json:"authenticity"`
	CardNumber string `json:"cardNumber,omitempty"`
	Verdict    string `json:"verdict"`
	Code       string `json:"code"` // the gateway's maKetQua ("" when it gave none)
	Message    string `json:"message,omitempty"`
	ValidFrom  string `json:"validFrom,omitempty"` // dd/MM/yyyy, as the gateway gives it
	ValidTo    string `json:"validTo,omitempty"`
	AnswerHash string `json:"answerSha256,omitempty"` // SHA-256 of the gateway's raw answer body, hex
	Source     string `json:"source"`                 // live, cache or none
	AgeMs      int64  `json:"ageMs,omitempty"`        // a cached answer's age when shown
	AskedAt    string `json:"askedAt"`
	AnsweredAt string `json:"answeredAt"`
	CheckedAt  string `json:"checkedAt,omitempty"` // when the gateway gave the answer (earlier than answeredAt for a cached one)
	Recheck    bool   `json:"recheck,omitempty"`   // a re-check of a check queued while the gateway was away
	Agent      string `json:"agent"`               // "tiepdon/<version>"
}

// Auth is how the identity was proven.
type Auth struct {
	Level      string `json:"level"`                // verified, intact-issuer-unknown, failed, unverified
	SODSigner  string `json:"sodSigner,omitempty"`  // the document signer's subject, for a chip read
	CloneCheck string `json:"cloneCheck,omitempty"` // active or chip authentication outcome
}

// Signer signs answers with a desk's key. Its Seal is the agent's
// Deps.Seal.
type Signer struct {
	Key      ed25519.PrivateKey
	Facility string
	Desk     string
	Version  string // the agent's version
	staffKey []byte
}

// NewSigner returns a signer with key k.
func NewSigner(k ed25519.PrivateKey, facility, desk, version string) *Signer {
	m := hmac.New(sha256.New, k.Seed())
	m.Write([]byte("tiepdon receipt staff reference"))
	return &Signer{Key: k, Facility: facility, Desk: desk, Version: version, staffKey: m.Sum(nil)}
}

// KeyID names a public key: the first 8 bytes of its SHA-256, hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// Seal signs f's answer and attaches the receipt to f.Result.
func (s *Signer) Seal(_ context.Context, f agent.Finishing) {
	r := f.Result
	fs := s.fields(f)
	rc, err := s.Sign(fs)
	if err != nil {
		return // cannot happen: Fields always encode
	}
	r.Receipt = &rc
}

func (s *Signer) fields(f agent.Finishing) Fields {
	r := f.Result
	e := r.Eligibility
	fs := Fields{
		V: Version, CheckID: r.CheckID, Kind: f.Kind.String(), Facility: s.Facility, Desk: s.Desk,
		Medium: string(r.Identity.Medium), CardNumber: string(e.CardNumber),
		Verdict: string(e.Verdict), Code: e.Code, Message: e.ReasonVI,
		AnswerHash: e.AnswerSHA256, Source: string(e.Source),
		AskedAt: stamp(f.Asked), AnsweredAt: stamp(f.Answered), Recheck: f.Queued,
		Agent: "tiepdon/" + s.Version,
	}
	if fs.CardNumber == "" {
		fs.CardNumber = string(r.Identity.CardNumber)
	}
	if !e.ValidFrom.IsZero() {
		fs.ValidFrom = e.ValidFrom.String()
	}
	if !e.ValidTo.IsZero() {
		fs.ValidTo = e.ValidTo.String()
	}
	if !e.CheckedAt.IsZero() {
		fs.CheckedAt = stamp(e.CheckedAt)
	}
	if e.Source == patient.SourceCache {
		fs.AgeMs = e.Age.Milliseconds()
	}
	if f.Staff.CitizenID != "" {
		m := hmac.New(sha256.New, s.staffKey)
		m.Write([]byte(f.Staff.CitizenID))
		fs.StaffRef = hex.EncodeToString(m.Sum(nil)[:16])
	}
	a := r.Identity.Authenticity
	fs.Auth = Auth{Level: string(a.Level), CloneCheck: string(a.Clone), SODSigner: a.Signer}
	if fs.Auth.Level == "" {
		fs.Auth.Level = string(patient.Unverified)
	}
	return fs
}

// Sign signs fs.
func (s *Signer) Sign(fs Fields) (events.Receipt, error) {
	payload, err := json.Marshal(fs)
	if err != nil {
		return events.Receipt{}, fmt.Errorf("encoding receipt: %w", err)
	}
	sig := ed25519.Sign(s.Key, payload)
	return events.Receipt{
		Alg: Alg, KeyID: KeyID(s.Key.Public().(ed25519.PublicKey)),
		Payload: base64.StdEncoding.EncodeToString(payload), Sig: base64.StdEncoding.EncodeToString(sig),
	}, nil
}

// Errors of Verify.
var (
	ErrBadSignature = errors.New("receipt signature does not verify")
	ErrOtherKey     = errors.New("receipt was signed by another key")
)

// Verify checks r against pub and returns its fields.
func Verify(pub ed25519.PublicKey, r events.Receipt) (Fields, error) {
	if r.Alg != Alg {
		return Fields{}, fmt.Errorf("receipt algorithm %q: want %s", r.Alg, Alg)
	}
	if r.KeyID != KeyID(pub) {
		return Fields{}, fmt.Errorf("%w (key %s, this key is %s)", ErrOtherKey, r.KeyID, KeyID(pub))
	}
	payload, err := base64.StdEncoding.DecodeString(r.Payload)
	if err != nil {
		return Fields{}, fmt.Errorf("receipt payload: %w", err)
	}
	sig, err := base64.StdEncoding.DecodeString(r.Sig)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return Fields{}, fmt.Errorf("receipt signature: not %d bytes of base64", ed25519.SignatureSize)
	}
	if !ed25519.Verify(pub, payload, sig) {
		return Fields{}, ErrBadSignature
	}
	var fs Fields
	if err := json.Unmarshal(payload, &fs); err != nil {
		return Fields{}, fmt.Errorf("receipt payload: %w", err)
	}
	if fs.V != Version {
		return fs, fmt.Errorf("receipt version %d: this tiepdon reads %d", fs.V, Version)
	}
	return fs, nil
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}
