package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
)

// smallDisk mounts an 8 MiB tmpfs (a real file system that fills up) and
// unmounts it at the end of the test. Mounting needs root: CI runs as root.
func smallDisk(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("mounting a small tmpfs for the disk-full test: %v %s", err, out)
		}
		t.Skipf("SKIPPED LOUDLY: the disk-full test needs to mount a small tmpfs (root): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file until the file system has no space left.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			return
		}
	}
}

// TestDiskFullLosesNothing: with the gateway down and the data folder's disk
// full, 20 scans show "no result yet"; none can be journaled, queued or
// audited, so all are kept in memory and the disk state goes out with
// outbox.changed. When space returns they are written, and when the gateway
// returns every one is re-checked and audited.
func TestDiskFullLosesNothing(t *testing.T) {
	disk := smallDisk(t)
	w := wireAt(t, filepath.Join(disk, "cache.db"))
	sub := w.bus.Subscribe(events.EligibilityResult|events.EligibilityUpdated|events.OutboxChanged, 1024)
	defer sub.Close()
	ctx := context.Background()

	w.sim.SetFaults(bhxhsim.Faults{Down: true})
	fill(t, filepath.Join(disk, "filler"))
	const n = 20
	var people []bhxhsim.Person // people the gateway answers plainly
	for _, p := range w.sim.People() {
		if p.Code == "000" && len(people) < n {
			people = append(people, p)
		}
	}
	ids := map[string]patient.CitizenID{}
	for i := range n {
		id := fmt.Sprintf("full-%02d", i)
		ids[id] = people[i].CitizenID
		w.a.Present(drivers.Presentation{Medium: patient.MediumQRCCCD, Payload: []byte(people[i].CCCDQR()), CheckID: id})
	}
	shown := map[string]bool{}
	refusing := false
	deadline := time.After(20 * time.Second)
	for len(shown) < n || !refusing {
		select {
		case ev := <-sub.C():
			switch d := ev.Data.(type) {
			case events.Result:
				if ev.Kind == events.EligibilityResult && d.Eligibility.Verdict == patient.Unavailable {
					shown[d.CheckID] = true
				}
			case events.Outbox:
				refusing = refusing || d.Disk == events.DiskRefusing
			}
		case <-deadline:
			t.Fatalf("%d of %d scans shown, disk refusing reported: %v", len(shown), n, refusing)
		}
	}
	unsaved, since := w.a.Storage()
	if unsaved < n || since.IsZero() {
		t.Fatalf("%d writes kept in memory (since %v), want at least %d (a journal or queue entry per scan)", unsaved, since, n)
	}

	// Space returns: every kept write reaches the disk.
	if err := os.Remove(filepath.Join(disk, "filler")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() bool { u, _ := w.a.Storage(); return u == 0 })
	if q, err := w.ob.Pending(ctx); err != nil || q != n {
		t.Fatalf("%d checks queued after the disk came back (%v), want %d", q, err, n)
	}

	// The gateway returns: every check is re-checked and audited twice
	// (no result yet, then the answer).
	w.sim.SetFaults(bhxhsim.Faults{})
	updated := map[string]bool{}
	deadline = time.After(30 * time.Second)
	for len(updated) < n {
		select {
		case ev := <-sub.C():
			if r, ok := ev.Data.(events.Result); ok && ev.Kind == events.EligibilityUpdated && r.Eligibility.Source == patient.SourceLive {
				if r.Identity.CitizenID != ids[r.CheckID] {
					t.Fatalf("re-check %s answered for another person", r.CheckID)
				}
				updated[r.CheckID] = true
			}
		case <-deadline:
			due, _ := w.db.OutboxDue(ctx, time.Now().Add(time.Hour), 100)
			for _, p := range due {
				t.Logf("still queued: %s attempts %d: %s", p.CheckID, p.Attempts, p.LastError)
			}
			t.Fatalf("%d of %d checks re-checked after the gateway returned", len(updated), n)
		}
	}
	waitFor(t, 10*time.Second, func() bool { q, _ := w.ob.Pending(ctx); return q == 0 })
	for id := range ids {
		var lines int
		waitFor(t, 10*time.Second, func() bool {
			l, err := w.db.Audit(ctx, id, "")
			lines = len(l)
			return err == nil && lines == 2
		})
	}
}

func waitFor(t *testing.T, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", within)
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline
	}
}
