package ui

import (
	"bytes"
	"encoding/binary"
	"image/color"
	"math"
	"time"

	"fyne.io/fyne/v2"
)

// Beeper plays the short sound of a verdict. Fyne has no audio API, so
// the window brings its own: PlaySound from winmm.dll on Windows (no cgo)
// and aplay where it is installed elsewhere; where neither exists the cue
// is the banner's colour flash alone.
type Beeper interface {
	Beep(wav []byte)
}

// tone is one beep of a cue.
type tone struct {
	hz    float64
	dur   time.Duration
	pause time.Duration // silence after it
}

// cueTones: rising two-tone for green, two short mid beeps for amber, one
// long low tone for red, one short low beep for grey.
var cueTones = map[cue][]tone{
	cueGood:        {{880, 90 * time.Millisecond, 20 * time.Millisecond}, {1320, 120 * time.Millisecond, 0}},
	cueWarn:        {{660, 110 * time.Millisecond, 90 * time.Millisecond}, {660, 110 * time.Millisecond, 0}},
	cueBad:         {{330, 450 * time.Millisecond, 0}},
	cueUnavailable: {{440, 150 * time.Millisecond, 0}},
	// A late answer: three quick rising beeps, unlike any verdict's.
	cueLate: {{523, 70 * time.Millisecond, 40 * time.Millisecond}, {659, 70 * time.Millisecond, 40 * time.Millisecond}, {784, 110 * time.Millisecond, 0}},
}

// wavRate is the sample rate of the cue sounds.
const wavRate = 22050

// cueWAV renders a cue as a 16-bit mono PCM WAV file, with 5 ms fades so
// the beeps do not click.
func cueWAV(c cue) []byte {
	var pcm []int16
	for _, t := range cueTones[c] {
		n := int(t.dur.Seconds() * wavRate)
		fade := wavRate * 5 / 1000
		for i := 0; i < n; i++ {
			amp := 0.5
			if i < fade {
				amp *= float64(i) / float64(fade)
			} else if n-i < fade {
				amp *= float64(n-i) / float64(fade)
			}
			pcm = append(pcm, int16(amp*math.MaxInt16*math.Sin(2*math.Pi*t.hz*float64(i)/wavRate)))
		}
		pcm = append(pcm, make([]int16, int(t.pause.Seconds()*wavRate))...)
	}
	var b bytes.Buffer
	data := uint32(len(pcm) * 2)
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, 36+data)
	b.WriteString("WAVEfmt ")
	binary.Write(&b, binary.LittleEndian, struct {
		Size                  uint32
		Format, Channels      uint16
		Rate, ByteRate        uint32
		BlockAlign, BitsPerSm uint16
	}{16, 1, 1, wavRate, wavRate * 2, 2, 16})
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, data)
	binary.Write(&b, binary.LittleEndian, pcm)
	return b.Bytes()
}

// cueSounds are rendered once.
var cueSounds = map[cue][]byte{
	cueGood: cueWAV(cueGood), cueWarn: cueWAV(cueWarn), cueBad: cueWAV(cueBad), cueUnavailable: cueWAV(cueUnavailable),
	cueLate: cueWAV(cueLate),
}

// cue plays a verdict's sound and flashes the banner from white to its
// colour, so the change is seen even when the sound is off.
func (u *UI) cue(c cue) {
	if c == cueNone {
		return
	}
	if u.beep != nil {
		u.beep.Beep(cueSounds[c])
	}
	bg := u.w.bannerBg
	target, ok := bg.FillColor.(color.NRGBA)
	if !ok {
		return
	}
	if u.w.flash != nil {
		u.w.flash.Stop()
	}
	u.w.flash = fyne.NewAnimation(450*time.Millisecond, func(f float32) {
		bg.FillColor = mix(colWhite, target, f)
		bg.Refresh()
	})
	u.w.flash.Curve = fyne.AnimationEaseOut
	u.w.flash.Start()
}

func mix(a, b color.NRGBA, f float32) color.NRGBA {
	l := func(x, y uint8) uint8 { return uint8(float32(x) + (float32(y)-float32(x))*f + 0.5) }
	return color.NRGBA{R: l(a.R, b.R), G: l(a.G, b.G), B: l(a.B, b.B), A: l(a.A, b.A)}
}
