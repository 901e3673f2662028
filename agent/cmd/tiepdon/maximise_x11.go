//go:build linux && !wayland

package main

/*
#cgo LDFLAGS: -lX11
#include <stdlib.h>
#include <string.h>
#include <X11/Xlib.h>
#include <X11/Xatom.h>

// supported reports whether the window manager lists atom want in
// _NET_SUPPORTED (Extended Window Manager Hints 1.5, "Root Window
// Properties").
static int supported(Display *d, Window root, Atom want) {
	Atom list = XInternAtom(d, "_NET_SUPPORTED", True);
	Atom type;
	int format, found = 0;
	unsigned long n, after;
	unsigned char *data = NULL;
	if (list == None || XGetWindowProperty(d, root, list, 0, 4096, False, XA_ATOM, &type, &format, &n, &after, &data) != Success || data == NULL)
		return 0;
	if (format == 32)
		for (unsigned long i = 0; i < n; i++)
			if (((Atom *)data)[i] == want)
				found = 1;
	XFree(data);
	return found;
}

// tiepdon_maximise asks the window manager to maximise win
// (_NET_WM_STATE_MAXIMIZED_VERT and _HORZ, EWMH "_NET_WM_STATE"): it
// returns 1. With no window manager that supports it, it sizes win to
// the work area (_NET_WORKAREA of the first desktop, else the screen)
// and returns 2; 0 if there is no display.
static int tiepdon_maximise(unsigned long win, long out[4]) {
	Display *d = XOpenDisplay(NULL);
	if (d == NULL)
		return 0;
	Window root = DefaultRootWindow(d);
	Atom vert = XInternAtom(d, "_NET_WM_STATE_MAXIMIZED_VERT", False);
	Atom horz = XInternAtom(d, "_NET_WM_STATE_MAXIMIZED_HORZ", False);
	int rc;
	if (supported(d, root, vert) && supported(d, root, horz)) {
		XEvent e;
		memset(&e, 0, sizeof e);
		e.xclient.type = ClientMessage;
		e.xclient.window = win;
		e.xclient.message_type = XInternAtom(d, "_NET_WM_STATE", False);
		e.xclient.format = 32;
		e.xclient.data.l[0] = 1; // _NET_WM_STATE_ADD
		e.xclient.data.l[1] = vert;
		e.xclient.data.l[2] = horz;
		e.xclient.data.l[3] = 1; // source: a normal application
		XSendEvent(d, root, False, SubstructureRedirectMask | SubstructureNotifyMask, &e);
		rc = 1;
	} else {
		long x = 0, y = 0, w = DisplayWidth(d, DefaultScreen(d)), h = DisplayHeight(d, DefaultScreen(d));
		Atom area = XInternAtom(d, "_NET_WORKAREA", True);
		Atom type;
		int format;
		unsigned long n, after;
		unsigned char *data = NULL;
		if (area != None && XGetWindowProperty(d, root, area, 0, 4, False, XA_CARDINAL, &type, &format, &n, &after, &data) == Success && data != NULL) {
			if (format == 32 && n >= 4 && ((long *)data)[2] > 0 && ((long *)data)[3] > 0) {
				x = ((long *)data)[0];
				y = ((long *)data)[1];
				w = ((long *)data)[2];
				h = ((long *)data)[3];
			}
			XFree(data);
		}
		XMoveResizeWindow(d, win, (int)x, (int)y, (unsigned)w, (unsigned)h);
		out[0] = x; out[1] = y; out[2] = w; out[3] = h;
		rc = 2;
	}
	XFlush(d);
	XCloseDisplay(d);
	return rc;
}
*/
import "C"

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver"
)

// maximise opens the window maximised: the window manager maximises it
// where it can (so the user can restore it), and otherwise it is sized to
// the screen's work area. It runs on the Fyne goroutine after the window
// exists, and reports what it did.
func maximise(w fyne.Window) string {
	nw, ok := w.(driver.NativeWindow)
	if !ok {
		return "no native window"
	}
	how := "not an X11 window"
	nw.RunNative(func(ctx any) {
		c, ok := ctx.(driver.X11WindowContext)
		if !ok || c.WindowHandle == 0 {
			return
		}
		var area [4]C.long
		switch C.tiepdon_maximise(C.ulong(c.WindowHandle), &area[0]) {
		case 1:
			how = "maximised by the window manager"
		case 2:
			how = "sized to the work area"
		default:
			how = "no X display"
		}
	})
	return how
}
