package doctor

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPatternMatches(t *testing.T) {
	cases := []struct {
		pattern, origin string
		want            bool
	}{
		// exact origins, as docs/install-*.md tell IT to write them
		{"https://his.benhvien.vn", "https://his.benhvien.vn", true},
		{"https://his.benhvien.vn/", "https://his.benhvien.vn", true},
		{"https://his.benhvien.vn", "http://his.benhvien.vn", false},
		{"https://his.benhvien.vn", "https://his2.benhvien.vn", false},
		{"https://his.benhvien.vn:8443", "https://his.benhvien.vn:8443", true},
		{"https://his.benhvien.vn:8443", "https://his.benhvien.vn", false},
		{"https://his.benhvien.vn:443", "https://his.benhvien.vn", true},
		{"HTTPS://HIS.benhvien.vn", "https://his.benhvien.vn", true},
		// wider patterns
		{"*", "https://anything.example", true},
		{"his.benhvien.vn", "http://his.benhvien.vn:8080", true},
		{"[*.]benhvien.vn", "https://his.benhvien.vn", true},
		{"[*.]benhvien.vn", "https://benhvien.vn", true},
		{"[*.]benhvien.vn", "https://notbenhvien.vn", false},
		{"https://[*.]benhvien.vn", "http://his.benhvien.vn", false},
		{"https://his.benhvien.vn/*", "https://his.benhvien.vn", true},
		// an IP origin
		{"http://10.0.0.5:8080", "http://10.0.0.5:8080", true},
		{"", "https://his.benhvien.vn", false},
	}
	for _, c := range cases {
		if got := patternMatches(c.pattern, c.origin); got != c.want {
			t.Errorf("patternMatches(%q, %q) = %v, want %v", c.pattern, c.origin, got, c.want)
		}
	}
}

func TestBrowserPolicy(t *testing.T) {
	his := []string{"https://his.benhvien.vn", "https://his2.benhvien.vn"}
	wantStatus(t, BrowserPolicy(nil, nil), Skip)
	wantStatus(t, BrowserPolicy(his, BrowserPolicies{}), Warn, "No browser policy", "LoopbackNetworkAllowedForUrls")
	wantStatus(t, BrowserPolicy(his, BrowserPolicies{"Chrome": {"[*.]benhvien.vn"}}), OK, "Chrome")
	wantStatus(t, BrowserPolicy(his, BrowserPolicies{"Chrome": {"https://his.benhvien.vn"}, "Edge": {"*"}}), Warn,
		"Chrome: https://his2.benhvien.vn")
}

// TestReadPolicyDirs reads real JSON policy files the way Chrome does on
// Linux: every *.json file of the managed directory, either policy name.
func TestReadPolicyDirs(t *testing.T) {
	root := t.TempDir()
	chrome := filepath.Join(root, "chrome", "policies", "managed")
	edge := filepath.Join(root, "edge", "policies", "managed")
	os.MkdirAll(chrome, 0o755)
	os.MkdirAll(edge, 0o755)
	os.WriteFile(filepath.Join(chrome, "tiepdon.json"), []byte(`{"LoopbackNetworkAllowedForUrls": ["https://his.benhvien.vn"], "HomepageLocation": "x"}`), 0o644)
	os.WriteFile(filepath.Join(chrome, "old.json"), []byte(`{"LocalNetworkAccessAllowedForUrls": ["https://his2.benhvien.vn"]}`), 0o644)
	os.WriteFile(filepath.Join(chrome, "broken.json"), []byte(`{not json`), 0o644)
	os.WriteFile(filepath.Join(edge, "other.json"), []byte(`{"URLBlocklist": ["*"]}`), 0o644)
	p := ReadPolicyDirs(map[string]string{"Chrome": chrome, "Edge": edge, "Chromium": filepath.Join(root, "none")})
	if len(p) != 1 || len(p["Chrome"]) != 2 {
		t.Fatalf("policies %v", p)
	}
	wantStatus(t, BrowserPolicy([]string{"https://his.benhvien.vn", "https://his2.benhvien.vn"}, p), OK, "Chrome")
}

func FuzzPatternMatches(f *testing.F) {
	for _, s := range [][2]string{
		{"https://his.benhvien.vn", "https://his.benhvien.vn"}, {"[*.]benhvien.vn", "https://benhvien.vn"},
		{"*", "http://x"}, {"https://h:*", "https://h:1"}, {"::", "https://[::1]:80"}, {"[*.]", "https://a"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, origin string) {
		got := patternMatches(pattern, origin)
		// "*" matches every origin that has a host; nothing matches an origin without one.
		if pattern == "*" && !got && isOrigin(origin) {
			t.Fatalf("* does not match %q", origin)
		}
		if got && !isOrigin(origin) {
			t.Fatalf("%q matches %q, which has no host", pattern, origin)
		}
	})
}
