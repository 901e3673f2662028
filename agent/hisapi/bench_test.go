package hisapi

import (
	"bytes"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func benchLimits(o *Options) {
	o.Limits.MaxClients = 1000
	o.Limits.ClientsPerOrigin = 1000
	o.Limits.MessagesPerSecond = 1e6
	o.Limits.Burst = 1e6
	o.Limits.HelloTimeout = time.Minute
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	i := int(float64(len(d)-1) * p)
	return d[i]
}

// BenchmarkCheckFromCache sends eligibility.check (waiting for the answer)
// from 8 connections at once, with a backend that answers at once as the
// cache does. Goal: ≥ 2,000 checks/s on 2 cores; p99 reported.
//
// notify=none: the connections take no notifications (the request path
// alone). notify=all: every check's card.presented and eligibility.result
// also go to all 8 connections, as they would to 8 HIS tabs.
func BenchmarkCheckFromCache(b *testing.B) {
	b.Run("notify=none", func(b *testing.B) { benchCheck(b, []string{"eligibility.updated"}) })
	b.Run("notify=all", func(b *testing.B) { benchCheck(b, nil) })
}

func benchCheck(b *testing.B, events []string) {
	ts := startServer(b, benchLimits)
	tok := ts.token(b, "", ScopeEligibility)
	const workers = 8
	conns := make([]*websocket.Conn, workers)
	for i := range conns {
		c := connect(b, ts, "")
		if e := c.call("session.hello", map[string]any{"token": tok, "apiLevel": 1, "events": events}, nil); e != nil {
			b.Fatal(e)
		}
		conns[i] = c.c
	}
	var (
		mu  sync.Mutex
		lat []time.Duration
		n   atomic.Int64
	)
	body := func(id int) []byte {
		return []byte(`{"jsonrpc":"2.0","id":` + strconv.Itoa(id) + `,"method":"eligibility.check","params":{"identity":{"citizenId":"001099012345","name":"Nguyễn Văn An","birthDate":"17/05/1990"}}}`)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	cpu0 := cpuTime()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			var local []time.Duration
			defer func() {
				mu.Lock()
				lat = append(lat, local...)
				mu.Unlock()
			}()
			for id := 1; n.Add(1) <= int64(b.N); id++ {
				t0 := time.Now()
				c.SetWriteDeadline(time.Now().Add(10 * time.Second))
				if err := c.WriteMessage(websocket.TextMessage, body(id)); err != nil {
					b.Error(err)
					return
				}
				want := []byte(`"id":` + strconv.Itoa(id) + `,`)
				for {
					c.SetReadDeadline(time.Now().Add(10 * time.Second))
					_, msg, err := c.ReadMessage()
					if err != nil {
						b.Error(err)
						return
					}
					if bytes.Contains(msg[:min(len(msg), 40)], want) {
						if !bytes.Contains(msg, []byte(`"verdict":"eligible"`)) {
							b.Errorf("unexpected answer %s", msg)
							return
						}
						break
					}
				}
				local = append(local, time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op") // server and clients together
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "checks/s")
	b.ReportMetric(float64(percentile(lat, 0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99-ms")
}
