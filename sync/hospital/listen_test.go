package hospital_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/sync/hospital"
	"github.com/tiepdon/tiepdon/sync/hospital/pgtest"
)

// waitCached waits until desk d's own SQLite cache (not the store) answers
// for id, kept by desk name.
func waitCached(t *testing.T, d *desk, id patient.CitizenID, name string) patient.Eligibility {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		e, ok, err := d.db.Lookup(context.Background(), patient.Query{CitizenID: id})
		if ok && err == nil && e.CachedBy == name {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("desk's own cache never got %s's answer (ok %v, cachedBy %q, err %v)", name, ok, e.CachedBy, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// listen runs the desk's listener until the test ends.
func (d *desk) listen(t testing.TB) { d.listenTo(t, d.db) }

// listenTo runs the desk's listener, filing into w, until the test ends.
func (d *desk) listenTo(t testing.TB, w hospital.Warm) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.h.Listen(ctx, w) }()
	t.Cleanup(func() { cancel(); <-done })
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestListenWarmsOtherDesks: a live answer kept at desk A reaches desk B's
// own SQLite cache through LISTEN/NOTIFY, named as A's; B's own answers and
// answers about the query are not filed; after PostgreSQL is stopped and
// started again, what A kept meanwhile reaches B too.
func TestListenWarmsOtherDesks(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t)
	keys := testKeys(t)
	a := newDesk(t, c.DSN, keys, "desk-a", "Quầy 3")
	b := newDesk(t, c.DSN, keys, "desk-b", "Quầy 7")
	ctx := context.Background()
	// A quiet listener pings the store; the ping must not cost the session.
	defer hospital.SetListenPing(50 * time.Millisecond)()
	b.listen(t)
	waitFor(t, "desk B listening", b.h.Listening)
	waitFor(t, "three pings of a quiet listener", func() bool { return b.h.ListenPings() >= 3 })
	if n := b.h.ListenSessions(); n != 1 {
		t.Fatalf("the quiet listener's pings cost it its session: %d sessions", n)
	}
	person := func(i int) patient.Identity {
		id := an
		id.CitizenID = patient.CitizenID(fmt.Sprintf("%012d", 79085100000+i))
		return id
	}
	mismatch := answer("m1", person(99), "", time.Now())
	mismatch.Eligibility.Verdict, mismatch.Eligibility.Code = patient.InputMismatch, "060"
	if err := a.db.SaveResult(ctx, events.EligibilityResult, mismatch); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	if err := a.db.SaveResult(ctx, events.EligibilityResult, answer("c1", person(1), "", at)); err != nil {
		t.Fatal(err)
	}
	e := waitCached(t, b, person(1).CitizenID, "Quầy 3")
	if e.Verdict != patient.Eligible || !e.CheckedAt.Equal(at) || e.Source != patient.SourceCache {
		t.Errorf("desk B's cache: %s %s at %v, want A's eligible answer of %v", e.Source, e.Verdict, e.CheckedAt, at)
	}
	if _, ok, _ := b.db.Lookup(ctx, patient.Query{CitizenID: person(99).CitizenID}); ok {
		t.Error("a mismatch (about the query) reached another desk's cache")
	}
	// B's own answer is not filed again as someone else's.
	if err := b.db.SaveResult(ctx, events.EligibilityResult, answer("b1", person(2), "", time.Now())); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := b.db.Lookup(ctx, patient.Query{CitizenID: person(2).CitizenID}); ok {
		t.Fatal("SaveResult alone filed a cache answer: the test below proves nothing")
	}

	// The store goes away; A keeps answering on its own, then the store
	// comes back and B catches up.
	c.Stop(t)
	for i := 10; i < 20; i++ {
		if err := a.db.SaveResult(ctx, events.EligibilityResult, answer(fmt.Sprintf("c%d", i), person(i), "", time.Now())); err != nil {
			t.Fatal(err)
		}
	}
	c.Start(t)
	for i := 10; i < 20; i++ {
		waitCached(t, b, person(i).CitizenID, "Quầy 3")
	}
	if _, ok, _ := b.db.Lookup(ctx, patient.Query{CitizenID: person(2).CitizenID}); ok {
		t.Error("desk B's own replicated answer came back into its cache as another desk's")
	}
}

// TestListenStartCopiesTheLastDay: a desk that starts (a PC switched on in
// the morning) copies into its own cache the other desks' answers of the
// last 24 hours, and leaves older ones to the shared lookup; a desk that
// appears after an outage is followed too. (That the listener takes, on
// reconnecting, what a desk it never heard of kept while it was away is
// TestHospitalStoreKilledMidBurst's case, which failed before it did.)
func TestListenStartCopiesTheLastDay(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t)
	keys := testKeys(t)
	ctx := context.Background()
	a := newDesk(t, c.DSN, keys, "desk-a", "Quầy 3")
	person := func(i int) patient.Identity {
		id := an
		id.CitizenID = patient.CitizenID(fmt.Sprintf("%012d", 79085300000+i))
		return id
	}
	for i, age := range []time.Duration{25 * time.Hour, 23 * time.Hour, time.Minute} {
		if err := a.db.SaveResult(ctx, events.EligibilityResult, answer(fmt.Sprintf("c%d", i), person(i), "", time.Now().Add(-age))); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := pgx.Connect(ctx, c.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	waitRows(t, conn, "desk-a", 3)

	b := newDesk(t, c.DSN, keys, "desk-b", "Quầy 7")
	b.listen(t)
	waitCached(t, b, person(1).CitizenID, "Quầy 3")
	waitCached(t, b, person(2).CitizenID, "Quầy 3")
	if _, ok, _ := b.db.Lookup(ctx, patient.Query{CitizenID: person(0).CitizenID}); ok {
		t.Error("a starting desk copied an answer older than a day")
	}
	if e, ok, err := b.shared.Lookup(ctx, patient.Query{CitizenID: person(0).CitizenID}); err != nil || !ok || e.CachedBy != "Quầy 3" {
		t.Errorf("the shared lookup of the day-old answer: %v %v %q", ok, err, e.CachedBy)
	}

	// After an outage, desk C appears and keeps an answer.
	c.Stop(t)
	c.Start(t)
	cdesk := newDesk(t, c.DSN, keys, "desk-c", "Quầy 9")
	if err := cdesk.db.SaveResult(ctx, events.EligibilityResult, answer("c-new", person(7), "", time.Now())); err != nil {
		t.Fatal(err)
	}
	waitCached(t, b, person(7).CitizenID, "Quầy 9")
}
