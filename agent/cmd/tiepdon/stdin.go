package main

import (
	"io"
	"os"
)

func osStdin() io.Reader { return os.Stdin }
