package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/tiepdon/tiepdon/agent/hisapi"
)

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := dispatch(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestPairingCommand(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runCmd(t, "pairing", "add", "--data-dir", dir, "--name", "LIS phòng xét nghiệm", "--scopes", "eligibility,identity")
	if code != 0 {
		t.Fatalf("add: exit %d: %s", code, errs)
	}
	tok := strings.TrimSpace(out)
	if !strings.HasPrefix(tok, "tdp_") || strings.Contains(tok, "\n") {
		t.Fatalf("add printed %q, want the token alone", out)
	}
	if !strings.Contains(errs, "shown once") {
		t.Errorf("add does not warn that the token is shown once: %s", errs)
	}
	code, out, errs = runCmd(t, "pairing", "add", "--data-dir", dir, "--name", "HIS", "--scopes", "eligibility", "--origin", "HTTPS://His.Example.vn:443")
	if code != 0 {
		t.Fatalf("add with origin: %d %s", code, errs)
	}

	// The token works for the agent's API.
	store, err := hisapi.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	info, err := store.Authenticate(context.Background(), tok, "")
	store.Close()
	if err != nil || info.Name != "LIS phòng xét nghiệm" {
		t.Fatalf("minted token: %+v %v", info, err)
	}

	code, out, _ = runCmd(t, "pairing", "list", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, info.ID) || !strings.Contains(out, "https://his.example.vn") || !strings.Contains(out, "eligibility,identity") || strings.Contains(out, tok) {
		t.Fatalf("list: %d\n%s", code, out)
	}

	code, out, errs = runCmd(t, "pairing", "revoke", "--data-dir", dir, info.ID)
	if code != 0 || !strings.Contains(out, "Revoked") {
		t.Fatalf("revoke: %d %s %s", code, out, errs)
	}
	code, out, _ = runCmd(t, "pairing", "list", "--data-dir", dir, "--json")
	var list []hisapi.TokenInfo
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 2 {
		t.Fatalf("list --json: %d %s", code, out)
	}
	for _, ti := range list {
		if ti.ID == info.ID && ti.Active() {
			t.Error("revoked token still active")
		}
	}

	// Refusals.
	for _, args := range [][]string{
		{"pairing"},
		{"pairing", "frob"},
		{"pairing", "add", "--data-dir", dir, "--name", "x"},
		{"pairing", "add", "--data-dir", dir, "--name", "x", "--scopes", "photo"},
		{"pairing", "add", "--data-dir", dir, "--name", "x", "--scopes", "eligibility", "--origin", "his.example.vn"},
		{"pairing", "revoke", "--data-dir", dir},
	} {
		if code, _, _ := runCmd(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code, _, errs := runCmd(t, "pairing", "revoke", "--data-dir", dir, "nope"); code != 1 || !strings.Contains(errs, "no token") {
		t.Errorf("revoking an unknown ID: %d %s", code, errs)
	}
}
