package serialqr_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers"
	"github.com/tiepdon/tiepdon/drivers/drivertest"
	"github.com/tiepdon/tiepdon/drivers/serialqr"
	"github.com/tiepdon/tiepdon/drivers/virtual"
)

// These tests run the source on real pseudo-terminals: the virtual scanner
// writes to the master end, the source opens the slave end through a
// stable symlink with go.bug.st/serial, exactly as it opens a USB scanner.

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const wait = 10 * time.Second // bound on any single expected event

func ptyOnly(t testing.TB) {
	if runtime.GOOS != "linux" {
		t.Skip("SKIPPED: the virtual scanner needs Linux ptys")
	}
}

type rig struct {
	t     testing.TB
	sc    *virtual.Scanner
	src   *serialqr.Source
	rec   *drivertest.Recorder
	lines chan drivers.Presentation
	stop  func()
}

func term(s string) *string { return &s }

// start makes a virtual scanner sending terminator t and runs a source on
// it; edit may change the options before New.
func start(t testing.TB, terminator string, edit func(*serialqr.Options)) *rig {
	ptyOnly(t)
	sc, err := virtual.NewScanner(virtual.ScannerOptions{Dir: t.TempDir(), Terminator: term(terminator)})
	if err != nil {
		t.Fatal(err)
	}
	o := serialqr.Options{Path: sc.Path(), Retry: 5 * time.Millisecond, Settle: -1}
	if edit != nil {
		edit(&o)
	}
	r := newRig(t, sc, o)
	r.device(drivers.DeviceReady)
	return r
}

func newRig(t testing.TB, sc *virtual.Scanner, o serialqr.Options) *rig {
	src, err := serialqr.New(o)
	if err != nil {
		t.Fatal(err)
	}
	rec := drivertest.New(64)
	rec.Presented = make(chan drivers.Presentation, 16384)
	r := &rig{t: t, sc: sc, src: src, rec: rec, lines: rec.Presented}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, rec) }()
	r.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if sc != nil {
			sc.Close()
		}
	}
	t.Cleanup(r.stop)
	return r
}

// device waits for a device report with the given state.
func (r *rig) device(state drivers.DeviceState) drivers.Device {
	r.t.Helper()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case d := <-r.rec.Devices:
			if d.Kind != drivers.Scanner {
				r.t.Fatalf("device kind %q", d.Kind)
			}
			if d.State == state {
				return d
			}
		case <-timer.C:
			r.t.Fatalf("no %s device event within %v", state, wait)
		}
	}
}

// failure waits for a failure report.
func (r *rig) failure() drivers.Failure {
	r.t.Helper()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case f := <-r.rec.Failures:
			return f
		case <-timer.C:
			r.t.Fatalf("no read.failed event within %v", wait)
		}
	}
}

func (r *rig) next() drivers.Presentation {
	r.t.Helper()
	select {
	case p := <-r.lines:
		return p
	case <-time.After(wait):
		r.t.Fatalf("no scan within %v", wait)
	}
	return drivers.Presentation{}
}

func (r *rig) scan(payload string) {
	r.t.Helper()
	if err := r.sc.Scan(payload); err != nil {
		r.t.Fatal(err)
	}
}

func sample(t testing.TB, name string) string {
	b, err := os.ReadFile(filepath.Join("../../testdata/qr", name+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFramingOnPty(t *testing.T) {
	cccd, bhyt := sample(t, "cccd-synth-2021"), sample(t, "bhyt-real-2023-new")
	tests := []struct {
		name       string
		mode       serialqr.Terminator
		terminator string
		data       string // a payload holding the other line-ending byte, passed on as data
	}{
		{"any/cr", serialqr.Any, "\r", ""},
		{"any/lf", serialqr.Any, "\n", ""},
		{"any/crlf", serialqr.Any, "\r\n", ""},
		{"cr", serialqr.CR, "\r", "A\nB"},
		{"lf", serialqr.LF, "\n", "A\rB"},
		{"crlf", serialqr.CRLF, "\r\n", "A\rB\nC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := start(t, tt.terminator, func(o *serialqr.Options) { o.Terminator = tt.mode })
			r.scan(cccd)
			r.scan(bhyt)
			// One scan split over two writes is put back together.
			if _, err := r.sc.Write([]byte(bhyt[:40])); err != nil {
				t.Fatal(err)
			}
			r.scan(bhyt[40:])
			want := []string{cccd, bhyt, bhyt}
			if tt.data != "" {
				r.scan(tt.data)
				want = append(want, tt.data)
			}
			for i, w := range want {
				p := r.next()
				if string(p.Payload) != w {
					t.Errorf("line %d = %q, want %q", i, p.Payload, w)
				}
				if p.Device != r.sc.Path() || p.At.IsZero() {
					t.Errorf("presentation %+v", p)
				}
			}
			r.scan(cccd)
			// Which card's QR it is, is the agent's payload reader's to say.
			if m := r.next().Medium; m != patient.MediumQR {
				t.Errorf("medium %q", m)
			}
		})
	}
}

func TestInterByteTimeoutOnPty(t *testing.T) {
	cccd, bhyt := sample(t, "cccd-synth-2021"), sample(t, "bhyt-real-2022-hash")
	r := start(t, "", func(o *serialqr.Options) {
		o.Terminator = serialqr.None
		o.InterByteTimeout = 20 * time.Millisecond
	})
	// Each scan is complete only after the quiet gap; the next one is sent
	// after the first came out, so they cannot merge.
	for _, s := range []string{cccd, bhyt, cccd} {
		r.scan(s)
		if got := string(r.next().Payload); got != s {
			t.Fatalf("got %q, want %q", got, s)
		}
	}
	// A terminator-less scanner may still send CR: it is trimmed.
	r.sc.SetTerminator("\r")
	r.scan(bhyt)
	if got := string(r.next().Payload); got != bhyt {
		t.Fatalf("got %q", got)
	}
}

func TestStaleInputDropped(t *testing.T) {
	ptyOnly(t)
	// With the OS buffer flushed only, and with a settle time on top.
	for _, settle := range []time.Duration{-1, 20 * time.Millisecond} {
		t.Run(fmt.Sprint(settle), func(t *testing.T) { staleDropped(t, settle) })
	}
}

func staleDropped(t *testing.T, settle time.Duration) {
	sc, err := virtual.NewScanner(virtual.ScannerOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	// Scans made while nobody listened wait in the port's buffer.
	stale := 0
	for i := range 5 {
		s := fmt.Sprintf("%012d|||01011990|Nam||", i)
		if err := sc.Scan(s); err != nil {
			t.Fatal(err)
		}
		stale += len(s) + 1
	}
	deadline := time.Now().Add(wait)
	for n, _ := sc.Pending(); n != stale; n, _ = sc.Pending() {
		if time.Now().After(deadline) {
			t.Fatalf("pending %d bytes, want %d", n, stale)
		}
		runtime.Gosched()
	}
	r := newRig(t, sc, serialqr.Options{Path: sc.Path(), Settle: settle})
	r.device(drivers.DeviceReady)
	fresh := sample(t, "cccd-spec-example")
	r.scan(fresh)
	if got := string(r.next().Payload); got != fresh {
		t.Fatalf("first line %q: stale input passed on", got)
	}
	if n, _ := sc.Pending(); n != 0 {
		t.Errorf("%d bytes still pending", n)
	}
	select {
	case p := <-r.lines:
		t.Errorf("extra line %q", p.Payload)
	default:
	}
	if st := r.src.Stats(); st.Lines != 1 || st.Opens != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestUnplugReplugSamePath(t *testing.T) {
	r := start(t, "\r", nil)
	a, b := sample(t, "cccd-spec-example"), sample(t, "bhyt-real-2017-paper")
	first := r.sc.Device()
	for round := range 3 {
		r.scan(a)
		if got := string(r.next().Payload); got != a {
			t.Fatalf("round %d: got %q", round, got)
		}
		if err := r.sc.Unplug(); err != nil {
			t.Fatal(err)
		}
		d := r.device(drivers.DeviceMissing)
		if d.Name != r.sc.Path() || d.Detail == "" {
			t.Errorf("missing event %+v", d)
		}
		if err := r.sc.Scan(b); !errors.Is(err, virtual.ErrUnplugged) {
			t.Errorf("scan while unplugged: %v", err)
		}
		if err := r.sc.Replug(); err != nil {
			t.Fatal(err)
		}
		r.device(drivers.DeviceReady)
		r.scan(b)
		if got := string(r.next().Payload); got != b {
			t.Fatalf("round %d after replug: got %q", round, got)
		}
	}
	if r.sc.Device() == "" || first == "" {
		t.Error("no device")
	}
	if st := r.src.Stats(); st.Opens != 4 || st.Lines != 6 {
		t.Errorf("stats %+v", st)
	}
}

func TestPortAppearsAfterStart(t *testing.T) {
	ptyOnly(t)
	dir := t.TempDir()
	r := newRig(t, nil, serialqr.Options{Path: filepath.Join(dir, "ttyQR0"), Retry: 5 * time.Millisecond, Settle: -1})
	if d := r.device(drivers.DeviceMissing); d.Name != filepath.Join(dir, "ttyQR0") {
		t.Errorf("missing event %+v", d)
	}
	sc, err := virtual.NewScanner(virtual.ScannerOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	r.sc = sc
	r.device(drivers.DeviceReady)
	s := sample(t, "cccd-spec-example")
	r.scan(s)
	if got := string(r.next().Payload); got != s {
		t.Fatalf("got %q", got)
	}
}

// fakePorts is an in-memory Enumerator: the system one cannot list ptys.
type fakePorts struct{ ports func() []serialqr.PortInfo }

func (f fakePorts) Ports() ([]serialqr.PortInfo, error) { return f.ports(), nil }

func TestAutoPickFollowsReplug(t *testing.T) {
	ptyOnly(t)
	sc, err := virtual.NewScanner(virtual.ScannerOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	enum := fakePorts{func() []serialqr.PortInfo {
		ports := []serialqr.PortInfo{{Path: "/dev/ttyS0"}}
		if sc.Plugged() {
			ports = append(ports, serialqr.PortInfo{Path: sc.Path(), USB: true, VID: "0c2e", PID: "0b61", Vendor: "Honeywell"})
		}
		return ports
	}}
	r := newRig(t, sc, serialqr.Options{Path: serialqr.Auto, Enumerator: enum, Retry: 5 * time.Millisecond, Settle: -1})
	if d := r.device(drivers.DeviceReady); d.Name != sc.Path() || !strings.Contains(d.Detail, "0c2e:0b61 Honeywell") {
		t.Errorf("ready event %+v", d)
	}
	sc.Unplug()
	if d := r.device(drivers.DeviceMissing); d.Detail == "" {
		t.Errorf("missing event %+v", d)
	}
	// With the scanner gone from the list, auto mode says none is found.
	if d := r.device(drivers.DeviceMissing); d.Detail != serialqr.ErrNoScanner.Error() {
		t.Errorf("missing event %+v", d)
	}
	sc.Replug()
	r.device(drivers.DeviceReady)
	s := sample(t, "bhyt-real-2022-hash")
	r.scan(s)
	if p := r.next(); string(p.Payload) != s || p.Medium != patient.MediumQR {
		t.Fatalf("got %+v", p)
	}
}

func TestUnreadableLinesReported(t *testing.T) {
	r := start(t, "\r", func(o *serialqr.Options) { o.MaxLine = 512 })
	ok := sample(t, "cccd-spec-example")
	if _, err := r.sc.Write([]byte("\xff\xfeNGUY\xc3N\r")); err != nil {
		t.Fatal(err)
	}
	f := r.failure()
	if f.Device != r.sc.Path() || f.Code != drivers.FailureScanNotUTF8 || !strings.Contains(f.Detail, "UTF-8") || strings.Contains(f.Detail, "NGUY") {
		t.Errorf("failure %+v", f)
	}
	r.scan(strings.Repeat("0123456789", 60))
	if f := r.failure(); f.Code != drivers.FailureScanTooLong || !strings.Contains(f.Detail, "longer than 512") {
		t.Errorf("failure %+v", f)
	}
	r.scan(ok)
	if got := string(r.next().Payload); got != ok {
		t.Fatalf("after bad lines: %q", got)
	}
	if st := r.src.Stats(); st.Invalid != 1 || st.TooLong != 1 || st.Lines != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestRepeatDropped(t *testing.T) {
	r := start(t, "\r", func(o *serialqr.Options) { o.Repeat = time.Hour })
	a, b := sample(t, "cccd-spec-example"), sample(t, "bhyt-real-2022-hash")
	for _, s := range []string{a, a, a, b, a} {
		r.scan(s)
	}
	for i, want := range []string{a, b, a} {
		if got := string(r.next().Payload); got != want {
			t.Fatalf("line %d: %q, want %q", i, got, want)
		}
	}
	if st := r.src.Stats(); st.Repeats != 2 || st.Lines != 3 {
		t.Errorf("stats %+v", st)
	}
}

// TestBurst sends 10,000 scans as fast as the pty takes them and checks
// every one arrives once, whole and in order.
func TestBurst(t *testing.T) {
	const n = 10000
	r := start(t, "\r\n", nil)
	base := sample(t, "bhyt-real-2023-new")
	payload := func(i int) string { return fmt.Sprintf("%010d", i) + base[10:] }
	errc := make(chan error, 1)
	go func() {
		for i := range n {
			if err := r.sc.Scan(payload(i)); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for i := range n {
		p := r.next()
		if string(p.Payload) != payload(i) {
			t.Fatalf("scan %d: got %q", i, p.Payload)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-r.lines:
		t.Fatalf("extra line %q", p.Payload)
	default:
	}
	if st := r.src.Stats(); st.Lines != n || st.Invalid+st.TooLong != 0 {
		t.Errorf("stats %+v", st)
	}
}

// BenchmarkLineToEvent measures the time from the scanner's write to the
// source's emit over a real pty and reports its p50 and p99.
func BenchmarkLineToEvent(b *testing.B) {
	r := start(b, "\r", nil)
	s := sample(b, "bhyt-real-2023-new")
	var lat []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		r.scan(s)
		p := r.next()
		lat = append(lat, p.At.Sub(t0))
	}
	slices.Sort(lat)
	q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
}
