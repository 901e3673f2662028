//go:build !windows

package main

import (
	"fmt"
	"os"
)

// agents closes and restarts running agents around a Windows install only
// (agents_windows.go).
func agents(cmd string, args []string) int {
	fmt.Fprintf(os.Stderr, "%s: Windows only\n", cmd)
	return 2
}
