package hisapi

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestParseScopes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"eligibility", "eligibility", true},
		{"identity, eligibility", "eligibility,identity", true},
		{"photo,identity,eligibility,photo", "eligibility,identity,photo", true},
		{"identity", "identity", true},
		{"", "", false},
		{"photo", "", false},             // photo needs identity
		{"eligibility,admin", "", false}, // unknown
		{"Eligibility", "", false},       // exact words only
	} {
		got, err := ParseScopes(tc.in)
		if (err == nil) != tc.ok || (tc.ok && JoinScopes(got) != tc.want) {
			t.Errorf("ParseScopes(%q) = %v, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tok, info, err := s.Add(ctx, "  LIS  ", "", []Scope{ScopeIdentity, ScopeEligibility})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, tokenPrefix) || len(tok) < 40 || info.Name != "LIS" || JoinScopes(info.Scopes) != "eligibility,identity" {
		t.Fatalf("Add = %q %+v", tok, info)
	}
	tok2, _, _ := s.Add(ctx, "HIS", "https://his.example.vn", []Scope{ScopeEligibility})
	if tok2 == tok {
		t.Fatal("two tokens alike")
	}
	if _, _, err := s.Add(ctx, "", "", []Scope{ScopeEligibility}); err == nil {
		t.Error("empty name accepted")
	}
	got, err := s.Authenticate(ctx, tok, "")
	if err != nil || got.ID != info.ID || got.LastUsed == nil {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	if _, err := s.Authenticate(ctx, tok, "https://his.example.vn"); !errors.Is(err, ErrOriginMismatch) {
		t.Errorf("other origin: %v", err)
	}
	if _, err := s.Authenticate(ctx, tok+"x", ""); !errors.Is(err, ErrUnknownToken) {
		t.Errorf("altered token: %v", err)
	}

	// A second handle on the same file (another process) sees and revokes it.
	other, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	v0, _ := s.version(ctx)
	if err := other.Revoke(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	if v1, _ := s.version(ctx); v1 == v0 {
		t.Error("data_version did not change after another connection's revoke")
	}
	if _, err := s.Authenticate(ctx, tok, ""); !errors.Is(err, ErrTokenRevoked) {
		t.Errorf("revoked: %v", err)
	}
	if err := s.Revoke(ctx, info.ID); err != nil {
		t.Errorf("revoking twice: %v", err)
	}
	if err := s.Revoke(ctx, "nope"); !errors.Is(err, ErrNoSuchToken) {
		t.Errorf("revoking unknown: %v", err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %+v, %v", list, err)
	}
	revoked := 0
	for _, ti := range list {
		if !ti.Active() {
			revoked++
		}
	}
	if revoked != 1 {
		t.Errorf("%d revoked, want 1", revoked)
	}
	ids, _ := s.revokedIDs(ctx)
	if !ids[info.ID] || len(ids) != 1 {
		t.Errorf("revokedIDs = %v", ids)
	}
}
