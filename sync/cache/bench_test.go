package cache

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent/patient"
)

// people is the cache size for the lookup and purge benchmarks. The goal
// (issue 3) is stated for 1,000,000: make bench passes -cache.people=1000000.
var people = flag.Int("cache.people", 100_000, "cached answers to fill the benchmark database with")

func citizen(i int) patient.CitizenID { return patient.CitizenID(fmt.Sprintf("0791%08d", i)) }

// fill saves n answers checked at `at`, starting at person `from`, in large
// transactions (the benchmark's setup, not what is measured).
func fill(tb testing.TB, db *DB, from, n int, at time.Time) {
	tb.Helper()
	ctx := context.Background()
	for i := from; i < from+n; {
		tx, err := db.w.BeginTx(ctx, nil)
		if err != nil {
			tb.Fatal(err)
		}
		for end := min(i+20_000, from+n); i < end; i++ {
			e := aliceAnswer
			e.CheckedAt = at
			e.CardNumber = patient.CardNumber(fmt.Sprintf("DN479%010d", i))
			e.SocialInsuranceNumber = ""
			if err := db.saveTx(ctx, tx, patient.Query{CitizenID: citizen(i)}, e); err != nil {
				tb.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			tb.Fatal(err)
		}
		db.writes.Add(1)
	}
	db.rows.Add(int64(n))
}

// percentile returns the p-th percentile of d (sorted in place).
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

// BenchmarkLookup is a point lookup by citizen ID in a cache of
// -cache.people answers (goal: p99 ≤ 1 ms with 1,000,000).
func BenchmarkLookup(b *testing.B) {
	db := open(b, filepath.Join(b.TempDir(), "cache.db"), Options{})
	fill(b, db, 0, *people, time.Now())
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		q := patient.Query{CitizenID: citizen((i * 7919) % *people)}
		start := time.Now()
		if _, ok, err := db.Lookup(ctx, q); !ok || err != nil {
			b.Fatal(ok, err)
		}
		lat = append(lat, time.Since(start))
	}
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds()), "p99-µs")
	b.ReportMetric(float64(*people), "rows")
}

// BenchmarkSave is one cached answer, committed.
func BenchmarkSave(b *testing.B) {
	db := open(b, filepath.Join(b.TempDir(), "cache.db"), Options{})
	ctx := context.Background()
	lat := make([]time.Duration, 0, 4096)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		e := aliceAnswer
		e.CheckedAt = time.Now()
		start := time.Now()
		if err := db.Save(ctx, patient.Query{CitizenID: citizen(i)}, e); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}

var purgeBatch = flag.Int("cache.batch", 0, "PurgeBatch for the purge benchmark (0: the default)")

var template = flag.String("cache.template", "", "keep the filled purge-benchmark database here and reuse it (setup takes minutes at 1,000,000)")

// filled opens path, filled by fill or copied from -cache.template.
func filled(b *testing.B, path string, fillFn func(*DB), clk *clock) *DB {
	copyFile := func(from, to string) {
		data, err := os.ReadFile(from)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(to, data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	if *template != "" {
		if _, err := os.Stat(*template); err == nil {
			copyFile(*template, path)
			copyFile(*template+".key", path+".key")
			db, err := Open(context.Background(), path, Options{Logger: quiet, Now: clk.Now, PurgeBatch: *purgeBatch})
			if err != nil {
				b.Fatal(err)
			}
			return db
		}
	}
	db, err := Open(context.Background(), path, Options{Logger: quiet, Now: clk.Now, PurgeBatch: *purgeBatch})
	if err != nil {
		b.Fatal(err)
	}
	fillFn(db)
	if *template != "" {
		if _, err := db.w.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			b.Fatal(err)
		}
		copyFile(path, *template)
		copyFile(path+".key", *template+".key")
	}
	return db
}

// readerLatencies runs lookups of fresh answers until work returns and
// gives their latencies.
func readerLatencies(b *testing.B, db *DB, from, n int, work func()) []time.Duration {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var lat []time.Duration
	wg.Go(func() {
		for i := 0; ctx.Err() == nil; i++ {
			start := time.Now()
			if _, ok, err := db.Lookup(context.Background(), patient.Query{CitizenID: citizen(from + (i*7919)%n)}); !ok || err != nil {
				b.Error("lookup:", ok, err)
				return
			}
			lat = append(lat, time.Since(start))
		}
	})
	work()
	cancel()
	wg.Wait()
	slices.Sort(lat)
	return lat
}

// BenchmarkPurgeStall purges 100,000 expired answers (among -cache.people)
// while a reader keeps looking up fresh ones, and reports the longest
// lookup during the purge (goal: ≤ 10 ms) and its 99.9th percentile. The
// same reader running for as long with no purge gives the baseline: on a
// shared machine the scheduler alone causes stalls of that size.
func BenchmarkPurgeStall(b *testing.B) {
	const expired = 100_000
	clk := newClock()
	for b.Loop() {
		b.StopTimer()
		fresh := max(*people-expired, 1000)
		path := filepath.Join(b.TempDir(), "cache.db")
		db := filled(b, path, func(db *DB) {
			fill(b, db, 0, expired, clk.Now().Add(-40*24*time.Hour))
			fill(b, db, expired, fresh, clk.Now())
		}, clk)
		var took time.Duration
		var deleted int
		var err error
		during := readerLatencies(b, db, expired, fresh, func() {
			b.StartTimer()
			start := time.Now()
			deleted, err = db.Purge(context.Background())
			took = time.Since(start)
			b.StopTimer()
		})
		if err != nil || deleted != expired {
			b.Fatalf("purged %d (%v), want %d", deleted, err, expired)
		}
		idle := readerLatencies(b, db, expired, fresh, func() { time.Sleep(took) })
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		b.ReportMetric(ms(during[len(during)-1]), "max-stall-ms")
		b.ReportMetric(ms(percentile(during, 0.999)), "p999-ms")
		b.ReportMetric(ms(idle[len(idle)-1]), "idle-max-ms")
		b.ReportMetric(ms(percentile(idle, 0.999)), "idle-p999-ms")
		b.ReportMetric(took.Seconds(), "purge-s")
		db.Close()
		b.StartTimer()
	}
}
