//go:build !windows

package doctor

// SystemBrowserPolicies reads the Chrome, Chromium and Edge loopback
// policies from their managed policy directories.
func SystemBrowserPolicies() BrowserPolicies { return ReadPolicyDirs(LinuxPolicyDirs) }
