package hisapi

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tiepdon/tiepdon/agent/events"
)

// BenchmarkFanout's clients run in a process of their own, as the HIS pages
// they stand for do. The test binary runs itself with these variables set
// and, instead of the tests, becomes that client process (see TestMain).
const (
	envFanoutURL   = "TIEPDON_FANOUT_URL"
	envFanoutToken = "TIEPDON_FANOUT_TOKEN"
	envFanoutN     = "TIEPDON_FANOUT_CLIENTS"
)

// fanoutSummary is what the client process reports when its stdin closes.
type fanoutSummary struct {
	Received int           `json:"received"`
	P50      time.Duration `json:"p50"`
	P99      time.Duration `json:"p99"`
	Max      time.Duration `json:"max"`
	Err      string        `json:"err,omitempty"`
}

// fanoutClientProcess connects N clients, prints "ready", then for every
// eligibility.result whose checkId is "t<UnixNano of Publish>" records the
// delay to the frame being read here. When all N clients have one
// notification it prints its checkId, so the publisher can go on. When stdin
// closes it prints a fanoutSummary.
func fanoutClientProcess() int {
	out := bufio.NewWriter(os.Stdout)
	fail := func(err error) int {
		json.NewEncoder(os.Stdout).Encode(fanoutSummary{Err: err.Error()})
		return 1
	}
	n, err := strconv.Atoi(os.Getenv(envFanoutN))
	if err != nil {
		return fail(err)
	}
	conns := make([]*websocket.Conn, n)
	for i := range conns {
		c, _, err := websocket.DefaultDialer.Dial(os.Getenv(envFanoutURL), nil)
		if err != nil {
			return fail(err)
		}
		defer c.Close()
		hello := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"session.hello","params":{"token":%q,"client":{"name":"fanout"},"apiLevel":1}}`, os.Getenv(envFanoutToken))
		if err := c.WriteMessage(websocket.TextMessage, []byte(hello)); err != nil {
			return fail(err)
		}
		for {
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, msg, err := c.ReadMessage()
			if err != nil {
				return fail(err)
			}
			if bytes.Contains(msg, []byte(`"error"`)) && bytes.Contains(msg, []byte(`"id":1`)) {
				return fail(fmt.Errorf("session.hello: %s", msg))
			}
			if bytes.Contains(msg, []byte(`"sessionId"`)) {
				break
			}
		}
		c.SetReadDeadline(time.Time{})
		conns[i] = c
	}
	var (
		mu    sync.Mutex
		count = map[string]int{}
		lat   []time.Duration
		wg    sync.WaitGroup
	)
	marker := []byte(`"checkId":"t`)
	out.WriteString("ready\n")
	out.Flush()
	for _, c := range conns {
		wg.Go(func() {
			var local []time.Duration
			defer func() {
				mu.Lock()
				lat = append(lat, local...)
				mu.Unlock()
			}()
			buf := make([]byte, 64<<10)
			for {
				_, r, err := c.NextReader()
				if err != nil {
					return
				}
				size, err := io.ReadFull(r, buf)
				if err != io.ErrUnexpectedEOF {
					return // a frame larger than buf, or a broken connection
				}
				msg := buf[:size]
				now := time.Now().UnixNano()
				i := bytes.Index(msg, marker)
				if i < 0 {
					continue
				}
				id := msg[i+len(marker)-1:]
				id = id[:bytes.IndexByte(id, '"')]
				sent, err := strconv.ParseInt(string(id[1:]), 10, 64)
				if err != nil {
					continue
				}
				local = append(local, time.Duration(now-sent))
				mu.Lock()
				count[string(id)]++
				if count[string(id)] == n {
					delete(count, string(id))
					out.Write(id)
					out.WriteByte('\n')
					out.Flush()
				}
				mu.Unlock()
			}
		})
	}
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()
	s := fanoutSummary{Received: len(lat)}
	if len(lat) > 0 {
		s.P50, s.P99, s.Max = percentile(lat, 0.50), percentile(lat, 0.99), percentile(lat, 1)
	}
	json.NewEncoder(os.Stdout).Encode(s)
	return 0
}

// BenchmarkFanout publishes one eligibility.result per iteration to 1, 50
// and 200 connected clients (real WebSockets on loopback, authenticated,
// taking every event) and measures, in each client, the time from Publish
// to the whole frame being read. Goal: p99 ≤ 5 ms with 200 clients.
//
// The clients run in a process of their own, as HIS pages do, and read as
// lean a client as can be written (no allocation per frame), so that the
// figure is the agent's and not the measuring clients' garbage collector.
// server-cpu is the agent's CPU per fan-out, client-cpu the clients'; on
// the 2-core target both share the same cores.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1, 50, 200} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) { benchFanout(b, n) })
	}
}

func benchFanout(b *testing.B, n int) {
	ts := startServer(b, benchLimits)
	tok := ts.token(b, "", ScopeEligibility, ScopeIdentity)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envFanoutURL+"="+ts.ws, envFanoutToken+"="+tok, envFanoutN+"="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "ready" {
		b.Fatalf("client process: %q %v", lines.Text(), lines.Err())
	}
	r := events.Result{Identity: sampleIdentity(), Eligibility: sampleEligibility()}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		r.CheckID = "t" + strconv.FormatInt(time.Now().UnixNano(), 10)
		ts.bus.Publish(events.EligibilityResult, r)
		if !lines.Scan() {
			b.Fatalf("client process stopped: %v", lines.Err())
		}
		if lines.Text() != r.CheckID {
			b.Fatalf("client process answered %q, want %q", lines.Text(), r.CheckID)
		}
	}
	cpu := cpuTime() - cpu0
	b.StopTimer()
	stdin.Close()
	if !lines.Scan() {
		b.Fatalf("no summary from the client process: %v", lines.Err())
	}
	var s fanoutSummary
	if err := json.Unmarshal(lines.Bytes(), &s); err != nil || s.Err != "" {
		b.Fatalf("client process: %s (%v)", lines.Text(), err)
	}
	if err := cmd.Wait(); err != nil {
		b.Fatalf("client process: %v", err)
	}
	if want := b.N * n; s.Received != want {
		b.Fatalf("clients read %d notifications, want %d", s.Received, want)
	}
	clientCPU := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	b.ReportMetric(float64(s.P50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(s.P99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(s.Max.Microseconds())/1000, "max-ms")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "server-cpu-ms/op")
	b.ReportMetric(float64(clientCPU.Microseconds())/1000/float64(b.N), "client-cpu-ms/op")
	b.ReportMetric(0, "ns/op")
}
