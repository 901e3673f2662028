package virtual

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
)

// Face image size: the ICAO "token" format's 240×320 is typical of CCCDs.
const faceW, faceH = 240, 320

// SyntheticFace draws a simple face (head, eyes, mouth) on a light
// background and encodes it as a JPEG. seed varies the colours a little.
func SyntheticFace(seed int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, faceW, faceH))
	bg := color.RGBA{230, 236, 242, 255}
	skin := color.RGBA{uint8(224 - seed%3*12), uint8(188 - seed%3*10), 160, 255}
	hair := color.RGBA{40, 30, 25, 255}
	dark := color.RGBA{50, 40, 40, 255}
	lips := color.RGBA{170, 80, 80, 255}
	shirt := color.RGBA{40, 70, 130, 255}
	in := func(x, y, cx, cy, rx, ry int) bool {
		dx, dy := float64(x-cx)/float64(rx), float64(y-cy)/float64(ry)
		return dx*dx+dy*dy <= 1
	}
	for y := 0; y < faceH; y++ {
		for x := 0; x < faceW; x++ {
			c := bg
			switch {
			case in(x, y, 120, 330, 115, 70):
				c = shirt
			case in(x, y, 120, 250, 28, 50):
				c = skin // neck
			}
			if in(x, y, 120, 140, 70, 92) {
				c = hair
			}
			if in(x, y, 120, 155, 62, 82) && y > 95 {
				c = skin
			}
			switch {
			case in(x, y, 95, 145, 10, 6), in(x, y, 145, 145, 10, 6):
				c = dark // eyes
			case in(x, y, 120, 205, 20, 6) && y >= 203:
				c = lips
			case x >= 117 && x <= 123 && y >= 155 && y <= 185 && x-117 <= (y-155)/8:
				c = color.RGBA{skin.R - 30, skin.G - 30, skin.B - 30, 255} // nose
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 70}); err != nil {
		panic(err) // encoding to memory cannot fail
	}
	return buf.Bytes()
}

// faceRecord wraps a JPEG in an ISO/IEC 19794-5:2005 facial record: the
// 14-byte general header, one facial information block (20 bytes), no
// feature points, the image information (12 bytes) and the image.
func faceRecord(jpg []byte, female bool) []byte {
	w, h := faceW, faceH
	if cfg, err := jpeg.DecodeConfig(bytes.NewReader(jpg)); err == nil {
		w, h = cfg.Width, cfg.Height
	}
	const header, info, imageInfo = 14, 20, 12
	faceLen := info + imageInfo + len(jpg)
	b := make([]byte, 0, header+faceLen)
	b = append(b, 'F', 'A', 'C', 0, '0', '1', '0', 0)
	b = binary.BigEndian.AppendUint32(b, uint32(header+faceLen))
	b = binary.BigEndian.AppendUint16(b, 1) // number of facial images
	b = binary.BigEndian.AppendUint32(b, uint32(faceLen))
	b = binary.BigEndian.AppendUint16(b, 0) // feature points
	gender := byte(1)                       // male
	if female {
		gender = 2
	}
	b = append(b, gender, 0, 0) // gender, eye colour, hair colour unspecified
	b = append(b, 0, 0, 0)      // feature mask
	b = append(b, 0, 0)         // expression unspecified
	b = append(b, 0, 0, 0)      // pose angle
	b = append(b, 0, 0, 0)      // pose angle uncertainty
	b = append(b, 1)            // face image type: full frontal
	b = append(b, 0)            // image data type: JPEG
	b = binary.BigEndian.AppendUint16(b, uint16(w))
	b = binary.BigEndian.AppendUint16(b, uint16(h))
	b = append(b, 1)    // colour space: 24-bit RGB
	b = append(b, 2)    // source type: digital still
	b = append(b, 0, 0) // device type
	b = append(b, 0, 0) // quality
	return append(b, jpg...)
}
