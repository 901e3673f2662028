package virtual_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/drivers/virtual"
)

// fakeVPCD plays vpcd's side of the protocol on a TCP listener, so that
// ServeVPCD's framing is tested without pcscd (the pcsc package tests the
// real thing).
func TestServeVPCDFraming(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if runtime.GOOS == "linux" && !virtual.VPCDListening(ln.Addr().String()) {
		t.Error("VPCDListening does not see the listener")
	}
	card, err := virtual.NewCard(virtual.Synthetic(0))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- virtual.ServeVPCD(ctx, ln.Addr().String(), card) }()

	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	send := func(b []byte) {
		// vpcd writes the length and the body separately, as Debian's does.
		conn.Write(binary.BigEndian.AppendUint16(nil, uint16(len(b))))
		conn.Write(b)
	}
	recv := func() []byte {
		var h [2]byte
		if _, err := io.ReadFull(conn, h[:]); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, binary.BigEndian.Uint16(h[:]))
		if _, err := io.ReadFull(conn, b); err != nil {
			t.Fatal(err)
		}
		return b
	}
	send([]byte{0x04})
	if got := recv(); !bytes.Equal(got, card.ATR()) {
		t.Errorf("ATR % X", got)
	}
	send([]byte{0x01}) // power on: no answer
	send([]byte{0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00})
	if got := recv(); !bytes.Equal(got, []byte{0x6D, 0x00}) {
		t.Errorf("SELECT MF: % X", got)
	}
	send([]byte{0x02}) // reset: no answer
	send([]byte{0x04})
	recv()
	if card.Stats().Resets < 2 {
		t.Errorf("stats %+v: power on and reset not seen", card.Stats())
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ServeVPCD after cancel: %v", err)
	}
	// The card is out: vpcd sees the connection close.
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Error("connection still open after the card was taken out")
	}

	// Tap: inserted for a while, then out.
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	start := time.Now()
	if err := virtual.Tap(context.Background(), ln.Addr().String(), card, 100*time.Millisecond); err != nil {
		t.Errorf("Tap: %v", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 3*time.Second {
		t.Errorf("Tap held the card %v", d)
	}
}

func TestServeVPCDRemoval(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	p := virtual.Synthetic(0)
	p.Options.RemoveAfter = 1
	card, _ := virtual.NewCard(p)
	done := make(chan error, 1)
	go func() { done <- virtual.ServeVPCD(context.Background(), ln.Addr().String(), card) }()
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte{0x00, 0x05, 0x00, 0x84, 0x00, 0x00, 0x08})
	select {
	case err := <-done:
		if err != virtual.ErrRemoved {
			t.Errorf("ServeVPCD: %v, want ErrRemoved", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ServeVPCD did not return on removal")
	}
}
