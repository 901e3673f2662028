package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tiepdon/tiepdon/agent/install"
)

// closeTimeout is how long the agents get to close on request (their HIS
// connections, the cache and the window) before they are ended.
const closeTimeout = 20 * time.Second

// agents runs "close-agents INSTALLDIR [REMOVE]" or "restart-agents
// INSTALLDIR". It never fails the install: what it did goes to stderr and to
// %ProgramData%\tiepdon-install.log.
//
// close-agents lists the processes running INSTALLDIR\tiepdon.exe, records
// the agents ("tiepdon.exe run") to start again unless the product is being
// removed (REMOVE=ALL), asks each to close and ends those that do not within
// closeTimeout. restart-agents starts the recorded agents again.
func agents(cmd string, args []string) int {
	if len(args) == 0 || args[0] == "" {
		return 0 // no install folder yet: nothing can be running from it
	}
	exe := filepath.Join(args[0], "tiepdon.exe")
	pd := os.Getenv("ProgramData")
	var msg string
	switch cmd {
	case "close-agents":
		list, err := install.RunningAgents(exe)
		if err != nil {
			msg = fmt.Sprintf("close-agents: %v", err)
			break
		}
		if len(list) == 0 {
			return 0
		}
		removing := len(args) > 1 && strings.EqualFold(args[1], "ALL")
		if !removing && pd != "" {
			if err := install.SaveRestart(pd, list); err != nil {
				fmt.Fprintf(os.Stderr, "close-agents: recording the agents to restart: %v\n", err)
			}
		}
		closed, ended := install.CloseAgents(list, closeTimeout)
		msg = fmt.Sprintf("close-agents: %d running tiepdon closed on request, %d ended", closed, ended)
	case "restart-agents":
		n, err := install.RestartAgents(pd, exe)
		if n == 0 && err == nil {
			return 0
		}
		msg = fmt.Sprintf("restart-agents: %d started again", n)
		if err != nil {
			msg += fmt.Sprintf("; not started: %v", err)
		}
	}
	fmt.Fprintln(os.Stderr, msg)
	if pd != "" {
		install.AppendLog(filepath.Join(pd, "tiepdon-install.log"), time.Now(), msg)
	}
	return 0
}
