// Package virtual holds tiepdon's virtual devices for demo mode and tests:
// a virtual CCCD chip (Card) and a virtual QR scanner.
//
// The virtual chip answers the same APDUs as a real Vietnamese CCCD: SELECT
// of EF.CardAccess without the master file (SELECT MF answers 6D00), PACE
// with the CAN (generic mapping on NIST P-256 or brainpoolP256r1, AES), BAC
// with the TD1 MRZ, ICAO secure messaging (8- and 16-byte SSC, DO'99' and a
// MAC on every protected response, errors included), access control (6982
// before authentication; the session dropped on reset, power-off, a plain
// command or an SM error) and the files EF.COM, DG1, DG2, DG3 (refused),
// DG13, DG14, DG15 and EF.SOD, signed by a Document Signer under a CSCA
// generated for the run (PKI). Active Authentication (INTERNAL
// AUTHENTICATE) signs with the DG15 key. Options make it misbehave: refuse
// PACE, send bad MACs, stall, vanish mid-read, carry a tampered DG13, sign
// with the wrong AA key.
//
// A Card is a drivers.Transmitter in memory; ServeVPCD inserts it into a
// real pcscd through vsmartcard's vpcd driver so that the whole PC/SC stack
// is exercised.
//
// The crypto is drivers/emrtd's side-neutral layer; the files, the MRZ, the
// CMS SignedData of the SOD and the security infos are written here
// independently of emrtd's parsers, so a reader test against this card
// cross-checks both.
package virtual
