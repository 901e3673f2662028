package emrtd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"strings"
)

// dgTags maps LDS data-group template tags to data-group numbers.
var dgTags = map[byte]int{
	0x61: 1, 0x75: 2, 0x63: 3, 0x76: 4, 0x65: 5, 0x66: 6, 0x67: 7, 0x68: 8,
	0x69: 9, 0x6A: 10, 0x6B: 11, 0x6C: 12, 0x6D: 13, 0x6E: 14, 0x6F: 15, 0x70: 16,
}

// COM is EF.COM: LDS and Unicode versions and the data groups present.
type COM struct {
	LDSVersion     string // e.g. "0107"
	UnicodeVersion string // e.g. "040000"
	DataGroups     []int  // data-group numbers, in the card's order
}

// Has reports whether EF.COM lists data group n.
func (c *COM) Has(n int) bool {
	for _, d := range c.DataGroups {
		if d == n {
			return true
		}
	}
	return false
}

// ParseCOM parses EF.COM (tag '60').
func ParseCOM(b []byte) (*COM, error) {
	t, _, err := ParseTLV(b)
	if err != nil {
		return nil, fmt.Errorf("EF.COM: %w", err)
	}
	if t.Tag != 0x60 {
		return nil, malformed("EF.COM tag %X", t.Tag)
	}
	objs, err := ParseTLVs(t.Value)
	if err != nil {
		return nil, fmt.Errorf("EF.COM: %w", err)
	}
	c := &COM{}
	for _, o := range objs {
		switch o.Tag {
		case 0x5F01:
			c.LDSVersion = string(o.Value)
		case 0x5F36:
			c.UnicodeVersion = string(o.Value)
		case 0x5C:
			for _, tag := range o.Value {
				if n, ok := dgTags[tag]; ok {
					c.DataGroups = append(c.DataGroups, n)
				}
			}
		}
	}
	return c, nil
}

// MRZ is the machine-readable zone of DG1.
type MRZ struct {
	Format         string // "TD1" (ID card, 3×30), "TD2" (2×36), "TD3" (passport, 2×44)
	DocumentCode   string // e.g. "ID", "P"
	IssuingState   string // e.g. "VNM"
	DocumentNumber string // without filler
	OptionalData1  string // TD1: line 1 optional data (for a CCCD: the 12-digit ID)
	BirthDate      string // YYMMDD
	Sex            string // "M", "F" or "<"
	ExpiryDate     string // YYMMDD
	Nationality    string
	OptionalData2  string // TD1 line 2 optional data, TD3 personal number
	Primary        string // surname(s), fillers as spaces
	Secondary      string // given names
	Raw            string // the MRZ characters as stored
	// CheckDigitsOK is false if any check digit is wrong (data kept).
	CheckDigitsOK bool
}

// Key returns the BAC/PACE-MRZ key material of the MRZ.
func (m *MRZ) Key() Key {
	return Key{DocumentNumber: m.DocumentNumber, BirthDate: m.BirthDate, ExpiryDate: m.ExpiryDate}
}

// ParseDG1 parses DG1 (tag '61' holding '5F1F' MRZ).
func ParseDG1(b []byte) (*MRZ, error) {
	t, _, err := ParseTLV(b)
	if err != nil {
		return nil, fmt.Errorf("DG1: %w", err)
	}
	if t.Tag != 0x61 {
		return nil, malformed("DG1 tag %X", t.Tag)
	}
	m, ok := FindTLV(t.Value, 0x5F1F)
	if !ok {
		return nil, malformed("DG1 without MRZ")
	}
	return ParseMRZ(string(m.Value))
}

func field(s string, from, to int) string { return strings.TrimRight(s[from:to], "<") }

// ParseMRZ parses the MRZ characters of TD1 (90), TD2 (72) or TD3 (88)
// documents, with or without line breaks.
func ParseMRZ(raw string) (*MRZ, error) {
	s := strings.NewReplacer("\n", "", "\r", "").Replace(raw)
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '<') {
			return nil, malformed("MRZ character %q", r)
		}
	}
	m := &MRZ{Raw: raw, CheckDigitsOK: true}
	check := func(data string, cd byte) {
		if CheckDigit(data) != cd && !(cd == '<' && strings.Trim(data, "<") == "") {
			m.CheckDigitsOK = false
		}
	}
	switch len(s) {
	case 90:
		m.Format = "TD1"
		l1, l2, l3 := s[:30], s[30:60], s[60:]
		m.DocumentCode, m.IssuingState = field(l1, 0, 2), field(l1, 2, 5)
		m.DocumentNumber = field(l1, 5, 14)
		m.OptionalData1 = field(l1, 15, 30)
		if l1[14] == '<' && m.OptionalData1 != "" {
			// Long document number continued in the optional data,
			// ended by its check digit.
			opt := m.OptionalData1
			m.DocumentNumber += opt[:len(opt)-1]
			check(m.DocumentNumber, opt[len(opt)-1])
			m.OptionalData1 = ""
		} else {
			check(l1[5:14], l1[14])
		}
		m.BirthDate, m.Sex, m.ExpiryDate = l2[0:6], l2[7:8], l2[8:14]
		check(l2[0:6], l2[6])
		check(l2[8:14], l2[14])
		m.Nationality = field(l2, 15, 18)
		m.OptionalData2 = field(l2, 18, 29)
		check(l1[5:30]+l2[0:7]+l2[8:15]+l2[18:29], l2[29])
		m.Primary, m.Secondary = splitName(l3)
	case 72, 88:
		n := len(s) / 2
		l1, l2 := s[:n], s[n:]
		m.Format = "TD3"
		if n == 36 {
			m.Format = "TD2"
		}
		m.DocumentCode, m.IssuingState = field(l1, 0, 2), field(l1, 2, 5)
		m.Primary, m.Secondary = splitName(l1[5:])
		m.DocumentNumber = field(l2, 0, 9)
		check(l2[0:9], l2[9])
		m.Nationality = field(l2, 10, 13)
		m.BirthDate, m.Sex, m.ExpiryDate = l2[13:19], l2[20:21], l2[21:27]
		check(l2[13:19], l2[19])
		check(l2[21:27], l2[27])
		if n == 44 {
			m.OptionalData2 = field(l2, 28, 42)
			check(l2[28:42], l2[42])
			check(l2[0:10]+l2[13:20]+l2[21:43], l2[43])
		} else {
			m.OptionalData2 = field(l2, 28, 35)
			check(l2[0:10]+l2[13:20]+l2[21:35], l2[35])
		}
	default:
		return nil, malformed("MRZ of %d characters", len(s))
	}
	return m, nil
}

func splitName(s string) (primary, secondary string) {
	s = strings.TrimRight(s, "<")
	p, sec, _ := strings.Cut(s, "<<")
	clean := func(x string) string {
		return strings.Join(strings.FieldsFunc(x, func(r rune) bool { return r == '<' }), " ")
	}
	return clean(p), clean(sec)
}

// Face is the face image of DG2.
type Face struct {
	Data          []byte // the image file: JPEG or JPEG 2000
	MIME          string // "image/jpeg", "image/jp2" or "image/j2k"
	Width, Height int    // from the ISO 19794-5 header, 0 if unknown
}

// ErrNoFace means DG2 holds no image this package recognises.
var ErrNoFace = errors.New("emrtd: no face image in DG2")

// ParseDG2 extracts the first face image from DG2: '75' { '7F61' { '02'
// count, '7F60' { 'A1' header, '5F2E' or '7F2E' biometric data } } }, the
// biometric data being an ISO/IEC 19794-5 record ("FAC\0"). Other
// encodings (ISO/IEC 39794-5) are searched for a JPEG or JPEG 2000
// signature.
func ParseDG2(b []byte) (*Face, error) {
	t, _, err := ParseTLV(b)
	if err != nil {
		return nil, fmt.Errorf("DG2: %w", err)
	}
	if t.Tag != 0x75 {
		return nil, malformed("DG2 tag %X", t.Tag)
	}
	group, ok := FindTLV(t.Value, 0x7F61)
	if !ok {
		return nil, malformed("DG2 without biometric information group template")
	}
	objs, err := ParseTLVs(group.Value)
	if err != nil {
		return nil, fmt.Errorf("DG2: %w", err)
	}
	for _, o := range objs {
		if o.Tag != 0x7F60 {
			continue
		}
		bdb, ok := FindTLV(o.Value, 0x5F2E)
		if !ok {
			bdb, ok = FindTLV(o.Value, 0x7F2E)
		}
		if !ok {
			continue
		}
		if f, err := parseFaceRecord(bdb.Value); err == nil {
			return f, nil
		}
		if f := sniffImage(bdb.Value); f != nil {
			return f, nil
		}
	}
	return nil, ErrNoFace
}

func parseFaceRecord(b []byte) (*Face, error) {
	if len(b) < 14 || !bytes.Equal(b[:4], []byte("FAC\x00")) {
		return nil, malformed("not an ISO 19794-5 record")
	}
	p := b[14:]
	if len(p) < 20 {
		return nil, malformed("short facial record")
	}
	blockLen := int(binary.BigEndian.Uint32(p[0:4]))
	nPoints := int(binary.BigEndian.Uint16(p[4:6]))
	off := 20 + 8*nPoints
	if len(p) < off+12 || blockLen > len(p) || blockLen < off+12 {
		return nil, malformed("facial record lengths")
	}
	info := p[off : off+12]
	f := &Face{
		Width:  int(binary.BigEndian.Uint16(info[2:4])),
		Height: int(binary.BigEndian.Uint16(info[4:6])),
		Data:   p[off+12 : blockLen],
	}
	switch info[1] {
	case 0:
		f.MIME = "image/jpeg"
	case 1:
		f.MIME = mimeJP2(f.Data)
	default:
		return nil, malformed("image data type %d", info[1])
	}
	if s := sniffImage(f.Data); s == nil || s.MIME != f.MIME {
		return nil, malformed("image data does not match its type")
	}
	return f, nil
}

var (
	sigJPEG = []byte{0xFF, 0xD8, 0xFF}
	sigJP2  = []byte{0, 0, 0, 0x0C, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A}
	sigJ2K  = []byte{0xFF, 0x4F, 0xFF, 0x51}
)

func mimeJP2(b []byte) string {
	if bytes.HasPrefix(b, sigJ2K) {
		return "image/j2k"
	}
	return "image/jp2"
}

// sniffImage finds a JPEG or JPEG 2000 image inside b.
func sniffImage(b []byte) *Face {
	best, mime := -1, ""
	for _, s := range []struct {
		sig  []byte
		mime string
	}{{sigJPEG, "image/jpeg"}, {sigJP2, "image/jp2"}, {sigJ2K, "image/j2k"}} {
		if i := bytes.Index(b, s.sig); i >= 0 && (best < 0 || i < best) {
			best, mime = i, s.mime
		}
	}
	if best < 0 {
		return nil
	}
	return &Face{Data: b[best:], MIME: mime}
}

// ErrJPEG2000Unsupported means this build cannot decode JPEG 2000 (it was
// built without libopenjp2, e.g. for Windows).
var ErrJPEG2000Unsupported = errors.New("emrtd: JPEG 2000 decoding not in this build")

// Decode decodes the face image: JPEG with image/jpeg, JPEG 2000 with
// libopenjp2 when the build has it (build tag openjp2, or cgo on Linux),
// else ErrJPEG2000Unsupported.
func (f *Face) Decode() (image.Image, error) {
	switch f.MIME {
	case "image/jpeg":
		// A hostile header can claim 65535×65535 pixels: check before
		// the decoder allocates for it.
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(f.Data))
		if err != nil {
			return nil, fmt.Errorf("decoding JPEG face: %w", err)
		}
		if err := checkFaceSize(cfg.Width, cfg.Height); err != nil {
			return nil, err
		}
		img, err := jpeg.Decode(bytes.NewReader(f.Data))
		if err != nil {
			return nil, fmt.Errorf("decoding JPEG face: %w", err)
		}
		return img, nil
	case "image/jp2", "image/j2k":
		return decodeJPEG2000(f.Data)
	}
	return nil, fmt.Errorf("emrtd: unknown face image type %q", f.MIME)
}

// MaxFacePixels bounds the face images Decode accepts: a CCCD face is about
// 400×500; anything above 16 megapixels is refused before decoding.
const MaxFacePixels = 4096 * 4096

// ErrFaceTooLarge is returned by Decode for an image larger than MaxFacePixels.
var ErrFaceTooLarge = errors.New("emrtd: face image too large")

func checkFaceSize(w, h int) error {
	if w <= 0 || h <= 0 || w > MaxFacePixels/h {
		return fmt.Errorf("%w: %d×%d", ErrFaceTooLarge, w, h)
	}
	return nil
}
