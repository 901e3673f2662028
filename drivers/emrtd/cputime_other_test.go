//go:build !unix

package emrtd

import "time"

func processCPU() time.Duration { return 0 }
