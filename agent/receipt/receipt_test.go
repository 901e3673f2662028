package receipt

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent"
	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
)

// RFC 8032 §7.1, TEST 1: the published Ed25519 vector, so the signing path
// is checked against the standard and not only against itself.
func TestRFC8032Vector(t *testing.T) {
	seed, _ := base64.StdEncoding.DecodeString("nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=")
	k := ed25519.NewKeyFromSeed(seed)
	wantPub := "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
	if got := base64.StdEncoding.EncodeToString(k.Public().(ed25519.PublicKey)); got != wantPub {
		t.Fatalf("public key %s, want %s", got, wantPub)
	}
	s := NewSigner(k, "79014", "", "test")
	if sig := ed25519.Sign(s.Key, nil); base64.StdEncoding.EncodeToString(sig) != "5VZDAMNgrHKQhuLMgG6CioSHfx645dl02HPgZSJJAVVfuIIVkKM7rMYeOXAc+bRr0lv18FlbviRlUUFDjnoQCw==" {
		t.Fatalf("signature of the empty message differs from RFC 8032 TEST 1")
	}
}

func finishing() agent.Finishing {
	r := &events.Result{CheckID: "7f3a9c21e0b4",
		Identity: patient.Identity{Medium: patient.MediumChip, CitizenID: "001099012345",
			Authenticity: patient.Authenticity{Level: patient.Verified, Clone: patient.ClonePassed, Signer: "CN=DS 01,C=VN"}},
		Eligibility: patient.Eligibility{Verdict: patient.Eligible, Code: "000", ReasonVI: "Thẻ còn giá trị sử dụng",
			CardNumber: "DN4010123456789", ValidFrom: patient.Date{Day: 1, Month: 1, Year: 2026}, ValidTo: patient.Date{Day: 31, Month: 12, Year: 2026},
			AnswerSHA256: strings.Repeat("ab", 32), Source: patient.SourceLive, CheckedAt: time.Date(2026, 12, 5, 7, 0, 0, 0, time.UTC)}}
	return agent.Finishing{Kind: events.EligibilityResult, Result: r,
		Staff: patient.Staff{Name: "Trần Thị Bình", CitizenID: "079190000001"},
		Asked: time.Date(2026, 12, 5, 7, 0, 0, 0, time.UTC), Answered: time.Date(2026, 12, 5, 7, 0, 0, 412e6, time.UTC)}
}

func TestSealAndVerify(t *testing.T) {
	k := ed25519.NewKeyFromSeed(make([]byte, 32))
	s := NewSigner(k, "79014", "Quầy 3", "1.2.0")
	f := finishing()
	s.Seal(t.Context(), f)
	rc := f.Result.Receipt
	if rc == nil {
		t.Fatal("no receipt attached")
	}
	fs, err := Verify(k.Public().(ed25519.PublicKey), *rc)
	if err != nil {
		t.Fatal(err)
	}
	want := Fields{V: 1, CheckID: "7f3a9c21e0b4", Kind: "eligibility.result", Facility: "79014", Desk: "Quầy 3",
		Medium: "chip", Auth: Auth{Level: "verified", SODSigner: "CN=DS 01,C=VN", CloneCheck: "passed"},
		CardNumber: "DN4010123456789", Verdict: "eligible", Code: "000", Message: "Thẻ còn giá trị sử dụng",
		ValidFrom: "01/01/2026", ValidTo: "31/12/2026", AnswerHash: strings.Repeat("ab", 32), Source: "live",
		AskedAt: "2026-12-05T07:00:00.000Z", AnsweredAt: "2026-12-05T07:00:00.412Z", CheckedAt: "2026-12-05T07:00:00.000Z",
		Agent: "tiepdon/1.2.0", StaffRef: fs.StaffRef}
	if fs != want {
		t.Errorf("fields\n got %+v\nwant %+v", fs, want)
	}
	payload, _ := base64.StdEncoding.DecodeString(rc.Payload)
	for _, secret := range []string{"079190000001", "Trần Thị Bình", "001099012345"} {
		if strings.Contains(string(payload), secret) {
			t.Errorf("the receipt holds the staff's or patient's ID or name %q", secret)
		}
	}
	if len(fs.StaffRef) != 32 {
		t.Errorf("staffRef %q: want 16 bytes of hex", fs.StaffRef)
	}
	// The same staff member gets the same reference at this desk, another desk's key another.
	f2 := finishing()
	s.Seal(t.Context(), f2)
	other := NewSigner(ed25519.NewKeyFromSeed(append(make([]byte, 31), 1)), "79014", "", "1.2.0")
	f3 := finishing()
	other.Seal(t.Context(), f3)
	fs2, _ := Verify(k.Public().(ed25519.PublicKey), *f2.Result.Receipt)
	fs3, _ := Verify(other.Key.Public().(ed25519.PublicKey), *f3.Result.Receipt)
	if fs2.StaffRef != fs.StaffRef || fs3.StaffRef == fs.StaffRef {
		t.Errorf("staffRef: same desk %q/%q, other desk %q", fs.StaffRef, fs2.StaffRef, fs3.StaffRef)
	}
}

func TestVerifyRefuses(t *testing.T) {
	k := ed25519.NewKeyFromSeed(make([]byte, 32))
	pub := k.Public().(ed25519.PublicKey)
	f := finishing()
	NewSigner(k, "79014", "", "1").Seal(t.Context(), f)
	good := *f.Result.Receipt
	payload, _ := base64.StdEncoding.DecodeString(good.Payload)

	tampered := good
	tampered.Payload = base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"verdict":"eligible"`, `"verdict":"eligibl3"`, 1)))
	if _, err := Verify(pub, tampered); !errors.Is(err, ErrBadSignature) {
		t.Errorf("tampered payload: %v, want ErrBadSignature", err)
	}
	otherPub := ed25519.NewKeyFromSeed(append(make([]byte, 31), 9)).Public().(ed25519.PublicKey)
	if _, err := Verify(otherPub, good); !errors.Is(err, ErrOtherKey) {
		t.Errorf("other key: %v, want ErrOtherKey", err)
	}
	badSig := good
	badSig.Sig = base64.StdEncoding.EncodeToString(make([]byte, 64))
	if _, err := Verify(pub, badSig); !errors.Is(err, ErrBadSignature) {
		t.Errorf("zero signature: %v", err)
	}
	alg := good
	alg.Alg = "none"
	if _, err := Verify(pub, alg); err == nil {
		t.Error("alg none accepted")
	}
}

func TestKeyPersistsAndExports(t *testing.T) {
	dir := t.TempDir()
	k1, where, err := LoadKey(dir, false, nil)
	if err != nil || !strings.Contains(where, KeyFile) {
		t.Fatalf("LoadKey: %v (%s)", err, where)
	}
	if fi, err := os.Stat(filepath.Join(dir, KeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v, want 0600", fi.Mode(), err)
	}
	k2, _, err := LoadKey(dir, false, nil)
	if err != nil || !k1.Equal(k2) {
		t.Fatalf("second LoadKey gave another key (%v)", err)
	}
	pub := k1.Public().(ed25519.PublicKey)
	for _, s := range []string{PublicPEM(pub), base64.StdEncoding.EncodeToString(pub)} {
		got, err := ParsePublic(s)
		if err != nil || !got.Equal(pub) {
			t.Errorf("ParsePublic(%q): %v", s, err)
		}
	}
	if _, err := ParsePublic("not a key"); err == nil {
		t.Error("ParsePublic accepted garbage")
	}
}

// TestNodeVerifies checks a receipt with Node's own crypto and nothing else,
// as docs/his-api.md tells a HIS developer to: the canonical form needs no
// JSON re-encoding in another language.
func TestNodeVerifies(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is needed for this test in CI (Debian package nodejs)")
		}
		t.Skip("SKIPPED LOUDLY: no node on this machine")
	}
	k, _, err := LoadKey(t.TempDir(), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := finishing()
	NewSigner(k, "79014", "", "1").Seal(t.Context(), f)
	dir := t.TempDir()
	msg, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "eligibility.result", "params": map[string]any{"checkId": f.Result.CheckID, "receipt": f.Result.Receipt}})
	os.WriteFile(filepath.Join(dir, "note.json"), msg, 0o600)
	os.WriteFile(filepath.Join(dir, "key.pem"), []byte(PublicPEM(k.Public().(ed25519.PublicKey))), 0o600)
	script := `
const { createPublicKey, verify } = require("node:crypto");
const fs = require("node:fs");
const key = createPublicKey(fs.readFileSync(process.argv[1], "utf8"));
const receipt = JSON.parse(fs.readFileSync(process.argv[2], "utf8")).params.receipt;
const payload = Buffer.from(receipt.payload, "base64");
const ok = verify(null, payload, key, Buffer.from(receipt.sig, "base64"));
const tampered = Buffer.from(payload); tampered[tampered.length - 2] ^= 1;
const bad = verify(null, tampered, key, Buffer.from(receipt.sig, "base64"));
const f = JSON.parse(payload.toString("utf8"));
console.log(JSON.stringify({ ok, bad, checkId: f.checkId, verdict: f.verdict, code: f.code }));
`
	out, err := exec.Command(node, "-e", script, filepath.Join(dir, "key.pem"), filepath.Join(dir, "note.json")).CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var got struct {
		OK, Bad                bool
		CheckID, Verdict, Code string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("node said %s", out)
	}
	if !got.OK || got.Bad || got.CheckID != "7f3a9c21e0b4" || got.Verdict != "eligible" || got.Code != "000" {
		t.Fatalf("node verification: %+v (want ok, tampered refused, the check's fields)", got)
	}
	t.Logf("Node %s verified the receipt and refused a tampered copy", strings.TrimSpace(string(mustOut(exec.Command(node, "--version")))))
}

func mustOut(c *exec.Cmd) []byte { b, _ := c.Output(); return b }
