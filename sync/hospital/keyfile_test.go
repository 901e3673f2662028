package hospital_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/sync/hospital"
)

// TestKeyFileFollowed: a desk's keyring follows its key file through both
// rounds of a rotation; a broken file, and one that drops a key that still
// opens a recent answer in PostgreSQL, are refused with the old keys kept
// and a problem that holds no key material; the old key may go once no
// answer within the retention needs it.
func TestKeyFileFollowed(t *testing.T) {
	t.Parallel()
	dsn := cluster.NewDB(t)
	k1, _ := hospital.NewKey("k1")
	k2, _ := hospital.NewKey("k2")
	file := filepath.Join(t.TempDir(), "hospital.keys")
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(k1 + "\n")
	b, _ := os.ReadFile(file)
	keys, err := hospital.ParseKeys(b)
	if err != nil {
		t.Fatal(err)
	}
	a := newDesk(t, dsn, keys, "desk-a", "Quầy 3")
	kf := hospital.NewKeyFile(file, keys, b)
	kf.Pool, kf.Retention, kf.Logger = a.h.Pool(), 30*24*time.Hour, quiet
	ctx := context.Background()
	secrets := []string{strings.Fields(k1)[1], strings.Fields(k2)[1]}
	noSecret := func(p string) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(p, s) {
				t.Fatalf("the problem holds key material: %s", p)
			}
		}
	}

	if p := kf.Check(ctx); p != "" || keys.Current() != "k1" {
		t.Fatalf("unchanged file: problem %q, current %s", p, keys.Current())
	}
	// Round 1: the new key goes second. The desk opens with it, seals with k1.
	write(k1 + "\n" + k2 + "\n")
	if p := kf.Check(ctx); p != "" || keys.Current() != "k1" || !keys.Holds("k2") {
		t.Fatalf("round 1: problem %q, keys %v", p, keys.IDs())
	}
	// An answer sealed with k1, two hours ago.
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := a.db.SaveResult(ctx, events.EligibilityResult, answer("c1", an, "DN4797912345678", time.Now().Add(-2*time.Hour))); err != nil {
		t.Fatal(err)
	}
	waitRows(t, conn, "desk-a", 1)
	// Round 2: the new key goes first and seals from now on.
	write(k2 + "\n" + k1 + "\n")
	if p := kf.Check(ctx); p != "" || keys.Current() != "k2" {
		t.Fatalf("round 2: problem %q, keys %v", p, keys.IDs())
	}
	id, _, err := keys.Seal([]byte("x"), []byte("t"))
	if err != nil || id != "k2" {
		t.Fatalf("sealed with %q (%v), want k2", id, err)
	}

	// A broken file: the keys stay, the problem names the line.
	write(k2 + "\nk1 not-base64\n")
	p := kf.Check(ctx)
	if !strings.Contains(p, "line 2") || !strings.Contains(p, "keeps the keys it has") || keys.Current() != "k2" || !keys.Holds("k1") {
		t.Fatalf("broken file: problem %q, keys %v", p, keys.IDs())
	}
	noSecret(p)
	if kf.Problem() != p {
		t.Fatalf("Problem() = %q, want %q", kf.Problem(), p)
	}

	// Dropping k1 while an answer of the last 30 days is sealed with it.
	write(k2 + "\n")
	p = kf.Check(ctx)
	if !strings.Contains(p, "drops key k1") || !strings.Contains(p, "30 days") || !keys.Holds("k1") {
		t.Fatalf("dropped a needed key: problem %q, keys %v", p, keys.IDs())
	}
	noSecret(p)
	// Without PostgreSQL's word, a dropped key is kept too.
	offline := hospital.NewKeyFile(file, keys, nil)
	if p := offline.Check(ctx); !strings.Contains(p, "drops key k1") || !keys.Holds("k1") {
		t.Fatalf("dropped a key without PostgreSQL: problem %q, keys %v", p, keys.IDs())
	}
	// Past the retention (an hour here), nothing needs k1: it may go.
	kf.Retention = time.Hour
	if p := kf.Check(ctx); p != "" || keys.Holds("k1") || keys.Current() != "k2" {
		t.Fatalf("after the retention: problem %q, keys %v", p, keys.IDs())
	}
}

// TestKeyFileRun: Run picks a rotated file up on its own.
func TestKeyFileRun(t *testing.T) {
	t.Parallel()
	k1, _ := hospital.NewKey("k1")
	k2, _ := hospital.NewKey("k2")
	file := filepath.Join(t.TempDir(), "hospital.keys")
	os.WriteFile(file, []byte(k1+"\n"), 0o600)
	b, _ := os.ReadFile(file)
	keys, _ := hospital.ParseKeys(b)
	kf := hospital.NewKeyFile(file, keys, b)
	kf.Every, kf.Logger = 10*time.Millisecond, quiet
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); kf.Run(ctx) }()
	defer func() { cancel(); <-done }()
	os.WriteFile(file, []byte(k2+"\n"+k1+"\n"), 0o600)
	waitFor(t, "the rotated key file taken", func() bool { return keys.Current() == "k2" })
}
