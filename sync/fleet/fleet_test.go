package fleet

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiepdon/tiepdon/agent/config"
	"github.com/tiepdon/tiepdon/sync/hospital"
	"github.com/tiepdon/tiepdon/sync/hospital/pgtest"
)

var cluster *pgtest.Cluster

func TestMain(m *testing.M) {
	c, stop, err := pgtest.Shared()
	switch {
	case err == nil:
		cluster = c
	case err != pgtest.ErrNotInstalled:
		panic(err)
	}
	code := m.Run()
	if stop != nil {
		stop()
	}
	os.Exit(code)
}

// store returns a pool on a fresh, migrated database of the shared cluster.
func store(t *testing.T) (*pgxpool.Pool, string) {
	t.Helper()
	dsn := cluster.NewDB(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hospital.Migrate(ctx, conn, hospital.Migrations()); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, dsn
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func healthy(name string) Status {
	return Status{Name: name, Version: "0.0.300", Gateway: Gateway{State: "online"}, Window: Window{State: "open"},
		Readers: []Device{{Name: "ACS ACR39U", State: "ready"}}, Scanners: []Device{{Name: "/dev/ttyACM0", State: "ready"}},
		Outbox: Outbox{Disk: "ok"}}
}

// TestStatusAndMissing runs three desks' status writers against a real
// PostgreSQL: a healthy one, one whose gateway refuses the account, one
// whose role may not delete expired answers, and one that stops. The
// stopped desk is listed as missing once it has been silent for longer
// than the limit, and the list is worst first.
func TestStatusAndMissing(t *testing.T) {
	t.Parallel()
	pool, _ := store(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	run := func(id string, st Status) context.CancelFunc {
		rctx, stop := context.WithCancel(ctx)
		r := &Reporter{Pool: pool, DeskID: id, Every: 100 * time.Millisecond, Collect: func() Status { return st }}
		go r.Run(rctx)
		return stop
	}
	run("d1", healthy("Quầy 1"))
	refused := healthy("Quầy 2")
	refused.Gateway = Gateway{State: "account-refused", Since: time.Now()}
	refused.Version = "0.0.299"
	run("d2", refused)
	stopD3 := run("d3", healthy("Quầy 3"))
	unpurged := healthy("Quầy 4")
	unpurged.PurgeError = "permission denied for function tiepdon_purge"
	run("d4", unpurged)

	const missingAfter = 1500 * time.Millisecond
	waitFor(t, "four desks to report", func() bool {
		ds, err := List(ctx, pool, missingAfter)
		return err == nil && len(ds) == 4
	})
	ds, _ := List(ctx, pool, missingAfter)
	if ds[0].ID != "d2" || ds[0].Severity != Urgent || !strings.Contains(strings.Join(ds[0].Attention, ";"), "refuses the facility's account") {
		t.Fatalf("worst first: %+v", ds[0])
	}
	if !strings.Contains(strings.Join(ds[0].Attention, ";"), "runs version 0.0.299, others run 0.0.300") {
		t.Fatalf("older version not mentioned: %v", ds[0].Attention)
	}
	if ds[1].ID != "d4" || ds[1].Severity != Warning || !strings.Contains(strings.Join(ds[1].Attention, ";"), "cannot delete expired answers in PostgreSQL: permission denied") {
		t.Fatalf("a desk whose role may not purge: %+v", ds[1])
	}
	for _, d := range ds[2:] {
		if d.Severity != OK || d.Missing || len(d.Attention) != 0 {
			t.Fatalf("healthy desk listed with %v: %+v", d.Severity, d)
		}
		if off := d.ClockOffset; off > time.Second || off < -time.Second {
			t.Fatalf("clock offset of a desk on the same machine: %s", off)
		}
	}

	stopD3()
	waitFor(t, "the stopped desk to be listed as missing", func() bool {
		ds, err := List(ctx, pool, missingAfter)
		return err == nil && ds[0].ID == "d3" && ds[0].Missing
	})
	ds, _ = List(ctx, pool, missingAfter)
	if ds[0].Severity != Urgent || !strings.HasPrefix(ds[0].Attention[0], "missing: no report for") || ds[1].ID != "d2" || ds[2].Missing {
		t.Fatalf("after the stop: %+v", ds)
	}
	// With the default limit (2 minutes) a desk silent for a few seconds
	// is not missing; one whose last report is 3 minutes old is.
	if ds, _ := List(ctx, pool, 0); ds[0].Missing || ds[1].Missing || ds[2].Missing {
		t.Fatalf("missing under the default limit: %+v", ds)
	}
	if _, err := pool.Exec(ctx, `UPDATE desk_status SET reported_at = now() - interval '3 minutes' WHERE desk_id = 'd3'`); err != nil {
		t.Fatal(err)
	}
	if ds, _ := List(ctx, pool, 0); !ds[0].Missing || ds[0].ID != "d3" {
		t.Fatalf("a desk silent for 3 minutes: %+v", ds[0])
	}
	b, err := json.Marshal(ds)
	if err != nil || !strings.Contains(string(b), `"missing":true`) || !strings.Contains(string(b), `"clockOffsetMs"`) {
		t.Fatalf("JSON: %s %v", b, err)
	}
}

// TestClockOffset: a desk whose clock runs 5 minutes ahead is told.
func TestClockOffset(t *testing.T) {
	t.Parallel()
	pool, _ := store(t)
	ctx := context.Background()
	st := healthy("Quầy 9")
	st.SentAt = time.Now().Add(5 * time.Minute)
	b, _ := json.Marshal(st)
	if _, err := pool.Exec(ctx, `INSERT INTO desks (desk_id, name) VALUES ('d9', 'Quầy 9')`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO desk_status (desk_id, status) VALUES ('d9', $1)`, b); err != nil {
		t.Fatal(err)
	}
	// A desk that replicates but never reported is listed as missing.
	if _, err := pool.Exec(ctx, `INSERT INTO desks (desk_id, name) VALUES ('d8', 'Quầy 8')`); err != nil {
		t.Fatal(err)
	}
	ds, err := List(ctx, pool, 0)
	if err != nil || len(ds) != 2 {
		t.Fatal(ds, err)
	}
	if !ds[0].Missing || !ds[0].Never || ds[0].ID != "d8" || !strings.Contains(ds[0].Attention[0], "never reported") {
		t.Fatalf("a desk that never reported: %+v", ds[0])
	}
	ds = ds[1:]
	if off := ds[0].ClockOffset; off < 4*time.Minute || off > 6*time.Minute || !strings.Contains(strings.Join(ds[0].Attention, ";"), "ahead of the database server") {
		t.Fatalf("offset %s, attention %v", off, ds[0].Attention)
	}
}

// TestSettingsReachDesks: IT sets, locks and unsets settings and the
// password; a desk's watcher reads and applies them, keeps them for a
// start without PostgreSQL, and the password is nowhere in plain text.
func TestSettingsReachDesks(t *testing.T) {
	t.Parallel()
	pool, _ := store(t)
	ctx := context.Background()
	k1, _ := hospital.NewKey("2026-01")
	keys, _ := hospital.ParseKeys([]byte(k1))
	const password = "Fleet-Pw-7731"

	if err := Set(ctx, pool, "gateway.md5_case", "purple", false); err == nil {
		t.Fatal("an invalid value was accepted")
	}
	if err := Set(ctx, pool, "data_dir", "/tmp", false); err == nil {
		t.Fatal("data_dir was accepted")
	}
	if err := Set(ctx, pool, "gateway.url", "https://daotaoegw.baohiemxahoi.gov.vn", true); err != nil {
		t.Fatal(err)
	}
	if err := Set(ctx, pool, "gateway.username", "79014_BV", false); err != nil {
		t.Fatal(err)
	}
	if id, err := SetPassword(ctx, pool, keys, password); err != nil || id != "2026-01" {
		t.Fatalf("SetPassword: %q %v", id, err)
	}

	dir := t.TempDir()
	var got []*config.Fleet
	w := &Watcher{Pool: pool, Keys: keys, File: filepath.Join(dir, "fleet-settings.json"),
		Apply: func(f *config.Fleet) error { got = append(got, f); return nil }}
	if err := w.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Values["gateway.url"] != "https://daotaoegw.baohiemxahoi.gov.vn" ||
		got[0].Values["gateway.username"] != "79014_BV" || got[0].GatewayPassword != password ||
		len(got[0].Locked) != 1 || got[0].Locked[0] != "gateway.url" {
		t.Fatalf("applied: %+v", got)
	}
	if applied, problem := w.State(); applied.IsZero() || problem != "" {
		t.Fatalf("state: %v %q", applied, problem)
	}
	// Nothing changed: nothing applied again.
	if err := w.Poll(ctx); err != nil || len(got) != 1 {
		t.Fatalf("second poll applied again: %d %v", len(got), err)
	}
	if _, err := Unset(ctx, pool, "gateway.username"); err != nil {
		t.Fatal(err)
	}
	if err := w.Poll(ctx); err != nil || len(got) != 2 || got[1].Values["gateway.username"] != "" {
		t.Fatalf("after unset: %d %+v %v", len(got), got[len(got)-1], err)
	}

	// The password is in no table and not in the desk's kept copy.
	var dump string
	if err := pool.QueryRow(ctx, `SELECT coalesce((SELECT string_agg(t::text, ',') FROM fleet_secrets t), '') ||
		coalesce((SELECT string_agg(t::text, ',') FROM fleet_settings t), '')`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	kept, _ := os.ReadFile(w.File)
	for what, s := range map[string]string{"PostgreSQL": dump, "the kept copy": string(kept)} {
		if strings.Contains(s, password) || strings.Contains(strings.ToLower(s), strings.ToLower(hexOf(password))) {
			t.Fatalf("the password is in plain text in %s", what)
		}
	}

	// A desk started while PostgreSQL is down applies the kept copy.
	w2 := &Watcher{Keys: keys, File: w.File}
	f, err := w2.Cached()
	if err != nil || f.GatewayPassword != password || f.Values["gateway.url"] == "" {
		t.Fatalf("cached: %+v %v", f, err)
	}
	// A desk without the current key says so and keeps the rest.
	k2, _ := hospital.NewKey("2026-07")
	other, _ := hospital.ParseKeys([]byte(k2))
	w3 := &Watcher{Keys: other, File: w.File}
	if f, err := w3.Cached(); err == nil || f.Values["gateway.url"] == "" || f.GatewayPassword != "" {
		t.Fatalf("wrong key: %+v %v", f, err)
	}
	if ok, err := Unset(ctx, pool, PasswordSecret); err != nil || !ok {
		t.Fatalf("unset password: %v %v", ok, err)
	}
}

func hexOf(s string) string {
	const digits = "0123456789abcdef"
	var b strings.Builder
	for _, c := range []byte(s) {
		b.WriteByte(digits[c>>4])
		b.WriteByte(digits[c&15])
	}
	return b.String()
}
