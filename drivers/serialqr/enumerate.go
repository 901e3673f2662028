package serialqr

import (
	"fmt"
	"slices"
	"strings"

	"go.bug.st/serial/enumerator"
)

// PortInfo describes one serial port.
type PortInfo struct {
	Path         string `json:"path"` // "/dev/ttyACM0", "COM3"
	USB          bool   `json:"usb"`
	VID          string `json:"vid,omitempty"` // USB vendor ID, hex
	PID          string `json:"pid,omitempty"` // USB product ID, hex
	SerialNumber string `json:"serialNumber,omitempty"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Product      string `json:"product,omitempty"`
	// Vendor is the scanner maker known by VID ("Honeywell", "Zebra" …),
	// or "".
	Vendor string `json:"vendor,omitempty"`
}

// String describes the port for logs and `tiepdon doctor`, e.g.
// "/dev/ttyACM0 (USB 0c2e:0b61 Honeywell Imaging 1900)".
func (p PortInfo) String() string {
	if !p.USB {
		return p.Path
	}
	desc := strings.TrimSpace(strings.Join(slices.DeleteFunc(
		[]string{p.Vendor, p.Manufacturer, p.Product}, func(s string) bool { return s == "" }), " "))
	if desc != "" {
		desc = " " + desc
	}
	return fmt.Sprintf("%s (USB %s:%s%s)", p.Path, strings.ToLower(p.VID), strings.ToLower(p.PID), desc)
}

// Enumerator lists serial ports. System is the real one; tests pass their
// own, since the system enumerator does not list ptys.
type Enumerator interface {
	Ports() ([]PortInfo, error)
}

// System enumerates the machine's serial ports with go.bug.st/serial's
// enumerator (sysfs on Linux, SetupAPI on Windows).
type System struct{}

// Ports implements Enumerator.
func (System) Ports() ([]PortInfo, error) {
	list, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return nil, fmt.Errorf("listing serial ports: %w", err)
	}
	out := make([]PortInfo, 0, len(list))
	for _, d := range list {
		p := PortInfo{
			Path: d.Name, USB: d.IsUSB, VID: d.VID, PID: d.PID, SerialNumber: d.SerialNumber,
			Manufacturer: d.Manufacturer, Product: d.Product,
		}
		p.Vendor = scannerVendors[strings.ToLower(p.VID)]
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b PortInfo) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// List returns the machine's serial ports, for `tiepdon doctor`.
func List() ([]PortInfo, error) { return System{}.Ports() }

// scannerVendors are USB vendor IDs of barcode-scanner makers.
var scannerVendors = map[string]string{
	"0c2e": "Honeywell", // Metrologic / Honeywell Imaging
	"0536": "Honeywell", // Hand Held Products
	"05e0": "Zebra",     // Symbol Technologies
	"05f9": "Datalogic", // PSC / Datalogic ADC
	"1eab": "Newland",   // Fujian Newland Auto-ID
	"065a": "Opticon",   // Opticon Sensors Europe
}

// KnownScanner reports whether p looks like a barcode scanner: a USB port
// whose vendor makes scanners, or whose product name says so.
func KnownScanner(p PortInfo) bool {
	if !p.USB {
		return false
	}
	if p.Vendor != "" || scannerVendors[strings.ToLower(p.VID)] != "" {
		return true
	}
	name := strings.ToLower(p.Manufacturer + " " + p.Product)
	for _, w := range []string{"scanner", "barcode", "bar code", "qr", "imager", "2d"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// Pick chooses the port to open in auto mode: the first port (by path)
// that match accepts, or else the only USB port if there is exactly one
// (many low-cost scanners use a generic USB-serial chip). match nil means
// KnownScanner.
func Pick(ports []PortInfo, match func(PortInfo) bool) (PortInfo, bool) {
	if match == nil {
		match = KnownScanner
	}
	var usb []PortInfo
	for _, p := range ports {
		if match(p) {
			return p, true
		}
		if p.USB {
			usb = append(usb, p)
		}
	}
	if len(usb) == 1 {
		return usb[0], true
	}
	return PortInfo{}, false
}
