// Package pcsc is the PC/SC transport: it talks to smart-card readers
// through the platform's PC/SC service (pcscd on Linux, SCardSvr on
// Windows) using github.com/ebfe/scard.
//
// It offers:
//
//   - [ListReaders] names the readers the service knows.
//
//   - [Monitor] watches readers come and go and cards being inserted and
//     removed (SCardGetStatusChange, including the `\\?PnP?\Notification`
//     pseudo-reader), reports each change as a drivers.Device state
//     ([DeviceOf]), and survives the service stopping and starting again by
//     re-establishing its context (SCARD_E_NO_SERVICE, SCARD_F_COMM_ERROR).
//
//   - [Connect] opens a card inside a PC/SC transaction and returns a [Card],
//     a drivers.Transmitter whose Connect and Transmit calls are bounded by
//     timeouts: a hung reader or card otherwise blocks a PC/SC call forever.
//
// Who should use it: drivers/chip (the CCCD chip source, which reads over
// it), `tiepdon card` (ReadersWithCard) and `tiepdon doctor` (ListReaders).
// Protocol logic (ICAO 9303) lives in drivers/emrtd, over any Transmitter;
// tests run against a real pcscd with drivers/pcsc/pcsctest and the virtual
// card of drivers/virtual.
package pcsc
