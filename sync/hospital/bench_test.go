package hospital_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tiepdon/tiepdon/agent"
	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers"
	"github.com/tiepdon/tiepdon/drivers/payload"
	"github.com/tiepdon/tiepdon/sync/bhxh"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
	"github.com/tiepdon/tiepdon/sync/cache"
	"github.com/tiepdon/tiepdon/sync/hospital"
	"github.com/tiepdon/tiepdon/sync/hospital/pgtest"
	"github.com/tiepdon/tiepdon/sync/outbox"
)

var (
	benchLoad   = flag.Duration("hospital.load", 10*time.Second, "how long BenchmarkFiftyDesks runs its load")
	benchDesks  = flag.Int("hospital.desks", 50, "how many desks BenchmarkFiftyDesks simulates")
	benchListen = flag.Bool("hospital.listen", true, "BenchmarkFiftyDesks: the 49 desks of the load LISTEN and fetch what the others keep (the observed desk always does)")
	benchPG     = flag.String("hospital.pg", "", "BenchmarkFiftyDesks: extra PostgreSQL settings, comma-separated (log_min_duration_statement=5,…)")
	benchHist   = flag.Int("hospital.history", 100_000, "BenchmarkFiftyDesks: answers already in the store before the load (a month of a large hospital is about 300,000)")
	benchStmts  = flag.Bool("hospital.statements", false, "BenchmarkFiftyDesks: log the store's ten costliest statements (pg_stat_statements)")
	benchFile   = flag.Bool("hospital.file", false, "BenchmarkFiftyDesks: the 49 desks of the load also file what they fetch in their SQLite files (by default they fetch and open only: their disks and CPUs are other PCs'; the observed desk always files)")
)

func pct(d []time.Duration, p int) float64 {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return float64(d[(len(d)-1)*p/100].Microseconds()) / 1000
}

// benchPerson is the i-th patient desk d checks in BenchmarkFiftyDesks.
func benchPerson(d, i int) patient.Identity {
	id := an
	id.CitizenID = patient.CitizenID(fmt.Sprintf("%012d", 79000000000+d*100000+i))
	return id
}

// benchRun is one desk's part of BenchmarkFiftyDesks' load: from start, for
// load, it keeps an answer every 500 ms (as 2 patients a second reach it)
// and, from the fifth, looks up in the store a patient a random other of
// the n desks checked at least 2 s earlier (the gateway-down case, where
// every local miss asks); probes more such lookups follow, spread over
// the rest of the 500 ms. It returns when it kept each answer and how long
// each lookup took; misses counts lookups that found nothing.
func benchRun(ctx context.Context, d *desk, di, n, probes int, start time.Time, load time.Duration) (saved []time.Time, lookups []time.Duration, misses int, err error) {
	rng := rand.New(rand.NewPCG(uint64(di), 1))
	time.Sleep(time.Until(start) + time.Duration(rng.Int64N(int64(500*time.Millisecond)))) // desks are not in step
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for i := 0; time.Since(start) < load; i++ {
		saved = append(saved, time.Now())
		if err := d.db.SaveResult(ctx, events.EligibilityResult, answer(fmt.Sprintf("c%d", i), benchPerson(di, i), "", time.Now())); err != nil {
			return saved, lookups, misses, err
		}
		for p := 0; p <= probes; p++ {
			if p > 0 {
				time.Sleep(400 * time.Millisecond / time.Duration(probes+1))
			}
			if other, j := rng.IntN(n), i-4; other != di && j >= 0 {
				t0 := time.Now()
				_, ok, err := d.h.Lookup(ctx, patient.Query{CitizenID: benchPerson(other, rng.IntN(j+1)).CitizenID}, time.Now().Add(-time.Hour))
				lookups = append(lookups, time.Since(t0))
				if err != nil || !ok {
					misses++
				}
			}
		}
		<-tick.C
	}
	return saved, lookups, misses, nil
}

// benchLoadEnv carries the load process's orders (benchLoadOrders, JSON).
const benchLoadEnv = "TIEPDON_BENCH_LOAD"

type benchLoadOrders struct {
	DSN, Key, Out string
	Desks         int // desks 0..Desks-2 run here; Desks-1 is the observed desk
	Start         time.Time
	Load          time.Duration
	Listen, File  bool
}

type benchLoadReport struct {
	Saved   [][]time.Time // by desk, by sequence-1
	Lookups []time.Duration
	Misses  int
}

// TestBenchLoad is the load of BenchmarkFiftyDesks: 49 desks in one
// process, each its own SQLite file, replicator and listener, as on 49 PCs.
// It is not a test on its own.
func TestBenchLoad(t *testing.T) {
	raw := os.Getenv(benchLoadEnv)
	if raw == "" {
		t.Skip("the load of BenchmarkFiftyDesks (runs only when that benchmark starts it)")
	}
	var o benchLoadOrders
	if err := json.Unmarshal([]byte(raw), &o); err != nil {
		t.Fatal(err)
	}
	keys, err := hospital.ParseKeys([]byte(o.Key + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	desks := make([]*desk, o.Desks-1)
	for i := range desks {
		desks[i] = newDesk(t, o.DSN, keys, fmt.Sprintf("desk-%02d", i), fmt.Sprintf("Quầy %d", i+1))
		switch {
		case o.Listen && o.File:
			desks[i].listen(t)
		case o.Listen:
			desks[i].listenTo(t, discard{})
		}
	}
	for _, d := range desks {
		for ok, _ := d.h.Ready(); !ok; ok, _ = d.h.Ready() {
			time.Sleep(10 * time.Millisecond)
		}
		// Steady state: the pool holds the connection lookups use.
		d.h.Lookup(ctx, patient.Query{CitizenID: "079000000000"}, time.Now().Add(-time.Hour))
	}
	r := benchLoadReport{Saved: make([][]time.Time, len(desks))}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for di, d := range desks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, l, m, err := benchRun(ctx, d, di, o.Desks, 0, o.Start, o.Load)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			r.Saved[di], r.Lookups, r.Misses = s, append(r.Lookups, l...), r.Misses+m
			mu.Unlock()
		}()
	}
	wg.Wait()
	b, _ := json.Marshal(r)
	if err := os.WriteFile(o.Out, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkFiftyDesks: 50 desks check 2 patients a second each against one
// PostgreSQL that already holds a month of answers (-hospital.history),
// and at each check also ask the store for a patient another desk saw (the
// gateway-down case, where every local miss asks). The observed desk runs
// in the benchmark's process beside PostgreSQL, with its listener filing
// into its SQLite file, and asks nine more times a check (enough for a
// p99); the other 49 desks run in one process of their own (each its own
// SQLite file, replicator and listener) at a lower CPU priority (nice 10):
// on 49 PCs their own work would not take the server's or the observed
// desk's CPU, while their load on PostgreSQL stays whole (checks/s says
// they kept up). Reports the replication lag (a desk's SQLite commit to
// the store's commit, seen by a LISTENing monitor), the cross-desk lookup
// time (Lookup: the store's round trip, the sealed answer opened) at the
// observed desk (lookup-p99-ms: goal ≤ 10 ms) and, for comparison, at the
// 49 desks sharing one process and its scheduler (lookup-shared-p99-ms).
func BenchmarkFiftyDesks(b *testing.B) {
	n := *benchDesks
	settings := []string{"max_connections=300"}
	if *benchStmts {
		settings = append(settings, "shared_preload_libraries=pg_stat_statements")
	}
	if *benchPG != "" {
		settings = append(settings, strings.Split(*benchPG, ",")...)
	}
	c := pgtest.Start(b, settings...)
	keyLine, err := hospital.NewKey("k2026")
	if err != nil {
		b.Fatal(err)
	}
	keys, err := hospital.ParseKeys([]byte(keyLine + "\n"))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	history(b, c.DSN, *benchHist)
	if *benchStmts {
		statements(b, c.DSN, true)
		defer statements(b, c.DSN, false)
	}

	// The monitor: every notification's arrival, for the lag.
	mon, err := pgx.Connect(ctx, c.DSN)
	if err != nil {
		b.Fatal(err)
	}
	defer mon.Close(ctx)
	if _, err := mon.Exec(ctx, "LISTEN tiepdon_verdicts"); err != nil {
		b.Fatal(err)
	}
	type note struct {
		desk int
		seq  int64
		at   time.Time
	}
	var notes []note
	monCtx, stopMon := context.WithCancel(ctx)
	monDone := make(chan struct{})
	go func() {
		defer close(monDone)
		for {
			m, err := mon.WaitForNotification(monCtx)
			if err != nil {
				return
			}
			at := time.Now()
			d, s, _ := strings.Cut(m.Payload, " ")
			i, _ := strconv.Atoi(strings.TrimPrefix(d, "desk-"))
			seq, _ := strconv.ParseInt(s, 10, 64)
			notes = append(notes, note{i, seq, at})
		}
	}()

	// The observed desk, ready before the load starts.
	obs := newDesk(b, c.DSN, keys, fmt.Sprintf("desk-%02d", n-1), fmt.Sprintf("Quầy %d", n))
	obs.listen(b)
	for ok, _ := obs.h.Ready(); !ok; ok, _ = obs.h.Ready() {
		time.Sleep(10 * time.Millisecond)
	}
	obs.h.Lookup(ctx, patient.Query{CitizenID: "079000000000"}, time.Now().Add(-time.Hour))

	// The load's process, at a lower priority; it starts its desks, then
	// everyone starts at once.
	start := time.Now().Add(10 * time.Second)
	out := filepath.Join(b.TempDir(), "load.json")
	orders, _ := json.Marshal(benchLoadOrders{DSN: c.DSN, Key: keyLine, Out: out, Desks: n, Start: start, Load: *benchLoad,
		Listen: *benchListen, File: *benchFile})
	load := exec.Command("nice", "-n", "10", os.Args[0], "-test.run=^TestBenchLoad$")
	load.Env = append(os.Environ(), benchLoadEnv+"="+string(orders))
	var loadLog strings.Builder
	load.Stdout, load.Stderr = &loadLog, &loadLog
	if err := load.Start(); err != nil {
		b.Fatal(err)
	}

	b.ResetTimer()
	saved, lookups, misses, err := benchRun(ctx, obs, n-1, n, 9, start, *benchLoad)
	if err != nil {
		b.Fatal(err)
	}
	if err := load.Wait(); err != nil {
		b.Fatalf("the load's process: %v\n%s", err, loadLog.String())
	}
	var other benchLoadReport
	if raw, err := os.ReadFile(out); err != nil || json.Unmarshal(raw, &other) != nil {
		b.Fatalf("the load's report: %v\n%s", err, loadLog.String())
	}
	all := append(other.Saved, saved)
	total := 0
	for _, s := range all {
		total += len(s)
	}
	// Wait for the store to hold everything.
	deadline := time.Now().Add(60 * time.Second)
	for {
		var got int
		mon2, err := pgx.Connect(ctx, c.DSN)
		if err == nil {
			mon2.QueryRow(ctx, `SELECT count(*) FROM verdicts WHERE desk_id LIKE 'desk-%'`).Scan(&got)
			mon2.Close(ctx)
		}
		if got == total {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the store holds %d answers of %d after the load", got, total)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.StopTimer()
	stopMon()
	<-monDone

	var lag []time.Duration
	last := make([]int64, n)
	for _, m := range notes {
		for s := last[m.desk] + 1; s <= m.seq && int(s) <= len(all[m.desk]); s++ {
			lag = append(lag, m.at.Sub(all[m.desk][s-1]))
		}
		last[m.desk] = max(last[m.desk], m.seq)
	}
	if len(lag) != total {
		b.Errorf("the monitor saw %d of %d answers replicated", len(lag), total)
	}
	b.ReportMetric(float64(total)/benchLoad.Seconds(), "checks/s")
	b.ReportMetric(pct(lag, 50), "lag-p50-ms")
	b.ReportMetric(pct(lag, 99), "lag-p99-ms")
	b.ReportMetric(pct(lookups, 50), "lookup-p50-ms")
	b.ReportMetric(pct(lookups, 99), "lookup-p99-ms")
	b.ReportMetric(pct(other.Lookups, 99), "lookup-shared-p99-ms")
	b.ReportMetric(float64(misses+other.Misses), "lookup-misses")
	b.Logf("%d desks, %d checks in %v (%.1f a second), %d answers in the store before: lag p50 %.1f ms p99 %.1f ms; the observed desk's %d cross-desk lookups p50 %.1f ms p99 %.1f ms (%d found nothing); the 49 desks sharing one process: %d lookups p50 %.1f ms p99 %.1f ms (%d found nothing)",
		n, total, *benchLoad, float64(total)/benchLoad.Seconds(), *benchHist, pct(lag, 50), pct(lag, 99), len(lookups), pct(lookups, 50), pct(lookups, 99), misses,
		len(other.Lookups), pct(other.Lookups, 50), pct(other.Lookups, 99), other.Misses)
	if len(lookups) == 0 || misses == len(lookups) || other.Misses == len(other.Lookups) {
		b.Errorf("the cross-desk lookups found nothing (%d of %d missed at the observed desk, %d of %d at the others)", misses, len(lookups), other.Misses, len(other.Lookups))
	}
}

// statements resets pg_stat_statements, or logs its ten costliest
// statements.
func statements(b *testing.B, dsn string, reset bool) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	if reset {
		if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()`); err != nil {
			b.Fatal(err)
		}
		return
	}
	var stored, size float64
	conn.QueryRow(ctx, `SELECT avg(pg_column_size(sealed)), avg(octet_length(sealed)) FROM verdicts WHERE desk_id LIKE 'desk-%'`).Scan(&stored, &size)
	b.Logf("a sealed answer: %.0f bytes, %.0f stored", size, stored)
	rows, err := conn.Query(ctx, `SELECT calls, round(total_exec_time)::bigint, round(mean_exec_time::numeric, 3)::float8, left(regexp_replace(query, '\s+', ' ', 'g'), 110)
		FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 10`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var calls, total int64
		var mean float64
		var q string
		rows.Scan(&calls, &total, &mean, &q)
		b.Logf("%8d calls %7d ms (%.3f ms each) %s", calls, total, mean, q)
	}
}

// history fills the store with n answers of 60 other desks over the month
// before yesterday (so no starting desk copies them), as a hospital's
// store holds them: shared or not, with their keyed lookups (random: nobody
// the benchmark asks for).
func history(b *testing.B, dsn string, n int) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := hospital.Migrate(ctx, conn, hospital.Migrations()); err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO desks (desk_id, name) SELECT 'past-'||i, 'Quầy cũ '||i FROM generate_series(0, 59) i`); err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO verdicts (desk_id, seq, lookup, key_id, checked_at, sealed, verdict, source)
		SELECT 'past-'||(g%60), g/60+1, ARRAY[sha256(('cid'||g)::bytea), sha256(('card'||g)::bytea), sha256(('bhxh'||g)::bytea)], 'k2026',
			now() - interval '25 hours' - ($1-g) * (interval '29 days' / $1), decode(repeat('ab', 600), 'hex'),
			CASE WHEN g%10 = 0 THEN 'mismatch' ELSE 'eligible' END, 'live'
		FROM generate_series(1, $1::int) g`, n); err != nil {
		b.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
}

// slowProxy forwards TCP to the store, and once slow is set holds every
// chunk for delay first (a store that answers after 5 s).
type slowProxy struct {
	l     net.Listener
	to    string
	slow  atomic.Bool
	delay time.Duration
}

func newSlowProxy(b *testing.B, to string) *slowProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	p := &slowProxy{l: l, to: to, delay: 5 * time.Second}
	b.Cleanup(func() { l.Close() })
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", to)
			if err != nil {
				in.Close()
				continue
			}
			go p.pipe(in, out)
			go p.pipe(out, in)
		}
	}()
	return p
}

func (p *slowProxy) pipe(from, to net.Conn) {
	defer from.Close()
	defer to.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			if p.slow.Load() {
				time.Sleep(p.delay)
			}
			if _, err := to.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				return
			}
			return
		}
	}
}

// discard is a desk cache that files nothing.
type discard struct{}

func (discard) SaveAll(context.Context, []cache.Answer) error { return nil }

var benchStaff = patient.Staff{Name: "Trần Thị Lễ Tân", CitizenID: "079190000001"}

// BenchmarkDeskVerdict: one desk's live verdict (a CCCD QR presented to the
// agent wired as cmd/tiepdon wires it, until its verdict is on the bus)
// without hospital mode, and in hospital mode with the store healthy,
// stopped, and answering every packet after 5 s. The desk replicates and
// listens in the background all along; the goal is no difference beyond
// noise.
func BenchmarkDeskVerdict(b *testing.B) {
	c := pgtest.Start(b)
	keys := testKeys(b)
	for _, mode := range []string{"alone", "store-healthy", "store-stopped", "store-slow-5s"} {
		b.Run(mode, func(b *testing.B) {
			sim := bhxhsim.New(bhxhsim.Options{Seed: 42})
			srv := httptest.NewServer(sim)
			defer srv.Close()
			defer sim.Close()
			bus := events.New()
			cli, err := bhxh.New(bhxh.Options{URL: srv.URL, Username: "79014_BV", Password: "bhxh-sim", Bus: bus, Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			db, err := cache.Open(context.Background(), filepath.Join(b.TempDir(), "cache.db"), cache.Options{Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			var store agent.Store = db
			if mode != "alone" {
				proxy := newSlowProxy(b, fmt.Sprintf("127.0.0.1:%d", c.Port))
				dsn := fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable", proxy.l.Addr().(*net.TCPAddr).Port)
				h, err := hospital.New(hospital.Options{DSN: dsn, Keys: keys, DeskID: "desk-" + mode, Desk: mode, Logger: quiet})
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				var wg sync.WaitGroup
				wg.Add(2)
				go func() { defer wg.Done(); h.Run(ctx, db) }()
				go func() { defer wg.Done(); h.Listen(ctx, db) }()
				defer func() { cancel(); wg.Wait(); h.Close() }()
				for ok, _ := h.Ready(); !ok; ok, _ = h.Ready() {
					time.Sleep(10 * time.Millisecond)
				}
				store = hospital.Shared{DB: db, Hospital: h, Retention: 30 * 24 * time.Hour}
				switch mode {
				case "store-stopped":
					c.Stop(b)
					defer c.Start(b)
				case "store-slow-5s":
					proxy.slow.Store(true)
				}
			}
			ob, err := outbox.New(outbox.Options{DB: db, Bus: bus, Staff: func() patient.Staff { return benchStaff }, Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			a, err := agent.New(agent.Deps{Bus: bus, Identify: payload.Identify, Checker: cli, Store: store, Queue: ob, Journal: ob,
				Staff: benchStaff, Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			sub := bus.Subscribe(events.EligibilityResult, 16)
			defer sub.Close()
			scan := func(i int) (patient.Eligibility, time.Duration) {
				person := sim.Person(i)
				id := fmt.Sprintf("bench-%d", i)
				start := time.Now()
				a.Present(drivers.Presentation{Medium: patient.MediumQRCCCD, Device: "bench", At: start, Payload: []byte(person.CCCDQR()), CheckID: id})
				for ev := range sub.C() {
					if r := ev.Data.(events.Result); r.CheckID == id {
						return r.Eligibility, time.Since(start)
					}
				}
				b.Fatal("subscription closed")
				return patient.Eligibility{}, 0
			}
			scan(0) // sign in
			var lat []time.Duration
			for i := 0; b.Loop(); i++ {
				e, took := scan(len(bhxhsim.Showcase) + i%50_000)
				if e.Source != patient.SourceLive {
					b.Fatalf("source %s", e.Source)
				}
				lat = append(lat, took)
			}
			b.ReportMetric(pct(lat, 50), "verdict-p50-ms")
			b.ReportMetric(pct(lat, 99), "verdict-p99-ms")
		})
	}
}
