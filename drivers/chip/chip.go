// Package chip reads CCCD chips on PC/SC readers: it is the drivers.Source
// that, for every card inserted, gets the key (QR then tap or a typed CAN,
// from the agent), reads the chip over drivers/pcsc with drivers/emrtd
// (ICAO 9303), decodes it with drivers/cccd and presents the identity.
//
// Who should use it: cmd/tiepdon (Source for the agent, Source.ReadIdentity
// for `tiepdon card read`). The PC/SC transport and reader monitor are
// drivers/pcsc; the protocol is drivers/emrtd.
package chip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers"
	"github.com/tiepdon/tiepdon/drivers/cccd"
	"github.com/tiepdon/tiepdon/drivers/emrtd"
	"github.com/tiepdon/tiepdon/drivers/pcsc"
)

// KeyOf turns what the agent supplied into the key that opens the chip:
// from a QR identity, the CAN (last 6 digits of the citizen ID) and the
// MRZ key (last 9 digits, birth date, expiry estimated by cccd.ExpiryFor);
// from a typed CAN, the CAN (the whole 12-digit ID may be typed).
func KeyOf(k drivers.ChipKey) (emrtd.Key, error) {
	if k.Identity != nil {
		ck, err := cccd.KeysFromIdentity(*k.Identity)
		if err != nil {
			return emrtd.Key{}, fmt.Errorf("%v: %w", err, emrtd.ErrNoKey)
		}
		return EMRTDKey(ck), nil
	}
	can := strings.TrimSpace(k.CAN)
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

// Source is the drivers.Source for CCCD chips on PC/SC readers. It
// watches readers (a pcsc.Monitor, whose changes it reports as device
// states) and, for each card inserted, begins a check, gets the key (from
// Keys, else from its Reporter as drivers.ChipKeys), connects, reads the
// chip with emrtd.Read (reporting progress), decodes DG13 and DG1 into a
// patient.Identity (Medium chip, photo, authenticity from passive
// authentication and the clone checks) and presents it. A read that fails
// is reported with a failure code (FailureCode).
type Source struct {
	Keys drivers.ChipKeys // nil: the Reporter's
	CSCA *emrtd.CSCAStore
	Log  *slog.Logger // nil: slog.Default()

	// Connect tunes the PC/SC connection (timeouts).
	Connect pcsc.Options
	// Read tunes emrtd.Read; Progress, OnVerified and CSCA are set by the
	// source.
	Read emrtd.Options
	// ReadTimeout bounds one whole read (default 30 s).
	ReadTimeout time.Duration
	// EarlyEmit presents the identity as soon as DG1, DG13 and the SOD
	// are verified (no photo yet) and the complete identity later, as a
	// Presentation that Refines the same check.
	EarlyEmit bool
	// Reader, if set, limits the source to readers whose name contains it.
	Reader string

	// Monitor is the reader monitor (default: a new pcsc.Monitor).
	Monitor *pcsc.Monitor
}

// Run implements drivers.Source.
func (s *Source) Run(ctx context.Context, r drivers.Reporter) error {
	keys := s.Keys
	if keys == nil {
		k, ok := r.(drivers.ChipKeys)
		if !ok {
			return errors.New("chip: Source needs Keys or a Reporter that supplies them")
		}
		keys = k
	}
	mon := s.Monitor
	if mon == nil {
		mon = &pcsc.Monitor{Log: s.Log}
	}
	if mon.Report == nil {
		mon.Report = r.Device
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
	err := mon.Run(ctx, func(ev pcsc.Event) {
		if s.Reader != "" && !strings.Contains(ev.Reader, s.Reader) {
			return
		}
		switch ev.Kind {
		case pcsc.CardInserted:
			stop(ev.Reader)
			rctx, cancel := context.WithCancel(ctx)
			mu.Lock()
			reading[ev.Reader] = cancel
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer cancel()
				s.readCard(rctx, ev.Reader, keys, r)
			}()
		case pcsc.CardRemoved, pcsc.ReaderRemoved:
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

func (s *Source) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// readCard reads the card in reader once and reports what it found.
func (s *Source) readCard(ctx context.Context, reader string, keys drivers.ChipKeys, r drivers.Reporter) {
	checkID := r.Begin(patient.MediumChip, reader)
	log := s.log().With("reader", reader, "check", checkID)

	id, err := s.ReadIdentity(ctx, reader, checkID, keys, r)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			log.Info("chip: read abandoned (card removed or shutting down)")
		} else {
			log.Warn("A chip card could not be read; staff are asked to hold the card still on the reader or to scan its QR code", "err", err)
		}
		r.Failed(drivers.Failure{CheckID: checkID, Medium: patient.MediumChip, Device: reader,
			Code: FailureCode(err), Detail: FailureDetail(err)})
		return
	}
	log.Info("chip: read", "id", id.CitizenID, "authenticity", string(id.Authenticity.Level),
		"clone", string(id.Authenticity.Clone))
}

// ReadIdentity runs one read of the card in reader under checkID: key,
// connect, emrtd.Read, decoding, presenting to r. It is what Run does for
// each inserted card.
func (s *Source) ReadIdentity(ctx context.Context, reader, checkID string, keys drivers.ChipKeys, r drivers.Reporter) (patient.Identity, error) {
	if r == nil {
		r = nopReporter{}
	}
	// Waiting for the key (a QR scan, staff typing) is bounded only by the
	// card staying in the reader; the read itself by ReadTimeout.
	r.Progress(checkID, "waiting-for-key", 0)
	k, err := keys.ChipKey(ctx, reader)
	if err != nil {
		if errors.Is(err, drivers.ErrNoKey) {
			err = fmt.Errorf("%w (%w)", emrtd.ErrNoKey, err)
		}
		return patient.Identity{}, fmt.Errorf("getting the chip key: %w", err)
	}
	key, err := KeyOf(k)
	if err != nil {
		return patient.Identity{}, fmt.Errorf("getting the chip key: %w", err)
	}
	return s.ReadWithKey(ctx, reader, checkID, key, r)
}

// ReadWithKey reads the card in reader with key and presents it to r (nil:
// to nobody): connect, emrtd.Read, decoding. `tiepdon card read` uses it
// with the key given on its command line.
func (s *Source) ReadWithKey(ctx context.Context, reader, checkID string, key emrtd.Key, r drivers.Reporter) (patient.Identity, error) {
	if r == nil {
		r = nopReporter{}
	}
	timeout := s.ReadTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	card, err := pcsc.Connect(ctx, reader, s.Connect)
	if err != nil {
		return patient.Identity{}, fmt.Errorf("connecting: %w", err)
	}
	defer card.Close()

	opts := s.Read
	opts.CSCA = s.CSCA
	opts.Progress = func(step string, pct int) { r.Progress(checkID, strings.ToLower(step), pct) }
	emitted := false
	if s.EarlyEmit {
		opts.OnVerified = func(d *emrtd.Document) {
			id, err := IdentityOf(d)
			if err != nil {
				return
			}
			emitted = true
			r.Present(drivers.Presentation{Medium: patient.MediumChip, Device: reader, At: time.Now(), Identity: &id, CheckID: checkID})
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
	r.Present(drivers.Presentation{Medium: patient.MediumChip, Device: reader, At: time.Now(), Identity: &id,
		CheckID: checkID, Refines: emitted})
	return id, nil
}

// KeyFunc adapts a function to drivers.ChipKeys.
type KeyFunc func(ctx context.Context, reader string) (drivers.ChipKey, error)

// ChipKey calls f.
func (f KeyFunc) ChipKey(ctx context.Context, reader string) (drivers.ChipKey, error) {
	return f(ctx, reader)
}

// nopReporter drops every report (`tiepdon card read`).
type nopReporter struct{}

func (nopReporter) Begin(patient.Medium, string) string { return "" }
func (nopReporter) Present(drivers.Presentation)        {}
func (nopReporter) Progress(string, string, int)        {}
func (nopReporter) Failed(drivers.Failure)              {}
func (nopReporter) Device(drivers.Device)               {}

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

// FailureCode is the drivers.Failure* code of a failed chip read.
func FailureCode(err error) string {
	switch {
	case errors.Is(err, emrtd.ErrNoKey):
		return drivers.FailureChipNoKey
	case errors.Is(err, emrtd.ErrAuthentication), errors.Is(err, emrtd.ErrVerificationFailed):
		return drivers.FailureChipWrongKey
	case errors.Is(err, pcsc.ErrCardRemoved), errors.Is(err, pcsc.ErrMute), errors.Is(err, context.Canceled):
		return drivers.FailureChipRemoved
	case errors.Is(err, pcsc.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return drivers.FailureReaderTimeout
	case errors.Is(err, pcsc.ErrNoService):
		return drivers.FailureNoPCSC
	}
	return drivers.FailureChipUnread
}

// FailureDetail is the English sentence for a failed chip read's code,
// for the log, the HIS and `tiepdon card read`: safe, no personal data.
// The window words the code from its own catalogue.
func FailureDetail(err error) string {
	switch FailureCode(err) {
	case drivers.FailureChipNoKey:
		return "the chip needs the CAN: scan the card's QR code or type the last 6 digits"
	case drivers.FailureChipWrongKey:
		return "the CAN does not open this card"
	case drivers.FailureChipRemoved:
		return "the card was removed during the read"
	case drivers.FailureReaderTimeout:
		return "the reader did not answer in time"
	case drivers.FailureNoPCSC:
		return "the PC/SC service is not running"
	}
	return "the chip could not be read"
}
