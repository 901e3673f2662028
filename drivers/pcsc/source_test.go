package pcsc_test

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers"
	"github.com/tiepdon/tiepdon/drivers/cccd"
	"github.com/tiepdon/tiepdon/drivers/emrtd"
	"github.com/tiepdon/tiepdon/drivers/pcsc"
	"github.com/tiepdon/tiepdon/drivers/pcsc/pcsctest"
	"github.com/tiepdon/tiepdon/drivers/virtual"
)

// qrOf is what a CCCD QR read of the card's holder gives.
func qrOf(p virtual.Profile) patient.Identity {
	return patient.Identity{Medium: patient.MediumQRCCCD, CitizenID: p.CitizenID, OldID: p.OldID, Name: p.Name,
		BirthDate: p.BirthDate, Sex: p.Sex, Address: p.Address, IssueDate: p.IssueDate}
}

// sourceRun runs a ChipSource over the rig and collects what it emits.
type sourceRun struct {
	pres chan drivers.Presentation
	sub  *events.Subscription
	src  *pcsc.ChipSource
}

func runSource(t *testing.T, bus *events.Bus, keys pcsc.KeyProvider, csca *emrtd.CSCAStore, opts ...func(*pcsc.ChipSource)) *sourceRun {
	t.Helper()
	r := &sourceRun{pres: make(chan drivers.Presentation, 4), sub: bus.Subscribe(events.All, 256)}
	r.src = &pcsc.ChipSource{Bus: bus, Keys: keys, CSCA: csca, Reader: pcsctest.ReaderName(0),
		Log: quiet(), ReadTimeout: 20 * time.Second}
	for _, o := range opts {
		o(r.src)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.src.Run(ctx, func(p drivers.Presentation) { r.pres <- p }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ChipSource.Run: %v", err)
		}
		r.sub.Close()
	})
	return r
}

func (r *sourceRun) presentation(t *testing.T) drivers.Presentation {
	t.Helper()
	select {
	case p := <-r.pres:
		return p
	case <-time.After(20 * time.Second):
		t.Fatal("no presentation")
	}
	panic("unreachable")
}

// until returns the events seen up to and including the first of kind.
func (r *sourceRun) until(t *testing.T, kind events.Kind) []events.Event {
	t.Helper()
	var seen []events.Event
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev := <-r.sub.C():
			seen = append(seen, ev)
			if ev.Kind == kind {
				return seen
			}
		case <-deadline:
			t.Fatalf("no %v event", kind)
		}
	}
}

func cardWith(t *testing.T, pki *virtual.PKI, o virtual.Options) *virtual.Card {
	t.Helper()
	p := virtual.Synthetic(0)
	o.PKI = pki
	p.Options = o
	c, err := virtual.NewCard(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func trust(t *testing.T, pki *virtual.PKI) *emrtd.CSCAStore {
	t.Helper()
	s := emrtd.NewCSCAStore()
	if _, err := s.AddBytes(pki.CSCAPEM()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestChipSourcePACEReadsEverything(t *testing.T) {
	pki, _ := virtual.NewPKI()
	for _, curve := range []string{"P-256", "brainpoolP256r1"} {
		t.Run(curve, func(t *testing.T) {
			rig := pcsctest.Start(t)
			card := cardWith(t, pki, virtual.Options{PACECurve: curve})
			prof := card.Profile()
			keys := &pcsc.RecentID{}
			keys.Remember(qrOf(prof))
			bus := events.New()
			run := runSource(t, bus, keys, trust(t, pki))
			insert(t, rig, card)

			p := run.presentation(t)
			if p.Medium != patient.MediumChip || p.Device != rig.Reader(0) || p.CheckID == "" || p.Identity == nil {
				t.Fatalf("presentation %+v", p)
			}
			id := *p.Identity
			if id.CitizenID != prof.CitizenID || id.Name != prof.Name || id.BirthDate != prof.BirthDate ||
				id.Sex != prof.Sex || id.Address != prof.Address || id.OldID != prof.OldID || id.IssueDate != prof.IssueDate {
				t.Errorf("identity %+v", id)
			}
			if id.Chip == nil || id.Chip.Ethnicity != "Kinh" || id.Chip.ExpiryDate != prof.ExpiryDate || id.Chip.PhotoType != "image/jpeg" {
				t.Fatalf("chip data %+v", id.Chip)
			}
			if _, err := jpeg.Decode(bytes.NewReader(id.Chip.Photo)); err != nil {
				t.Errorf("photo: %v", err)
			}
			if id.Authenticity.Level != patient.Verified || id.Authenticity.Clone != patient.ClonePassed {
				t.Errorf("authenticity %+v", id.Authenticity)
			}
			st := card.Stats()
			if st.PACE != 1 || st.BAC != 0 || st.AA != 1 {
				t.Errorf("card stats %+v", st)
			}
			// Progress was published under the presentation's check ID, no alert.
			var steps []string
			for _, ev := range run.until(t, events.CardProgress) {
				if ev.Kind == events.Alert || ev.Kind == events.ReadFailed {
					t.Errorf("unexpected %v: %+v", ev.Kind, ev.Data)
				}
			}
			for len(run.sub.C()) > 0 {
				ev := <-run.sub.C()
				if pr, ok := ev.Data.(events.Progress); ok {
					if pr.CheckID != p.CheckID {
						t.Errorf("progress under check %q, want %q", pr.CheckID, p.CheckID)
					}
					steps = append(steps, pr.Step)
				}
				if ev.Kind == events.Alert {
					t.Errorf("alert %+v", ev.Data)
				}
			}
			if len(steps) < 2 {
				t.Errorf("progress steps %v", steps)
			}
		})
	}
}

func TestChipSourceBACFallback(t *testing.T) {
	pki, _ := virtual.NewPKI()
	rig := pcsctest.Start(t)
	card := cardWith(t, pki, virtual.Options{RefusePACE: true})
	// The card's own QR code, parsed by the QR driver: its birth and issue
	// dates give the MRZ key (expiry estimated by cccd.ExpiryFor).
	qr, err := cccd.ParseQR(card.Profile().QR())
	if err != nil {
		t.Fatal(err)
	}
	keys := &pcsc.RecentID{}
	keys.Remember(qr)
	run := runSource(t, events.New(), keys, trust(t, pki))
	insert(t, rig, card)
	p := run.presentation(t)
	if p.Identity.CitizenID != card.Profile().CitizenID || p.Identity.Authenticity.Level != patient.Verified {
		t.Errorf("identity over BAC: %+v", p.Identity)
	}
	if st := card.Stats(); st.BAC != 1 || st.PACE != 0 {
		t.Errorf("card stats %+v, want one BAC session", st)
	}
}

func TestChipSourceFailures(t *testing.T) {
	pki, _ := virtual.NewPKI()
	tests := []struct {
		name   string
		opts   virtual.Options
		keys   func(p virtual.Profile) pcsc.KeyProvider
		reason string
	}{
		{"removed mid-read", virtual.Options{RemoveAfter: 12}, nil, "removed"},
		{"no key", virtual.Options{}, func(virtual.Profile) pcsc.KeyProvider { return &pcsc.RecentID{} }, "CAN"},
		{"wrong CAN typed", virtual.Options{}, func(virtual.Profile) pcsc.KeyProvider {
			return &pcsc.RecentID{Ask: func(context.Context, string) (string, error) { return "123456", nil }}
		}, "does not open"},
		{"bad MAC", virtual.Options{BadMAC: true}, nil, "could not be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rig := pcsctest.Start(t)
			card := cardWith(t, pki, tt.opts)
			var keys pcsc.KeyProvider
			if tt.keys != nil {
				keys = tt.keys(card.Profile())
			} else {
				r := &pcsc.RecentID{}
				r.Remember(qrOf(card.Profile()))
				keys = r
			}
			run := runSource(t, events.New(), keys, trust(t, pki))
			insert(t, rig, card)
			evs := run.until(t, events.ReadFailed)
			f := evs[len(evs)-1].Data.(events.Failure)
			if !strings.Contains(f.Reason, tt.reason) || f.Medium != patient.MediumChip || f.Device != rig.Reader(0) {
				t.Errorf("failure %+v, want reason with %q", f, tt.reason)
			}
			if strings.Contains(f.Reason, string(card.Profile().CitizenID)) {
				t.Error("reason holds the citizen ID")
			}
			select {
			case p := <-run.pres:
				t.Errorf("presentation after a failed read: %+v", p)
			default:
			}
		})
	}
}

func TestChipSourceVerdicts(t *testing.T) {
	pki, _ := virtual.NewPKI()
	other, _ := virtual.NewPKI()
	tests := []struct {
		name  string
		opts  virtual.Options
		csca  *virtual.PKI
		level patient.AuthLevel
		clone patient.CloneCheck
		alert string
	}{
		{"tampered DG13", virtual.Options{TamperDG13: true}, pki, patient.Failed, patient.ClonePassed, pcsc.AlertNotAuthentic},
		{"wrong AA key", virtual.Options{WrongAAKey: true}, pki, patient.Failed, patient.CloneFailed, pcsc.AlertCloneSuspected},
		{"wrong CA key", virtual.Options{WrongCAKey: true}, pki, patient.Failed, patient.CloneFailed, pcsc.AlertCloneSuspected},
		{"unknown issuer", virtual.Options{}, other, patient.IntactIssuerUnknown, patient.ClonePassed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rig := pcsctest.Start(t)
			card := cardWith(t, pki, tt.opts)
			keys := &pcsc.RecentID{}
			keys.Remember(qrOf(card.Profile()))
			run := runSource(t, events.New(), keys, trust(t, tt.csca))
			insert(t, rig, card)
			a := run.presentation(t).Identity.Authenticity
			if a.Level != tt.level || a.Clone != tt.clone {
				t.Errorf("authenticity %+v, want %s/%s", a, tt.level, tt.clone)
			}
			var alerts []string
			for len(run.sub.C()) > 0 {
				if ev := <-run.sub.C(); ev.Kind == events.Alert {
					alerts = append(alerts, ev.Data.(events.AlertData).Code)
				}
			}
			// (a tampered DG13 also disagrees with the QR: qr-chip-mismatch as well)
			if (tt.alert == "" && len(alerts) > 0) || (tt.alert != "" && !slices.Contains(alerts, tt.alert)) {
				t.Errorf("alerts %v, want %q", alerts, tt.alert)
			}
		})
	}
}

func TestChipSourceCrossCheckAlert(t *testing.T) {
	pki, _ := virtual.NewPKI()
	rig := pcsctest.Start(t)
	card := cardWith(t, pki, virtual.Options{})
	qr := qrOf(card.Profile())
	qr.Name, qr.BirthDate.Day = "Nguyễn Thị Ánh Hằng", qr.BirthDate.Day+1
	keys := &pcsc.RecentID{}
	keys.Remember(qr)
	run := runSource(t, events.New(), keys, trust(t, pki))
	insert(t, rig, card)
	evs := run.until(t, events.Alert)
	a := evs[len(evs)-1].Data.(events.AlertData)
	if a.Code != "qr-chip-mismatch" || !strings.Contains(a.Message, "name") || !strings.Contains(a.Message, "birthDate") {
		t.Errorf("alert %+v", a)
	}
	if p := run.presentation(t); p.CheckID != a.CheckID {
		t.Errorf("alert check %q, presentation %q", a.CheckID, p.CheckID)
	}
}

// With EarlyEmit the presentation comes as soon as DG1, DG13 and the SOD
// are verified (no photo yet); the complete identity follows as
// IdentityRead under the same check.
func TestChipSourceEarlyEmit(t *testing.T) {
	pki, _ := virtual.NewPKI()
	rig := pcsctest.Start(t)
	card := cardWith(t, pki, virtual.Options{})
	keys := &pcsc.RecentID{}
	keys.Remember(qrOf(card.Profile()))
	run := runSource(t, events.New(), keys, trust(t, pki), func(s *pcsc.ChipSource) { s.EarlyEmit = true })
	insert(t, rig, card)
	p := run.presentation(t)
	if p.Identity.Authenticity.Level != patient.Verified || p.Identity.Chip == nil || len(p.Identity.Chip.Photo) != 0 {
		t.Errorf("early identity: %+v", p.Identity)
	}
	evs := run.until(t, events.IdentityRead)
	full := evs[len(evs)-1].Data.(events.Identity)
	if full.CheckID != p.CheckID || len(full.Identity.Chip.Photo) == 0 || full.Identity.Authenticity.Clone != patient.ClonePassed {
		t.Errorf("complete identity: check %q photo %d bytes %+v", full.CheckID, len(full.Identity.Chip.Photo), full.Identity.Authenticity)
	}
}

// A card laid on the reader before its QR code was scanned is read as
// soon as the scan comes.
func TestChipSourceWaitsForQR(t *testing.T) {
	pki, _ := virtual.NewPKI()
	rig := pcsctest.Start(t)
	card := cardWith(t, pki, virtual.Options{})
	keys := &pcsc.RecentID{WaitForQR: time.Minute}
	run := runSource(t, events.New(), keys, trust(t, pki))
	insert(t, rig, card)
	evs := run.until(t, events.CardProgress)
	if p := evs[len(evs)-1].Data.(events.Progress); p.Step != "waiting-for-key" {
		t.Errorf("first progress %+v", p)
	}
	select {
	case p := <-run.pres:
		t.Fatalf("presentation before any key: %+v", p)
	case <-time.After(100 * time.Millisecond):
	}
	keys.Remember(qrOf(card.Profile()))
	if p := run.presentation(t); p.Identity.CitizenID != card.Profile().CitizenID {
		t.Errorf("identity %+v", p.Identity)
	}
}

func TestRecentIDFollowsTheBus(t *testing.T) {
	bus := events.New()
	r := &pcsc.RecentID{WaitForQR: 10 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Follow(ctx, bus) }()
	defer func() { cancel(); <-done }()
	keyc := make(chan emrtd.Key, 1)
	go func() { k, _ := r.ChipKey(ctx, "x"); keyc <- k }()
	// A chip identity is not a QR scan; a CCCD QR identity is.
	chip := qrOf(virtual.Synthetic(1))
	chip.Medium = patient.MediumChip
	bus.Publish(events.IdentityRead, events.Identity{Identity: chip})
	bus.Publish(events.IdentityRead, events.Identity{Identity: qrOf(virtual.Synthetic(0))})
	if k := <-keyc; k.CAN != "012345" {
		t.Errorf("key from the bus: %+v", k)
	}
}

func TestRecentIDWindow(t *testing.T) {
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	r := &pcsc.RecentID{Window: time.Minute, Now: func() time.Time { return now }}
	if _, err := r.ChipKey(context.Background(), "x"); !errors.Is(err, emrtd.ErrNoKey) {
		t.Errorf("empty: %v", err)
	}
	r.Remember(qrOf(virtual.Synthetic(0)))
	k, err := r.ChipKey(context.Background(), "x")
	if err != nil || k.CAN != "012345" || k.DocumentNumber != "190012345" || k.BirthDate != "900315" || k.ExpiryDate != "300315" {
		t.Errorf("key %+v %v", k, err)
	}
	now = now.Add(2 * time.Minute)
	r.Ask = func(context.Context, string) (string, error) { return " 001190012345 ", nil }
	if k, err := r.ChipKey(context.Background(), "x"); err != nil || k.CAN != "012345" || k.HasMRZ() {
		t.Errorf("typed whole ID: %+v %v", k, err)
	}
	r.Ask = func(context.Context, string) (string, error) { return "12a456", nil }
	if _, err := r.ChipKey(context.Background(), "x"); !errors.Is(err, emrtd.ErrNoKey) {
		t.Errorf("typed garbage: %v", err)
	}
	// A QR scan wins over a dialog nobody answers; the dialog is closed.
	started, closed := make(chan struct{}), make(chan struct{})
	r.Ask = func(ctx context.Context, _ string) (string, error) {
		close(started)
		<-ctx.Done()
		close(closed)
		return "", ctx.Err()
	}
	go func() { <-started; r.Remember(qrOf(virtual.Synthetic(1))) }()
	if k, err := r.ChipKey(context.Background(), "x"); err != nil || k.CAN != "004321" {
		t.Errorf("QR during the dialog: %+v %v", k, err)
	}
	<-closed
	// Without Ask, WaitForQR bounds the wait.
	r.Ask, r.WaitForQR = nil, 20*time.Millisecond
	now = now.Add(time.Hour)
	if _, err := r.ChipKey(context.Background(), "x"); !errors.Is(err, emrtd.ErrNoKey) {
		t.Errorf("no QR in time: %v", err)
	}
}

// BenchmarkChipReadPCSCD is a full PACE-CAN read (all data groups, passive,
// chip and active authentication) through libpcsclite, pcscd, vpcd and the
// virtual card, with extended-length reads and with short APDUs only (the
// naive baseline). It reports the median read time and the APDUs and bytes
// to verdict-ready data and in total.
func BenchmarkChipReadPCSCD(b *testing.B) {
	pki, _ := virtual.NewPKI()
	rig := pcsctest.Start(b)
	p := virtual.Synthetic(0)
	p.Options.PKI = pki
	card, err := virtual.NewCard(p)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- virtual.ServeVPCD(ctx, rig.CardAddr(0), card) }()
	defer func() { cancel(); <-done }()
	waitCard(b, rig.Reader(0))
	store := emrtd.NewCSCAStore()
	store.AddBytes(pki.CSCAPEM())
	key := emrtd.Key{CAN: p.CitizenID.CAN()}
	for _, mode := range []struct {
		name string
		ext  emrtd.ExtendedLength
	}{{"extended", emrtd.ExtendedAuto}, {"short", emrtd.ExtendedOff}} {
		b.Run(mode.name, func(b *testing.B) {
			var times []time.Duration
			var doc *emrtd.Document
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				c, err := pcsc.Connect(ctx, rig.Reader(0), pcsc.Options{})
				if err != nil {
					b.Fatal(err)
				}
				doc, err = emrtd.Read(ctx, c, key, emrtd.Options{CSCA: store, SessionOptions: emrtd.SessionOptions{Extended: mode.ext}})
				c.Close()
				if err != nil {
					b.Fatal(err)
				}
				times = append(times, time.Since(start))
			}
			sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
			b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(doc.VerdictStats.APDUs), "verdict-APDUs")
			b.ReportMetric(float64(doc.VerdictStats.BytesIn), "verdict-bytes")
			b.ReportMetric(float64(doc.Stats.APDUs), "total-APDUs")
		})
	}
}

// BenchmarkAPDURoundTrip is one plain SELECT through pcscd and vpcd: the
// cost of the PC/SC stack alone (TCP_QUICKACK keeps it far below vpcd's
// 40 ms Nagle delay).
func BenchmarkAPDURoundTrip(b *testing.B) {
	rig := pcsctest.Start(b)
	card, _ := virtual.NewCard(virtual.Synthetic(0))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- virtual.ServeVPCD(ctx, rig.CardAddr(0), card) }()
	defer func() { cancel(); <-done }()
	waitCard(b, rig.Reader(0))
	c, err := pcsc.Connect(ctx, rig.Reader(0), pcsc.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	cmd := []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x01, 0x1C}
	var times []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		if _, err := c.Transmit(cmd); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)/2].Nanoseconds())/1000, "p50-µs")
}

// waitCard polls until a card in reader can be connected.
func waitCard(b *testing.B, reader string) {
	b.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := pcsc.Connect(context.Background(), reader, pcsc.Options{})
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("card never present: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
