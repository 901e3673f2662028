package virtual

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/tiepdon/tiepdon/drivers/emrtd"
)

// ErrRemoved is returned by Transmit once the card has left the reader
// (Options.RemoveAfter or Remove).
var ErrRemoved = errors.New("virtual: card removed")

// Status words the card answers with.
const (
	swOK                  = 0x9000
	swEndOfFile           = 0x6282
	swVerificationFailed  = 0x6300
	swWrongLength         = 0x6700
	swSecurityNotSatisfed = 0x6982
	swNoCurrentEF         = 0x6986
	swSMMissing           = 0x6987
	swSMIncorrect         = 0x6988
	swWrongData           = 0x6A80
	swFileNotFound        = 0x6A82
	swWrongP1P2           = 0x6A86
	swReferenceNotFound   = 0x6A88
	swWrongOffset         = 0x6B00
	swINSNotSupported     = 0x6D00
	swCLANotSupported     = 0x6E00
	swConditionsNotMet    = 0x6985
)

// atr builds the card's ATR: T=1, and historical bytes holding the card
// capabilities (compact-TLV tag 7) with the extended Lc/Le bit set unless
// the card is short-only.
func atr(extended bool) []byte {
	caps := byte(0x00)
	if extended {
		caps = 0x40
	}
	hist := []byte{0x80, 0x73, 0xC8, 0x21, caps}
	b := []byte{0x3B, 0x80 | byte(len(hist)), 0x80, 0x01}
	b = append(b, hist...)
	tck := byte(0)
	for _, x := range b[1:] {
		tck ^= x
	}
	return append(b, tck)
}

// Card is a virtual CCCD chip. It is safe for concurrent use; commands
// are processed one at a time.
type Card struct {
	p     Profile
	pki   *PKI
	rand  io.Reader
	aaKey *ecdsa.PrivateKey
	aaRSA *rsa.PrivateKey   // with Options.AARSA
	caKey *ecdsa.PrivateKey // nil with Options.NoChipAuth
	files map[uint16]*file

	paceCurve *emrtd.Curve
	key       emrtd.Key // the CAN and the MRZ information the card accepts
	bacEnc    []byte    // BAC K_Enc
	bacMAC    []byte    // BAC K_MAC

	mu        sync.Mutex
	app       bool  // eMRTD application selected
	cur       *file // current EF
	sm        *emrtd.SecureMessaging
	rndICC    []byte // BAC challenge outstanding
	pace      *paceState
	caPending bool // MSE:Set AT for Chip Authentication seen
	apdus     int
	removed   bool
	hung      bool          // Hang: no answers until Unstall
	unstall   chan struct{} // closed by Unstall or Remove
	gone      chan struct{} // closed when the card is removed
	stats     Stats
}

// Stats counts what the card has seen since it was made.
type Stats struct {
	APDUs     int // command APDUs processed (ATR polls excluded)
	BytesIn   int // command bytes
	BytesOut  int // response bytes
	Sessions  int // secure-messaging sessions established
	PACE      int // of which by PACE
	BAC       int // of which by BAC
	AA        int // Active Authentication signatures made
	ChipAuth  int // Chip Authentication key agreements
	Resets    int // resets and power cycles
	Protected int // protected commands accepted
}

// NewCard makes a virtual card for p. Unset Options take their defaults;
// a nil Options.PKI generates a fresh test PKI (see Card.PKI).
func NewCard(p Profile) (*Card, error) {
	o := &p.Options
	if o.PACECurve == "" {
		o.PACECurve = "P-256"
	}
	if o.PACECipher == 0 {
		o.PACECipher = emrtd.AES128
	}
	if o.PACECipher < emrtd.AES128 || o.PACECipher > emrtd.AES256 {
		return nil, fmt.Errorf("virtual: PACE cipher %v not offered (AES only)", o.PACECipher)
	}
	if o.MaxRead <= 0 {
		o.MaxRead = 4096
		if o.ShortOnly {
			o.MaxRead = 256
		}
	}
	c := &Card{p: p, pki: o.PKI, rand: o.Rand, unstall: make(chan struct{}), gone: make(chan struct{})}
	if c.rand == nil {
		c.rand = rand.Reader
	}
	switch o.PACECurve {
	case "P-256":
		c.paceCurve = emrtd.P256()
	case "brainpoolP256r1":
		c.paceCurve = emrtd.BrainpoolP256r1()
	default:
		return nil, fmt.Errorf("virtual: PACE curve %q not offered", o.PACECurve)
	}
	if c.pki == nil {
		pki, err := NewPKI()
		if err != nil {
			return nil, fmt.Errorf("virtual: generating PKI: %w", err)
		}
		c.pki = pki
	}
	var err error
	if c.aaKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, err
	}
	if o.AARSA {
		if c.aaRSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, err
		}
	}
	if !o.NoChipAuth {
		if c.caKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return nil, err
		}
	}
	if err := c.buildFiles(); err != nil {
		return nil, fmt.Errorf("virtual: building files: %w", err)
	}
	if o.WrongAAKey && c.aaRSA == nil {
		if c.aaKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return nil, err
		}
	}
	mrz, _ := MRZ(p)
	c.key = emrtd.Key{CAN: p.CitizenID.CAN(), DocumentNumber: mrz[0][5:14], BirthDate: mrz[1][0:6], ExpiryDate: mrz[1][8:14]}
	c.bacEnc, c.bacMAC = emrtd.BACKeys(emrtd.BACKeySeed(c.key.DocumentNumber, c.key.BirthDate, c.key.ExpiryDate))
	return c, nil
}

// PKI returns the CSCA and Document Signer that signed the card's SOD.
func (c *Card) PKI() *PKI { return c.pki }

// Profile returns the profile the card was made from (with defaults).
func (c *Card) Profile() Profile { return c.p }

// File returns the content of the file fid as the card holds it.
func (c *Card) File(fid uint16) ([]byte, bool) {
	f, ok := c.files[fid]
	if !ok {
		return nil, false
	}
	return bytes.Clone(f.data), true
}

// ATR returns the card's answer to reset.
func (c *Card) ATR() []byte { return atr(!c.p.Options.ShortOnly) }

// Stats returns the counters so far.
func (c *Card) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Reset is a warm reset: the application is deselected and any secure
// messaging session or authentication in progress is dropped.
func (c *Card) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resetLocked()
}

// PowerOff has the effect of a reset.
func (c *Card) PowerOff() { c.Reset() }

func (c *Card) resetLocked() {
	c.app, c.cur, c.sm, c.rndICC, c.pace, c.caPending = false, nil, nil, nil, nil, false
	c.stats.Resets++
}

// Unstall releases a command held by Options.StallAfter.
func (c *Card) Unstall() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hung = false
	select {
	case <-c.unstall:
	default:
		close(c.unstall)
	}
}

// Hang makes the card stop answering altogether, as a card or reader that
// hangs: the next command and, through ServeVPCD, the next vpcd message
// (ATR polls included) block until Unstall or Remove.
func (c *Card) Hang() {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.unstall:
		c.unstall = make(chan struct{})
	default:
	}
	c.hung = true
}

// waitIfHung blocks while the card hangs.
func (c *Card) waitIfHung() {
	c.mu.Lock()
	hung, ch := c.hung, c.unstall
	c.mu.Unlock()
	if hung {
		<-ch
	}
}

// Remove takes the card out of the reader: later commands fail with
// ErrRemoved and ServeVPCD drops its connection.
func (c *Card) Remove() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked()
}

func (c *Card) removeLocked() {
	if !c.removed {
		c.removed = true
		close(c.gone)
		select {
		case <-c.unstall:
		default:
			close(c.unstall)
		}
	}
}

// Removed returns a channel closed when the card is removed.
func (c *Card) Removed() <-chan struct{} { return c.gone }

// Transmit processes one command APDU and returns the response APDU.
func (c *Card) Transmit(cmd []byte) ([]byte, error) {
	c.mu.Lock()
	if c.removed {
		c.mu.Unlock()
		return nil, ErrRemoved
	}
	c.apdus++
	n := c.apdus
	o := c.p.Options
	if o.RemoveAfter > 0 && n >= o.RemoveAfter {
		c.removeLocked()
		c.mu.Unlock()
		return nil, ErrRemoved
	}
	if (o.StallAfter > 0 && n == o.StallAfter) || c.hung {
		ch := c.unstall
		c.mu.Unlock()
		<-ch
		c.mu.Lock()
		if c.removed {
			c.mu.Unlock()
			return nil, ErrRemoved
		}
	}
	defer c.mu.Unlock()
	c.stats.APDUs++
	c.stats.BytesIn += len(cmd)
	resp := c.process(cmd)
	c.stats.BytesOut += len(resp)
	return resp, nil
}

func sw(v uint16) []byte { return []byte{byte(v >> 8), byte(v)} }

// process answers one APDU.
func (c *Card) process(raw []byte) []byte {
	cmd, err := emrtd.ParseCommand(raw)
	if err != nil {
		return sw(swWrongLength)
	}
	if cmd.CLA&0x0C == 0x0C {
		return c.processProtected(raw)
	}
	if cmd.CLA&^0x10 != 0x00 {
		return sw(swCLANotSupported)
	}
	if c.sm != nil {
		// A plain command aborts the secure-messaging session (9303-11 §9.8.6).
		c.sm = nil
	}
	data, status := c.exec(cmd, false)
	return append(data, sw(status)...)
}

// processProtected unwraps a secure-messaging command, runs it and wraps
// the answer, whatever its status.
func (c *Card) processProtected(raw []byte) []byte {
	if c.sm == nil {
		return sw(swSMMissing)
	}
	sm := c.sm
	plain, err := sm.UnprotectCommand(raw)
	if err != nil {
		c.sm = nil // an SM error ends the session
		if errors.Is(err, emrtd.ErrSMDataMissing) {
			return sw(swSMMissing)
		}
		return sw(swSMIncorrect)
	}
	cmd, err := emrtd.ParseCommand(plain)
	if err != nil {
		c.sm = nil
		return sw(swSMIncorrect)
	}
	c.stats.Protected++
	data, status := c.exec(cmd, true)
	out, err := sm.ProtectResponse(data, status)
	if err != nil {
		c.sm = nil
		return sw(swSMIncorrect)
	}
	if c.p.Options.BadMAC {
		out[len(out)-3] ^= 0x01 // last MAC byte, before SW1 SW2
	}
	return out
}

// exec runs a plain command; protected says it came under secure
// messaging (access conditions are met).
func (c *Card) exec(cmd emrtd.Command, protected bool) ([]byte, uint16) {
	if cmd.IsExtended() && c.p.Options.ShortOnly {
		return nil, swWrongLength
	}
	switch cmd.INS {
	case 0xA4:
		return c.selectFile(cmd, protected)
	case 0xB0:
		return c.readBinary(cmd, protected)
	case 0x84:
		return c.getChallenge(cmd, protected)
	case 0x82:
		return c.externalAuthenticate(cmd, protected)
	case 0x22:
		return c.manageSecurityEnvironment(cmd, protected)
	case 0x86:
		return c.generalAuthenticate(cmd, protected)
	case 0x88:
		return c.internalAuthenticate(cmd, protected)
	}
	return nil, swINSNotSupported
}

func (c *Card) selectFile(cmd emrtd.Command, protected bool) ([]byte, uint16) {
	switch cmd.P1 {
	case 0x04: // by DF name
		if !bytes.Equal(cmd.Data, AID) {
			return nil, swFileNotFound
		}
		c.app, c.cur = true, nil
		return nil, swOK
	case 0x00, 0x02: // MF, or EF by FID
		if len(cmd.Data) == 0 || bytes.Equal(cmd.Data, []byte{0x3F, 0x00}) {
			if c.p.Options.SelectMFWorks {
				c.app, c.cur = false, nil
				return nil, swOK
			}
			return nil, swINSNotSupported // what CCCDs answer
		}
		if len(cmd.Data) != 2 {
			return nil, swWrongData
		}
		fid := uint16(cmd.Data[0])<<8 | uint16(cmd.Data[1])
		f, status := c.lookup(fid, protected)
		if f == nil {
			return nil, status
		}
		c.cur = f
		return nil, swOK
	}
	return nil, swWrongP1P2
}

// lookup finds fid among the files visible now and checks access.
func (c *Card) lookup(fid uint16, protected bool) (*file, uint16) {
	f, ok := c.files[fid]
	if !ok || (f.inApp && !c.app) {
		return nil, swFileNotFound
	}
	if !f.open && !protected {
		return nil, swSecurityNotSatisfed
	}
	return f, swOK
}

func (c *Card) readBinary(cmd emrtd.Command, protected bool) ([]byte, uint16) {
	f := c.cur
	offset := int(cmd.P1)<<8 | int(cmd.P2)
	if cmd.P1&0x80 != 0 { // short file identifier in P1, offset in P2
		sfi := cmd.P1 & 0x1F
		f = nil
		for _, cand := range c.files {
			if cand.sfi == sfi && cand.inApp == c.app { // SFIs name files of the current DF
				f = cand
			}
		}
		if f == nil {
			return nil, swFileNotFound
		}
		if !f.open && !protected {
			return nil, swSecurityNotSatisfed
		}
		c.cur = f
		offset = int(cmd.P2)
	}
	if f == nil {
		return nil, swNoCurrentEF
	}
	if f.refused || (!f.open && !protected) {
		return nil, swSecurityNotSatisfed
	}
	if offset > 0x7FFF {
		return nil, swWrongP1P2
	}
	if offset >= len(f.data) {
		return nil, swWrongOffset
	}
	ne := cmd.Ne
	if ne == 0 {
		return nil, swWrongLength
	}
	ne = min(ne, c.p.Options.MaxRead)
	end := offset + ne
	if end > len(f.data) {
		return bytes.Clone(f.data[offset:]), swEndOfFile
	}
	return bytes.Clone(f.data[offset:end]), swOK
}

// GET CHALLENGE starts BAC.
func (c *Card) getChallenge(cmd emrtd.Command, protected bool) ([]byte, uint16) {
	if cmd.Ne != 8 {
		return nil, swWrongLength
	}
	rnd := make([]byte, 8)
	if _, err := io.ReadFull(c.rand, rnd); err != nil {
		return nil, swConditionsNotMet
	}
	if !protected {
		c.rndICC = rnd
	}
	return bytes.Clone(rnd), swOK
}

// EXTERNAL AUTHENTICATE completes BAC.
func (c *Card) externalAuthenticate(cmd emrtd.Command, protected bool) ([]byte, uint16) {
	rndICC := c.rndICC
	c.rndICC = nil
	if protected || rndICC == nil {
		return nil, swConditionsNotMet
	}
	if len(cmd.Data) != 40 {
		return nil, swWrongLength
	}
	rndIFD, kIFD, err := emrtd.BACCardCheck(c.bacEnc, c.bacMAC, rndICC, cmd.Data)
	if err != nil {
		return nil, swVerificationFailed
	}
	kICC := make([]byte, 16)
	if _, err := io.ReadFull(c.rand, kICC); err != nil {
		return nil, swConditionsNotMet
	}
	resp, err := emrtd.BACCardCryptogram(c.bacEnc, c.bacMAC, rndICC, rndIFD, kICC)
	if err != nil {
		return nil, swConditionsNotMet
	}
	sm, err := emrtd.BACSession(kIFD, kICC, rndICC, rndIFD)
	if err != nil {
		return nil, swConditionsNotMet
	}
	c.sm = sm
	c.stats.Sessions++
	c.stats.BAC++
	return resp, swOK
}
