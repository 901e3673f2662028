package ui

import (
	"strings"
	"time"
)

// Wedge tells a keyboard-wedge scanner from a person typing. A wedge
// scanner "types" its payload as keystrokes a few milliseconds apart and
// ends it with Enter; a person, even a fast typist, averages 80 ms or more
// a key. Feed every typed character with Rune and every Enter with Enter,
// with the time each arrived; Enter reports whether the burst it ends is a
// scan. For scanners set up without Enter, call Idle after a pause.
//
// The test is on the burst's mean rate, not on each gap: the window sees
// key events only when its event loop runs, so a scan arrives in batches
// one frame apart (16 ms on a PC with a GPU, 100 ms and more with software
// rendering under load). A pause longer than MaxGap ends a burst.
//
// Wedge is pure (no clock, no goroutines); the window feeds it from its key
// events whatever widget has focus. The zero value uses the defaults below.
type Wedge struct {
	// MaxGap is the longest pause inside one burst, and between its last
	// key and Enter (default 150 ms).
	MaxGap time.Duration
	// MeanGap is the slowest mean time per key, Enter included, for a
	// burst to be a scan (default 30 ms). USB HID scanners send a key
	// every 1–16 ms.
	MeanGap time.Duration
	// MinLen is the fewest characters a scan can have (default 8): shorter
	// bursts (a key-roll of two or three letters) are typing.
	MinLen int
	// MaxLen bounds the buffer (default 4096); a longer burst is not a scan.
	MaxLen int
	// NoEnterMinLen is the fewest characters a burst ended by a pause
	// instead of Enter needs to be a scan (default 20; negative: such
	// bursts are never scans). Some scanners are set up to send no suffix;
	// the payloads they read (CCCD and BHYT QR codes) are far longer.
	NoEnterMinLen int

	buf      strings.Builder
	n        int
	first    time.Time
	last     time.Time
	overflow bool
}

// Wedge defaults.
const (
	DefaultWedgeMaxGap  = 150 * time.Millisecond
	DefaultWedgeMeanGap = 30 * time.Millisecond
	DefaultWedgeMinLen  = 8
	DefaultWedgeMaxLen  = 4096

	DefaultWedgeNoEnterMinLen = 20
)

func (w *Wedge) meanGap() time.Duration {
	if w.MeanGap > 0 {
		return w.MeanGap
	}
	return DefaultWedgeMeanGap
}

func (w *Wedge) maxGap() time.Duration {
	if w.MaxGap > 0 {
		return w.MaxGap
	}
	return DefaultWedgeMaxGap
}

func (w *Wedge) minLen() int {
	if w.MinLen > 0 {
		return w.MinLen
	}
	return DefaultWedgeMinLen
}

func (w *Wedge) maxLen() int {
	if w.MaxLen > 0 {
		return w.MaxLen
	}
	return DefaultWedgeMaxLen
}

// Rune records one typed character at time at. It reports whether r starts
// a new burst (the previous keystroke was too long ago to belong to the
// same scan): a text field snapshots its text at that moment so that it can
// take the scanned characters back out if the burst turns out to be a scan.
func (w *Wedge) Rune(r rune, at time.Time) (starts bool) {
	if w.n == 0 || at.Sub(w.last) > w.maxGap() || at.Before(w.last) {
		w.reset()
		w.first = at
		starts = true
	}
	w.last = at
	if w.n >= w.maxLen() {
		w.overflow = true
		return starts
	}
	w.buf.WriteRune(r)
	w.n++
	return starts
}

// Other records a key that is neither a character nor Enter (Backspace,
// arrows, Tab): no scanner sends those inside a payload, so the burst is
// typing.
func (w *Wedge) Other() { w.reset() }

// Enter records an Enter key at time at and reports the payload and true if
// it ends a scan. Either way the burst is over.
func (w *Wedge) Enter(at time.Time) (payload string, scan bool) {
	defer w.reset()
	if w.n < w.minLen() || w.overflow || at.Sub(w.last) > w.maxGap() || at.Before(w.last) {
		return "", false
	}
	if at.Sub(w.first) > time.Duration(w.n)*w.meanGap() {
		return "", false // a person's pace
	}
	return w.buf.String(), true
}

// Idle reports, once a pause longer than MaxGap has followed the last key,
// whether the burst it ended was a scan sent without Enter: at least
// NoEnterMinLen characters at a scanner's pace. The window calls it from a
// timer that every key re-arms. Before the pause is long enough it reports
// nothing and the burst goes on; after it the burst is over either way.
func (w *Wedge) Idle(at time.Time) (payload string, scan bool) {
	if w.n == 0 || !at.After(w.last.Add(w.maxGap())) {
		return "", false
	}
	defer w.reset()
	min := w.NoEnterMinLen
	if min == 0 {
		min = DefaultWedgeNoEnterMinLen
	}
	if min < 0 || w.n < max(min, w.minLen()) || w.overflow {
		return "", false
	}
	if w.last.Sub(w.first) > time.Duration(w.n-1)*w.meanGap() {
		return "", false // a person's pace
	}
	return w.buf.String(), true
}

// Pending returns how many characters the current burst holds.
func (w *Wedge) Pending() int { return w.n }

func (w *Wedge) reset() {
	w.buf.Reset()
	w.n = 0
	w.overflow = false
}
