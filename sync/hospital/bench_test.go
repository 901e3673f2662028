package hospital_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http/httptest"
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
	benchListen = flag.Bool("hospital.listen", true, "BenchmarkFiftyDesks: every desk LISTENs and warms its cache")
	benchPG     = flag.String("hospital.pg", "", "BenchmarkFiftyDesks: extra PostgreSQL settings, comma-separated (log_min_duration_statement=5,…)")
	benchFile   = flag.Bool("hospital.file", true, "BenchmarkFiftyDesks: listeners file what they fetch in their desk's SQLite (false: fetch and open only, as if the other 49 desks' disks were on other PCs)")
)

func pct(d []time.Duration, p int) float64 {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return float64(d[(len(d)-1)*p/100].Microseconds()) / 1000
}

// BenchmarkFiftyDesks: 50 desks (each its own SQLite file, replicator and
// listener, as on 50 PCs) check 2 patients a second each against one
// PostgreSQL, and at each check also ask the store for a patient another
// desk saw (the gateway-down case, where every local miss asks). Reports
// the replication lag (a desk's SQLite commit to the store's commit, seen
// by a LISTENing monitor) and the cross-desk lookup time (Lookup, the
// store's round trip with the sealed answer opened): goal p99 ≤ 10 ms.
func BenchmarkFiftyDesks(b *testing.B) {
	n := *benchDesks
	settings := []string{"max_connections=300"}
	if *benchPG != "" {
		settings = append(settings, strings.Split(*benchPG, ",")...)
	}
	c := pgtest.Start(b, settings...)
	keys := testKeys(b)
	ctx := context.Background()
	desks := make([]*desk, n)
	for i := range desks {
		desks[i] = newDesk(b, c.DSN, keys, fmt.Sprintf("desk-%02d", i), fmt.Sprintf("Quầy %d", i+1))
		switch {
		case *benchListen && *benchFile:
			desks[i].listen(b)
		case *benchListen:
			desks[i].listenTo(b, discard{})
		}
	}
	for _, d := range desks {
		for ok, _ := d.h.Ready(); !ok; ok, _ = d.h.Ready() {
			time.Sleep(10 * time.Millisecond)
		}
		// Steady state: the pool holds the connection lookups use.
		d.h.Lookup(ctx, patient.Query{CitizenID: "079000000000"}, time.Now().Add(-time.Hour))
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

	saved := make([][]time.Time, n) // by desk, by seq-1
	var (
		mu       sync.Mutex
		lookups  []time.Duration
		misses   atomic.Int64
		lookedUp atomic.Int64
	)
	person := func(d, i int) patient.Identity {
		id := an
		id.CitizenID = patient.CitizenID(fmt.Sprintf("%012d", 79000000000+d*100000+i))
		return id
	}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for di, d := range desks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(di), 1))
			time.Sleep(time.Duration(rng.Int64N(int64(500 * time.Millisecond)))) // desks are not in step
			tick := time.NewTicker(500 * time.Millisecond)
			defer tick.Stop()
			for i := 0; time.Since(start) < *benchLoad; i++ {
				saved[di] = append(saved[di], time.Now())
				if err := d.db.SaveResult(ctx, events.EligibilityResult, answer(fmt.Sprintf("c%d", i), person(di, i), "", time.Now())); err != nil {
					b.Error(err)
					return
				}
				// A patient another desk checked at least 2 s ago.
				if other, j := rng.IntN(n), i-4; other != di && j >= 0 {
					t0 := time.Now()
					_, ok, err := d.h.Lookup(ctx, patient.Query{CitizenID: person(other, rng.IntN(j+1)).CitizenID}, time.Now().Add(-time.Hour))
					took := time.Since(t0)
					lookedUp.Add(1)
					if err != nil || !ok {
						misses.Add(1)
					}
					mu.Lock()
					lookups = append(lookups, took)
					mu.Unlock()
				}
				<-tick.C
			}
		}()
	}
	wg.Wait()
	total := 0
	for _, s := range saved {
		total += len(s)
	}
	// Wait for the store to hold everything.
	deadline := time.Now().Add(60 * time.Second)
	for {
		var got int
		mon2, err := pgx.Connect(ctx, c.DSN)
		if err == nil {
			mon2.QueryRow(ctx, `SELECT count(*) FROM verdicts`).Scan(&got)
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
		for s := last[m.desk] + 1; s <= m.seq && int(s) <= len(saved[m.desk]); s++ {
			lag = append(lag, m.at.Sub(saved[m.desk][s-1]))
		}
		last[m.desk] = max(last[m.desk], m.seq)
	}
	if len(lag) != total {
		b.Errorf("the monitor saw %d of %d answers replicated", len(lag), total)
	}
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "checks/s")
	b.ReportMetric(pct(lag, 50), "lag-p50-ms")
	b.ReportMetric(pct(lag, 99), "lag-p99-ms")
	b.ReportMetric(pct(lookups, 50), "lookup-p50-ms")
	b.ReportMetric(pct(lookups, 99), "lookup-p99-ms")
	b.ReportMetric(float64(misses.Load()), "lookup-misses")
	b.Logf("%d desks, %d checks in %v: lag p50 %.1f ms p99 %.1f ms; %d cross-desk lookups p50 %.1f ms p99 %.1f ms, %d found nothing within the lookup timeout",
		n, total, *benchLoad, pct(lag, 50), pct(lag, 99), lookedUp.Load(), pct(lookups, 50), pct(lookups, 99), misses.Load())
	if lookedUp.Load() == 0 || misses.Load() == lookedUp.Load() {
		b.Errorf("no cross-desk lookup found anything (%d tried)", lookedUp.Load())
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
