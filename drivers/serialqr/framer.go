package serialqr

import (
	"bytes"
	"fmt"
	"strings"
)

// Terminator says which bytes end a scanned line.
type Terminator int

// Terminators. Whatever the choice, CR and LF bytes at either end of a line
// are trimmed and empty lines are skipped, so a scanner that sends CRLF
// works in every mode but None.
const (
	Any  Terminator = iota // CR, LF or CRLF (the default)
	CR                     // CR only; LF is data
	LF                     // LF only; CR is data
	CRLF                   // the pair CR LF only; a lone CR or LF is data
	None                   // no terminator: only the inter-byte timeout ends a line
)

var terminatorNames = [...]string{"any", "cr", "lf", "crlf", "none"}

// String returns the terminator's name as ParseTerminator reads it.
func (t Terminator) String() string {
	if t >= 0 && int(t) < len(terminatorNames) {
		return terminatorNames[t]
	}
	return fmt.Sprintf("Terminator(%d)", int(t))
}

// ParseTerminator reads "any", "cr", "lf", "crlf" or "none" (any case; ""
// is "any"), the form used in the configuration file.
func ParseTerminator(s string) (Terminator, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return Any, nil
	}
	for i, n := range terminatorNames {
		if s == n {
			return Terminator(i), nil
		}
	}
	return Any, fmt.Errorf("serialqr: terminator %q: want any, cr, lf, crlf or none", s)
}

// framer cuts a byte stream into lines. It is not safe for concurrent use.
type framer struct {
	term     Terminator
	max      int
	buf      []byte
	overflow bool // the current line passed max: discard up to its end
	lastCR   bool // the last byte of the current line was CR (kept when an overflowing line's bytes are not)
	// line is called with each line (CR/LF trimmed, never empty) or, for
	// a line longer than max, with tooLong set and no bytes.
	line func(b []byte, tooLong bool)
}

// feed adds p to the stream.
func (f *framer) feed(p []byte) {
	for len(p) > 0 {
		i := f.index(p)
		if i < 0 {
			f.add(p)
			return
		}
		f.add(p[:i])
		p = p[i+1:]
		f.end() // for CRLF, the CR before the LF is trimmed there
	}
}

// index returns the position in p of the byte that may end a line, or -1.
func (f *framer) index(p []byte) int {
	switch f.term {
	case Any:
		return bytes.IndexAny(p, "\r\n")
	case CR:
		return bytes.IndexByte(p, '\r')
	case LF:
		return bytes.IndexByte(p, '\n')
	case CRLF:
		for off := 0; ; {
			i := bytes.IndexByte(p[off:], '\n')
			if i < 0 {
				return -1
			}
			i += off
			if (i > 0 && p[i-1] == '\r') || (i == 0 && f.lastCR) {
				return i
			}
			off = i + 1 // a lone LF is data
		}
	}
	return -1
}

func (f *framer) add(p []byte) {
	if len(p) > 0 {
		f.lastCR = p[len(p)-1] == '\r'
	}
	if f.overflow {
		return
	}
	if len(f.buf) == 0 {
		p = bytes.TrimLeft(p, "\r\n") // would be trimmed anyway; keeps pending() honest
	}
	if len(f.buf)+len(p) > f.max {
		f.overflow = true
		f.buf = f.buf[:0]
		return
	}
	f.buf = append(f.buf, p...)
}

// pending reports whether a partial line is buffered.
func (f *framer) pending() bool { return len(f.buf) > 0 || f.overflow }

// end ends the current line (terminator seen or inter-byte timeout).
func (f *framer) end() {
	f.lastCR = false
	if f.overflow {
		f.overflow = false
		f.buf = f.buf[:0]
		f.line(nil, true)
		return
	}
	b := bytes.Trim(f.buf, "\r\n")
	f.buf = f.buf[:0]
	if len(b) > 0 {
		f.line(b, false)
	}
}
