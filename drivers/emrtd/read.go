package emrtd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers"
)

// Options tune Read.
type Options struct {
	SessionOptions

	// CSCA is the trust store for passive authentication (nil: none, the
	// best verdict is then patient.IntactIssuerUnknown).
	CSCA *CSCAStore
	// Progress, if set, is called with a step name and a percentage as the
	// read advances ("authenticating", "DG1", "DG2", "verifying", "done").
	Progress func(step string, percent int)
	// OnVerified, if set, is called once DG1, DG13 and EF.SOD are read and
	// passively authenticated, before the clone checks and the photo; the
	// Document is partial then (no Face, clone checks not run) and Read
	// goes on filling it after the callback returns: copy what you keep.
	OnVerified func(*Document)
	// SkipPhoto leaves DG2 unread.
	SkipPhoto bool
	// SkipChipAuth and SkipActiveAuth turn the clone checks off.
	SkipChipAuth, SkipActiveAuth bool
	// Now is the clock for certificate checks (default time.Now).
	Now func() time.Time
}

// CheckResult is the outcome of one clone check.
type CheckResult struct {
	Ran bool  // the chip offered it and it was attempted
	OK  bool  // it passed
	Err error // why it failed or could not run
}

// Document is what Read got from the chip.
type Document struct {
	Protocol string // "PACE" or "BAC"
	COM      *COM
	MRZ      *MRZ
	Face     *Face
	// DG holds the raw bytes of every data group read (1, 2, 13, 14, 15).
	DG map[int][]byte
	// SOD is EF.SOD as read.
	SOD []byte
	// CardAccess is EF.CardAccess as read (nil if absent).
	CardAccess []byte
	// SecurityInfos is the parsed DG14, if read.
	SecurityInfos *SecurityInfos
	// PA is the passive-authentication verdict.
	PA *PAResult
	// ChipAuth and ActiveAuth are the clone checks.
	ChipAuth, ActiveAuth CheckResult
	// Stats counts APDUs and bytes up to verdict-ready data (DG1, DG13,
	// SOD checked) and for the whole read.
	VerdictStats, Stats Stats
	// ReadAt is when the read finished.
	ReadAt time.Time
}

// DG13 returns the raw Vietnamese DG13 (decoded by drivers/cccd), or nil.
func (d *Document) DG13() []byte { return d.DG[13] }

// Clone returns the clone-check verdict of the checks that ran.
func (d *Document) Clone() patient.CloneCheck {
	ran := false
	for _, c := range []CheckResult{d.ChipAuth, d.ActiveAuth} {
		if !c.Ran {
			continue
		}
		ran = true
		if !c.OK {
			return patient.CloneFailed
		}
	}
	if ran {
		return patient.ClonePassed
	}
	return patient.CloneNotChecked
}

// Authenticity returns the verdict for patient.Identity: the passive
// authentication level, downgraded to Failed when a clone check failed.
func (d *Document) Authenticity() patient.Authenticity {
	a := patient.Authenticity{Level: patient.Failed, Detail: "not authenticated", Clone: d.Clone()}
	if d.PA != nil {
		a.Level, a.Detail, a.Signer = d.PA.Level, d.PA.Detail, d.PA.Signer
	}
	if a.Clone == patient.CloneFailed {
		a.Level = patient.Failed
		a.Detail = "clone check failed (chip does not hold its key); " + a.Detail
	}
	return a
}

// Read opens the chip with key and reads it: EF.COM, DG1, DG13, EF.SOD
// (then passive authentication and Options.OnVerified), DG14 and Chip
// Authentication, DG15 and Active Authentication, DG2 last, then passive
// authentication over everything read. Data groups the chip does not list
// in EF.COM are skipped; DG13, DG14, DG15 answering 6A82 are tolerated.
func Read(ctx context.Context, tx drivers.Transmitter, key Key, opts Options) (*Document, error) {
	progress := func(step string, pct int) {
		if opts.Progress != nil {
			opts.Progress(step, pct)
		}
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	progress("authenticating", 0)
	s, err := OpenWithOptions(ctx, tx, key, opts.SessionOptions)
	if err != nil {
		return nil, err
	}
	d := &Document{Protocol: s.Protocol, DG: map[int][]byte{}, CardAccess: s.CardAccessRaw}
	progress("authenticated", 15)

	read := func(n int, optional bool) error {
		b, err := s.ReadFile(ctx, FIDDG(n))
		if err != nil {
			if optional && (errors.Is(err, ErrFileNotFound) || errors.Is(err, ErrSecurityNotSatisfied)) {
				return nil
			}
			return fmt.Errorf("reading DG%d: %w", n, err)
		}
		d.DG[n] = b
		return nil
	}
	// Verdict first: DG1, EF.SOD (whose hash list tells which data groups
	// exist), DG13. EF.COM comes after the verdict.
	progress("DG1", 20)
	if err := read(1, false); err != nil {
		return nil, err
	}
	var err2 error
	if d.MRZ, err2 = ParseDG1(d.DG[1]); err2 != nil {
		return nil, fmt.Errorf("reading DG1: %w", err2)
	}
	progress("SOD", 30)
	if d.SOD, err = s.ReadFile(ctx, FIDSOD); err != nil {
		return nil, fmt.Errorf("reading EF.SOD: %w", err)
	}
	sod, sodErr := ParseSOD(d.SOD)
	listed := func(n int) bool {
		if d.COM != nil && d.COM.Has(n) {
			return true
		}
		if sodErr != nil {
			return n != 3 && n != 4 // unknown: try what a CCCD has
		}
		_, ok := sod.Hashes[n]
		return ok
	}
	if listed(13) {
		progress("DG13", 40)
		if err := read(13, true); err != nil {
			return nil, err
		}
	}
	progress("verifying", 50)
	d.PA = PassiveAuth(d.SOD, d.DG, opts.CSCA, now())
	d.VerdictStats = s.Stats
	if opts.OnVerified != nil {
		opts.OnVerified(d)
	}

	progress("EF.COM", 52)
	raw, err := s.ReadFile(ctx, FIDCOM)
	if err != nil && !errors.Is(err, ErrFileNotFound) {
		return nil, fmt.Errorf("reading EF.COM: %w", err)
	}
	if err == nil {
		if d.COM, err = ParseCOM(raw); err != nil {
			return nil, fmt.Errorf("reading EF.COM: %w", err)
		}
	}

	if listed(14) {
		progress("DG14", 55)
		if err := read(14, true); err != nil {
			return nil, err
		}
		if b := d.DG[14]; b != nil {
			if d.SecurityInfos, err = ParseSecurityInfos(b); err != nil {
				return nil, fmt.Errorf("reading DG14: %w", err)
			}
		}
	}
	if si := d.SecurityInfos; si != nil && len(si.ChipKeys) > 0 && !opts.SkipChipAuth {
		progress("chip authentication", 60)
		d.ChipAuth.Ran = true
		if err := s.ChipAuth(ctx, si); err != nil {
			// A failed check may take the session with it; the next
			// ReadFile authenticates again so the photo still comes.
			d.ChipAuth.Err = err
		} else {
			d.ChipAuth.OK = true
		}
	}
	if listed(15) {
		progress("DG15", 65)
		if err := read(15, true); err != nil {
			return nil, err
		}
		if b := d.DG[15]; b != nil && !opts.SkipActiveAuth {
			progress("active authentication", 70)
			d.ActiveAuth.Ran = true
			pub, err := ParseDG15(b)
			if err == nil {
				err = s.ActiveAuth(ctx, pub, d.SecurityInfos)
			}
			d.ActiveAuth.OK, d.ActiveAuth.Err = err == nil, err
		}
	}
	if listed(2) && !opts.SkipPhoto {
		progress("DG2", 75)
		s.chunk = func(done, total int) {
			if total > 0 {
				progress("DG2", 75+20*done/total)
			}
		}
		err := read(2, false)
		s.chunk = nil
		if err != nil {
			return nil, err
		}
		if d.Face, err = ParseDG2(d.DG[2]); err != nil {
			return nil, fmt.Errorf("reading DG2: %w", err)
		}
	}
	return d, finish(d, s, opts, now, progress)
}

func finish(d *Document, s *Session, opts Options, now func() time.Time, progress func(string, int)) error {
	progress("verifying", 96)
	d.PA = PassiveAuth(d.SOD, d.DG, opts.CSCA, now())
	d.Stats = s.Stats
	d.ReadAt = now()
	progress("done", 100)
	return nil
}
