//go:build !linux

package virtual

import "net"

// quickAck is a no-op where TCP_QUICKACK does not exist (vpcd runs on
// Linux).
func quickAck(*net.TCPConn) {}
