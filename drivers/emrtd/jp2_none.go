//go:build !(cgo && (linux || openjp2))

package emrtd

import "image"

// JPEG2000Supported reports whether this build decodes JPEG 2000.
const JPEG2000Supported = false

func decodeJPEG2000([]byte) (image.Image, error) { return nil, ErrJPEG2000Unsupported }
