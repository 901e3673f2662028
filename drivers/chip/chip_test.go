package chip_test

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent"
	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers"
	"github.com/tiepdon/tiepdon/drivers/cccd"
	"github.com/tiepdon/tiepdon/drivers/chip"
	"github.com/tiepdon/tiepdon/drivers/drivertest"
	"github.com/tiepdon/tiepdon/drivers/emrtd"
	"github.com/tiepdon/tiepdon/drivers/payload"
	"github.com/tiepdon/tiepdon/drivers/pcsc"
	"github.com/tiepdon/tiepdon/drivers/pcsc/pcsctest"
	"github.com/tiepdon/tiepdon/drivers/virtual"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// qrOf is what a CCCD QR read of the card's holder gives.
func qrOf(p virtual.Profile) patient.Identity {
	return patient.Identity{Medium: patient.MediumQRCCCD, CitizenID: p.CitizenID, OldID: p.OldID, Name: p.Name,
		BirthDate: p.BirthDate, Sex: p.Sex, Address: p.Address, IssueDate: p.IssueDate}
}

// fromQR is the agent's key after a QR scan of id.
func fromQR(id patient.Identity) drivers.ChipKeys {
	return drivertest.KeyFunc(func(context.Context, string) (drivers.ChipKey, error) { return drivers.ChipKey{Identity: &id}, nil })
}

// insert serves card in the rig's first slot (pcsctest.Rig.Insert).
func insert(t *testing.T, rig *pcsctest.Rig, card *virtual.Card) (remove func()) {
	t.Helper()
	return rig.Insert(t, 0, card)
}

// sourceRun runs a Source over the rig and records what it reports.
type sourceRun struct {
	rec *drivertest.Recorder
	src *chip.Source
}

func runSource(t *testing.T, keys drivers.ChipKeys, csca *emrtd.CSCAStore, opts ...func(*chip.Source)) *sourceRun {
	t.Helper()
	r := &sourceRun{rec: drivertest.New(256)}
	r.rec.Keys = keys
	r.src = &chip.Source{CSCA: csca, Reader: pcsctest.ReaderName(0), Log: quiet(), ReadTimeout: 20 * time.Second}
	for _, o := range opts {
		o(r.src)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.src.Run(ctx, r.rec) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Source.Run: %v", err)
		}
	})
	return r
}

func (r *sourceRun) presentation(t *testing.T) drivers.Presentation {
	t.Helper()
	select {
	case p := <-r.rec.Presented:
		return p
	case <-time.After(20 * time.Second):
		t.Fatal("no presentation")
	}
	panic("unreachable")
}

func (r *sourceRun) failure(t *testing.T) drivers.Failure {
	t.Helper()
	select {
	case f := <-r.rec.Failures:
		return f
	case <-time.After(20 * time.Second):
		t.Fatal("no failure reported")
	}
	panic("unreachable")
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
			run := runSource(t, fromQR(qrOf(prof)), trust(t, pki))
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
			// Progress was reported under the presentation's check ID (the
			// one Begin gave), before it; no failure.
			if p.CheckID != "check-1" {
				t.Errorf("check %q, want the one Begin made", p.CheckID)
			}
			var steps []string
			for len(run.rec.Steps) > 0 {
				pr := <-run.rec.Steps
				if pr.CheckID != p.CheckID {
					t.Errorf("progress under check %q, want %q", pr.CheckID, p.CheckID)
				}
				steps = append(steps, pr.Step)
			}
			if len(steps) < 2 || steps[0] != "waiting-for-key" {
				t.Errorf("progress steps %v", steps)
			}
			if len(run.rec.Failures) > 0 {
				t.Errorf("failure %+v", <-run.rec.Failures)
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
	run := runSource(t, fromQR(qr), trust(t, pki))
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
		keys   drivers.ChipKeys
		code   string
		detail string
	}{
		{"removed mid-read", virtual.Options{RemoveAfter: 12}, nil, drivers.FailureChipRemoved, "removed"},
		{"no key", virtual.Options{}, drivertest.KeyFunc(func(context.Context, string) (drivers.ChipKey, error) {
			return drivers.ChipKey{}, drivers.ErrNoKey
		}), drivers.FailureChipNoKey, "CAN"},
		{"wrong CAN typed", virtual.Options{}, drivertest.KeyFunc(func(context.Context, string) (drivers.ChipKey, error) {
			return drivers.ChipKey{CAN: "123456"}, nil
		}), drivers.FailureChipWrongKey, "does not open"},
		{"bad MAC", virtual.Options{BadMAC: true}, nil, drivers.FailureChipUnread, "could not be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rig := pcsctest.Start(t)
			card := cardWith(t, pki, tt.opts)
			keys := tt.keys
			if keys == nil {
				keys = fromQR(qrOf(card.Profile()))
			}
			run := runSource(t, keys, trust(t, pki))
			insert(t, rig, card)
			f := run.failure(t)
			if f.Code != tt.code || !strings.Contains(f.Detail, tt.detail) || f.Medium != patient.MediumChip ||
				f.Device != rig.Reader(0) || f.CheckID != "check-1" {
				t.Errorf("failure %+v, want code %s with %q", f, tt.code, tt.detail)
			}
			if strings.Contains(f.Detail, string(card.Profile().CitizenID)) {
				t.Error("detail holds the citizen ID")
			}
			select {
			case p := <-run.rec.Presented:
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
	}{
		{"tampered DG13", virtual.Options{TamperDG13: true}, pki, patient.Failed, patient.ClonePassed},
		{"wrong AA key", virtual.Options{WrongAAKey: true}, pki, patient.Failed, patient.CloneFailed},
		{"wrong CA key", virtual.Options{WrongCAKey: true}, pki, patient.Failed, patient.CloneFailed},
		{"unknown issuer", virtual.Options{}, other, patient.IntactIssuerUnknown, patient.ClonePassed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rig := pcsctest.Start(t)
			card := cardWith(t, pki, tt.opts)
			run := runSource(t, fromQR(qrOf(card.Profile())), trust(t, tt.csca))
			insert(t, rig, card)
			// The verdict travels in the identity; the agent raises the alerts.
			a := run.presentation(t).Identity.Authenticity
			if a.Level != tt.level || a.Clone != tt.clone {
				t.Errorf("authenticity %+v, want %s/%s", a, tt.level, tt.clone)
			}
		})
	}
}

// With EarlyEmit the presentation comes as soon as DG1, DG13 and the SOD
// are verified (no photo yet); the complete identity follows as a
// presentation that refines the same check.
func TestChipSourceEarlyEmit(t *testing.T) {
	pki, _ := virtual.NewPKI()
	rig := pcsctest.Start(t)
	card := cardWith(t, pki, virtual.Options{})
	run := runSource(t, fromQR(qrOf(card.Profile())), trust(t, pki), func(s *chip.Source) { s.EarlyEmit = true })
	insert(t, rig, card)
	p := run.presentation(t)
	if p.Refines || p.Identity.Authenticity.Level != patient.Verified || p.Identity.Chip == nil || len(p.Identity.Chip.Photo) != 0 {
		t.Errorf("early identity: %+v", p.Identity)
	}
	full := run.presentation(t)
	if !full.Refines || full.CheckID != p.CheckID || len(full.Identity.Chip.Photo) == 0 || full.Identity.Authenticity.Clone != patient.ClonePassed {
		t.Errorf("complete identity: refines %v check %q photo %d bytes %+v", full.Refines, full.CheckID, len(full.Identity.Chip.Photo), full.Identity.Authenticity)
	}
}

// A card laid on the reader before its QR code was scanned is read as
// soon as the scan comes.
func TestChipSourceWaitsForQR(t *testing.T) {
	pki, _ := virtual.NewPKI()
	rig := pcsctest.Start(t)
	card := cardWith(t, pki, virtual.Options{})
	scanned := make(chan patient.Identity)
	keys := drivertest.KeyFunc(func(ctx context.Context, _ string) (drivers.ChipKey, error) {
		select {
		case id := <-scanned:
			return drivers.ChipKey{Identity: &id}, nil
		case <-ctx.Done():
			return drivers.ChipKey{}, ctx.Err()
		}
	})
	run := runSource(t, keys, trust(t, pki))
	insert(t, rig, card)
	select {
	case p := <-run.rec.Steps:
		if p.Step != "waiting-for-key" {
			t.Errorf("first progress %+v", p)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no progress")
	}
	select {
	case p := <-run.rec.Presented:
		t.Fatalf("presentation before any key: %+v", p)
	default:
	}
	scanned <- qrOf(card.Profile())
	if p := run.presentation(t); p.Identity.CitizenID != card.Profile().CitizenID {
		t.Errorf("identity %+v", p.Identity)
	}
}

// KeyOf derives the PACE CAN and the BAC key from a QR identity, and takes
// a typed CAN (or whole ID) as it is.
func TestKeyOf(t *testing.T) {
	id := qrOf(virtual.Synthetic(0))
	k, err := chip.KeyOf(drivers.ChipKey{Identity: &id})
	if err != nil || k.CAN != "012345" || k.DocumentNumber != "190012345" || k.BirthDate != "900315" || k.ExpiryDate != "300315" {
		t.Errorf("key %+v %v", k, err)
	}
	if k, err := chip.KeyOf(drivers.ChipKey{CAN: " 001190012345 "}); err != nil || k.CAN != "012345" || k.HasMRZ() {
		t.Errorf("typed whole ID: %+v %v", k, err)
	}
	if _, err := chip.KeyOf(drivers.ChipKey{CAN: "12a456"}); !errors.Is(err, emrtd.ErrNoKey) {
		t.Errorf("typed garbage: %v", err)
	}
	if _, err := chip.KeyOf(drivers.ChipKey{}); !errors.Is(err, emrtd.ErrNoKey) {
		t.Errorf("nothing: %v", err)
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

// gatewayStub answers every check as eligible; storeStub caches nothing.
type gatewayStub struct{}

func (gatewayStub) Check(context.Context, patient.Query) (patient.Eligibility, error) {
	return patient.Eligibility{Verdict: patient.Eligible, Code: "000"}, nil
}

type storeStub struct{}

func (storeStub) Lookup(context.Context, patient.Query) (patient.Eligibility, bool, error) {
	return patient.Eligibility{}, false, nil
}
func (storeStub) Save(context.Context, patient.Query, patient.Eligibility) error { return nil }
func (storeStub) Record(context.Context, agent.Audit) error                      { return nil }

// viaAgent runs a chip Source on the rig's first reader under a real agent
// (with the payload reader and the QR/chip cross-check cmd/tiepdon wires)
// and returns it with a function that waits for an event.
func viaAgent(t *testing.T, csca *emrtd.CSCAStore) (*agent.Agent, *events.Subscription, func(func(events.Event) bool) events.Event) {
	t.Helper()
	bus := events.New()
	sub := bus.Subscribe(events.All, 256)
	t.Cleanup(sub.Close)
	src := &chip.Source{CSCA: csca, Reader: pcsctest.ReaderName(0), Log: quiet(), ReadTimeout: 20 * time.Second, EarlyEmit: true}
	a, err := agent.New(agent.Deps{Bus: bus, Identify: payload.Identify, Checker: gatewayStub{}, Store: storeStub{},
		Sources: []drivers.Source{src}, WaitForQR: time.Minute, Logger: quiet(),
		Staff: patient.Staff{Name: "Trần Thị Bình", CitizenID: "079190000001"}, // signed in for the shift
		CrossCheck: func(qr, chip patient.Identity) (string, string, bool) {
			msg, ok := cccd.Disagreement(cccd.CrossCheck(qr, chip))
			return cccd.AlertCode, msg, ok
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	await := func(ok func(events.Event) bool) events.Event {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case ev := <-sub.C():
				if ok(ev) {
					return ev
				}
			case <-deadline:
				t.Fatal("event never came")
			}
		}
	}
	return a, sub, await
}

// QR then tap, through the agent: the card laid on the reader first waits
// for its QR code; the scan (read by the real payload reader) opens the
// chip, and the agent checks the chip's identity under the check the
// source began, then refines it with the photo.
func TestQRThenTapThroughTheAgent(t *testing.T) {
	pki, _ := virtual.NewPKI()
	rig := pcsctest.Start(t)
	card := cardWith(t, pki, virtual.Options{})
	a, sub, await := viaAgent(t, trust(t, pki))
	insert(t, rig, card)
	wait := await(func(ev events.Event) bool { return ev.Kind == events.CardProgress })
	chipCheck := wait.Data.(events.Progress).CheckID
	if wait.Data.(events.Progress).Step != "waiting-for-key" || chipCheck == "" {
		t.Fatalf("first progress %+v", wait.Data)
	}
	a.Present(drivers.Presentation{Medium: patient.MediumQR, Device: "wedge", At: time.Now(), Payload: []byte(card.Profile().QR())})
	res := await(func(ev events.Event) bool {
		r, ok := ev.Data.(events.Result)
		return ok && r.Identity.Medium == patient.MediumChip
	}).Data.(events.Result)
	if res.CheckID != chipCheck || res.Identity.CitizenID != card.Profile().CitizenID || res.Eligibility.Verdict != patient.Eligible {
		t.Errorf("chip result %+v, want it under check %s", res, chipCheck)
	}
	full := await(func(ev events.Event) bool {
		d, ok := ev.Data.(events.Identity)
		return ok && d.CheckID == chipCheck && d.Identity.Chip != nil && len(d.Identity.Chip.Photo) > 0
	}).Data.(events.Identity)
	if full.Identity.Authenticity.Clone != patient.ClonePassed {
		t.Errorf("refined identity %+v", full.Identity.Authenticity)
	}
	if r, ok := a.Receipt(chipCheck); !ok || r.Identity.Chip == nil || len(r.Identity.Chip.Photo) == 0 {
		t.Error("the check's receipt lacks the photo")
	}
	for len(sub.C()) > 0 {
		if ev := <-sub.C(); ev.Kind == events.Alert || ev.Kind == events.ReadFailed {
			t.Errorf("unexpected %v: %+v", ev.Kind, ev.Data)
		}
	}
}

// A QR code that disagrees with the chip of the same citizen (another name
// and birth day) raises the cross-check alert under the chip's check.
func TestCrossCheckThroughTheAgent(t *testing.T) {
	pki, _ := virtual.NewPKI()
	rig := pcsctest.Start(t)
	card := cardWith(t, pki, virtual.Options{})
	a, _, await := viaAgent(t, trust(t, pki))
	forged := card.Profile()
	forged.Name, forged.BirthDate.Day = "Nguyễn Thị Ánh Hằng", forged.BirthDate.Day+1
	a.Present(drivers.Presentation{Medium: patient.MediumQR, Device: "wedge", At: time.Now(), Payload: []byte(forged.QR())})
	insert(t, rig, card)
	al := await(func(ev events.Event) bool { return ev.Kind == events.Alert }).Data.(events.AlertData)
	if al.Code != cccd.AlertCode || !strings.Contains(al.Message, "name") || !strings.Contains(al.Message, "birthDate") ||
		strings.Contains(al.Message, "Hằng") {
		t.Errorf("alert %+v", al)
	}
	res := await(func(ev events.Event) bool {
		r, ok := ev.Data.(events.Result)
		return ok && r.Identity.Medium == patient.MediumChip
	}).Data.(events.Result)
	if res.CheckID != al.CheckID {
		t.Errorf("alert under check %q, the chip's result under %q", al.CheckID, res.CheckID)
	}
}

// A chip that fails its checks raises the agent's alert for its check.
func TestChipAlertsThroughTheAgent(t *testing.T) {
	pki, _ := virtual.NewPKI()
	for _, tt := range []struct {
		name  string
		opts  virtual.Options
		alert string
	}{
		{"tampered DG13", virtual.Options{TamperDG13: true}, agent.AlertNotAuthentic},
		{"wrong AA key", virtual.Options{WrongAAKey: true}, agent.AlertCloneSuspected},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rig := pcsctest.Start(t)
			card := cardWith(t, pki, tt.opts)
			a, _, await := viaAgent(t, trust(t, pki))
			a.Present(drivers.Presentation{Medium: patient.MediumQR, Device: "wedge", At: time.Now(), Payload: []byte(card.Profile().QR())})
			insert(t, rig, card)
			al := await(func(ev events.Event) bool {
				d, ok := ev.Data.(events.AlertData)
				return ok && d.Code == tt.alert
			}).Data.(events.AlertData)
			if al.CheckID == "" || strings.Contains(al.Message, string(card.Profile().CitizenID)) {
				t.Errorf("alert %+v", al)
			}
		})
	}
}
