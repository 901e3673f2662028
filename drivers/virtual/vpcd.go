package virtual

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// DefaultVPCDAddr is where Debian's /etc/reader.conf.d/vpcd has vpcd
// listen for the card of its first reader ("Virtual PCD 00 00").
const DefaultVPCDAddr = "127.0.0.1:35963"

// vpcd control messages (one byte long).
const (
	vpcdPowerOff = 0x00
	vpcdPowerOn  = 0x01
	vpcdReset    = 0x02
	vpcdATR      = 0x04
)

// ServeVPCD inserts card into the vpcd reader listening at addr and serves
// it until ctx ends (the card is then taken out: ServeVPCD returns nil) or
// the card is removed (it returns ErrRemoved). When pcscd goes away the card
// powers off and ServeVPCD keeps dialling, so the card is back in the
// reader when pcscd restarts.
//
// The protocol is vsmartcard's: every message in either direction is a
// big-endian uint16 length and that many bytes; from vpcd, one byte is a
// control message (00 power off, 01 power on, 02 reset, 04 send the ATR)
// and more is a command APDU, answered with the response APDU. TCP_QUICKACK
// is set before every read: Debian 12's vpcd writes the length and the body
// in two send() calls, and with delayed ACKs every exchange would wait 40 ms.
//
// A card stalled by Options.StallAfter holds ServeVPCD until Unstall or
// Remove.
func ServeVPCD(ctx context.Context, addr string, card *Card) error {
	var d net.Dialer
	wait := 20 * time.Millisecond
	for {
		select {
		case <-card.Removed():
			return ErrRemoved
		default:
		}
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-card.Removed():
				t.Stop()
				return ErrRemoved
			case <-t.C:
			}
			wait = min(wait*2, time.Second)
			continue
		}
		wait = 20 * time.Millisecond
		err = serveConn(ctx, conn.(*net.TCPConn), card)
		card.PowerOff()
		switch {
		case errors.Is(err, ErrRemoved):
			return ErrRemoved
		case ctx.Err() != nil:
			return nil
		}
		// The reader went away (pcscd stopped): dial again.
	}
}

// serveConn answers vpcd on one connection until it fails, ctx ends or the
// card is removed.
func serveConn(ctx context.Context, conn *net.TCPConn, card *Card) error {
	var once sync.Once
	closeConn := func() { once.Do(func() { conn.Close() }) }
	defer closeConn()
	stop := context.AfterFunc(ctx, closeConn)
	defer stop()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-card.Removed():
			closeConn()
		case <-done:
		}
	}()

	var hdr [2]byte
	buf := make([]byte, 0, 512)
	out := make([]byte, 0, 512)
	for {
		quickAck(conn)
		if _, err := io.ReadFull(conn, hdr[:]); err != nil {
			return removedOr(card, err)
		}
		n := int(binary.BigEndian.Uint16(hdr[:]))
		buf = buf[:0]
		if cap(buf) < n {
			buf = make([]byte, 0, n)
		}
		buf = buf[:n]
		quickAck(conn)
		if _, err := io.ReadFull(conn, buf); err != nil {
			return removedOr(card, err)
		}
		card.waitIfHung()
		var reply []byte
		switch {
		case n == 1 && buf[0] == vpcdPowerOff, n == 1 && buf[0] == vpcdPowerOn:
			card.PowerOff()
			continue
		case n == 1 && buf[0] == vpcdReset:
			card.Reset()
			continue
		case n == 1 && buf[0] == vpcdATR:
			reply = card.ATR()
		case n == 1:
			continue // unknown control message
		default:
			resp, err := card.Transmit(buf)
			if err != nil {
				return err
			}
			reply = resp
		}
		out = binary.BigEndian.AppendUint16(out[:0], uint16(len(reply)))
		out = append(out, reply...)
		if _, err := conn.Write(out); err != nil {
			return removedOr(card, fmt.Errorf("vpcd write: %w", err))
		}
	}
}

func removedOr(card *Card, err error) error {
	select {
	case <-card.Removed():
		return ErrRemoved
	default:
		return fmt.Errorf("vpcd: %w", err)
	}
}
