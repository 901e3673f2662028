// Package emrtd reads ICAO 9303 electronic machine-readable travel documents
// (eMRTD), such as the Vietnamese chip citizen-ID card (CCCD), over any
// drivers.Transmitter: access control (PACE with CAN or MRZ, BAC as the
// fallback), secure messaging, file reads, LDS parsing, passive
// authentication against a CSCA store, and the clone checks Active
// Authentication and Chip Authentication.
//
// # Reading a card
//
// Read does a whole read. It opens a Session, then reads DG1, EF.SOD and
// DG13, checks them by passive authentication and calls
// Options.OnVerified, so the verdict can be shown before the photo. Then it
// reads EF.COM, DG14 (and runs Chip Authentication), DG15 (and runs Active
// Authentication) and DG2 (the face). Options.Progress reports each step.
// Document.Authenticity gives the patient.Authenticity verdict:
// patient.Verified, patient.IntactIssuerUnknown or patient.Failed, with
// the clone check.
//
// Lower-level steps:
//
//   - Open / OpenWithOptions read EF.CardAccess with a direct SELECT
//     (00 A4 02 0C 02 01 1C; the CCCD answers 6D00 to SELECT MF), run
//     PACE-GM with the CAN (or the MRZ), and fall back to BAC when PACE is
//     refused (6982, 6A80, no EF.CardAccess). Then they select the eMRTD
//     application A0000002471001.
//   - (*Session).ReadFile reads an EF by its short file identifier, with
//     reads as large as the chip allows. Extended length is used when the
//     ATR (an optional ATR method on the Transmitter), EF.ATR/INFO or a
//     probe says the chip takes it. If secure messaging is lost, ReadFile
//     authenticates once more.
//   - (*Session).ChipAuth and (*Session).ActiveAuth run the clone checks.
//     PassiveAuth checks an SOD against data groups and a CSCAStore
//     (LoadCSCAStore reads PEM or DER files and directories).
//   - ParseCOM, ParseDG1 (TD1, TD2 and TD3 MRZ), ParseDG2 (the face out of
//     ISO/IEC 19794-5, or found by signature), ParseDG15, ParseSOD,
//     ParseSecurityInfos (EF.CardAccess, DG14), ParseCertificate and
//     ParsePublicKeyInfo take brainpool keys, RSA-PSS and explicit EC
//     parameters (crypto/x509 rejects brainpool).
//
// Status words come back as *StatusError. Its Unwrap gives a sentinel for
// errors.Is: ErrSecurityNotSatisfied (6982), ErrFileNotFound (6A82),
// ErrWrongLength (6700, 6Cxx), ErrINSNotSupported (6D00), and so on.
// Protocol failures wrap ErrPACERefused, ErrAuthentication, ErrNoKey,
// ErrSessionLost, ErrCloneCheck or ErrMalformed. Error strings and Key's
// LogValue never contain the CAN, the MRZ data or any other personal data.
//
// DG2 JPEG images are decoded with image/jpeg. JPEG 2000 is decoded with
// OpenJPEG's libopenjp2 by cgo: on Linux Debian's shared library, on
// Windows (build tag openjp2) a static one that
// packaging/windows/openjp2.sh builds from Debian's source package. Builds
// without it keep the JPEG 2000 bytes (Face.Data, MIME image/jp2) and
// Face.Decode returns ErrJPEG2000Unsupported (see JPEG2000Supported).
//
// # Side-neutral crypto layer
//
// The primitives below work for either side of the contactless link. A
// virtual card (drivers/virtual) plays the chip with the same code as the
// reader:
//
//   - Cipher (TDES, AES128, AES192, AES256; CipherSuite is another name):
//     KDF (ICAO 9303-11 §9.7.1), Cipher.Encrypt and Cipher.Decrypt (CBC),
//     Cipher.MAC (ISO 9797-1 MAC algorithm 3 for TDES, AES-CMAC cut to 8
//     bytes for AES), Cipher.CMAC, and Pad / Unpad (ISO 9797-1 method 2).
//   - SecureMessaging holds the session keys and the send sequence
//     counter. ProtectCommand and UnprotectResponse are the terminal's half;
//     UnprotectCommand and ProtectResponse are the card's. They handle
//     DO'85', '87', '97', '99' and '8E', and extended length, for TDES
//     (8-byte SSC) and AES (16-byte SSC, IV = E(KSenc, SSC)).
//   - BAC: CheckDigit, MRZInformation, BACKeySeed, BACKeys;
//     BACTerminalCryptogram and BACTerminalFinish for the terminal;
//     BACCardCheck and BACCardCryptogram for the card; BACSession.
//   - PACE: Curve is a short-Weierstrass curve over math/big that allows
//     a != -3 and any generator. Curves: P256, P384, P224, P521,
//     BrainpoolP256r1, BrainpoolP320r1, BrainpoolP384r1, BrainpoolP512r1;
//     CurveByParameterID and CurveByOID look them up. The steps are
//     PACEPasswordKey (K_pi from CAN or MRZ), EncryptNonce / DecryptNonce,
//     Curve.GenerateKey, Curve.ECDH and Curve.SharedSecret, MapGM (generic
//     mapping), PACESession, AuthToken, DynamicAuthData and
//     ParseDynamicAuthData. PACEOID and CAOID build protocol OIDs.
//     Curve.SignECDSA and Curve.VerifyECDSA work on every curve.
//   - APDUs: Command (short and extended length; ParseCommand,
//     Command.Bytes), Response (ParseResponse), TLV (ParseTLV, ParseTLVs,
//     FindTLV, EncodeTLV).
//
// The package tests check all of them against the ICAO 9303 Part 11 worked
// examples: Appendix D for BAC key derivation, mutual authentication and
// the SM-wrapped SELECT/READ BINARY, with every SSC; Appendix G.1 for PACE
// ECDH generic mapping on brainpoolP256r1, APDU for APDU. The tests check
// both sides of each example.
//
// NIST curves go through crypto/elliptic, because crypto/ecdh cannot take
// the mapped generator. Brainpool arithmetic uses math/big and is not
// constant time. It serves ephemeral keys over a contactless link and
// signature verification; do not use it for long-term secrets.
package emrtd
