package emrtd

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"testing"
)

// TestDecodeRefusesHugeFace: a face image whose header claims 60000×60000
// pixels is refused before the decoder allocates gigabytes for it.
func TestDecodeRefusesHugeFace(t *testing.T) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	sof := bytes.Index(b, []byte{0xFF, 0xC0})
	if sof < 0 {
		t.Fatal("no SOF0 marker in the encoded JPEG")
	}
	small := &Face{MIME: "image/jpeg", Data: append([]byte(nil), b...)}
	if _, err := small.Decode(); err != nil {
		t.Fatalf("an 8×8 face: %v", err)
	}
	b[sof+5], b[sof+6], b[sof+7], b[sof+8] = 0xEA, 0x60, 0xEA, 0x60 // 60000 × 60000
	huge := &Face{MIME: "image/jpeg", Data: b}
	if _, err := huge.Decode(); !errors.Is(err, ErrFaceTooLarge) {
		t.Fatalf("a face claiming 60000×60000: err = %v, want ErrFaceTooLarge", err)
	}
}
