package hisapi

import (
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// InstantLayout is the one format of every instant on the wire: UTC,
// RFC 3339 with exactly three fractional digits (milliseconds), e.g.
// "2026-03-14T02:05:09.120Z". Dates of birth and card dates stay as the
// gateway writes them (dd/MM/yyyy, MM/yyyy or yyyy); durations are
// milliseconds (names ending in Ms).
const InstantLayout = "2006-01-02T15:04:05.000Z07:00"

// formatInstant writes t in InstantLayout.
func formatInstant(t time.Time) string { return t.UTC().Format(InstantLayout) }

// wireOptions encode everything the API sends: encoding/json's semantics
// (the payload types are written for it) with every time.Time as an
// InstantLayout instant, wherever it sits in the payload.
var wireOptions = jsonv2.JoinOptions(
	jsonv1.DefaultOptionsV1(),
	jsonv2.WithMarshalers(jsonv2.MarshalToFunc(func(enc *jsontext.Encoder, t time.Time) error {
		return enc.WriteToken(jsontext.String(formatInstant(t)))
	})),
)

// marshalWire returns the JSON of v as the API sends it.
func marshalWire(v any) ([]byte, error) { return jsonv2.Marshal(v, wireOptions) }

// Test hooks: every frame the server writes, and every successful result
// with the method it answers (the tests validate both against the
// published JSON Schema). Nil outside tests.
var (
	traceFrame  func(frame []byte)
	traceResult func(method string, result any)
)
