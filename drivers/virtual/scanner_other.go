//go:build !linux

package virtual

import (
	"errors"
	"os"
)

func makeRaw(*os.File) error { return errors.ErrUnsupported }

func inputQueue(*os.File) (int, error) { return 0, errors.ErrUnsupported }
