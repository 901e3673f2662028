package main

import (
	"io"
	"os"
)

// osStdin is the commands' standard input (tests replace it).
var osStdin = func() io.Reader { return os.Stdin }
