package ui

import (
	"strings"
	"testing"
	"time"
)

// typeAt feeds s to w with the given gaps (cycled) between keystrokes and
// then Enter after enterGap, starting at t0. It returns the Enter result.
func typeAt(w *Wedge, t0 time.Time, s string, gaps []time.Duration, enterGap time.Duration) (string, bool, time.Time) {
	at := t0
	i := 0
	for _, r := range s {
		if i > 0 {
			at = at.Add(gaps[(i-1)%len(gaps)])
		}
		w.Rune(r, at)
		i++
	}
	at = at.Add(enterGap)
	p, ok := w.Enter(at)
	return p, ok, at
}

func ms(n ...int) []time.Duration {
	out := make([]time.Duration, len(n))
	for i, v := range n {
		out[i] = time.Duration(v) * time.Millisecond
	}
	return out
}

func TestWedgeClassifies(t *testing.T) {
	const qr = "001090123456|123456789|Nguyễn Văn An|02011990|Nam|Hà Nội|01012021"
	t0 := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		in       string
		gaps     []time.Duration
		enterGap time.Duration
		scan     bool
	}{
		// Scanners: USB HID full speed (1–8 ms), slow wedge boxes (~30 ms), jitter.
		{"hid 2ms", qr, ms(2), 2 * time.Millisecond, true},
		{"hid jitter", qr, ms(1, 8, 3, 16, 0), 5 * time.Millisecond, true},
		{"slow wedge 25ms", qr, ms(25), 25 * time.Millisecond, true},
		{"frame batches", qr, ms(0, 0, 0, 0, 0, 0, 0, 0, 0, 120), 10 * time.Millisecond, true},
		{"slow frames", qr, ms(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 140), 140 * time.Millisecond, true},
		{"bhyt card number", "DN4010123456789", ms(4), 4 * time.Millisecond, true},
		{"exactly min length", "12345678", ms(5), 5 * time.Millisecond, true},
		// People: normal, fast typist, key-rolls and a paste-like short burst.
		{"typing 180ms", "DN4010123456789", ms(180), 250 * time.Millisecond, false},
		{"fast typist 70ms", "DN4010123456789", ms(70, 55, 90, 65), 120 * time.Millisecond, false},
		{"key roll then pause", "DN4010123456789", ms(10, 10, 150, 80), 100 * time.Millisecond, false},
		{"too short burst", "abc", ms(3), 3 * time.Millisecond, false},
		{"scan but enter late", qr, ms(2), 500 * time.Millisecond, false},
		{"one slow gap splits", "0010901234" + "56", ms(2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 200), 2 * time.Millisecond, false},
		{"very fast typist 60ms", "DN4010123456789", ms(60), 60 * time.Millisecond, false},
		{"slow wedge 40ms", qr, ms(40), 40 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w Wedge
			p, ok, _ := typeAt(&w, t0, tc.in, tc.gaps, tc.enterGap)
			if ok != tc.scan {
				t.Fatalf("scan = %v, want %v", ok, tc.scan)
			}
			if ok && p != tc.in {
				t.Errorf("payload %q, want %q", p, tc.in)
			}
		})
	}
}

func TestWedgeTypingThenScan(t *testing.T) {
	var w Wedge
	t0 := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	// A person types "abc" slowly; then a scanner fires its payload.
	at := t0
	for _, r := range "abc" {
		w.Rune(r, at)
		at = at.Add(300 * time.Millisecond)
	}
	starts := 0
	for _, r := range "DN4010123456789" {
		if w.Rune(r, at) {
			starts++
		}
		at = at.Add(3 * time.Millisecond)
	}
	if starts != 1 {
		t.Errorf("the scan started %d bursts, want 1", starts)
	}
	if p, ok := w.Enter(at); !ok || p != "DN4010123456789" {
		t.Errorf("Enter = %q, %v", p, ok)
	}
	// The state resets after Enter: a lone Enter is not a scan.
	if _, ok := w.Enter(at.Add(time.Millisecond)); ok {
		t.Error("second Enter reported a scan")
	}
}

func TestWedgeOtherKeyAndOverflow(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	var w Wedge
	for i, r := range "DN40101234" {
		w.Rune(r, t0.Add(time.Duration(i)*time.Millisecond))
	}
	w.Other() // Backspace: a person
	if _, ok := w.Enter(t0.Add(11 * time.Millisecond)); ok {
		t.Error("burst with Backspace was a scan")
	}
	small := Wedge{MaxLen: 10}
	p, ok, _ := typeAt(&small, t0, strings.Repeat("x", 11), ms(1), time.Millisecond)
	if ok || p != "" {
		t.Errorf("overflowing burst = %q, %v", p, ok)
	}
	// Clock going backwards (NTP step) is not a scan.
	var back Wedge
	for i, r := range "DN4010123456789" {
		back.Rune(r, t0.Add(-time.Duration(i)*time.Millisecond))
	}
	if back.Pending() > 1 {
		t.Errorf("backwards clock kept %d chars in the burst", back.Pending())
	}
}

func FuzzWedge(f *testing.F) {
	f.Add("DN4010123456789", uint8(3), uint8(3))
	f.Add("abc", uint8(200), uint8(100))
	f.Add("001090123456|x|Nguyễn|01011990", uint8(1), uint8(40))
	f.Fuzz(func(t *testing.T, s string, gap, enterGap uint8) {
		var w Wedge
		p, ok, _ := typeAt(&w, time.Unix(0, 0), s, []time.Duration{time.Duration(gap) * time.Millisecond}, time.Duration(enterGap)*time.Millisecond)
		if !ok {
			return
		}
		n := len([]rune(s))
		total := time.Duration(gap)*time.Millisecond*time.Duration(n-1) + time.Duration(enterGap)*time.Millisecond
		if total > time.Duration(n)*DefaultWedgeMeanGap || time.Duration(enterGap)*time.Millisecond > DefaultWedgeMaxGap {
			t.Fatalf("slow input (%d chars, %d ms, %d ms) classified as scan", n, gap, enterGap)
		}
		if p != string([]rune(s)) {
			t.Fatalf("payload %q differs from input %q", p, s)
		}
	})
}

// keysAt feeds s to w with the given gaps (cycled) from t0 and returns the
// time of the last key.
func keysAt(w *Wedge, t0 time.Time, s string, gaps []time.Duration) time.Time {
	at := t0
	i := 0
	for _, r := range s {
		if i > 0 {
			at = at.Add(gaps[(i-1)%len(gaps)])
		}
		w.Rune(r, at)
		i++
	}
	return at
}

func TestWedgeScanWithoutEnter(t *testing.T) {
	const qr = "001090123456|123456789|Nguyễn Văn An|02011990|Nam|Hà Nội|01012021"
	t0 := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	pause := DefaultWedgeMaxGap + 20*time.Millisecond
	for _, tc := range []struct {
		name string
		w    Wedge
		in   string
		gaps []time.Duration
		scan bool
	}{
		{"hid 2ms", Wedge{}, qr, ms(2), true},
		{"frame batches", Wedge{}, qr, ms(0, 0, 0, 0, 0, 0, 0, 0, 0, 120), true},
		{"slow wedge 25ms", Wedge{}, qr, ms(25), true},
		{"typing 180ms", Wedge{}, qr, ms(180), false},
		{"fast typist 60ms", Wedge{}, qr, ms(60), false},
		{"short fast burst", Wedge{}, "DN4010123456789", ms(3), false}, // a scan only with Enter
		{"turned off", Wedge{NoEnterMinLen: -1}, qr, ms(2), false},
		{"lower minimum", Wedge{NoEnterMinLen: 10}, "DN4010123456789", ms(3), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.w
			last := keysAt(&w, t0, tc.in, tc.gaps)
			p, ok := w.Idle(last.Add(pause))
			if ok != tc.scan || (ok && p != tc.in) {
				t.Fatalf("Idle = %q, %v; want scan %v", p, ok, tc.scan)
			}
			if w.Pending() != 0 {
				t.Errorf("the pause did not end the burst (%d pending)", w.Pending())
			}
		})
	}
}

func TestWedgeIdleTooEarly(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	var w Wedge
	const qr = "001090123456|123456789|Nguyen Van An|02011990"
	last := keysAt(&w, t0, qr, ms(2))
	// A timer armed by an earlier key fires while the scan is still coming.
	if _, ok := w.Idle(last.Add(DefaultWedgeMaxGap)); ok || w.Pending() != len(qr) {
		t.Fatalf("Idle within MaxGap ended the burst (pending %d)", w.Pending())
	}
	if p, ok := w.Enter(last.Add(5 * time.Millisecond)); !ok || p != qr {
		t.Fatalf("Enter after an early Idle = %q, %v", p, ok)
	}
	// After Enter there is nothing for the pause to report.
	if _, ok := w.Idle(last.Add(time.Second)); ok {
		t.Error("Idle after Enter reported a second scan")
	}
}
