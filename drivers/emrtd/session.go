package emrtd

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"github.com/tiepdon/tiepdon/drivers"
)

// AID is the ICAO eMRTD application identifier.
var AID = []byte{0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01}

// File identifiers of the LDS (ICAO 9303-10).
const (
	FIDCardAccess uint16 = 0x011C
	FIDATRInfo    uint16 = 0x2F01
	FIDCOM        uint16 = 0x011E
	FIDSOD        uint16 = 0x011D
)

// FIDDG returns the file identifier of data group n (1..16): 0x0100 + n.
func FIDDG(n int) uint16 { return 0x0100 + uint16(n) }

// Access-control errors.
var (
	// ErrPACERefused means the chip does not offer or refused PACE
	// (6982, 6A80, no EF.CardAccess...); Open then falls back to BAC.
	ErrPACERefused = errors.New("emrtd: PACE refused by the chip")
	// ErrNoKey means the key lacks what the chip needs (MRZ data for BAC).
	ErrNoKey = errors.New("emrtd: key material missing")
	// ErrSessionLost means secure messaging broke (MAC error, chip reset)
	// and could not be re-established.
	ErrSessionLost = errors.New("emrtd: secure messaging session lost")
)

// ExtendedLength says whether to use extended-length APDUs.
type ExtendedLength int

// Extended-length modes.
const (
	ExtendedAuto ExtendedLength = iota // ATR, then EF.ATR/INFO, then a probe
	ExtendedOn                         // always (the chip is known to support it)
	ExtendedOff                        // never: short APDUs only
)

// SessionOptions tune Open.
type SessionOptions struct {
	// Extended selects extended-length reads (default: auto-detect).
	Extended ExtendedLength
	// MaxExtendedRead caps one extended READ BINARY (default 4080 bytes, or
	// what EF.ATR/INFO allows).
	MaxExtendedRead int
	// NoPACE skips PACE and runs BAC (needs MRZ data).
	NoPACE bool
	// NoSFI selects files with SELECT instead of reading by short file ID.
	NoSFI bool
	// Rand is the source of nonces and ephemeral keys (default crypto/rand).
	Rand io.Reader
}

// ATRer is implemented by transmitters that know the card's ATR (an
// optional extra of drivers.Transmitter): its historical bytes can announce
// extended-length support. ATR() []byte is accepted too.
type ATRer interface {
	ATR() ([]byte, error)
}

// Stats counts the traffic of a session.
type Stats struct {
	APDUs    int // command APDUs sent
	BytesOut int // command bytes sent
	BytesIn  int // response bytes received
}

// Session is an authenticated connection to the eMRTD application of a
// chip: access control done, secure messaging running, eMRTD application
// selected. It is not safe for concurrent use.
type Session struct {
	tx   drivers.Transmitter
	key  Key
	opts SessionOptions
	sm   *SecureMessaging

	// Protocol is "PACE" or "BAC".
	Protocol string
	// PACE is the protocol used, when Protocol is "PACE".
	PACE PACEInfo
	// CardAccess is the parsed EF.CardAccess, or nil if the chip has none.
	CardAccess *SecurityInfos
	// CardAccessRaw is EF.CardAccess as read.
	CardAccessRaw []byte
	// PACEError is why PACE was not used, when Protocol is "BAC".
	PACEError error
	// Stats counts APDUs and bytes.
	Stats Stats

	maxShort    int
	maxExt      int
	extended    int  // 0 unknown, 1 yes, -1 no
	probeFailed bool // an extended-length read failed
	chunk       func(done, total int)
	chipAuthed  bool
}

// Open authenticates to the chip behind tx with key: it reads EF.CardAccess
// (selected directly, as the CCCD answers 6D00 to SELECT MF), runs PACE
// (CAN preferred, else MRZ) when the chip offers a supported protocol,
// falls back to BAC when PACE is refused or unavailable and the key has MRZ
// data, and selects the eMRTD application under secure messaging.
func Open(ctx context.Context, tx drivers.Transmitter, key Key) (*Session, error) {
	return OpenWithOptions(ctx, tx, key, SessionOptions{})
}

// OpenWithOptions is Open with options.
func OpenWithOptions(ctx context.Context, tx drivers.Transmitter, key Key, opts SessionOptions) (*Session, error) {
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.MaxExtendedRead <= 0 {
		opts.MaxExtendedRead = 4080
	}
	s := &Session{tx: tx, key: key, opts: opts, maxShort: 223, maxExt: opts.MaxExtendedRead}
	switch opts.Extended {
	case ExtendedOn:
		s.extended = 1
	case ExtendedOff:
		s.extended = -1
	default:
		switch a := tx.(type) {
		case ATRer:
			if atr, err := a.ATR(); err == nil && atrExtendedLength(atr) {
				s.extended = 1
			}
		case interface{ ATR() []byte }:
			if atrExtendedLength(a.ATR()) {
				s.extended = 1
			}
		}
	}
	if err := s.authenticate(ctx, true); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Session) authenticate(ctx context.Context, first bool) error {
	s.sm, s.chipAuthed = nil, false
	if first {
		raw, err := s.readPlain(ctx, FIDCardAccess)
		switch {
		case err == nil:
			s.CardAccessRaw = raw
			s.CardAccess, err = ParseSecurityInfos(raw)
			if err != nil {
				s.PACEError = fmt.Errorf("%w: EF.CardAccess: %v", ErrPACERefused, err)
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case isStatus(err):
			s.PACEError = fmt.Errorf("%w: no EF.CardAccess: %w", ErrPACERefused, err)
		default:
			return fmt.Errorf("reading EF.CardAccess: %w", err)
		}
		if s.opts.Extended == ExtendedAuto && s.extended == 0 {
			s.readATRInfo(ctx)
		}
	}
	if s.opts.NoPACE {
		s.PACEError = fmt.Errorf("%w: disabled", ErrPACERefused)
	}
	if s.PACEError == nil && s.CardAccess != nil {
		info, ok := s.CardAccess.PreferredPACE()
		if !ok {
			s.PACEError = fmt.Errorf("%w: no supported PACE protocol in EF.CardAccess", ErrPACERefused)
		} else if !s.key.HasCAN() && !s.key.HasMRZ() {
			return fmt.Errorf("PACE: %w: need a CAN or MRZ data", ErrNoKey)
		} else {
			err := s.pace(ctx, info)
			switch {
			case err == nil:
				s.Protocol, s.PACE = "PACE", info
				if err := s.selectAID(ctx); err != nil {
					return fmt.Errorf("selecting eMRTD application after PACE: %w", err)
				}
				return nil
			case ctx.Err() != nil:
				return ctx.Err()
			case errors.Is(err, ErrPACERefused):
				s.PACEError = err
			case errors.Is(err, ErrAuthentication) && s.key.HasMRZ() && s.key.HasCAN():
				// Wrong CAN: the MRZ may still open the chip by BAC.
				s.PACEError = err
			default:
				return fmt.Errorf("PACE: %w", err)
			}
		}
	}
	if !s.key.HasMRZ() {
		return fmt.Errorf("BAC after %v: %w: need document number, birth and expiry dates", s.PACEError, ErrNoKey)
	}
	if err := s.bac(ctx); err != nil {
		return fmt.Errorf("BAC: %w", err)
	}
	s.Protocol = "BAC"
	return nil
}

func isStatus(err error) bool {
	var se *StatusError
	return errors.As(err, &se)
}

// Transmit sends one command (protected when a session runs) and returns
// the plain response. Status words are in the Response; use Response.Err.
// A secure-messaging failure ends the session (ErrSessionLost).
func (s *Session) Transmit(ctx context.Context, c Command) (Response, error) {
	if err := ctx.Err(); err != nil {
		return Response{}, err
	}
	raw := c.Bytes()
	if s.sm != nil {
		var err error
		raw, err = s.sm.ProtectCommand(raw)
		if err != nil {
			return Response{}, err
		}
	}
	resp, err := s.transmitRaw(raw)
	if err != nil {
		return Response{}, err
	}
	if s.sm != nil {
		plain, err := s.sm.UnprotectResponse(resp)
		if err != nil {
			s.sm = nil
			return Response{}, fmt.Errorf("%w: %v", ErrSessionLost, err)
		}
		r, _ := ParseResponse(plain)
		if len(resp) == 2 {
			// An unprotected error: the chip has ended secure messaging
			// (6987, 6988) or its counter is unknown; authenticate again
			// before the next command.
			s.sm = nil
			if r.SW == 0x6987 || r.SW == 0x6988 {
				return r, fmt.Errorf("%w: %w", ErrSessionLost, r.Err())
			}
		}
		return r, nil
	}
	r, err := ParseResponse(resp)
	if err != nil {
		return Response{}, err
	}
	// T=0 style "61xx": fetch the rest with GET RESPONSE (plain only).
	for r.SW>>8 == 0x61 {
		more, err := s.transmitRaw(Command{INS: 0xC0, Ne: int(r.SW & 0xFF)}.Bytes())
		if err != nil {
			return Response{}, err
		}
		m, err := ParseResponse(more)
		if err != nil {
			return Response{}, err
		}
		r = Response{Data: append(r.Data, m.Data...), SW: m.SW}
	}
	return r, nil
}

func (s *Session) transmitRaw(raw []byte) ([]byte, error) {
	s.Stats.APDUs++
	s.Stats.BytesOut += len(raw)
	resp, err := s.tx.Transmit(raw)
	if err != nil {
		return nil, fmt.Errorf("transmitting APDU: %w", err)
	}
	s.Stats.BytesIn += len(resp)
	if len(resp) < 2 {
		return nil, malformed("response of %d bytes", len(resp))
	}
	return resp, nil
}

func (s *Session) do(ctx context.Context, c Command) ([]byte, error) {
	r, err := s.Transmit(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := r.Err(); err != nil {
		return r.Data, err
	}
	return r.Data, nil
}

func selectEF(fid uint16) Command {
	return Command{INS: 0xA4, P1: 0x02, P2: 0x0C, Data: []byte{byte(fid >> 8), byte(fid)}}
}

func (s *Session) selectAID(ctx context.Context) error {
	_, err := s.do(ctx, Command{INS: 0xA4, P1: 0x04, P2: 0x0C, Data: AID})
	return err
}

// readPlain reads a whole file without secure messaging (EF.CardAccess,
// EF.ATR/INFO), selected by SELECT with P1=02.
func (s *Session) readPlain(ctx context.Context, fid uint16) ([]byte, error) {
	if _, err := s.do(ctx, selectEF(fid)); err != nil {
		return nil, err
	}
	return s.readSelected(ctx, nil, 256)
}

// readATRInfo reads EF.ATR/INFO by its short file identifier (one APDU,
// plain, before authentication) for the extended length information.
func (s *Session) readATRInfo(ctx context.Context) {
	r, err := s.Transmit(ctx, Command{INS: 0xB0, P1: 0x81, Ne: 256})
	if err != nil || (r.SW != 0x9000 && r.SW != 0x6282) {
		return
	}
	if ok, maxResp := parseATRInfo(r.Data); ok {
		s.extended = 1
		if maxResp > 0 {
			// Room for DO'87' (4 header bytes + up to 16 padding), '99', '8E'.
			n := maxResp - 40
			switch {
			case n <= 0:
			case n < s.maxExt:
				s.maxExt = n
			case s.opts.MaxExtendedRead == 4080:
				s.maxExt = min(n, 0x7FF0)
			}
		}
	}
}

// parseATRInfo looks in EF.ATR/INFO for the extended length information
// '7F66' (two INTEGERs: maximum command and response lengths).
func parseATRInfo(b []byte) (ok bool, maxResp int) {
	t, found := FindTLV(b, 0x7F66)
	if !found {
		return false, 0
	}
	objs, err := ParseTLVs(t.Value)
	if err != nil || len(objs) < 2 || objs[1].Tag != 0x02 {
		return true, 0
	}
	for _, c := range objs[1].Value {
		maxResp = maxResp<<8 | int(c)
		if maxResp > 1<<20 {
			return true, 0
		}
	}
	return true, maxResp
}

// atrExtendedLength reports whether the ATR's historical bytes carry card
// capabilities (compact-TLV tag 7, third byte) with extended Lc/Le.
func atrExtendedLength(atr []byte) bool {
	if len(atr) < 2 {
		return false
	}
	k := int(atr[1] & 0x0F)
	i := 1
	y := atr[1] >> 4
	for {
		for bit := byte(1); bit <= 8; bit <<= 1 {
			if y&bit != 0 {
				i++
			}
		}
		if y&8 == 0 || i >= len(atr) {
			break
		}
		y = atr[i] >> 4
	}
	i++
	if i+k > len(atr) || k == 0 || atr[i] != 0x80 {
		return false
	}
	h := atr[i+1 : i+k]
	for len(h) > 0 {
		tag, l := h[0]>>4, int(h[0]&0x0F)
		if 1+l > len(h) {
			return false
		}
		if tag == 7 && l >= 3 {
			return h[3]&0x40 != 0
		}
		h = h[1+l:]
	}
	return false
}

// sfiOf returns the short file identifier of an LDS EF, or 0.
func sfiOf(fid uint16) byte {
	if fid>>8 == 0x01 && fid&0xFF >= 1 && fid&0xFF <= 0x1F {
		return byte(fid)
	}
	return 0
}

// ReadFile reads a whole elementary file of the eMRTD application by file
// identifier (FIDDG(n), FIDCOM, FIDSOD): by short file identifier when it
// has one, with reads as large as the chip allows, and extended length
// when the chip supports it. If secure messaging was lost (an
// extended-length probe the chip refused in plain, a plain error answer),
// access control is run again once and the file read again.
func (s *Session) ReadFile(ctx context.Context, fid uint16) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		if s.sm == nil {
			if err := s.authenticate(ctx, false); err != nil {
				return nil, fmt.Errorf("%w: re-authenticating: %w", ErrSessionLost, err)
			}
		}
		b, err := s.readFile(ctx, fid)
		if err == nil || s.sm != nil || attempt > 0 || ctx.Err() != nil {
			return b, err
		}
	}
}

func (s *Session) readFile(ctx context.Context, fid uint16) ([]byte, error) {
	sfi := sfiOf(fid)
	var first []byte
	if sfi != 0 && !s.opts.NoSFI {
		data, err := s.readChunk(ctx, Command{INS: 0xB0, P1: 0x80 | sfi, P2: 0}, 0)
		if err != nil && s.sm != nil && s.probeFailed {
			data, err = s.readChunk(ctx, Command{INS: 0xB0, P1: 0x80 | sfi, P2: 0}, 0)
		}
		switch {
		case err == nil:
			first = data
		case s.sm == nil || errors.Is(err, ErrSecurityNotSatisfied) || errors.Is(err, ErrFileNotFound):
			return nil, err
		default:
			// The chip may not know SFIs: select instead.
		}
	}
	if first == nil {
		if _, err := s.do(ctx, selectEF(fid)); err != nil {
			return nil, err
		}
	}
	return s.readSelected(ctx, first, 0)
}

// readChunk runs one READ BINARY; want is the number of bytes wanted
// (0: as many as one read may give). It tolerates 6282 (end of file). An
// extended-length read that fails turns extended length off for the
// session unless it was forced on.
func (s *Session) readChunk(ctx context.Context, c Command, want int) ([]byte, error) {
	n := s.maxShort
	if s.sm == nil {
		n = 256
	}
	if s.extended > 0 {
		n = s.maxExt
	}
	if want > 0 && want < n {
		n = want
	}
	c.Ne = n
	c.Extended = n > 256
	r, err := s.Transmit(ctx, c)
	if err == nil && !c.Extended && (r.SW>>8 == 0x6C || r.SW == 0x6700 && want == 0 && n > 8) {
		// The chip wants the exact length (6Cxx), or refuses a first read
		// longer than the file (6700): ask again for what it allows, or
		// for the header only.
		c.Ne = 8
		if r.SW>>8 == 0x6C {
			c.Ne = int(r.SW & 0xFF)
			if c.Ne == 0 {
				c.Ne = 256
			}
		}
		r, err = s.Transmit(ctx, c)
	}
	if err == nil && (r.SW == 0x9000 || r.SW == 0x6282) {
		return r.Data, nil
	}
	if err == nil {
		err = r.Err()
	}
	if c.Extended && s.opts.Extended != ExtendedOn && ctx.Err() == nil {
		s.extended, s.probeFailed = -1, true
	}
	return nil, err
}

// readSelected reads the current EF from where first ends until the
// length in its TLV header is reached.
func (s *Session) readSelected(ctx context.Context, first []byte, _ int) ([]byte, error) {
	data := first
	if data == nil {
		d, err := s.readChunk(ctx, Command{INS: 0xB0}, 0)
		if err != nil {
			return nil, err
		}
		data = d
	}
	if len(data) == 0 {
		return nil, malformed("empty file")
	}
	for len(data) < 6 {
		d, err := s.readChunk(ctx, Command{INS: 0xB0, P1: byte(len(data) >> 8), P2: byte(len(data))}, 6-len(data))
		if err != nil || len(d) == 0 {
			break
		}
		data = append(data, d...)
	}
	total, err := tlvTotalLen(data)
	if errors.Is(err, errIndefiniteFile) {
		return s.readUntilComplete(ctx, data)
	}
	if err != nil {
		return nil, err
	}
	if total > 1<<20 {
		return nil, malformed("file of %d bytes", total)
	}
	buf := make([]byte, 0, total)
	buf = append(buf, data[:min(len(data), total)]...)
	for len(buf) < total {
		off := len(buf)
		want := total - off
		if off > 0x7FFF {
			// Beyond 15-bit offsets: READ BINARY with odd INS, the offset
			// in DO'54' and the data in DO'53'.
			d, err := s.readChunk(ctx, Command{INS: 0xB1, Data: EncodeTLV(0x54, []byte{byte(off >> 16), byte(off >> 8), byte(off)})}, want+4)
			if err != nil {
				return nil, fmt.Errorf("reading at offset %d: %w", off, err)
			}
			do, _, err := ParseTLV(d)
			if err != nil || do.Tag != 0x53 || len(do.Value) == 0 {
				return nil, malformed("odd READ BINARY answer at offset %d", off)
			}
			buf = append(buf, do.Value[:min(len(do.Value), want)]...)
			if s.chunk != nil {
				s.chunk(len(buf), total)
			}
			continue
		}
		if s.extended == 0 && want > s.maxShort && s.opts.Extended == ExtendedAuto && s.sm != nil {
			s.extended = 1 // probe: a failure turns it off again
		}
		d, err := s.readChunk(ctx, Command{INS: 0xB0, P1: byte(off >> 8), P2: byte(off)}, want)
		if err != nil && s.probeFailed && s.sm != nil {
			d, err = s.readChunk(ctx, Command{INS: 0xB0, P1: byte(off >> 8), P2: byte(off)}, want)
		}
		if err != nil {
			return nil, fmt.Errorf("reading at offset %d: %w", off, err)
		}
		if len(d) == 0 {
			return nil, fmt.Errorf("reading at offset %d: %w", off, ErrEndOfFile)
		}
		buf = append(buf, d[:min(len(d), total-off)]...)
		if s.chunk != nil {
			s.chunk(len(buf), total)
		}
	}
	return buf, nil
}

// ExtendedLength reports whether the session uses extended-length reads.
func (s *Session) ExtendedLength() bool { return s.extended > 0 }

// SecureMessaging returns the running session keys (nil after a failure).
func (s *Session) SecureMessaging() *SecureMessaging { return s.sm }

func (s *Session) random(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.opts.Rand, b); err != nil {
		return nil, fmt.Errorf("random: %w", err)
	}
	return b, nil
}

func (s *Session) bac(ctx context.Context) error {
	if err := s.selectAID(ctx); err != nil {
		return fmt.Errorf("selecting eMRTD application: %w", err)
	}
	rndICC, err := s.do(ctx, Command{INS: 0x84, Ne: 8})
	if err != nil {
		return fmt.Errorf("GET CHALLENGE: %w", err)
	}
	if len(rndICC) != 8 {
		return malformed("challenge of %d bytes", len(rndICC))
	}
	rnd, err := s.random(24)
	if err != nil {
		return err
	}
	rndIFD, kIFD := rnd[:8], rnd[8:]
	kEnc, kMAC := BACKeys(BACKeySeed(s.key.DocumentNumber, s.key.BirthDate, s.key.ExpiryDate))
	cmd, err := BACTerminalCryptogram(kEnc, kMAC, rndIFD, rndICC, kIFD)
	if err != nil {
		return err
	}
	resp, err := s.do(ctx, Command{INS: 0x82, Data: cmd, Ne: 40})
	if err != nil {
		if errors.Is(err, ErrSecurityNotSatisfied) || errors.Is(err, ErrVerificationFailed) {
			return fmt.Errorf("%w: EXTERNAL AUTHENTICATE: %w", ErrAuthentication, err)
		}
		return fmt.Errorf("EXTERNAL AUTHENTICATE: %w", err)
	}
	sm, err := BACTerminalFinish(kEnc, kMAC, rndIFD, rndICC, kIFD, resp)
	if err != nil {
		return err
	}
	s.sm = sm
	return nil
}

func (s *Session) pace(ctx context.Context, info PACEInfo) error {
	curve := CurveByParameterID(info.ParameterID)
	ref, kpi, err := PACEPasswordKey(s.key, info.Cipher)
	if err != nil {
		return err
	}
	oid := EncodeTLV(0x80, mustOIDBody(info.Protocol))
	mse := append(oid, 0x83, 0x01, ref)
	mse = append(mse, 0x84, 0x01, byte(info.ParameterID))
	refused := func(step string, err error) error {
		if isStatus(err) {
			return fmt.Errorf("%w: %s: %w", ErrPACERefused, step, err)
		}
		return fmt.Errorf("%s: %w", step, err)
	}
	if _, err := s.do(ctx, Command{INS: 0x22, P1: 0xC1, P2: 0xA4, Data: mse}); err != nil {
		return refused("MSE:Set AT", err)
	}
	ga := func(last bool, data []byte) ([]byte, error) {
		c := Command{CLA: 0x10, INS: 0x86, Data: data, Ne: 256}
		if last {
			c.CLA = 0
		}
		return s.do(ctx, c)
	}
	resp, err := ga(false, DynamicAuthData())
	if err != nil {
		return refused("GENERAL AUTHENTICATE (nonce)", err)
	}
	z, err := ParseDynamicAuthData(resp, 0x80)
	if err != nil {
		return err
	}
	nonce, err := DecryptNonce(info.Cipher, kpi, z)
	if err != nil {
		return err
	}
	skMap, pkMap, err := curve.GenerateKey(s.opts.Rand)
	if err != nil {
		return err
	}
	resp, err = ga(false, DynamicAuthData(EncodeTLV(0x81, curve.Marshal(pkMap))))
	if err != nil {
		return fmt.Errorf("GENERAL AUTHENTICATE (map): %w", err)
	}
	b, err := ParseDynamicAuthData(resp, 0x82)
	if err != nil {
		return err
	}
	pkMapChip, err := curve.Unmarshal(b)
	if err != nil {
		return fmt.Errorf("chip mapping key: %w", err)
	}
	if pkMapChip.Equal(pkMap) {
		return fmt.Errorf("%w: chip echoed the mapping key", ErrAuthentication)
	}
	h, err := curve.ECDH(skMap, pkMapChip)
	if err != nil {
		return err
	}
	mapped, err := MapGM(curve, nonce, h)
	if err != nil {
		return err
	}
	sk, pk, err := mapped.GenerateKey(s.opts.Rand)
	if err != nil {
		return err
	}
	resp, err = ga(false, DynamicAuthData(EncodeTLV(0x83, mapped.Marshal(pk))))
	if err != nil {
		return fmt.Errorf("GENERAL AUTHENTICATE (key agreement): %w", err)
	}
	if b, err = ParseDynamicAuthData(resp, 0x84); err != nil {
		return err
	}
	pkChip, err := mapped.Unmarshal(b)
	if err != nil {
		return fmt.Errorf("chip ephemeral key: %w", err)
	}
	if pkChip.Equal(pk) {
		return fmt.Errorf("%w: chip echoed the ephemeral key", ErrAuthentication)
	}
	k, err := mapped.ECDH(sk, pkChip)
	if err != nil {
		return err
	}
	sm, err := PACESession(info.Cipher, mapped.SharedSecret(k))
	if err != nil {
		return err
	}
	token, err := AuthToken(info.Cipher, sm.KMAC, info.Protocol, mapped, pkChip)
	if err != nil {
		return err
	}
	resp, err = ga(true, DynamicAuthData(EncodeTLV(0x85, token)))
	if err != nil {
		if isStatus(err) {
			return fmt.Errorf("%w: GENERAL AUTHENTICATE (token): %w", ErrAuthentication, err)
		}
		return err
	}
	if b, err = ParseDynamicAuthData(resp, 0x86); err != nil {
		return err
	}
	want, err := AuthToken(info.Cipher, sm.KMAC, info.Protocol, mapped, pk)
	if err != nil {
		return err
	}
	if !macEqual(want, b) {
		return fmt.Errorf("%w: chip token", ErrAuthentication)
	}
	s.sm = sm
	return nil
}

// mustOIDBody returns the content octets of an OID (without tag and length).
func mustOIDBody(oid []int) []byte {
	der := marshalOID(oid)
	t, _, _ := ParseTLV(der)
	return t.Value
}

// readUntilComplete reads a file whose outer object has an indefinite
// length (some chips write EF.SOD so): chunk after chunk until the data
// holds one whole object, whose bytes are returned exactly as on the chip.
func (s *Session) readUntilComplete(ctx context.Context, data []byte) ([]byte, error) {
	buf := data
	for {
		if t, _, err := ParseTLV(buf); err == nil {
			return buf[:len(t.Raw)], nil
		}
		off := len(buf)
		if off > 1<<20 {
			return nil, malformed("file of more than %d bytes", 1<<20)
		}
		if off > 0x7FFF {
			return nil, malformed("indefinite-length file beyond %d bytes", 0x7FFF)
		}
		d, err := s.readChunk(ctx, Command{INS: 0xB0, P1: byte(off >> 8), P2: byte(off)}, 0)
		if err != nil && s.probeFailed && s.sm != nil {
			d, err = s.readChunk(ctx, Command{INS: 0xB0, P1: byte(off >> 8), P2: byte(off)}, 0)
		}
		if err != nil {
			return nil, fmt.Errorf("reading at offset %d: %w", off, err)
		}
		if len(d) == 0 {
			return nil, fmt.Errorf("reading at offset %d (no end-of-contents): %w", off, ErrEndOfFile)
		}
		buf = append(buf, d...)
		if s.chunk != nil {
			s.chunk(len(buf), 0)
		}
	}
}
