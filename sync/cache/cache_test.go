package cache

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/tiepdon/tiepdon/agent"
	"github.com/tiepdon/tiepdon/agent/keystore"
	"github.com/tiepdon/tiepdon/agent/patient"
)

type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

var quiet = slog.New(slog.DiscardHandler)

func open(t testing.TB, path string, o Options) *DB {
	t.Helper()
	if o.Logger == nil {
		o.Logger = quiet
	}
	db, err := Open(context.Background(), path, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var (
	alice = patient.Query{
		CardNumber: "DN4790123456789", CitizenID: "079190001234",
		Name: "Nguyễn Thị Ánh", BirthDate: patient.Date{Year: 1990, Month: 2, Day: 3},
	}
	aliceAnswer = patient.Eligibility{
		Verdict: patient.Eligible, Code: "000", ReasonVI: "Thẻ còn giá trị sử dụng.", ReasonEN: "Valid.",
		CardNumber: "DN4790123456789", Holder: "Nguyễn Thị Ánh", BirthDate: patient.Date{Year: 1990, Month: 2, Day: 3},
		ValidFrom: patient.Date{Year: 2026, Month: 1, Day: 1}, ValidTo: patient.Date{Year: 2026, Month: 12, Day: 31},
		RegisteredFacility: "79014", SocialInsuranceNumber: "0123456789", BenefitLevel: 4, BenefitPercent: 80,
		Source: patient.SourceLive, Latency: 120 * time.Millisecond,
	}
)

func TestSaveLookup(t *testing.T) {
	clk := newClock()
	db := open(t, filepath.Join(t.TempDir(), "cache.db"), Options{Now: clk.Now})
	ctx := context.Background()
	e := aliceAnswer
	e.CheckedAt = clk.Now()
	if err := db.Save(ctx, alice, e); err != nil {
		t.Fatal(err)
	}
	clk.Add(2 * time.Hour)
	for _, q := range []patient.Query{
		{CitizenID: alice.CitizenID},
		{CardNumber: alice.CardNumber},
		{SocialInsuranceNumber: "0123456789"},                     // the card's last 10 digits
		{CardNumber: "0123456789"},                                // a 10-digit number typed in the card field
		{CardNumber: "dn4790123456789"},                           // lower case
		{CitizenID: "079190009999", CardNumber: alice.CardNumber}, // one identifier known is enough
	} {
		got, ok, err := db.Lookup(ctx, q)
		if err != nil || !ok {
			t.Fatalf("lookup %+v: %v %v", q, ok, err)
		}
		if got.Source != patient.SourceCache || !got.CheckedAt.Equal(e.CheckedAt) || got.Age != 2*time.Hour {
			t.Errorf("source %s checkedAt %v age %v", got.Source, got.CheckedAt, got.Age)
		}
		if got.Verdict != e.Verdict || got.Holder != e.Holder || got.ValidTo != e.ValidTo || got.BenefitPercent != 80 {
			t.Errorf("got %+v", got)
		}
	}
	if _, ok, err := db.Lookup(ctx, patient.Query{CitizenID: "079190009999"}); ok || err != nil {
		t.Fatalf("unknown ID found: %v %v", ok, err)
	}
	if _, ok, err := db.Lookup(ctx, patient.Query{}); ok || err != nil {
		t.Fatalf("empty query found: %v %v", ok, err)
	}
}

func TestOpenCreatesDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "cache.db")
	db := open(t, path, Options{})
	if s, err := db.Stats(context.Background()); err != nil || s.Answers != 0 || !s.Newest.IsZero() {
		t.Fatalf("stats %+v %v", s, err)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o700) {
		t.Fatalf("directory: %v %v", fi, err)
	}
	if fi, err := os.Stat(path); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
		t.Fatalf("database file: %v %v", fi.Mode(), err)
	}
}

func TestNewestWins(t *testing.T) {
	clk := newClock()
	db := open(t, filepath.Join(t.TempDir(), "cache.db"), Options{Now: clk.Now})
	ctx := context.Background()
	newer := aliceAnswer
	newer.CheckedAt = clk.Now()
	newer.Verdict, newer.Code = patient.NotEligible, "010"
	older := aliceAnswer
	older.CheckedAt = clk.Now().Add(-time.Hour)
	// The newer answer is saved first (an outbox answer can land late).
	if err := db.Save(ctx, alice, newer); err != nil {
		t.Fatal(err)
	}
	if err := db.Save(ctx, alice, older); err != nil {
		t.Fatal(err)
	}
	got, ok, err := db.Lookup(ctx, patient.Query{CitizenID: alice.CitizenID})
	if err != nil || !ok || got.Code != "010" {
		t.Fatalf("got %s %v %v, want the newer 010", got.Code, ok, err)
	}
}

func TestOnlyCardAnswersCached(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "cache.db"), Options{})
	ctx := context.Background()
	for _, v := range []patient.Verdict{patient.StaffProblem, patient.InputMismatch, patient.Unavailable} {
		e := aliceAnswer
		e.Verdict, e.CheckedAt = v, time.Now()
		if err := db.Save(ctx, alice, e); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := db.Lookup(ctx, alice); ok {
			t.Fatalf("%s answer was cached", v)
		}
	}
}

// TestEncryptedAtRest reads the database file itself: no identifier, name
// or answer text may appear in it.
func TestEncryptedAtRest(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cache.db")
	db := open(t, path, Options{})
	ctx := context.Background()
	e := aliceAnswer
	e.CheckedAt = time.Now()
	if err := db.Save(ctx, alice, e); err != nil {
		t.Fatal(err)
	}
	if err := db.Record(ctx, agent.Audit{CheckID: "c1", Staff: patient.Staff{Name: "Trần Văn Bảo", CitizenID: "001080005555"},
		Medium: patient.MediumQRCCCD, Source: patient.SourceLive, Code: "000", Verdict: patient.Eligible,
		CitizenID: alice.CitizenID, Card: alice.CardNumber}); err != nil {
		t.Fatal(err)
	}
	if err := db.OutboxPut(ctx, "c2", patient.Identity{CitizenID: alice.CitizenID, Name: alice.Name}, patient.Staff{}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	var all []byte
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, _ := os.ReadFile(path + suffix)
		all = append(all, b...)
	}
	if len(all) == 0 {
		t.Fatal("database file empty")
	}
	for _, secret := range []string{string(alice.CitizenID), string(alice.CardNumber), "0123456789", "Nguyễn", "Ánh", "001080005555", "Bảo", "79014"} {
		if bytes.Contains(all, []byte(secret)) {
			t.Errorf("database file contains %q in plain text", secret)
		}
	}
	if !bytes.Contains(all, []byte("eligible")) {
		t.Error("verdict column not found: is the test reading the right file?")
	}
	// The key is outside the database, readable only by its owner.
	fi, err := os.Stat(path + ".key")
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestKeyMismatch(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cache.db")
	db := open(t, path, Options{})
	db.Close()
	// Same key: opens.
	db2 := open(t, path, Options{})
	db2.Close()
	// Another key: refused, not silently unreadable.
	_, err := Open(context.Background(), path, Options{KeyFile: filepath.Join(dir, "other.key"), Logger: quiet})
	if !errors.Is(err, ErrKeyMismatch) {
		t.Fatalf("err = %v, want ErrKeyMismatch", err)
	}
	os.WriteFile(filepath.Join(dir, "bad.key"), []byte("not hex"), 0o600)
	if _, err := Open(context.Background(), path, Options{KeyFile: filepath.Join(dir, "bad.key"), Logger: quiet}); err == nil {
		t.Fatal("malformed key accepted")
	}
}

func TestKeyring(t *testing.T) {
	keyring.MockInit()
	dir := t.TempDir()
	path := filepath.Join(dir, "cache.db")
	db := open(t, path, Options{Keyring: true})
	e := aliceAnswer
	e.CheckedAt = time.Now()
	if err := db.Save(context.Background(), alice, e); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := os.Stat(path + ".key"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("key file written although the keyring works: %v", err)
	}
	if s, err := keyring.Get(keystore.Service, keyringUser(path)); err != nil || len(s) != 64 {
		t.Fatalf("keyring entry: %q %v", s, err)
	}
	db = open(t, path, Options{Keyring: true})
	if _, ok, err := db.Lookup(context.Background(), alice); !ok || err != nil {
		t.Fatalf("lookup with the keyring's key: %v %v", ok, err)
	}
	db.Close()

	// No D-Bus: falls back to the key file.
	keyring.MockInitWithError(errors.New("dbus: no session bus"))
	path2 := filepath.Join(dir, "other.db")
	db = open(t, path2, Options{Keyring: true})
	db.Close()
	if _, err := os.Stat(path2 + ".key"); err != nil {
		t.Fatalf("no key file after keyring failure: %v", err)
	}
}

func TestMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	db := open(t, path, Options{})
	var v int
	if err := db.r.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != latestVersion(t) {
		t.Fatalf("user_version %d %v", v, err)
	}
	var mode string
	if err := db.r.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode %q %v", mode, err)
	}
	// Commits never checkpoint (no fsync inside a Save): the background
	// checkpointer does.
	var auto int
	if err := db.w.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("writer wal_autocheckpoint %d %v", auto, err)
	}
	db.Close()
	// A database from a newer tiepdon is refused.
	raw, _ := sql.Open("sqlite3", path)
	raw.Exec(`PRAGMA user_version = 99`)
	raw.Close()
	if _, err := Open(context.Background(), path, Options{Logger: quiet}); err == nil {
		t.Fatal("newer schema accepted")
	}
}

// TestUpgrade fills a version-1 database and opens it with the current
// schema: the data must still be found.
func TestUpgrade(t *testing.T) {
	v1, err := fs.ReadFile(embedded, "migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	migrations = fstest.MapFS{"migrations/0001_init.sql": {Data: v1}}
	path := filepath.Join(t.TempDir(), "cache.db")
	db, err := Open(context.Background(), path, Options{Logger: quiet})
	migrations = embedded
	if err != nil {
		t.Fatal(err)
	}
	e := aliceAnswer
	e.CheckedAt = time.Now()
	if err := db.Save(context.Background(), alice, e); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = open(t, path, Options{})
	var v int
	if err := db.r.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != latestVersion(t) {
		t.Fatalf("user_version %d %v", v, err)
	}
	if got, ok, err := db.Lookup(context.Background(), patient.Query{CitizenID: alice.CitizenID}); !ok || err != nil || got.Holder != alice.Name {
		t.Fatalf("lookup after upgrade: %v %v", ok, err)
	}
}

func TestRetentionAndPurge(t *testing.T) {
	clk := newClock()
	db := open(t, filepath.Join(t.TempDir(), "cache.db"), Options{Now: clk.Now, Retention: 30 * 24 * time.Hour, PurgeBatch: 7})
	ctx := context.Background()
	for i := range 50 {
		q := patient.Query{CitizenID: patient.CitizenID(fmt.Sprintf("0791900%05d", i))}
		e := aliceAnswer
		e.CheckedAt = clk.Now()
		if err := db.Save(ctx, q, e); err != nil {
			t.Fatal(err)
		}
		if err := db.Record(ctx, agent.Audit{CheckID: fmt.Sprint(i), CitizenID: q.CitizenID}); err != nil {
			t.Fatal(err)
		}
	}
	clk.Add(10 * 24 * time.Hour)
	fresh := patient.Query{CitizenID: "079190099999"}
	e := aliceAnswer
	e.CheckedAt = clk.Now()
	if err := db.Save(ctx, fresh, e); err != nil {
		t.Fatal(err)
	}
	clk.Add(21 * 24 * time.Hour) // the first 50 are now 31 days old
	if _, ok, _ := db.Lookup(ctx, patient.Query{CitizenID: "079190000003"}); ok {
		t.Fatal("an answer past retention is still served before the purge")
	}
	n, err := db.Purge(ctx)
	if err != nil || n != 100 {
		t.Fatalf("purged %d rows (%v), want 50 answers + 50 audit lines", n, err)
	}
	var keys int
	db.r.QueryRow(`SELECT count(*) FROM answer_keys`).Scan(&keys)
	if keys != 3 { // the fresh answer's citizen ID, card and social-insurance number
		t.Errorf("%d answer keys left, want 3", keys)
	}
	if _, ok, _ := db.Lookup(ctx, fresh); !ok {
		t.Error("the fresh answer was purged")
	}
	if s, _ := db.Stats(ctx); s.Answers != 1 || !s.Newest.Equal(e.CheckedAt) {
		t.Errorf("stats %+v", s)
	}
}

func TestAudit(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "cache.db"), Options{})
	ctx := context.Background()
	a := agent.Audit{Time: time.UnixMilli(time.Now().UnixMilli()), CheckID: "chk-1", Staff: patient.Staff{Name: "Trần Văn Bảo", CitizenID: "001080005555"},
		Medium: patient.MediumChip, Source: patient.SourceCache, Code: "000", Verdict: patient.Eligible,
		Latency: 301 * time.Millisecond, CitizenID: alice.CitizenID, Card: alice.CardNumber}
	if err := db.Record(ctx, a); err != nil {
		t.Fatal(err)
	}
	b := a
	b.CheckID, b.Source = "chk-1", patient.SourceLive
	if err := db.Record(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, err := db.Audit(ctx, "chk-1", "")
	if err != nil || len(got) != 2 || got[0] != a || got[1].Source != patient.SourceLive {
		t.Fatalf("audit by check: %+v %v", got, err)
	}
	got, err = db.Audit(ctx, "", alice.CitizenID)
	if err != nil || len(got) != 2 {
		t.Fatalf("audit by citizen ID: %d %v", len(got), err)
	}
}

func TestOutboxQueue(t *testing.T) {
	clk := newClock()
	db := open(t, filepath.Join(t.TempDir(), "cache.db"), Options{Now: clk.Now})
	ctx := context.Background()
	id := patient.Identity{Medium: patient.MediumChip, CitizenID: alice.CitizenID, Name: alice.Name,
		Chip: &patient.ChipData{Photo: []byte("jpeg"), Ethnicity: "Kinh"}}
	st := patient.Staff{Name: "Trần Văn Bảo", CitizenID: "001080005555"}
	if err := db.OutboxPut(ctx, "a", id, st); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Second)
	if err := db.OutboxPut(ctx, "b", patient.Identity{CitizenID: "079190000002"}, st); err != nil {
		t.Fatal(err)
	}
	if err := db.OutboxPut(ctx, "a", patient.Identity{}, st); err != nil { // again: ignored
		t.Fatal(err)
	}
	due, err := db.OutboxDue(ctx, clk.Now(), 10)
	if err != nil || len(due) != 2 || due[0].CheckID != "a" || due[0].Identity.Name != alice.Name || due[0].Staff != st {
		t.Fatalf("due: %+v %v", due, err)
	}
	if due[0].Identity.Chip == nil || due[0].Identity.Chip.Ethnicity != "Kinh" || due[0].Identity.Chip.Photo != nil {
		t.Errorf("chip data: %+v", due[0].Identity.Chip)
	}
	if err := db.OutboxDefer(ctx, due[0].ID, clk.Now().Add(time.Minute), "timeout"); err != nil {
		t.Fatal(err)
	}
	if err := db.OutboxDone(ctx, due[1].ID); err != nil {
		t.Fatal(err)
	}
	if due, _ := db.OutboxDue(ctx, clk.Now(), 10); len(due) != 0 {
		t.Fatalf("deferred check due early: %+v", due)
	}
	next, ok, err := db.OutboxNext(ctx)
	if err != nil || !ok || !next.Equal(clk.Now().Add(time.Minute).Truncate(time.Millisecond)) {
		t.Fatalf("next %v %v %v", next, ok, err)
	}
	if err := db.OutboxWake(ctx); err != nil {
		t.Fatal(err)
	}
	due, _ = db.OutboxDue(ctx, clk.Now(), 10)
	if len(due) != 1 || due[0].Attempts != 1 || due[0].LastError != "timeout" {
		t.Fatalf("after wake: %+v", due)
	}
	if n, _ := db.OutboxLen(ctx); n != 1 {
		t.Fatalf("len %d", n)
	}
}

// TestAbruptClose writes through one handle and reopens the file without
// closing it (as after kill -9: the WAL is not checkpointed): nothing
// committed may be lost. sync/outbox has the same test with a real killed
// process.
func TestAbruptClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cache.db")
	db, err := Open(context.Background(), path, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	// No Close: the handle is abandoned with its WAL.
	ctx := context.Background()
	for i := range 20 {
		if err := db.OutboxPut(ctx, fmt.Sprint(i), patient.Identity{CitizenID: alice.CitizenID}, patient.Staff{}); err != nil {
			t.Fatal(err)
		}
	}
	e := aliceAnswer
	e.CheckedAt = time.Now()
	if err := db.Save(ctx, alice, e); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("no WAL file: %v", err)
	}
	db2 := open(t, path, Options{})
	if n, _ := db2.OutboxLen(ctx); n != 20 {
		t.Fatalf("%d queued checks after reopening, want 20", n)
	}
	if _, ok, _ := db2.Lookup(ctx, alice); !ok {
		t.Fatal("cached answer lost")
	}
	db.Close()
}

func TestConcurrentUse(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "cache.db"), Options{})
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				q := patient.Query{CitizenID: patient.CitizenID(fmt.Sprintf("07919%d%06d", w, i))}
				e := aliceAnswer
				e.CheckedAt = time.Now()
				if err := db.Save(ctx, q, e); err != nil {
					t.Error(err)
					return
				}
				if _, ok, err := db.Lookup(ctx, q); !ok || err != nil {
					t.Error("lookup after save:", ok, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if s, _ := db.Stats(ctx); s.Answers != 200 {
		t.Fatalf("answers %d, want 200", s.Answers)
	}
}

// latestVersion is the schema version of the newest embedded migration.
func latestVersion(t *testing.T) int {
	t.Helper()
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil || len(names) < 3 {
		t.Fatalf("embedded migrations %v %v", names, err)
	}
	return len(names)
}

// A journaled scan is not a queued check until it is recovered after a
// crash or queued by the agent; closing it removes only a journal row.
func TestJournal(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "cache.db"), Options{})
	ctx := context.Background()
	id := patient.Identity{CitizenID: alice.CitizenID, Name: alice.Name}
	for _, c := range []string{"j1", "j2", "j3"} {
		if err := db.JournalPut(ctx, c, id, patient.Staff{}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := db.OutboxLen(ctx); err != nil || n != 0 {
		t.Fatalf("journaled scans counted as queued: %d %v", n, err)
	}
	if due, err := db.OutboxDue(ctx, time.Now().Add(time.Hour), 10); err != nil || len(due) != 0 {
		t.Fatalf("journaled scans due: %d %v", len(due), err)
	}
	// j1 finishes; j2's gateway is away, so the agent queues it.
	if err := db.JournalDone(ctx, "j1"); err != nil {
		t.Fatal(err)
	}
	if err := db.OutboxPut(ctx, "j2", id, patient.Staff{}); err != nil {
		t.Fatal(err)
	}
	if err := db.JournalDone(ctx, "j2"); err != nil { // a queued check stays queued
		t.Fatal(err)
	}
	if n, _ := db.OutboxLen(ctx); n != 1 {
		t.Fatalf("%d queued, want j2 only", n)
	}
	// A crash: j3 was accepted but never finished.
	if n, err := db.JournalRecover(ctx); err != nil || n != 1 {
		t.Fatalf("recovered %d %v, want 1", n, err)
	}
	due, err := db.OutboxDue(ctx, time.Now().Add(time.Second), 10)
	if err != nil || len(due) != 2 || due[0].Identity.CitizenID != alice.CitizenID {
		t.Fatalf("due after recovery: %+v %v", due, err)
	}
	got := map[string]bool{due[0].CheckID: true, due[1].CheckID: true}
	if !got["j2"] || !got["j3"] {
		t.Fatalf("due after recovery: %v, want j2 and j3", got)
	}
}
