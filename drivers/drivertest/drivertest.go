// Package drivertest has a drivers.Reporter that records what a source
// reports, for the tests of sources (serial scanners, chip readers) that
// run without the agent.
package drivertest

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers"
)

// Step is one Progress report.
type Step struct {
	CheckID string
	Step    string
	Percent int
}

// Report is anything a source reported, in order: a drivers.Presentation,
// drivers.Failure, drivers.Device or Step.
type Report any

// Recorder is a drivers.Reporter (and drivers.ChipKeys) that sends every
// report to its channels. Reads must keep up: a full channel blocks the
// source, as a slow agent would.
type Recorder struct {
	Presented chan drivers.Presentation
	Failures  chan drivers.Failure
	Devices   chan drivers.Device
	Steps     chan Step
	// All receives every report, in the order made.
	All chan Report
	// Keys answers ChipKey; nil: drivers.ErrNoKey.
	Keys drivers.ChipKeys

	n atomic.Int64
}

// New returns a Recorder whose channels hold n reports each.
func New(n int) *Recorder {
	return &Recorder{Presented: make(chan drivers.Presentation, n), Failures: make(chan drivers.Failure, n),
		Devices: make(chan drivers.Device, n), Steps: make(chan Step, n), All: make(chan Report, 4*n)}
}

func (r *Recorder) all(x Report) {
	select {
	case r.All <- x:
	default: // nobody reads the whole story
	}
}

// Begin implements drivers.Reporter: check IDs are "check-1", "check-2"…
func (r *Recorder) Begin(patient.Medium, string) string {
	return fmt.Sprintf("check-%d", r.n.Add(1))
}

// Present implements drivers.Reporter.
func (r *Recorder) Present(p drivers.Presentation) { r.all(p); r.Presented <- p }

// Progress implements drivers.Reporter.
func (r *Recorder) Progress(checkID, step string, percent int) {
	s := Step{checkID, step, percent}
	r.all(s)
	r.Steps <- s
}

// Failed implements drivers.Reporter.
func (r *Recorder) Failed(f drivers.Failure) { r.all(f); r.Failures <- f }

// Device implements drivers.Reporter.
func (r *Recorder) Device(d drivers.Device) { r.all(d); r.Devices <- d }

// ChipKey implements drivers.ChipKeys.
func (r *Recorder) ChipKey(ctx context.Context, reader string) (drivers.ChipKey, error) {
	if r.Keys == nil {
		return drivers.ChipKey{}, fmt.Errorf("recorder has no keys: %w", drivers.ErrNoKey)
	}
	return r.Keys.ChipKey(ctx, reader)
}

// KeyFunc adapts a function to drivers.ChipKeys.
type KeyFunc func(ctx context.Context, reader string) (drivers.ChipKey, error)

// ChipKey calls f.
func (f KeyFunc) ChipKey(ctx context.Context, reader string) (drivers.ChipKey, error) {
	return f(ctx, reader)
}
