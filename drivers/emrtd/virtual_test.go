package emrtd_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers/emrtd"
	"github.com/tiepdon/tiepdon/drivers/virtual"
)

// The reader against drivers/virtual's CCCD, in memory: the two sides are
// written independently (files, MRZ, SOD and security infos on the card
// side do not use this package's parsers).
func virtualKey(t *testing.T, c *virtual.Card) emrtd.Key {
	t.Helper()
	mrz, err := virtual.MRZ(c.Profile())
	if err != nil {
		t.Fatal(err)
	}
	return emrtd.Key{CAN: c.Profile().CitizenID.CAN(), DocumentNumber: mrz[0][5:14], BirthDate: mrz[1][0:6], ExpiryDate: mrz[1][8:14]}
}

func TestReadVirtualCCCD(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     virtual.Options
		canOnly  bool
		protocol string
		level    patient.AuthLevel
		clone    patient.CloneCheck
		err      error
	}{
		{name: "default", protocol: "PACE", level: patient.Verified, clone: patient.ClonePassed},
		{name: "brainpool AES-256", opts: virtual.Options{PACECurve: "brainpoolP256r1", PACECipher: emrtd.AES256}, protocol: "PACE", level: patient.Verified, clone: patient.ClonePassed},
		{name: "refuse PACE", opts: virtual.Options{RefusePACE: true}, protocol: "BAC", level: patient.Verified, clone: patient.ClonePassed},
		{name: "no PACE", opts: virtual.Options{NoPACE: true}, protocol: "BAC", level: patient.Verified, clone: patient.ClonePassed},
		{name: "refuse PACE, CAN only", opts: virtual.Options{RefusePACE: true}, canOnly: true, err: emrtd.ErrNoKey},
		{name: "short APDUs only", opts: virtual.Options{ShortOnly: true}, protocol: "PACE", level: patient.Verified, clone: patient.ClonePassed},
		{name: "tampered DG13", opts: virtual.Options{TamperDG13: true}, protocol: "PACE", level: patient.Failed, clone: patient.ClonePassed},
		{name: "wrong AA key", opts: virtual.Options{WrongAAKey: true}, protocol: "PACE", level: patient.Failed, clone: patient.CloneFailed},
		{name: "bad MAC", opts: virtual.Options{BadMAC: true}, err: emrtd.ErrSessionLost},
		{name: "removed mid-read", opts: virtual.Options{RemoveAfter: 12}, err: virtual.ErrRemoved},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := virtual.Synthetic(1)
			p.Options = tc.opts
			card, err := virtual.NewCard(p)
			if err != nil {
				t.Fatal(err)
			}
			csca := emrtd.NewCSCAStore()
			if _, err := csca.AddBytes(card.PKI().CSCAPEM()); err != nil {
				t.Fatal(err)
			}
			key := virtualKey(t, card)
			if tc.canOnly {
				key = emrtd.Key{CAN: key.CAN}
			}
			doc, err := emrtd.Read(context.Background(), card, key, emrtd.Options{CSCA: csca})
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if doc.Protocol != tc.protocol {
				t.Errorf("protocol %s", doc.Protocol)
			}
			a := doc.Authenticity()
			if a.Level != tc.level || a.Clone != tc.clone {
				t.Errorf("authenticity %+v (PA %+v, AA %+v, CA %+v)", a, doc.PA, doc.ActiveAuth, doc.ChipAuth)
			}
			if doc.MRZ.OptionalData1[:12] != string(p.CitizenID) {
				t.Error("MRZ optional data is not the citizen ID")
			}
			if dg13, _ := card.File(0x010D); !bytes.Equal(doc.DG13(), dg13) {
				t.Error("DG13 differs from the card's")
			}
			if doc.Face == nil {
				t.Fatal("no face")
			}
			if _, err := doc.Face.Decode(); err != nil {
				t.Errorf("face: %v", err)
			}
			t.Logf("%s: CA ran=%v ok=%v, AA ran=%v ok=%v", tc.name, doc.ChipAuth.Ran, doc.ChipAuth.OK, doc.ActiveAuth.Ran, doc.ActiveAuth.OK)
			t.Logf("%s: %d APDUs to verdict (%d B in), %d APDUs in all (%d B in), extended=%v",
				tc.name, doc.VerdictStats.APDUs, doc.VerdictStats.BytesIn, doc.Stats.APDUs, doc.Stats.BytesIn, !tc.opts.ShortOnly)
		})
	}
}

// The reader against drivers/virtual's CCCD: APDUs and bytes to the
// verdict and in all, large reads against 223-byte reads in the same run.
func BenchmarkReadVirtual(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts virtual.Options
		ext  emrtd.ExtendedLength
	}{{"extended", virtual.Options{}, emrtd.ExtendedAuto}, {"naive-223", virtual.Options{ShortOnly: true}, emrtd.ExtendedOff}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			p := virtual.Synthetic(1)
			p.Options = tc.opts
			var doc *emrtd.Document
			for b.Loop() {
				card, err := virtual.NewCard(p)
				if err != nil {
					b.Fatal(err)
				}
				mrz, _ := virtual.MRZ(card.Profile())
				key := emrtd.Key{CAN: p.CitizenID.CAN(), DocumentNumber: mrz[0][5:14], BirthDate: mrz[1][0:6], ExpiryDate: mrz[1][8:14]}
				doc, err = emrtd.Read(context.Background(), card, key, emrtd.Options{SessionOptions: emrtd.SessionOptions{Extended: tc.ext}})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(doc.VerdictStats.APDUs), "apdus-to-verdict")
			b.ReportMetric(float64(doc.VerdictStats.BytesIn+doc.VerdictStats.BytesOut), "bytes-to-verdict")
			b.ReportMetric(float64(doc.Stats.APDUs), "apdus-total")
			b.ReportMetric(float64(doc.Stats.BytesIn+doc.Stats.BytesOut), "bytes-total")
		})
	}
}
