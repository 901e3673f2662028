//go:build !linux

package virtual

// VPCDListening reports false: vsmartcard's vpcd is used on Linux only.
func VPCDListening(string) bool { return false }
