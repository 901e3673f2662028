// Package cccd holds what is specific to Vietnam's chip citizen-ID card
// (căn cước công dân, CCCD, and the 2024 "Căn cước"): decoding the QR code
// printed on the card (ParseQR), decoding data group 13 of the chip, the
// PACE and BAC key material derived from the 12-digit ID, and the
// cross-check between a QR read and a chip read of the same card.
//
// The QR code carries no checksum or signature: an identity from ParseQR is
// always patient.Unverified, and only a chip read proves it. The decoders
// here are pure functions over bytes; the chip protocol itself lives in
// drivers/emrtd and the transport in drivers/pcsc.
//
// Errors never hold personal data: they name the field, not its value.
package cccd
