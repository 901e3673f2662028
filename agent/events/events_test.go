package events

import (
	"sync"
	"testing"
)

func TestOrderAndMask(t *testing.T) {
	b := New()
	s := b.Subscribe(EligibilityResult|GatewayChanged, 8)
	defer s.Close()
	b.Publish(EligibilityResult, 1)
	b.Publish(DeviceChanged, 2) // not subscribed
	b.Publish(GatewayChanged, 3)
	var got []any
	var seqs []uint64
	for range 2 {
		ev := <-s.C()
		got = append(got, ev.Data)
		seqs = append(seqs, ev.Seq)
	}
	if got[0] != 1 || got[1] != 3 {
		t.Errorf("got %v, want [1 3]", got)
	}
	if seqs[0] != 1 || seqs[1] != 3 {
		t.Errorf("seqs %v, want [1 3] (bus-wide numbering)", seqs)
	}
}

func TestSlowSubscriberDropsAndNeverBlocks(t *testing.T) {
	b := New()
	slow := b.Subscribe(All, 2)
	fast := b.Subscribe(All, 100)
	defer slow.Close()
	defer fast.Close()
	for i := range 10 {
		b.Publish(CardProgress, i) // must not block though slow is never read
	}
	if slow.Dropped() != 8 {
		t.Errorf("slow dropped %d, want 8", slow.Dropped())
	}
	if fast.Dropped() != 0 || len(fast.C()) != 10 {
		t.Errorf("fast dropped %d, queued %d", fast.Dropped(), len(fast.C()))
	}
	// The slow subscriber sees the first two, then a gap.
	a, c := <-slow.C(), <-slow.C()
	if a.Seq != 1 || c.Seq != 2 {
		t.Errorf("slow saw %d,%d", a.Seq, c.Seq)
	}
	b.Publish(CardProgress, 10)
	if d := <-slow.C(); d.Seq != 11 {
		t.Errorf("after the gap slow sees seq %d, want 11", d.Seq)
	}
}

func TestLastAndClose(t *testing.T) {
	b := New()
	if _, ok := b.Last(GatewayChanged); ok {
		t.Error("Last before any publish")
	}
	b.Publish(GatewayChanged, Gateway{State: GatewayOffline})
	ev, ok := b.Last(GatewayChanged)
	if !ok || ev.Data.(Gateway).State != GatewayOffline {
		t.Errorf("Last = %+v, %v", ev, ok)
	}
	s := b.Subscribe(All, 1)
	s.Close()
	s.Close() // idempotent
	if _, open := <-s.C(); open {
		t.Error("channel open after Close")
	}
	b.Publish(GatewayChanged, nil) // no panic on closed subscriber
}

func TestConcurrentPublish(t *testing.T) {
	b := New()
	s := b.Subscribe(All, 4000)
	defer s.Close()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				b.Publish(CardProgress, nil)
			}
		})
	}
	wg.Wait()
	var prev uint64
	for range 4000 {
		ev := <-s.C()
		if ev.Seq <= prev {
			t.Fatalf("seq %d after %d: not increasing", ev.Seq, prev)
		}
		prev = ev.Seq
	}
}

func BenchmarkPublish(b *testing.B) {
	bus := New()
	for range 8 {
		s := bus.Subscribe(All, 1024)
		go func() {
			for range s.C() {
			}
		}()
	}
	b.ReportAllocs()
	for b.Loop() {
		bus.Publish(EligibilityResult, nil)
	}
}
