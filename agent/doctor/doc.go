// Package doctor checks, and explains in plain words, what an installer
// cannot: whether the PC/SC service runs and sees a card reader, whether the
// QR scanner's serial port is there and usable, whether the national
// gateway answers and accepts the facility's account, whether the HIS port is
// free, the data directory writable, the configuration valid and the clock
// right. It also writes the redacted support bundle IT staff attach to a
// support ticket.
//
// Every finding carries its text in English and Vietnamese ([Text]); `tiepdon
// doctor` prints the one of the configured language and `--json` gives both.
//
// Who should use it: the `tiepdon doctor` and `tiepdon support-bundle`
// commands. The checks are plain functions over plain parameters (a
// directory, an address, a function that lists readers, an HTTP client), so
// that each can be tested against real parts: a real listener, a real
// read-only directory, a real HTTP server. The package imports no driver:
// the command passes in how to list readers.
package doctor
