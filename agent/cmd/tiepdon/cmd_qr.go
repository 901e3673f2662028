package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers/payload"
)

func init() {
	register(&command{
		name:    "qr",
		summary: "qr parse: read a QR payload on stdin and print what it holds as JSON",
		run:     runQR,
	})
}

// qrResult is what "tiepdon qr parse" prints.
type qrResult struct {
	Kind     string           `json:"kind"`
	Identity patient.Identity `json:"identity"`
}

// qrError is what it prints on stderr (as JSON with --json) for a payload it cannot read.
type qrError struct {
	Kind     string `json:"kind"`
	Error    string `json:"error"`
	ErrorVI  string `json:"errorVi,omitempty"`
	Layout   string `json:"layout,omitempty"`
	ExitCode int    `json:"exitCode"`
}

func runQR(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runQRWith(args, nil, stdout, stderr)
}

// runQRWith is runQR with stdin injectable for tests (nil: os.Stdin).
func runQRWith(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("qr", "qr parse [--json-errors] < payload", stderr)
	jsonErrors := fs.Bool("json-errors", false, "print errors as JSON on stderr too")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if fs.NArg() != 1 || fs.Arg(0) != "parse" {
		fs.Usage()
		return 2
	}
	if stdin == nil {
		stdin = osStdin()
	}
	in, err := io.ReadAll(io.LimitReader(stdin, payload.MaxLen+1))
	if err != nil {
		fmt.Fprintf(stderr, "tiepdon qr parse: reading stdin: %v\n", err)
		return 1
	}
	// A payload piped from a file usually ends with a newline the scanner
	// would not have sent.
	in = bytes.TrimRight(in, "\r\n")
	id, err := payload.Parse(in)
	if err != nil {
		qe := qrError{Kind: payload.KindOf(in).String(), Error: err.Error(), ExitCode: 1}
		var pe *payload.Error
		if errors.As(err, &pe) {
			qe.ErrorVI, qe.Layout = pe.Vietnamese(), pe.Layout
		}
		if *jsonErrors {
			json.NewEncoder(stderr).Encode(qe)
		} else {
			fmt.Fprintf(stderr, "tiepdon qr parse: %v\n", err)
		}
		return 1
	}
	writeJSON(stdout, qrResult{Kind: payload.KindOf(in).String(), Identity: id})
	return 0
}
