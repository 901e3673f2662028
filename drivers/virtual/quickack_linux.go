package virtual

import (
	"net"
	"syscall"
)

// quickAck sets TCP_QUICKACK, which Linux clears after every ACK it sends.
func quickAck(c *net.TCPConn) {
	raw, err := c.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
