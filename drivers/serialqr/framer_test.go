package serialqr

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

type lines struct {
	got     []string
	tooLong int
}

func (l *lines) framer(term Terminator, max int) *framer {
	return &framer{term: term, max: max, line: func(b []byte, tooLong bool) {
		if tooLong {
			l.tooLong++
			return
		}
		l.got = append(l.got, string(b))
	}}
}

func TestFramer(t *testing.T) {
	tests := []struct {
		name    string
		term    Terminator
		in      []string // chunks as reads return them
		want    []string
		tooLong int
		pending bool
	}{
		// Any: CR, LF and CRLF all end a line; blank lines are skipped.
		{"any cr", Any, []string{"a\rb\r"}, []string{"a", "b"}, 0, false},
		{"any lf", Any, []string{"a\nb\n"}, []string{"a", "b"}, 0, false},
		{"any crlf", Any, []string{"a\r\nb\r\n"}, []string{"a", "b"}, 0, false},
		{"any mixed and blank", Any, []string{"\r\n\ra\n\n\r\nb\r"}, []string{"a", "b"}, 0, false},
		{"any split", Any, []string{"ab", "c\r", "\nd", "e\r"}, []string{"abc", "de"}, 0, false},
		{"any partial", Any, []string{"a\rbc"}, []string{"a"}, 0, true},
		// CR only: an LF is data, but is trimmed at the edges.
		{"cr", CR, []string{"a\nb\rc\r"}, []string{"a\nb", "c"}, 0, false},
		{"cr sent crlf", CR, []string{"a\r\nb\r\n"}, []string{"a", "b"}, 0, false},
		{"cr lf only", CR, []string{"a\nb\n"}, nil, 0, true},
		// LF only.
		{"lf", LF, []string{"a\rb\nc\n"}, []string{"a\rb", "c"}, 0, false},
		{"lf sent crlf", LF, []string{"a\r\nb\r\n"}, []string{"a", "b"}, 0, false},
		// CRLF only: lone CR and LF are data.
		{"crlf", CRLF, []string{"a\rb\nc\r\nd\r\n"}, []string{"a\rb\nc", "d"}, 0, false},
		{"crlf split between", CRLF, []string{"a\r", "\nb\r", "\n"}, []string{"a", "b"}, 0, false},
		{"crlf lone lf first", CRLF, []string{"\na\r\n"}, []string{"a"}, 0, false},
		// None: nothing ends a line but the timeout.
		{"none", None, []string{"a\rb\nc"}, nil, 0, true},
		// Too long: dropped up to the next terminator, then back to normal.
		{"too long", Any, []string{"0123456789", "ab\rok\r"}, []string{"ok"}, 1, false},
		{"exactly max", Any, []string{"0123456789\r"}, []string{"0123456789"}, 0, false},
		{"too long split", Any, []string{"01234", "567890", "12", "\rok\r"}, []string{"ok"}, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l lines
			f := l.framer(tt.term, 10)
			for _, c := range tt.in {
				f.feed([]byte(c))
			}
			if !slices.Equal(l.got, tt.want) || l.tooLong != tt.tooLong || f.pending() != tt.pending {
				t.Errorf("got %q tooLong %d pending %v; want %q %d %v", l.got, l.tooLong, f.pending(), tt.want, tt.tooLong, tt.pending)
			}
		})
	}
}

func TestFramerTimeoutEndsLine(t *testing.T) {
	var l lines
	f := l.framer(None, 100)
	f.feed([]byte("abc"))
	f.feed([]byte("def"))
	f.end()
	f.feed([]byte("g"))
	f.end()
	f.end() // nothing pending: no empty line
	if !slices.Equal(l.got, []string{"abcdef", "g"}) {
		t.Errorf("got %q", l.got)
	}
}

// FuzzFramer checks that how the stream is cut into reads never changes
// the lines: the same bytes fed whole and in chunks give the same lines.
func FuzzFramer(f *testing.F) {
	f.Add([]byte("a\rb\nc\r\nd"), uint8(3), uint8(0))
	f.Add([]byte("\r\n\r\n0123456789abc\rok"), uint8(1), uint8(3))
	f.Add([]byte("x\r\ny\r"), uint8(2), uint8(3))
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8, term uint8) {
		tm := Terminator(term % 5)
		var whole, parts lines
		fw := whole.framer(tm, 16)
		fw.feed(in)
		fp := parts.framer(tm, 16)
		step := int(chunk%7) + 1
		for i := 0; i < len(in); i += step {
			fp.feed(in[i:min(i+step, len(in))])
		}
		if !slices.Equal(whole.got, parts.got) || whole.tooLong != parts.tooLong || fw.pending() != fp.pending() {
			t.Fatalf("%q: whole %q/%d, chunks of %d %q/%d", in, whole.got, whole.tooLong, step, parts.got, parts.tooLong)
		}
		for _, g := range whole.got {
			if g == "" || len(g) > 16 || strings.HasPrefix(g, "\r") || strings.HasSuffix(g, "\n") {
				t.Fatalf("bad line %q", g)
			}
			if tm == Any && strings.ContainsAny(g, "\r\n") {
				t.Fatalf("line %q holds a terminator", g)
			}
		}
	})
}

func TestParseTerminator(t *testing.T) {
	for _, tm := range []Terminator{Any, CR, LF, CRLF, None} {
		got, err := ParseTerminator(strings.ToUpper(tm.String()))
		if err != nil || got != tm {
			t.Errorf("%v: %v %v", tm, got, err)
		}
	}
	if got, err := ParseTerminator(""); got != Any || err != nil {
		t.Errorf("empty: %v %v", got, err)
	}
	if _, err := ParseTerminator("tab"); err == nil {
		t.Error("tab accepted")
	}
}

func TestPick(t *testing.T) {
	honeywell := PortInfo{Path: "/dev/ttyACM1", USB: true, VID: "0C2E", PID: "0B61", Vendor: "Honeywell"}
	named := PortInfo{Path: "/dev/ttyACM0", USB: true, VID: "1a86", PID: "7523", Product: "USB Barcode Scanner"}
	ch340 := PortInfo{Path: "/dev/ttyUSB0", USB: true, VID: "1a86", PID: "7523"}
	ftdi := PortInfo{Path: "/dev/ttyUSB1", USB: true, VID: "0403", PID: "6001"}
	builtin := PortInfo{Path: "/dev/ttyS0"}
	tests := []struct {
		name  string
		ports []PortInfo
		want  string
	}{
		{"known vendor wins over order", []PortInfo{builtin, ch340, honeywell}, "/dev/ttyACM1"},
		{"product name", []PortInfo{builtin, named, ch340}, "/dev/ttyACM0"},
		{"only USB port", []PortInfo{builtin, ch340}, "/dev/ttyUSB0"},
		{"two unknown USB ports", []PortInfo{ch340, ftdi}, ""},
		{"no USB", []PortInfo{builtin}, ""},
		{"none", nil, ""},
	}
	for _, tt := range tests {
		p, ok := Pick(tt.ports, nil)
		if ok != (tt.want != "") || p.Path != tt.want {
			t.Errorf("%s: picked %q %v, want %q", tt.name, p.Path, ok, tt.want)
		}
	}
	if s := honeywell.String(); s != "/dev/ttyACM1 (USB 0c2e:0b61 Honeywell)" {
		t.Errorf("String = %q", s)
	}
	if s := builtin.String(); s != "/dev/ttyS0" {
		t.Errorf("String = %q", s)
	}
}

func TestNewChecksOptions(t *testing.T) {
	for name, o := range map[string]Options{
		"parity":     {Parity: "weird"},
		"stop bits":  {StopBits: 3},
		"terminator": {Terminator: 9},
		"timeout":    {InterByteTimeout: -1},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	s, err := New(Options{Terminator: None, Parity: "EVEN", StopBits: 2})
	if err != nil || s.o.InterByteTimeout != 50e6 || s.mode.BaudRate != 9600 || s.o.MaxLine != 4096 {
		t.Errorf("defaults: %+v %v", s, err)
	}
}

func BenchmarkFramer(b *testing.B) {
	line := bytes.Repeat([]byte("0111077012|4e677579e1bb856e|"), 8)
	line = append(line, '\r')
	stream := bytes.Repeat(line, 64)
	var n int
	f := &framer{term: Any, max: 4096, line: func([]byte, bool) { n++ }}
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		f.feed(stream)
	}
}

// TestSystemPorts runs the real enumerator: whatever this machine has, the
// list is sorted and only USB ports carry USB details.
func TestSystemPorts(t *testing.T) {
	ports, err := List()
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range ports {
		if i > 0 && ports[i-1].Path > p.Path {
			t.Errorf("not sorted: %q before %q", ports[i-1].Path, p.Path)
		}
		if !p.USB && (p.VID != "" || p.Vendor != "") {
			t.Errorf("non-USB port with USB details: %+v", p)
		}
	}
	t.Logf("%d ports: %v", len(ports), ports)
}
