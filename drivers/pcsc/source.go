package pcsc

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers"
	"github.com/tiepdon/tiepdon/drivers/cccd"
	"github.com/tiepdon/tiepdon/drivers/emrtd"
)

// KeyProvider supplies the key that opens the chip just inserted in reader.
// It may block (to ask staff for the CAN) until ctx ends, which happens
// when the card is removed. It returns emrtd.ErrNoKey (wrapped) when it has
// nothing.
type KeyProvider interface {
	ChipKey(ctx context.Context, reader string) (emrtd.Key, error)
}

// KeyFunc adapts a function to KeyProvider.
type KeyFunc func(ctx context.Context, reader string) (emrtd.Key, error)

// ChipKey calls f.
func (f KeyFunc) ChipKey(ctx context.Context, reader string) (emrtd.Key, error) {
	return f(ctx, reader)
}

// RecentID is the QR-then-tap KeyProvider: it remembers the citizen ID
// (and birth and issue dates) of the last CCCD QR code read, and for Window
// after that derives the chip's CAN (last 6 digits) and MRZ key (last 9
// digits, birth date, expiry estimated by cccd.ExpiryFor) from it.
//
// Without a recent QR it calls Ask (which should let staff type the last 6
// digits) and, for up to WaitForQR, also waits for a QR scan: a card laid
// on the reader before its QR was scanned is read as soon as the scan
// comes, whichever answers first.
type RecentID struct {
	// Window is how long a QR read stays usable (default 2 minutes).
	Window time.Duration
	// WaitForQR is how long ChipKey waits for a QR scan when none is recent
	// (0: no waiting).
	WaitForQR time.Duration
	// Ask, if set, is called when no recent QR is known; it returns the
	// CAN (or the whole 12-digit ID) typed by staff. Its ctx ends when the
	// card is removed or a QR scan arrived first.
	Ask func(ctx context.Context, reader string) (can string, err error)
	// Now is the clock (default time.Now).
	Now func() time.Time

	mu     sync.Mutex
	id     patient.Identity
	at     time.Time
	notify chan struct{} // closed and replaced by Remember
}

// Remember records an identity read from a CCCD QR code (any identity
// with a valid citizen ID is accepted) and wakes ChipKey calls waiting for
// one.
func (r *RecentID) Remember(id patient.Identity) { r.rememberAt(id, r.now()) }

func (r *RecentID) rememberAt(id patient.Identity, at time.Time) {
	if !id.CitizenID.Valid() {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if at.Before(r.at) {
		return // an older scan than the one remembered
	}
	r.id, r.at = id, at
	if r.notify != nil {
		close(r.notify)
		r.notify = nil
	}
}

// Follow remembers every CCCD QR identity the agent publishes on bus
// (events.IdentityRead with Medium qr-cccd) until ctx ends, so that the
// agent needs no other hook for QR-then-tap. It returns nil when ctx ends.
func (r *RecentID) Follow(ctx context.Context, bus *events.Bus) error {
	sub := bus.Subscribe(events.IdentityRead, 16)
	defer sub.Close()
	// A scan published just before the subscription is the bus's last.
	if ev, ok := bus.Last(events.IdentityRead); ok {
		if d, ok := ev.Data.(events.Identity); ok && d.Identity.Medium == patient.MediumQRCCCD {
			r.rememberAt(d.Identity, ev.Time)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-sub.C():
			if !ok {
				return nil
			}
			if d, ok := ev.Data.(events.Identity); ok && d.Identity.Medium == patient.MediumQRCCCD {
				r.rememberAt(d.Identity, ev.Time)
			}
		}
	}
}

// Recent returns the remembered identity if it is still within Window.
func (r *RecentID) Recent() (patient.Identity, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.recentLocked()
}

func (r *RecentID) recentLocked() (patient.Identity, bool) {
	w := r.Window
	if w <= 0 {
		w = 2 * time.Minute
	}
	if r.at.IsZero() || r.now().Sub(r.at) > w {
		return patient.Identity{}, false
	}
	return r.id, true
}

func (r *RecentID) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// ChipKey implements KeyProvider.
func (r *RecentID) ChipKey(ctx context.Context, reader string) (emrtd.Key, error) {
	r.mu.Lock()
	id, ok := r.recentLocked()
	if r.notify == nil {
		r.notify = make(chan struct{})
	}
	scanned := r.notify
	r.mu.Unlock()
	if ok {
		return keyOf(id)
	}
	if r.Ask == nil && r.WaitForQR <= 0 {
		return emrtd.Key{}, fmt.Errorf("no recent CCCD QR code and nobody to ask: %w", emrtd.ErrNoKey)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type typed struct {
		can string
		err error
	}
	asked := make(chan typed, 1)
	if r.Ask != nil {
		go func() {
			can, err := r.Ask(ctx, reader)
			asked <- typed{can, err}
		}()
	}
	var timeout <-chan time.Time
	if r.WaitForQR > 0 {
		t := time.NewTimer(r.WaitForQR)
		defer t.Stop()
		timeout = t.C
	}
	for {
		select {
		case <-scanned:
			if id, ok := r.Recent(); ok {
				return keyOf(id)
			}
			scanned = nil
		case a := <-asked:
			if a.err != nil {
				return emrtd.Key{}, fmt.Errorf("asking for the CAN: %w", a.err)
			}
			return typedKey(a.can)
		case <-timeout:
			if r.Ask == nil {
				return emrtd.Key{}, fmt.Errorf("no CCCD QR code scanned in %v: %w", r.WaitForQR, emrtd.ErrNoKey)
			}
			scanned, timeout = nil, nil // keep waiting for the typed CAN only
		case <-ctx.Done():
			return emrtd.Key{}, fmt.Errorf("waiting for the chip key: %w", ctx.Err())
		}
	}
}

func keyOf(id patient.Identity) (emrtd.Key, error) {
	k, err := cccd.KeysFromIdentity(id)
	if err != nil {
		return emrtd.Key{}, fmt.Errorf("%v: %w", err, emrtd.ErrNoKey)
	}
	return EMRTDKey(k), nil
}

func typedKey(can string) (emrtd.Key, error) {
	can = strings.TrimSpace(can)
	if len(can) == 12 { // the whole ID typed
		can = can[6:]
	}
	if !cccd.ValidCAN(can) {
		return emrtd.Key{}, fmt.Errorf("CAN is not 6 digits: %w", emrtd.ErrNoKey)
	}
	return emrtd.Key{CAN: can}, nil
}

// EMRTDKey converts CCCD key material to an emrtd.Key (dates as YYMMDD;
// partial dates leave the MRZ part out).
func EMRTDKey(k cccd.Keys) emrtd.Key {
	out := emrtd.Key{CAN: k.CAN}
	if k.DocumentNumber != "" && k.BirthDate.Full() && k.ExpiryDate.Full() {
		out.DocumentNumber = k.DocumentNumber
		out.BirthDate = yymmdd(k.BirthDate)
		out.ExpiryDate = yymmdd(k.ExpiryDate)
	}
	return out
}

func yymmdd(d patient.Date) string { return fmt.Sprintf("%02d%02d%02d", d.Year%100, d.Month, d.Day) }

// ChipSource is the drivers.Source for CCCD chips on PC/SC readers. It
// watches readers (a Monitor publishing events.DeviceChanged on Bus) and,
// for each card inserted, connects, gets a key from Keys, reads the chip
// with emrtd.Read (publishing events.CardProgress), decodes DG13 and DG1
// into a patient.Identity (Medium chip, photo, authenticity from passive
// authentication and the clone checks) and emits it as a Presentation.
// A read that fails is published as events.ReadFailed. When Keys is a
// *RecentID whose QR identity was used, the chip identity is cross-checked
// against it and disagreements are published as events.Alert.
type ChipSource struct {
	Bus  *events.Bus // may be nil
	Keys KeyProvider // required
	CSCA *emrtd.CSCAStore
	Log  *slog.Logger // nil: slog.Default()

	// Connect tunes the PC/SC connection (timeouts).
	Connect Options
	// Read tunes emrtd.Read; Progress, OnVerified and CSCA are set by the
	// source.
	Read emrtd.Options
	// ReadTimeout bounds one whole read (default 30 s).
	ReadTimeout time.Duration
	// EarlyEmit emits the Presentation as soon as DG1, DG13 and the SOD
	// are verified (no photo yet) and publishes the complete identity
	// later as events.IdentityRead under the same CheckID.
	EarlyEmit bool
	// Reader, if set, limits the source to readers whose name contains it.
	Reader string
	// NewCheckID makes check IDs (default: random hex).
	NewCheckID func() string

	// Monitor is the reader monitor (default: a new Monitor on Bus).
	Monitor *Monitor
}

// Run implements drivers.Source.
func (s *ChipSource) Run(ctx context.Context, emit func(drivers.Presentation)) error {
	if s.Keys == nil {
		return errors.New("pcsc: ChipSource needs a KeyProvider")
	}
	mon := s.Monitor
	if mon == nil {
		mon = &Monitor{Bus: s.Bus, Log: s.Log}
	}
	var (
		mu      sync.Mutex
		reading = map[string]context.CancelFunc{}
		wg      sync.WaitGroup
	)
	stop := func(reader string) {
		mu.Lock()
		if cancel, ok := reading[reader]; ok {
			cancel()
			delete(reading, reader)
		}
		mu.Unlock()
	}
	err := mon.Run(ctx, func(ev Event) {
		if s.Reader != "" && !strings.Contains(ev.Reader, s.Reader) {
			return
		}
		switch ev.Kind {
		case CardInserted:
			stop(ev.Reader)
			rctx, cancel := context.WithCancel(ctx)
			mu.Lock()
			reading[ev.Reader] = cancel
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer cancel()
				s.readCard(rctx, ev.Reader, emit)
			}()
		case CardRemoved, ReaderRemoved:
			stop(ev.Reader)
		}
	})
	mu.Lock()
	for _, cancel := range reading {
		cancel()
	}
	mu.Unlock()
	wg.Wait()
	return err
}

func (s *ChipSource) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func (s *ChipSource) publish(k events.Kind, data any) {
	if s.Bus != nil {
		s.Bus.Publish(k, data)
	}
}

func (s *ChipSource) checkID() string {
	if s.NewCheckID != nil {
		return s.NewCheckID()
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// readCard reads the card in reader once and emits what it found.
func (s *ChipSource) readCard(ctx context.Context, reader string, emit func(drivers.Presentation)) {
	checkID := s.checkID()
	log := s.log().With("reader", reader, "check", checkID)

	id, err := s.ReadIdentity(ctx, reader, checkID, emit)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			log.Info("pcsc: chip read abandoned (card removed or shutting down)")
		} else {
			log.Warn("pcsc: chip read failed", "err", err)
		}
		s.publish(events.ReadFailed, events.Failure{CheckID: checkID, Medium: patient.MediumChip, Device: reader,
			Reason: FailureReason(err)})
		return
	}
	log.Info("pcsc: chip read", "id", id.CitizenID, "authenticity", string(id.Authenticity.Level),
		"clone", string(id.Authenticity.Clone))
}

// ReadIdentity runs one read of the card in reader under checkID: key,
// connect, emrtd.Read, decoding, cross-check, emit. It is what Run does for
// each inserted card, exported for the `tiepdon card read` command (which
// may pass a KeyFunc with a fixed key and a nil emit).
func (s *ChipSource) ReadIdentity(ctx context.Context, reader, checkID string, emit func(drivers.Presentation)) (patient.Identity, error) {
	if emit == nil {
		emit = func(drivers.Presentation) {}
	}
	// Waiting for the key (a QR scan, staff typing) is bounded only by the
	// card staying in the reader; the read itself by ReadTimeout.
	s.publish(events.CardProgress, events.Progress{CheckID: checkID, Step: "waiting-for-key", Percent: 0})
	key, err := s.Keys.ChipKey(ctx, reader)
	if err != nil {
		return patient.Identity{}, fmt.Errorf("getting the chip key: %w", err)
	}
	timeout := s.ReadTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	card, err := Connect(ctx, reader, s.Connect)
	if err != nil {
		return patient.Identity{}, fmt.Errorf("connecting: %w", err)
	}
	defer card.Close()

	opts := s.Read
	opts.CSCA = s.CSCA
	opts.Progress = func(step string, pct int) {
		s.publish(events.CardProgress, events.Progress{CheckID: checkID, Step: strings.ToLower(step), Percent: pct})
	}
	emitted := false
	if s.EarlyEmit {
		opts.OnVerified = func(d *emrtd.Document) {
			id, err := IdentityOf(d)
			if err != nil {
				return
			}
			s.crossCheck(checkID, id)
			emitted = true
			emit(drivers.Presentation{Medium: patient.MediumChip, Device: reader, At: time.Now(), Identity: &id, CheckID: checkID})
		}
	}
	doc, err := emrtd.Read(ctx, card, key, opts)
	if err != nil {
		return patient.Identity{}, fmt.Errorf("reading the chip: %w", err)
	}
	id, err := IdentityOf(doc)
	if err != nil {
		return patient.Identity{}, err
	}
	s.verdictAlert(checkID, id)
	if emitted {
		s.publish(events.IdentityRead, events.Identity{CheckID: checkID, Identity: id})
		return id, nil
	}
	s.crossCheck(checkID, id)
	emit(drivers.Presentation{Medium: patient.MediumChip, Device: reader, At: time.Now(), Identity: &id, CheckID: checkID})
	return id, nil
}

// Alert codes the chip source publishes besides cccd.AlertCode.
const (
	AlertCloneSuspected = "clone-suspected"    // Chip or Active Authentication failed
	AlertNotAuthentic   = "chip-not-authentic" // passive authentication failed
)

// verdictAlert publishes an alert for a chip that failed its checks.
func (s *ChipSource) verdictAlert(checkID string, id patient.Identity) {
	a := id.Authenticity
	switch {
	case a.Clone == patient.CloneFailed:
		s.publish(events.Alert, events.AlertData{CheckID: checkID, Code: AlertCloneSuspected,
			Message: "The chip failed its clone check: the card may be a copy. Check the physical card."})
	case a.Level == patient.Failed:
		s.publish(events.Alert, events.AlertData{CheckID: checkID, Code: AlertNotAuthentic,
			Message: "The chip data does not match its signature: " + a.Detail})
	}
}

// crossCheck compares the chip identity with the recent QR identity of
// the same citizen and publishes an alert when they disagree.
func (s *ChipSource) crossCheck(checkID string, chip patient.Identity) {
	r, ok := s.Keys.(*RecentID)
	if !ok {
		return
	}
	qr, ok := r.Recent()
	if !ok || qr.CitizenID.CAN() != chip.CitizenID.CAN() {
		return // the QR was another card's; nothing to compare
	}
	if a, ok := cccd.Alert(checkID, cccd.CrossCheck(qr, chip)); ok {
		s.log().Warn("pcsc: QR and chip disagree", "check", checkID, "detail", a.Message)
		s.publish(events.Alert, a)
	}
}

// IdentityOf turns a chip read into a patient.Identity: DG13 fields first
// (decoded by cccd), DG1's MRZ for what DG13 lacks, the face image (JPEG 2000
// converted to PNG where the build can decode it), and the authenticity
// verdict.
func IdentityOf(doc *emrtd.Document) (patient.Identity, error) {
	var id patient.Identity
	if raw := doc.DG13(); raw != nil {
		d, err := cccd.DecodeDG13(raw)
		if err != nil {
			return patient.Identity{}, fmt.Errorf("decoding DG13: %w", err)
		}
		id = d.Identity()
	}
	id.Medium = patient.MediumChip
	if id.Chip == nil {
		id.Chip = &patient.ChipData{}
	}
	if m := doc.MRZ; m != nil {
		if id.CitizenID == "" {
			if c := patient.CitizenID(firstN(m.OptionalData1, 12)); c.Valid() {
				id.CitizenID = c
			}
		}
		if id.Name == "" {
			id.Name = patient.Name(strings.TrimSpace(m.Primary + " " + m.Secondary))
		}
		if id.BirthDate.IsZero() {
			id.BirthDate = mrzDate(m.BirthDate, true)
		}
		if id.Sex == patient.SexUnknown {
			switch m.Sex {
			case "M":
				id.Sex = patient.Male
			case "F":
				id.Sex = patient.Female
			}
		}
		if id.Chip.ExpiryDate.IsZero() {
			id.Chip.ExpiryDate = mrzDate(m.ExpiryDate, false)
		}
	}
	if !id.CitizenID.Valid() {
		return patient.Identity{}, errors.New("chip holds no 12-digit citizen ID in DG13 or DG1")
	}
	if f := doc.Face; f != nil {
		switch f.MIME {
		case "image/jpeg":
			id.Chip.Photo, id.Chip.PhotoType = f.Data, f.MIME
		default:
			if img, err := f.Decode(); err == nil {
				var buf bytes.Buffer
				if png.Encode(&buf, img) == nil {
					id.Chip.Photo, id.Chip.PhotoType = buf.Bytes(), "image/png"
				}
			}
		}
	}
	id.Chip.ReadAt = doc.ReadAt
	id.Authenticity = doc.Authenticity()
	return id, nil
}

func firstN(s string, n int) string {
	if len(s) < n {
		return s
	}
	return s[:n]
}

// mrzDate reads YYMMDD; birth dates take the most recent past century,
// expiry dates the 21st.
func mrzDate(s string, birth bool) patient.Date {
	if len(s) != 6 {
		return patient.Date{}
	}
	d, err := patient.ParseDate(s[4:6] + s[2:4] + "20" + s[0:2])
	if err != nil {
		return patient.Date{}
	}
	if birth && d.Year > time.Now().Year() {
		d.Year -= 100
	}
	return d
}

// FailureReason is the text shown to staff for a failed chip read: safe,
// no personal data.
func FailureReason(err error) string {
	switch {
	case errors.Is(err, emrtd.ErrNoKey):
		return "Cần số CAN: quét mã QR trên thẻ hoặc nhập 6 số cuối của số CCCD (the chip needs the CAN: scan the card's QR code or type the last 6 digits)"
	case errors.Is(err, emrtd.ErrAuthentication), errors.Is(err, emrtd.ErrVerificationFailed):
		return "Số CAN không đúng với thẻ này (the CAN does not open this card)"
	case errors.Is(err, ErrCardRemoved), errors.Is(err, ErrMute), errors.Is(err, context.Canceled):
		return "Thẻ bị rút ra khi đang đọc (the card was removed during the read)"
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return "Đầu đọc không phản hồi (the reader did not answer in time)"
	case errors.Is(err, ErrNoService):
		return "Dịch vụ PC/SC không chạy (the PC/SC service is not running)"
	}
	return "Không đọc được chip (the chip could not be read)"
}
