package emrtd

import (
	"context"
	"crypto/rand"
	"testing"
)

// Access control end to end against the in-memory chip (both sides' CPU).
func BenchmarkBAC(b *testing.B) {
	b.ReportAllocs()
	ctx := context.Background()
	for b.Loop() {
		card := newTestCard(b, AES128, 12)
		card.access = nil
		if _, err := OpenWithOptions(ctx, card, testKey(), SessionOptions{Extended: ExtendedOff}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPACE(b *testing.B) {
	for _, tc := range []struct {
		name string
		id   int
	}{{"P-256", 12}, {"brainpoolP256r1", 13}, {"brainpoolP384r1", 16}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				card := newTestCard(b, AES128, tc.id)
				if _, err := OpenWithOptions(ctx, card, Key{CAN: testCAN}, SessionOptions{Extended: ExtendedOff}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The terminal's own PACE-GM arithmetic: two key pairs, two ECDH, the
// mapping and two tokens (what the host spends per PACE, card excluded).
func BenchmarkPACETerminalCrypto(b *testing.B) {
	for _, tc := range []struct {
		name string
		c    *Curve
	}{{"P-256", P256()}, {"brainpoolP256r1", BrainpoolP256r1()}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			_, chipMap := must2(tc.c.GenerateKey(rand.Reader))
			nonce := make([]byte, 16)
			oid := PACEOID(true, MappingGM, AES128)
			cpu0 := processCPU()
			defer func() { b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N)/1e6, "cpu-ms/op") }()
			for b.Loop() {
				sk, _ := must2(tc.c.GenerateKey(rand.Reader))
				h := must(tc.c.ECDH(sk, chipMap))
				m := must(MapGM(tc.c, nonce, h))
				sk2, pk2 := must2(m.GenerateKey(rand.Reader))
				k := must(m.ECDH(sk2, m.G))
				sm := must(PACESession(AES128, m.SharedSecret(k)))
				must(AuthToken(AES128, sm.KMAC, oid, m, m.G))
				must(AuthToken(AES128, sm.KMAC, oid, m, pk2))
			}
		})
	}
}

// A full read (DG1, DG2 ~15 kB, DG13, DG14, DG15, SOD, PA, CA, AA) with
// extended-length reads against the naive baseline of 223-byte reads, in
// the same run. Reported per read: APDUs and bytes to the verdict and in
// all.
func BenchmarkRead(b *testing.B) {
	fx := testFixture(b)
	for _, tc := range []struct {
		name string
		ext  ExtendedLength
	}{{"extended", ExtendedAuto}, {"naive-223", ExtendedOff}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var doc *Document
			cpu0 := processCPU()
			for b.Loop() {
				var err error
				doc, err = Read(context.Background(), newTestCard(b, AES128, 12), Key{CAN: testCAN},
					Options{CSCA: fx.csca, SessionOptions: SessionOptions{Extended: tc.ext}})
				if err != nil {
					b.Fatal(err)
				}
			}
			// Both sides run in this process: the card's share is about
			// the terminal's (same primitives), so host CPU ≈ half.
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N)/1e6, "cpu-ms/op(both-sides)")
			b.ReportMetric(float64(doc.VerdictStats.APDUs), "apdus-to-verdict")
			b.ReportMetric(float64(doc.VerdictStats.BytesIn+doc.VerdictStats.BytesOut), "bytes-to-verdict")
			b.ReportMetric(float64(doc.Stats.APDUs), "apdus-total")
			b.ReportMetric(float64(doc.Stats.BytesIn+doc.Stats.BytesOut), "bytes-total")
		})
	}
}

func BenchmarkSecureMessagingRead(b *testing.B) {
	for _, c := range []Cipher{TDES, AES128} {
		b.Run(c.String(), func(b *testing.B) {
			b.ReportAllocs()
			k := make([]byte, c.KeyLen())
			term, _ := NewSecureMessaging(c, k, k, nil)
			card, _ := NewSecureMessaging(c, k, k, nil)
			data := make([]byte, 4000)
			cmd := Command{INS: 0xB0, Ne: 4000}.Bytes()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				p := must(term.ProtectCommand(cmd))
				must(card.UnprotectCommand(p))
				r := must(card.ProtectResponse(data, 0x9000))
				must(term.UnprotectResponse(r))
			}
		})
	}
}
