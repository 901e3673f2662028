package lograte

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }

func TestRepeatedWarningsCounted(t *testing.T) {
	var buf bytes.Buffer
	clk := &clock{}
	log := slog.New(New(slog.NewTextHandler(&buf, nil), Options{Burst: 2, Period: time.Minute, Now: clk.now})).With("component", "bhxh")
	lines := func() []string { return strings.Split(strings.TrimSpace(buf.String()), "\n") }

	// 30 minutes of a failing gateway: 1,000 identical warnings.
	for i := 0; i < 1000; i++ {
		log.Warn("The gateway cannot be reached; answers come from the cache", "err", "EOF")
		log.Info("check done") // info is never held back
		clk.add(1800 * time.Millisecond)
	}
	// The next period's first one carries the last count.
	clk.add(time.Minute)
	log.Warn("The gateway cannot be reached; answers come from the cache", "err", "EOF")
	var warns, infos, counted int
	for _, l := range lines() {
		switch {
		case strings.Contains(l, "level=WARN"):
			warns++
			if strings.Contains(l, "repeated=") {
				counted++
			}
			if !strings.Contains(l, "component=bhxh") || !strings.Contains(l, "err=EOF") {
				t.Fatalf("attributes lost: %s", l)
			}
		case strings.Contains(l, "level=INFO"):
			infos++
		}
	}
	if infos != 1000 {
		t.Errorf("%d info lines, want 1000", infos)
	}
	if warns > 63 || warns < 59 { // 2 a minute for 30 minutes, and the last
		t.Errorf("%d warning lines for 1000 warnings in 30 minutes, want about 60", warns)
	}
	if counted < 28 {
		t.Errorf("%d lines carry the count of those left out, want one a minute", counted)
	}
	// The counts add up: written + left out = 1000.
	total := warns
	for _, l := range lines() {
		if i := strings.Index(l, "repeated="); i >= 0 {
			var n int
			for _, c := range l[i+len("repeated="):] {
				if c < '0' || c > '9' {
					break
				}
				n = n*10 + int(c-'0')
			}
			total += n
		}
	}
	if total != 1001 {
		t.Errorf("written %d + counted left out = %d, want 1001", warns, total)
	}
}

func TestDifferentMessagesApart(t *testing.T) {
	var buf bytes.Buffer
	h := New(slog.NewTextHandler(&buf, nil), Options{Burst: 1})
	log := slog.New(h)
	for range 5 {
		log.Warn("a")
		log.Error("b")
		log.WithGroup("g").Warn("a") // derived handlers share the counts
	}
	if n := strings.Count(buf.String(), "\n"); n != 2 {
		t.Fatalf("%d lines, want one per message:\n%s", n, buf.String())
	}
	if !h.Enabled(context.Background(), slog.LevelInfo) {
		t.Error("Enabled not passed through")
	}
}
