package main

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/go-gl/glfw/v3.3/glfw"
)

// probeOpenGL is the OpenGL check serve runs (a test stands in a hung one).
var probeOpenGL = checkOpenGL

// checkOpenGL checks, before the window toolkit starts, that this session
// can open an OpenGL 2.1 window as Fyne needs: a remote desktop session
// without hardware OpenGL, a VM without a GPU driver or an X server
// without GLX cannot, and the toolkit would then fail (or exit the whole
// process) after the agent started.
func checkOpenGL() (err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the OpenGL probe failed: %v", r)
		}
	}()
	if err := glfw.Init(); err != nil {
		return fmt.Errorf("starting GLFW: %w", err)
	}
	defer glfw.Terminate()
	glfw.DefaultWindowHints()
	glfw.WindowHint(glfw.Visible, glfw.False)
	glfw.WindowHint(glfw.ContextVersionMajor, 2)
	glfw.WindowHint(glfw.ContextVersionMinor, 1)
	w, err := glfw.CreateWindow(16, 16, "tiepdon OpenGL check", nil, nil)
	if err != nil {
		return fmt.Errorf("opening an OpenGL 2.1 window: %w", err)
	}
	if w == nil {
		return errors.New("opening an OpenGL 2.1 window: no window")
	}
	w.Destroy()
	return nil
}
