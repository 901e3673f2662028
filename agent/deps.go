package agent

import (
	"context"
	"time"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/agent/words"
	"github.com/tiepdon/tiepdon/drivers"
)

// ErrUnavailable is returned (wrapped) by a Checker when the gateway could
// not give an answer: network error, timeout, breaker open, technical result
// codes (100, 101, 500, 401 after re-login). The agent then falls back to the
// cache and queues a re-check.
var ErrUnavailable = words.Error("gateway unavailable", "không kết nối được cổng BHXH")

// ErrAccountRefused is wrapped, beside ErrUnavailable, by a Checker's error
// when the gateway refuses the facility's account: waiting will not help,
// IT must fix the account, and staff are told to call them.
var ErrAccountRefused = words.Error("gateway refused the facility's account", "cổng BHXH từ chối tài khoản của cơ sở")

// ErrNotConfigured is wrapped, beside ErrUnavailable, by a Checker's error
// while the desk has no gateway account: IT (or staff with the IT PIN) must
// enter it in the window's settings; checks are queued until then.
var ErrNotConfigured = words.Error("no gateway account is set up", "chưa cài tài khoản cổng BHXH")

// Checker asks the national gateway about a patient. Any answer the gateway
// gives (eligible or not) is a result, not an error.
type Checker interface {
	Check(ctx context.Context, q patient.Query) (patient.Eligibility, error)
}

// Store is the local eligibility cache and audit log.
type Store interface {
	// Lookup returns the newest cached answer for any identifier in q.
	Lookup(ctx context.Context, q patient.Query) (patient.Eligibility, bool, error)
	// Save caches a live answer under every identifier it names.
	Save(ctx context.Context, q patient.Query, e patient.Eligibility) error
	// Record appends to the audit log.
	Record(ctx context.Context, a Audit) error
}

// Queue holds checks that could not be answered live, to be retried when the
// gateway returns (sync/outbox).
type Queue interface {
	Enqueue(ctx context.Context, checkID string, id patient.Identity) error
}

// Identifier turns a scanned or typed payload into an identity. It returns a
// descriptive error for payloads it cannot read (the error text is safe to
// show: it holds no personal data).
type Identifier func(p drivers.Presentation) (patient.Identity, error)

// Audit is one line of the audit log: every check, with no personal data
// beyond what the store encrypts.
type Audit struct {
	Time      time.Time
	CheckID   string
	Staff     patient.Staff
	Medium    patient.Medium
	Source    patient.Source
	Code      string
	Verdict   patient.Verdict
	Latency   time.Duration
	CitizenID patient.CitizenID  // encrypted at rest by the store
	Card      patient.CardNumber // encrypted at rest by the store
}

// Journal keeps every accepted scan on disk from before its check starts
// until the check is finished (answered, or queued for a re-check), so a
// crash or kill -9 loses no scan: after a restart the journaled scans are
// re-checked (sync/outbox).
type Journal interface {
	// Accept records a scan whose check is about to start.
	Accept(ctx context.Context, checkID string, id patient.Identity) error
	// Finished closes a journaled scan whose check is answered. A check
	// queued meanwhile (Queue.Enqueue) stays queued.
	Finished(ctx context.Context, checkID string) error
}

// ResultStore is implemented by a Store that keeps every answer with its
// receipt across restarts (sync/cache), for receipt.get and receipts.list.
type ResultStore interface {
	SaveResult(ctx context.Context, kind events.Kind, r events.Result) error
}
