package pcsc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ebfe/scard"
)

// Default timeouts for Connect and Transmit.
const (
	DefaultConnectTimeout  = 5 * time.Second
	DefaultTransmitTimeout = 5 * time.Second
)

// Options tunes Connect. The zero value is usable.
type Options struct {
	// ConnectTimeout bounds SCardConnect and SCardBeginTransaction
	// (default DefaultConnectTimeout).
	ConnectTimeout time.Duration
	// TransmitTimeout bounds each SCardTransmit (default
	// DefaultTransmitTimeout). Reading a large file is many APDUs, each
	// with its own bound.
	TransmitTimeout time.Duration
	// NoTransaction skips SCardBeginTransaction (for readers whose driver
	// refuses transactions).
	NoTransaction bool
}

func (o Options) withDefaults() Options {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.TransmitTimeout <= 0 {
		o.TransmitTimeout = DefaultTransmitTimeout
	}
	return o
}

// Card is a connection to the card in one reader, held inside a PC/SC
// transaction so that no other process interleaves APDUs with ours. It
// satisfies drivers.Transmitter. Card is safe for use by one goroutine at a
// time; Close may be called from any goroutine.
//
// A Card has its own PC/SC context, separate from any Monitor's, because
// pcsc-lite serialises calls on one context and a blocked
// SCardGetStatusChange would otherwise delay every APDU.
type Card struct {
	reader  string
	atr     []byte
	proto   scard.Protocol
	timeout time.Duration

	ctx  *scard.Context
	card *scard.Card
	tx   bool

	// opMu is held by the goroutine running a PC/SC call, for as long as
	// the call lasts (possibly past its deadline).
	opMu sync.Mutex

	mu     sync.Mutex
	closed bool
	broken error // set when a call timed out or the card was closed
}

// result of one PC/SC call run in a goroutine.
type result struct {
	b   []byte
	err error
}

// Connect opens the card in reader, begins a transaction and returns the
// Card. It fails with ErrNoCard, ErrNoReader, ErrNoService or ErrTimeout
// (all wrapped) when it cannot. ctx bounds the whole call as well.
func Connect(ctx context.Context, reader string, opt Options) (*Card, error) {
	opt = opt.withDefaults()
	sctx, err := scard.EstablishContext()
	if err != nil {
		return nil, wrap("establish context", err)
	}
	c := &Card{reader: reader, timeout: opt.TransmitTimeout, ctx: sctx}

	ctx, cancel := context.WithTimeout(ctx, opt.ConnectTimeout)
	defer cancel()
	_, err = c.run(ctx, "connect", func() ([]byte, error) {
		card, err := sctx.Connect(reader, scard.ShareShared, scard.ProtocolAny)
		if err != nil {
			return nil, err
		}
		c.card = card
		c.proto = card.ActiveProtocol()
		if !opt.NoTransaction {
			if err := card.BeginTransaction(); err != nil {
				return nil, fmt.Errorf("begin transaction: %w", err)
			}
			c.tx = true
		}
		st, err := card.Status()
		if err != nil {
			return nil, fmt.Errorf("status: %w", err)
		}
		c.atr = append([]byte(nil), st.Atr...)
		return nil, nil
	})
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// run executes fn in its own goroutine, holding opMu while it runs, and
// waits for it until ctx ends. If ctx ends first the Card is marked broken
// and the goroutine is left to finish on its own; Close then cleans up
// after it.
func (c *Card) run(ctx context.Context, op string, fn func() ([]byte, error)) ([]byte, error) {
	c.mu.Lock()
	broken := c.broken
	c.mu.Unlock()
	if broken != nil {
		return nil, fmt.Errorf("pcsc %s: %w", op, broken)
	}
	done := make(chan result, 1)
	go func() {
		c.opMu.Lock()
		defer c.opMu.Unlock()
		b, err := fn()
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		return r.b, wrap(op, r.err)
	case <-ctx.Done():
		c.mu.Lock()
		c.broken = fmt.Errorf("%w after an earlier %s did not return", ErrClosed, op)
		c.mu.Unlock()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("pcsc %s: %w", op, ErrTimeout)
		}
		return nil, fmt.Errorf("pcsc %s: %w", op, ctx.Err())
	}
}

// Transmit sends one command APDU and returns the response APDU. It gives
// up after the transmit timeout with ErrTimeout; the Card cannot be used
// after that.
func (c *Card) Transmit(cmd []byte) ([]byte, error) {
	return c.TransmitContext(context.Background(), cmd)
}

// TransmitContext is Transmit bounded by ctx as well as by the transmit
// timeout.
func (c *Card) TransmitContext(ctx context.Context, cmd []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.run(ctx, "transmit", func() ([]byte, error) {
		r, err := c.card.Transmit(cmd)
		if err == nil && len(r) >= 2 {
			return r, nil
		}
		// When a card leaves during an exchange, pcscd answers either
		// SCARD_E_NOT_TRANSACTED or success with no bytes (seen with
		// vpcd), before its next poll notices the removal.
		if err != nil && !errors.Is(err, scard.ErrNotTransacted) && !errors.Is(err, scard.ErrUnresponsiveCard) {
			return nil, err
		}
		what := fmt.Sprintf("response of %d bytes", len(r))
		if err != nil {
			what = err.Error()
		}
		if st, serr := c.card.Status(); serr != nil || st.State&scard.Present == 0 {
			return nil, fmt.Errorf("%s: %w", what, ErrCardRemoved)
		}
		return nil, fmt.Errorf("%s: %w", what, ErrMute)
	})
}

// Reset resets the card (a warm reset through SCardReconnect) and begins a
// new transaction. Secure messaging must be set up again afterwards.
func (c *Card) Reset() error {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	_, err := c.run(ctx, "reset", func() ([]byte, error) {
		if c.tx {
			_ = c.card.EndTransaction(scard.LeaveCard)
			c.tx = false
		}
		if err := c.card.Reconnect(scard.ShareShared, scard.ProtocolAny, scard.ResetCard); err != nil {
			return nil, err
		}
		if err := c.card.BeginTransaction(); err != nil {
			return nil, err
		}
		c.tx = true
		return nil, nil
	})
	return err
}

// ATR returns the card's answer to reset.
func (c *Card) ATR() []byte { return append([]byte(nil), c.atr...) }

// Reader returns the name of the reader the card is in.
func (c *Card) Reader() string { return c.reader }

// Close ends the transaction, disconnects (leaving the card powered) and
// releases the Card's context. If a PC/SC call is still hung, the cleanup
// happens in the background once it returns. Close is idempotent.
func (c *Card) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	hung := c.broken != nil
	if c.broken == nil {
		c.broken = errClosedByUser
	}
	c.mu.Unlock()

	cleanup := func() error {
		c.opMu.Lock()
		defer c.opMu.Unlock()
		var errs []error
		if c.card != nil {
			if c.tx {
				errs = append(errs, wrap("end transaction", c.card.EndTransaction(scard.LeaveCard)))
			}
			errs = append(errs, wrap("disconnect", c.card.Disconnect(scard.LeaveCard)))
		}
		errs = append(errs, wrap("release context", c.ctx.Release()))
		return errors.Join(errs...)
	}
	if hung {
		go cleanup()
		return nil
	}
	err := cleanup()
	if errors.Is(err, ErrCardRemoved) || errors.Is(err, ErrNoService) || errors.Is(err, ErrCardReset) {
		return nil // the card or the service is gone: nothing left to release
	}
	return err
}

var errClosedByUser = fmt.Errorf("%w by its owner", ErrClosed)
