package virtual

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// VPCDListening reports whether something (vpcd inside pcscd) listens on
// addr's TCP port. It reads /proc/net/tcp{,6} and never connects: to vpcd
// a connection is a card insertion.
func VPCDListening(addr string) bool {
	_, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return false
	}
	want := fmt.Sprintf(":%04X", port)
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) > 3 && strings.HasSuffix(fields[1], want) && fields[3] == "0A" { // 0A = LISTEN
				fh.Close()
				return true
			}
		}
		fh.Close()
	}
	return false
}
