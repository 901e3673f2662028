package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/drivers/pcsc/pcsctest"
	"github.com/tiepdon/tiepdon/drivers/virtual"
)

// TestCardRead reads a virtual CCCD through a real pcscd with
// "tiepdon card read", trusting the card's test CSCA.
func TestCardRead(t *testing.T) {
	if testing.Short() {
		t.Skip("needs pcscd: skipped with -short")
	}
	rig := pcsctest.Start(t)
	dir := t.TempDir()
	cscaFile := filepath.Join(dir, "csca.pem")
	card, err := virtual.DemoCard(1, cscaFile)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- virtual.ServeVPCD(ctx, rig.CardAddr(0), card) }()

	prof := virtual.Synthetic(1)
	var out, errb bytes.Buffer
	var code int
	// pcscd notices the card within about 400 ms.
	deadline := time.Now().Add(10 * time.Second)
	for {
		out.Reset()
		errb.Reset()
		code = dispatch(ctx, []string{"card", "read", "--json", "--id", string(prof.CitizenID), "--reader", rig.Reader(0),
			"--csca", cscaFile, "--photo", filepath.Join(dir, "face.jpg")}, &out, &errb)
		if code == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code != 0 {
		t.Fatalf("card read: exit %d: %s\npcscd log:\n%s", code, errb.String(), rig.Log())
	}
	var r cardRead
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	if r.Identity.CitizenID != prof.CitizenID || r.Identity.Name != prof.Name || r.Identity.Medium != patient.MediumChip {
		t.Errorf("read %v / %s, want the card's person", r.Identity.CitizenID, r.Identity.Name.Initials())
	}
	if r.Identity.Authenticity.Level != patient.Verified {
		t.Errorf("authenticity %q, want verified against the test CSCA", r.Identity.Authenticity.Level)
	}
	face, err := os.ReadFile(filepath.Join(dir, "face.jpg"))
	if err != nil || len(face) != r.PhotoBytes || r.PhotoBytes < 100 || face[0] != 0xFF || face[1] != 0xD8 {
		t.Errorf("photo: %d bytes written, %d reported, err %v", len(face), r.PhotoBytes, err)
	}

	// BAC with the MRZ key, human-readable output.
	mrz, err := virtual.MRZ(prof)
	if err != nil {
		t.Fatal(err)
	}
	doc, birth, expiry := mrz[0][5:14], mrz[1][0:6], mrz[1][8:14]
	out.Reset()
	if code := dispatch(ctx, []string{"card", "read", "--mrz", doc + "," + birth + "," + expiry, "--reader", rig.Reader(0)}, &out, &errb); code != 0 {
		t.Fatalf("card read --mrz: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "intact-issuer-unknown") || strings.Contains(out.String(), string(prof.CitizenID)) {
		t.Errorf("--mrz output (no CSCA given, ID masked): %s", out.String())
	}

	// A wrong CAN is refused with a message for staff, not a crash.
	errb.Reset()
	if code := dispatch(ctx, []string{"card", "read", "--can", "000000", "--reader", rig.Reader(0)}, &out, &errb); code == 0 {
		t.Error("a wrong CAN read the card")
	}
	if strings.Contains(errb.String(), string(prof.CitizenID)) {
		t.Errorf("error output holds the citizen ID: %s", errb.String())
	}
	cancel()
	<-served
}
