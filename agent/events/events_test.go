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
	// The slow subscriber lost the oldest eight and keeps the newest two:
	// it never misses the present.
	if n, from, to := slow.TakeDropped(); n != 8 || from != 1 || to != 8 {
		t.Errorf("TakeDropped %d [%d, %d], want 8 [1, 8]", n, from, to)
	}
	if n, _, _ := slow.TakeDropped(); n != 0 {
		t.Errorf("TakeDropped again: %d, want 0", n)
	}
	a, c := <-slow.C(), <-slow.C()
	if a.Seq != 9 || c.Seq != 10 {
		t.Errorf("slow saw %d,%d, want the newest 9,10", a.Seq, c.Seq)
	}
	b.Publish(CardProgress, 10)
	if d := <-slow.C(); d.Seq != 11 {
		t.Errorf("then slow sees seq %d, want 11", d.Seq)
	}
}

func TestSince(t *testing.T) {
	b := New()
	for i := range 10 {
		b.Publish(CardProgress, i)
	}
	evs, complete := b.Since(7)
	if !complete || len(evs) != 3 || evs[0].Seq != 8 || evs[2].Seq != 10 {
		t.Fatalf("Since(7): %d events from %v, complete %v; want 8..10, complete", len(evs), evs, complete)
	}
	if evs, complete := b.Since(10); !complete || len(evs) != 0 {
		t.Fatalf("Since(10): %d, %v; want none, complete", len(evs), complete)
	}
	if _, complete := b.Since(11); complete {
		t.Fatal("Since a seq the bus never reached is complete")
	}
	// Past the history: only the newest HistorySize are kept.
	for i := range HistorySize {
		b.Publish(CardProgress, i)
	}
	evs, complete = b.Since(0)
	if complete || len(evs) != HistorySize || evs[0].Seq != 11 || evs[len(evs)-1].Seq != HistorySize+10 {
		t.Fatalf("Since(0) after %d events: %d events from %d, complete %v", HistorySize+10, len(evs), evs[0].Seq, complete)
	}
	if evs, complete := b.Since(10); !complete || len(evs) != HistorySize {
		t.Fatalf("Since(10): %d, complete %v; want every kept one, complete", len(evs), complete)
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
