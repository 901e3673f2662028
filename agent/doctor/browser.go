package doctor

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// The browser policies that let a web page reach 127.0.0.1 without the
// Local Network Access prompt: the current name (Chrome/Edge 146+) and the
// older one (139-145).
var loopbackPolicies = []string{"LoopbackNetworkAllowedForUrls", "LocalNetworkAccessAllowedForUrls"}

// BrowserPolicies maps a browser ("Chrome", "Edge", "Chromium") to the URL
// patterns its managed policies allow to reach loopback addresses.
type BrowserPolicies map[string][]string

// ReadPolicyDirs reads Chrome-style managed policy directories (*.json
// files, as on Linux) into BrowserPolicies; dirs maps a browser to its
// directory. Unreadable files are skipped.
func ReadPolicyDirs(dirs map[string]string) BrowserPolicies {
	out := BrowserPolicies{}
	for browser, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			var doc map[string]any
			if json.Unmarshal(b, &doc) != nil {
				continue
			}
			for _, name := range loopbackPolicies {
				list, _ := doc[name].([]any)
				for _, v := range list {
					if s, ok := v.(string); ok {
						out[browser] = append(out[browser], s)
					}
				}
			}
		}
	}
	return out
}

// LinuxPolicyDirs are the managed policy directories of Chrome, Chromium
// and Edge on Linux.
var LinuxPolicyDirs = map[string]string{
	"Chrome":   "/etc/opt/chrome/policies/managed",
	"Chromium": "/etc/chromium/policies/managed",
	"Edge":     "/etc/opt/edge/policies/managed",
}

// patternMatches reports whether a Chrome enterprise URL pattern matches a
// web origin, for the forms IT uses here: "*", "https://host[:port]",
// "host" (any scheme and port), "[*.]domain" (the domain and its
// subdomains), optionally with a scheme or a trailing "/" or "/*".
func patternMatches(pattern, origin string) bool {
	if !isOrigin(origin) {
		return false
	}
	o, _ := url.Parse(origin)
	p := strings.TrimSpace(pattern)
	if p == "*" {
		return true
	}
	scheme := ""
	if i := strings.Index(p, "://"); i >= 0 {
		scheme, p = p[:i], p[i+3:]
	}
	p = strings.TrimSuffix(strings.TrimSuffix(p, "*"), "/")
	if scheme != "" && scheme != "*" && !strings.EqualFold(scheme, o.Scheme) {
		return false
	}
	host, port := p, ""
	if h, pt, ok := strings.Cut(p, ":"); ok && !strings.Contains(pt, ":") {
		host, port = h, pt
	}
	if port != "" && port != "*" && port != effectivePort(o) {
		return false
	}
	oh := strings.ToLower(o.Hostname())
	host = strings.ToLower(host)
	if d, ok := strings.CutPrefix(host, "[*.]"); ok {
		return oh == d || strings.HasSuffix(oh, "."+d)
	}
	return oh == host
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "http" {
		return "80"
	}
	return "443"
}

// BrowserPolicy checks that Chrome or Edge lets every HIS origin reach
// tiepdon without asking the user (the LoopbackNetworkAllowedForUrls
// policy). It warns rather than fails: staff can still click Allow.
func BrowserPolicy(origins []string, policies BrowserPolicies) Result {
	r := Result{Check: "browser-policy"}
	if len(origins) == 0 {
		r.Status = Skip
		r.Found = bi("Not checked: his.origins is empty.", "Không kiểm tra: his.origins trống.")
		return r
	}
	fix := bi("Set the Chrome/Edge policy LoopbackNetworkAllowedForUrls (and LocalNetworkAccessAllowedForUrls for older versions) to the HIS origins; docs/install-windows.md and docs/install-linux.md show the registry keys, the ADMX template and the Linux JSON file.",
		"Đặt chính sách Chrome/Edge LoopbackNetworkAllowedForUrls (và LocalNetworkAccessAllowedForUrls cho bản cũ) bằng địa chỉ trang HIS; docs/install-windows.md và docs/install-linux.md có khóa registry, mẫu ADMX và tệp JSON cho Linux.")
	if len(policies) == 0 {
		r.Status = Warn
		r.Found = bi("No browser policy allows the HIS pages to reach tiepdon: Chrome and Edge (142+) will ask staff for the \"loopback network\" permission, and a click on Block cuts the HIS off from tiepdon.",
			"Chưa có chính sách trình duyệt cho phép trang HIS kết nối tiepdon: Chrome và Edge (142+) sẽ hỏi nhân viên quyền \"mạng loopback\", và nếu bấm Chặn thì HIS mất kết nối với tiepdon.")
		r.Fix = fix
		return r
	}
	var covered []string
	missing := map[string][]string{}
	browsers := make([]string, 0, len(policies))
	for b := range policies {
		browsers = append(browsers, b)
	}
	sort.Strings(browsers)
	for _, b := range browsers {
		var miss []string
		for _, o := range origins {
			ok := false
			for _, p := range policies[b] {
				if patternMatches(p, o) {
					ok = true
					break
				}
			}
			if !ok {
				miss = append(miss, o)
			}
		}
		if len(miss) == 0 {
			covered = append(covered, b)
		} else {
			missing[b] = miss
		}
	}
	if len(missing) == 0 {
		r.Status = OK
		r.Found = bi("%s allow(s) every HIS origin to reach tiepdon without a prompt.", "%s cho phép mọi trang HIS kết nối tiepdon không cần hỏi.", strings.Join(covered, ", "))
		return r
	}
	var parts []string
	for _, b := range browsers {
		if m, ok := missing[b]; ok {
			parts = append(parts, fmt.Sprintf("%s: %s", b, strings.Join(m, ", ")))
		}
	}
	r.Status = Warn
	r.Found = bi("The browser policy does not cover every HIS origin (%s); pages from those origins will ask staff for the \"loopback network\" permission.",
		"Chính sách trình duyệt chưa gồm mọi trang HIS (%s); các trang đó sẽ hỏi nhân viên quyền \"mạng loopback\".", strings.Join(parts, "; "))
	r.Fix = fix
	return r
}

// isOrigin reports whether s parses as a URL with a host.
func isOrigin(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Host != ""
}
