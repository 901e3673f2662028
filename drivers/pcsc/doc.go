// Package pcsc talks to smart-card readers through the platform's PC/SC
// service (pcscd on Linux, SCardSvr on Windows) using github.com/ebfe/scard.
//
// It offers:
//
//   - [ListReaders] names the readers the service knows.
//
//   - [Monitor] watches readers come and go and cards being inserted and
//     removed (SCardGetStatusChange, including the `\\?PnP?\Notification`
//     pseudo-reader), publishes each change as an events.DeviceChanged event,
//     and survives the service stopping and starting again by re-establishing
//     its context (SCARD_E_NO_SERVICE, SCARD_F_COMM_ERROR).
//
//   - [Connect] opens a card inside a PC/SC transaction and returns a [Card],
//     a drivers.Transmitter whose Connect and Transmit calls are bounded by
//     timeouts: a hung reader or card otherwise blocks a PC/SC call forever.
//
//   - [ChipSource] is the drivers.Source for CCCD chips: on every card
//     inserted it gets a key from a [KeyProvider] ([RecentID]: the CAN from
//     the last CCCD QR scanned, or typed by staff), reads the chip with
//     drivers/emrtd, decodes DG13 and DG1 with drivers/cccd and emits a
//     Presentation carrying the patient.Identity (photo and authenticity
//     included), publishing events.CardProgress, events.ReadFailed and
//     events.Alert (QR/chip mismatch, clone suspected) on the way.
//
// Who should use it: the agent (ChipSource, RecentID), `tiepdon card read`
// (ChipSource.ReadIdentity, ReadersWithCard) and `tiepdon doctor`
// (ListReaders). Protocol logic (ICAO 9303) lives in drivers/emrtd, over any
// Transmitter; tests run against a real pcscd with drivers/pcsc/pcsctest
// and the virtual card of drivers/virtual.
package pcsc
