//go:build windows

package main

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver"
	"golang.org/x/sys/windows"
)

var procShowWindow = windows.NewLazySystemDLL("user32.dll").NewProc("ShowWindow")

// swMaximize is ShowWindow's SW_MAXIMIZE (Win32 API, winuser.h).
const swMaximize = 3

// maximise opens the window maximised, as Windows does for any window
// (the taskbar stays visible; the user can restore it). It runs on the
// Fyne goroutine after the window exists, and reports what it did.
func maximise(w fyne.Window) string {
	nw, ok := w.(driver.NativeWindow)
	if !ok {
		return "no native window"
	}
	how := "no window handle"
	nw.RunNative(func(ctx any) {
		if c, ok := ctx.(driver.WindowsWindowContext); ok && c.HWND != 0 {
			procShowWindow.Call(c.HWND, swMaximize)
			how = "maximised"
		}
	})
	return how
}
