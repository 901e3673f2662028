// Package emrtd reads ICAO 9303 electronic machine-readable travel documents
// (eMRTD) such as the Vietnamese chip citizen-ID card (CCCD) over any
// drivers.Transmitter: access control (PACE with CAN or MRZ, BAC as a
// fallback), secure messaging, file reads, LDS parsing, passive
// authentication against a CSCA store, and the clone checks Active
// Authentication and Chip Authentication.
//
// # Terminal side
//
// Read runs a whole read: it opens a Session (Open), reads EF.COM, DG1, DG2,
// DG13, DG14, DG15 and EF.SOD, runs Chip Authentication, Active
// Authentication and passive authentication, and reports progress through
// Options.Progress. Open and (*Session).ReadFile are the lower-level steps.
// Card status words come back as *StatusError values that unwrap to
// sentinels (ErrSecurityNotSatisfied, ErrFileNotFound, ...), for errors.Is.
//
// # Side-neutral crypto layer
//
// The primitives below work for either side of the contactless link, so a
// virtual card (drivers/virtual) can play the chip with the same code the
// reader uses:
//
//   - Cipher (TDES, AES128, AES192, AES256): KDF (ICAO 9303-11 §9.7.1),
//     Cipher.Encrypt / Cipher.Decrypt (CBC), Cipher.MAC (ISO 9797-1 MAC
//     algorithm 3 for TDES, AES-CMAC for AES), Pad / Unpad (ISO 9797-1
//     method 2).
//   - SecureMessaging: session keys plus send sequence counter.
//     ProtectCommand and UnprotectResponse are the terminal's half,
//     UnprotectCommand and ProtectResponse the card's half. DO'85', '87',
//     '97', '99', '8E' and extended length are handled for TDES (8-byte SSC)
//     and AES (16-byte SSC, IV = E(KSenc, SSC)).
//   - BAC: BACKeySeed, BACKeys, CheckDigit; BACTerminalCryptogram and
//     BACTerminalFinish for the terminal; BACCardCheck and BACCardCryptogram
//     for the card; BACSession derives the session.
//   - PACE: curves P256, P384, BrainpoolP256r1, BrainpoolP384r1 (Curve is a
//     short-Weierstrass curve over math/big that allows a != -3 and any
//     generator), PACEPasswordKey (K_pi from CAN or MRZ), EncryptNonce /
//     DecryptNonce, MapGM (generic mapping), ECDH, PACESessionKeys, AuthToken,
//     and ParseSecurityInfos for EF.CardAccess and DG14 (PACEInfo,
//     ChipAuthenticationInfo, ChipAuthenticationPublicKeyInfo,
//     ActiveAuthenticationInfo).
//   - APDUs: Command (short and extended length, ParseCommand, Bytes),
//     Response (ParseResponse), TLV (ParseTLV, EncodeTLV).
//
// All of them are checked in the package tests against the ICAO 9303 Part
// 11 worked examples (Appendix D for BAC and secure messaging, Appendix G
// for PACE ECDH generic mapping on brainpoolP256r1).
//
// Elliptic-curve arithmetic in Curve uses math/big and is not constant time.
// It is used for ephemeral keys over a contactless link and for signature
// verification; do not use it for long-term secrets.
package emrtd
