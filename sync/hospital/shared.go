package hospital

import (
	"context"
	"time"

	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/sync/cache"
)

// Shared is a desk's cache with the hospital store behind it: a lookup the
// desk's own cache cannot answer asks the store (within its lookup
// timeout) for the newest live answer any desk kept. The agent looks up
// only when the gateway is slow or down, so the store is never on the path
// of a live answer.
type Shared struct {
	*cache.DB
	Hospital *DB
	// Retention is how old a shared answer may be (the desk's own cache
	// retention).
	Retention time.Duration
	Now       func() time.Time
}

// Lookup implements agent.Store.
func (s Shared) Lookup(ctx context.Context, q patient.Query) (patient.Eligibility, bool, error) {
	e, ok, err := s.DB.Lookup(ctx, q)
	if ok || err != nil {
		return e, ok, err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	e, ok, err = s.Hospital.Lookup(ctx, q, now().Add(-s.Retention))
	if err != nil {
		// A slow or failing store is the same as no shared answer: the
		// desk answers as it would on its own.
		s.Hospital.o.Logger.Warn("The hospital store did not answer a shared-cache lookup in time, so this desk answers on its own; check the PostgreSQL server if it keeps happening", "err", err)
		return patient.Eligibility{}, false, nil
	}
	return e, ok, nil
}
