package virtual_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers/cccd"
	"github.com/tiepdon/tiepdon/drivers/emrtd"
	"github.com/tiepdon/tiepdon/drivers/virtual"
)

// The reader of drivers/emrtd against the virtual card, in memory: both
// sides were written separately (emrtd's parsers and PA vs this package's
// encoders and CMS), so agreement here is a cross-check.
func TestEmrtdReadsVirtualCard(t *testing.T) {
	pki, err := virtual.NewPKI()
	if err != nil {
		t.Fatal(err)
	}
	store := emrtd.NewCSCAStore()
	if _, err := store.AddBytes(pki.CSCAPEM()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		opts     virtual.Options
		key      func(k emrtd.Key) emrtd.Key
		sessOpts emrtd.SessionOptions
		protocol string
		level    patient.AuthLevel
		clone    patient.CloneCheck
	}{
		{name: "PACE P-256", protocol: "PACE", level: patient.Verified, clone: patient.ClonePassed},
		{name: "PACE brainpool AES-256", opts: virtual.Options{PACECurve: "brainpoolP256r1", PACECipher: emrtd.AES256},
			protocol: "PACE", level: patient.Verified, clone: patient.ClonePassed},
		{name: "PACE refused, BAC", opts: virtual.Options{RefusePACE: true}, protocol: "BAC", level: patient.Verified, clone: patient.ClonePassed},
		{name: "no EF.CardAccess, BAC", opts: virtual.Options{NoPACE: true}, protocol: "BAC", level: patient.Verified, clone: patient.ClonePassed},
		{name: "short APDUs only", opts: virtual.Options{ShortOnly: true}, sessOpts: emrtd.SessionOptions{Extended: emrtd.ExtendedAuto},
			protocol: "PACE", level: patient.Verified, clone: patient.ClonePassed},
		{name: "SELECT MF works", opts: virtual.Options{SelectMFWorks: true}, protocol: "PACE", level: patient.Verified, clone: patient.ClonePassed},
		{name: "tampered DG13", opts: virtual.Options{TamperDG13: true}, protocol: "PACE", level: patient.Failed, clone: patient.ClonePassed},
		{name: "SOD in BER", opts: virtual.Options{BERSOD: true}, protocol: "PACE", level: patient.Verified, clone: patient.ClonePassed},
		{name: "SOD in BER, tampered DG13", opts: virtual.Options{BERSOD: true, TamperDG13: true}, protocol: "PACE", level: patient.Failed, clone: patient.ClonePassed},
		{name: "EF.SOD file in BER (indefinite 77)", opts: virtual.Options{BERFile: true}, protocol: "PACE", level: patient.Verified, clone: patient.ClonePassed},
		{name: "EF.SOD file in BER, short reads", opts: virtual.Options{BERFile: true, ShortOnly: true}, protocol: "PACE", level: patient.Verified, clone: patient.ClonePassed},
		{name: "wrong AA key", opts: virtual.Options{WrongAAKey: true}, protocol: "PACE", level: patient.Failed, clone: patient.CloneFailed},
		{name: "RSA AA", opts: virtual.Options{AARSA: true}, protocol: "PACE", level: patient.Verified, clone: patient.ClonePassed},
		{name: "RSA AA wrong key", opts: virtual.Options{AARSA: true, WrongAAKey: true}, protocol: "PACE", level: patient.Failed, clone: patient.CloneFailed},
		{name: "wrong CA key", opts: virtual.Options{WrongCAKey: true}, protocol: "PACE", level: patient.Failed, clone: patient.CloneFailed},
		{name: "no chip authentication", opts: virtual.Options{NoChipAuth: true}, protocol: "PACE", level: patient.Verified, clone: patient.ClonePassed},
		{name: "PACE with MRZ", key: func(k emrtd.Key) emrtd.Key { k.CAN = ""; return k },
			protocol: "PACE", level: patient.Verified, clone: patient.ClonePassed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := virtual.Synthetic(1)
			tt.opts.PKI = pki
			p.Options = tt.opts
			c, err := virtual.NewCard(p)
			if err != nil {
				t.Fatal(err)
			}
			k := key(t, c)
			if tt.key != nil {
				k = tt.key(k)
			}
			doc, err := emrtd.Read(context.Background(), c, k, emrtd.Options{CSCA: store, SessionOptions: tt.sessOpts})
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if doc.Protocol != tt.protocol {
				t.Errorf("protocol %q, want %q", doc.Protocol, tt.protocol)
			}
			outer, _, _ := emrtd.ParseTLV(doc.SOD) // 77 { ContentInfo }
			if ber := len(outer.Value) > 1 && outer.Value[1] == 0x80; ber != (tt.opts.BERSOD || tt.opts.BERFile) {
				t.Errorf("SOD read with indefinite lengths: %v, want %v", ber, tt.opts.BERSOD || tt.opts.BERFile)
			}
			if tt.opts.BERFile && (len(doc.SOD) < 2 || doc.SOD[1] != 0x80 || doc.SOD[len(doc.SOD)-1] != 0 || doc.SOD[len(doc.SOD)-2] != 0) {
				t.Errorf("EF.SOD not read whole as on the chip (header % X)", doc.SOD[:min(4, len(doc.SOD))])
			}
			a := doc.Authenticity()
			if a.Level != tt.level || a.Clone != tt.clone {
				t.Errorf("authenticity %+v, want %s/%s (PA %+v)", a, tt.level, tt.clone, doc.PA)
			}
			d, err := cccd.DecodeDG13(doc.DG13())
			if err != nil {
				t.Fatal(err)
			}
			if d.CitizenID != p.CitizenID || d.Spouse != p.Spouse {
				t.Errorf("DG13 %+v", d)
			}
			if doc.MRZ == nil || doc.MRZ.DocumentNumber != p.CitizenID.DocumentNumber() || !doc.MRZ.CheckDigitsOK ||
				doc.MRZ.OptionalData1[:12] != string(p.CitizenID) {
				t.Errorf("MRZ %+v", doc.MRZ)
			}
			wantCA := !tt.opts.NoChipAuth
			if doc.ChipAuth.Ran != wantCA || doc.ChipAuth.OK != (wantCA && !tt.opts.WrongCAKey) {
				t.Errorf("chip authentication %+v", doc.ChipAuth)
			}
			if st := c.Stats(); wantCA && st.ChipAuth != 1 {
				t.Errorf("card stats %+v", st)
			}
			if tt.opts.WrongCAKey {
				return // the session ended at Chip Authentication: no photo
			}
			if doc.Face == nil || doc.Face.MIME != "image/jpeg" || doc.Face.Width != 240 {
				t.Errorf("face %+v", doc.Face)
			}
		})
	}
}

func TestEmrtdReadFaults(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts virtual.Options
		want error
	}{
		{"bad MAC", virtual.Options{BadMAC: true}, emrtd.ErrSessionLost},
		{"removed", virtual.Options{RemoveAfter: 9}, virtual.ErrRemoved},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := virtual.Synthetic(0)
			p.Options = tt.opts
			c, err := virtual.NewCard(p)
			if err != nil {
				t.Fatal(err)
			}
			_, err = emrtd.Read(context.Background(), c, key(t, c), emrtd.Options{})
			if !errors.Is(err, tt.want) {
				t.Errorf("Read: %v, want %v", err, tt.want)
			}
		})
	}
}

// BenchmarkEmrtdReadInMemory is a full PACE-CAN read of the virtual card
// with no PC/SC in between: the CPU cost of both sides.
func BenchmarkEmrtdReadInMemory(b *testing.B) {
	pki, _ := virtual.NewPKI()
	store := emrtd.NewCSCAStore()
	store.AddBytes(pki.CSCAPEM())
	p := virtual.Synthetic(0)
	p.Options.PKI = pki
	c, err := virtual.NewCard(p)
	if err != nil {
		b.Fatal(err)
	}
	k := emrtd.Key{CAN: p.CitizenID.CAN()}
	b.ReportAllocs()
	for b.Loop() {
		c.Reset()
		if _, err := emrtd.Read(context.Background(), c, k, emrtd.Options{CSCA: store}); err != nil {
			b.Fatal(err)
		}
	}
}
