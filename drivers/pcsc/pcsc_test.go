package pcsc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/drivers"
	"github.com/tiepdon/tiepdon/drivers/pcsc"
	"github.com/tiepdon/tiepdon/drivers/pcsc/pcsctest"
	"github.com/tiepdon/tiepdon/drivers/virtual"
)

var _ drivers.Transmitter = (*pcsc.Card)(nil)

// watcher runs a Monitor and collects its events.
type watcher struct {
	t   *testing.T
	ch  chan pcsc.Event
	dev chan drivers.Device // reported device states, from before the monitor started
	mon *pcsc.Monitor

	mu   sync.Mutex
	last drivers.Device // the last device state reported
	err  chan error
}

func watch(t *testing.T) *watcher {
	t.Helper()
	w := &watcher{t: t, ch: make(chan pcsc.Event, 64), dev: make(chan drivers.Device, 256), err: make(chan error, 1)}
	report := func(d drivers.Device) {
		w.mu.Lock()
		w.last = d
		w.mu.Unlock()
		select {
		case w.dev <- d:
		default:
		}
	}
	w.mon = &pcsc.Monitor{Report: report, Log: slog.New(slog.DiscardHandler), RetryMin: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { w.err <- w.mon.Run(ctx, func(ev pcsc.Event) { w.ch <- ev }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-w.err:
			if err != nil {
				t.Errorf("Monitor.Run: %v", err)
			}
		case <-time.After(3 * time.Second):
			t.Error("Monitor.Run did not return after cancel")
		}
	})
	return w
}

// waitFor returns the first event of kind for reader ("" = any), failing
// after a deadline.
func (w *watcher) waitFor(kind pcsc.EventKind, reader string) pcsc.Event {
	w.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-w.ch:
			if ev.Kind == kind && (reader == "" || ev.Reader == reader) {
				return ev
			}
		case <-deadline:
			w.t.Fatalf("no %v event for %q within 10 s", kind, reader)
		}
	}
}

// insert serves card in the rig's first slot (pcsctest.Rig.Insert).
func insert(t *testing.T, rig *pcsctest.Rig, card *virtual.Card) (remove func()) {
	t.Helper()
	return rig.Insert(t, 0, card)
}

func newCard(t *testing.T, o virtual.Options) *virtual.Card {
	t.Helper()
	p := virtual.Synthetic(0)
	p.Options = o
	c, err := virtual.NewCard(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitPresent polls the monitor's view until the reader has a card.
func connect(t *testing.T, reader string, o pcsc.Options) *pcsc.Card {
	t.Helper()
	c, err := pcsc.Connect(context.Background(), reader, o)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func apdu(t *testing.T, c drivers.Transmitter, cmd []byte) ([]byte, uint16) {
	t.Helper()
	r, err := c.Transmit(cmd)
	if err != nil {
		t.Fatalf("Transmit % X: %v", cmd, err)
	}
	if len(r) < 2 {
		t.Fatalf("response of %d bytes", len(r))
	}
	return r[:len(r)-2], uint16(r[len(r)-2])<<8 | uint16(r[len(r)-1])
}

func TestReadersAndCardEvents(t *testing.T) {
	rig := pcsctest.Start(t)
	w := watch(t)
	sub := w.dev

	w.waitFor(pcsc.ReaderAdded, rig.Reader(0))
	names, err := pcsc.ListReaders()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(names, rig.Reader(0)) || !slices.Contains(names, rig.Reader(1)) {
		t.Fatalf("ListReaders = %q", names)
	}

	card := newCard(t, virtual.Options{})
	remove := insert(t, rig, card)
	ev := w.waitFor(pcsc.CardInserted, rig.Reader(0))
	if !bytes.Equal(ev.ATR, card.ATR()) {
		t.Errorf("ATR % X, want % X", ev.ATR, card.ATR())
	}
	// The reports saw the reader and then the card.
	var states []drivers.DeviceState
	for len(states) == 0 || states[len(states)-1] != drivers.DeviceCard {
		select {
		case d := <-sub:
			if d.Kind != drivers.Reader {
				t.Fatalf("device kind %q", d.Kind)
			}
			if d.Name == rig.Reader(0) {
				states = append(states, d.State)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("bus states %v, no card", states)
		}
	}
	if states[0] != drivers.DeviceReady {
		t.Errorf("bus states %v, want ready first", states)
	}
	if got := w.mon.Readers(); len(got) != 2 || !got[0].Present {
		t.Errorf("Readers() = %+v", got)
	}

	remove()
	w.waitFor(pcsc.CardRemoved, rig.Reader(0))
}

func TestTransmitThroughPCSCD(t *testing.T) {
	rig := pcsctest.Start(t)
	w := watch(t)
	card := newCard(t, virtual.Options{})
	insert(t, rig, card)
	w.waitFor(pcsc.CardInserted, rig.Reader(0))

	if with, err := pcsc.ReadersWithCard(); err != nil || len(with) != 1 || with[0] != rig.Reader(0) {
		t.Errorf("ReadersWithCard = %q, %v", with, err)
	}
	c := connect(t, rig.Reader(0), pcsc.Options{})
	if !bytes.Equal(c.ATR(), card.ATR()) || c.Reader() != rig.Reader(0) {
		t.Errorf("ATR % X reader %q", c.ATR(), c.Reader())
	}
	// A CCCD refuses SELECT MF but lets EF.CardAccess be selected and read in plain.
	if _, sw := apdu(t, c, []byte{0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00}); sw != 0x6D00 {
		t.Errorf("SELECT MF: %04X, want 6D00", sw)
	}
	if _, sw := apdu(t, c, []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x01, 0x1C}); sw != 0x9000 {
		t.Fatalf("SELECT EF.CardAccess: %04X", sw)
	}
	data, sw := apdu(t, c, []byte{0x00, 0xB0, 0x00, 0x00, 0x00})
	want, _ := card.File(virtual.FIDCardAccess)
	if sw != 0x6282 && sw != 0x9000 || !bytes.Equal(data, want) {
		t.Errorf("READ EF.CardAccess: % X %04X, want % X", data, sw, want)
	}
	// DG1 needs authentication.
	apdu(t, c, []byte{0x00, 0xA4, 0x04, 0x0C, 0x07, 0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01})
	if _, sw := apdu(t, c, []byte{0x00, 0xB0, 0x81, 0x00, 0x04}); sw != 0x6982 {
		t.Errorf("plain READ DG1: %04X, want 6982", sw)
	}
	// An extended-length read (Le = 00 01 00) passes through pcscd and vpcd.
	apdu(t, c, []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x01, 0x1C})
	if data, sw := apdu(t, c, []byte{0x00, 0xB0, 0x00, 0x00, 0x00, 0x01, 0x00}); !bytes.Equal(data, want) || sw != 0x6282 {
		t.Errorf("extended READ: % X %04X", data, sw)
	}
	if err := c.Reset(); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	if card.Stats().Resets == 0 {
		t.Error("card saw no reset")
	}
}

func TestCardRemovedMidRead(t *testing.T) {
	rig := pcsctest.Start(t)
	w := watch(t)
	card := newCard(t, virtual.Options{RemoveAfter: 3})
	insert(t, rig, card)
	w.waitFor(pcsc.CardInserted, rig.Reader(0))

	c := connect(t, rig.Reader(0), pcsc.Options{})
	selectCA := []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x01, 0x1C}
	apdu(t, c, selectCA)
	apdu(t, c, selectCA)
	r, err := c.Transmit(selectCA)
	if err == nil {
		t.Fatalf("Transmit after removal succeeded: % X (card stats %+v)", r, card.Stats())
	}
	// pcscd may notice the removal before or after it answers: either
	// way the error says the card is gone or mute, never a response.
	if !errors.Is(err, pcsc.ErrCardRemoved) && !errors.Is(err, pcsc.ErrMute) {
		t.Errorf("removal mid-read: %v, want ErrCardRemoved or ErrMute", err)
	}
	w.waitFor(pcsc.CardRemoved, rig.Reader(0))
	if _, err := c.Transmit(selectCA); !errors.Is(err, pcsc.ErrCardRemoved) && !errors.Is(err, pcsc.ErrNoCard) {
		t.Errorf("Transmit on the old handle: %v, want ErrCardRemoved", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close after removal: %v", err)
	}
}

func TestTransmitTimeout(t *testing.T) {
	rig := pcsctest.Start(t)
	w := watch(t)
	card := newCard(t, virtual.Options{StallAfter: 2})
	remove := insert(t, rig, card)
	w.waitFor(pcsc.CardInserted, rig.Reader(0))

	c := connect(t, rig.Reader(0), pcsc.Options{TransmitTimeout: 300 * time.Millisecond})
	selectCA := []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x01, 0x1C}
	apdu(t, c, selectCA)
	start := time.Now()
	_, err := c.Transmit(selectCA)
	if !errors.Is(err, pcsc.ErrTimeout) {
		t.Fatalf("stalled Transmit: %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("timeout took %v", d)
	}
	if _, err := c.Transmit(selectCA); !errors.Is(err, pcsc.ErrClosed) {
		t.Errorf("Transmit after a timeout: %v, want ErrClosed", err)
	}
	c.Close()
	remove() // unstalls the card so that pcscd's reader thread is released
}

func TestMonitorSurvivesPCSCDRestart(t *testing.T) {
	rig := pcsctest.Start(t)
	w := watch(t)
	card := newCard(t, virtual.Options{})
	insert(t, rig, card)
	w.waitFor(pcsc.CardInserted, rig.Reader(0))

	for i, stop := range []func(){rig.Kill, rig.Stop} {
		t.Run(fmt.Sprint([]string{"kill", "term"}[i]), func(t *testing.T) {
			w.t = t
			stop()
			w.waitFor(pcsc.ServiceLost, "")
			if got := w.mon.Readers(); len(got) != 0 {
				t.Errorf("readers while pcscd is down: %+v", got)
			}
			w.mu.Lock()
			d := w.last
			w.mu.Unlock()
			if d.State != drivers.DeviceError || d.Name != pcsc.ServiceDevice {
				t.Errorf("last device event %+v", d)
			}
			rig.Restart()
			w.waitFor(pcsc.ServiceBack, "")
			w.waitFor(pcsc.ReaderAdded, rig.Reader(0))
			w.waitFor(pcsc.CardInserted, rig.Reader(0)) // ServeVPCD dialled again
			c := connect(t, rig.Reader(0), pcsc.Options{})
			if _, sw := apdu(t, c, []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x01, 0x1C}); sw != 0x9000 {
				t.Errorf("SELECT after restart: %04X", sw)
			}
			c.Close()
		})
	}
}

func TestMonitorWithoutService(t *testing.T) {
	// Holding the rig lock without starting pcscd guarantees no service.
	rig := pcsctest.Start(t)
	rig.Stop()
	w := watch(t)
	w.waitFor(pcsc.ServiceLost, "")
	if _, err := pcsc.ListReaders(); !errors.Is(err, pcsc.ErrNoService) {
		t.Errorf("ListReaders without pcscd: %v, want ErrNoService", err)
	}
	if _, err := pcsc.Connect(context.Background(), "none", pcsc.Options{}); !errors.Is(err, pcsc.ErrNoService) {
		t.Errorf("Connect without pcscd: %v, want ErrNoService", err)
	}
	rig.Restart()
	w.waitFor(pcsc.ServiceBack, "")
	w.waitFor(pcsc.ReaderAdded, rig.Reader(0))
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// A card (or reader) that stops answering must not hang Connect: pcscd's
// poll of the hung card holds the reader, and Connect gives up in time.
func TestConnectTimeoutOnHungCard(t *testing.T) {
	rig := pcsctest.Start(t)
	w := watch(t)
	card := newCard(t, virtual.Options{})
	remove := insert(t, rig, card)
	w.waitFor(pcsc.CardInserted, rig.Reader(0))
	card.Hang()
	start := time.Now()
	c, err := pcsc.Connect(context.Background(), rig.Reader(0), pcsc.Options{ConnectTimeout: time.Second, TransmitTimeout: time.Second})
	if err == nil {
		// pcscd may not touch the card on connect; the first APDU then hangs instead.
		_, err = c.TransmitContext(context.Background(), []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x01, 0x1C})
		c.Close()
	}
	if !errors.Is(err, pcsc.ErrTimeout) {
		t.Fatalf("hung card: %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("gave up after %v", d)
	}
	t0 := time.Now()
	remove() // unstalls the card and releases pcscd
	t.Logf("connect gave up after %v; removal took %v", time.Since(start), time.Since(t0))
}

// With no reader at all the monitor blocks in SCardGetStatusChange on the
// PnP pseudo-reader (no spinning, no service-lost); readers configured
// again are reported added.
func TestNoReadersThenReaders(t *testing.T) {
	rig := pcsctest.Start(t)
	w := watch(t)
	w.waitFor(pcsc.ReaderAdded, rig.Reader(1))
	rig.RestartWith(false)
	w.waitFor(pcsc.ServiceBack, "")
	before := w.mon.Polls()
	// Poll the monitor's view for a second: nothing appears, and the
	// monitor sleeps in PC/SC rather than looping.
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		if r := w.mon.Readers(); len(r) != 0 {
			t.Fatalf("readers with none configured: %+v", r)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := w.mon.Polls() - before; n > 4 {
		t.Errorf("%d status-change calls in a second with no reader: spinning", n)
	}
	for len(w.ch) > 0 {
		if ev := <-w.ch; ev.Kind == pcsc.ServiceLost || ev.Kind == pcsc.ReaderAdded {
			t.Errorf("unexpected %v while idle", ev.Kind)
		}
	}
	rig.RestartWith(true)
	w.waitFor(pcsc.ReaderAdded, rig.Reader(0))
}
