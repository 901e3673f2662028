package ui

import (
	"log/slog"
	"syscall"
	"unsafe"
)

var (
	winmm     = syscall.NewLazyDLL("winmm.dll")
	playSound = winmm.NewProc("PlaySoundW")
)

// PlaySound flags.
const (
	sndAsync     = 0x0001
	sndNoDefault = 0x0002
	sndMemory    = 0x0004
)

type winBeeper struct{ log *slog.Logger }

// platformBeeper plays cues with winmm's PlaySound from memory. The WAV
// buffers are package-level and live for the whole run, as SND_ASYNC with
// SND_MEMORY requires.
func platformBeeper(log *slog.Logger) Beeper {
	if err := playSound.Find(); err != nil {
		log.Info("ui: no sound (winmm.dll)", "err", err)
		return nil
	}
	return winBeeper{log}
}

func (b winBeeper) Beep(wav []byte) {
	if len(wav) == 0 {
		return
	}
	r, _, err := playSound.Call(uintptr(unsafe.Pointer(&wav[0])), 0, sndMemory|sndAsync|sndNoDefault)
	if r == 0 {
		b.log.Debug("ui: PlaySound", "err", err)
	}
}
