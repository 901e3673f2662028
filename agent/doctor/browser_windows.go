package doctor

import (
	"golang.org/x/sys/windows/registry"
)

// SystemBrowserPolicies reads the Chrome and Edge loopback policies from the
// registry (machine and user policies, value names 1, 2, 3, …).
func SystemBrowserPolicies() BrowserPolicies {
	out := BrowserPolicies{}
	vendors := map[string]string{"Chrome": `Software\Policies\Google\Chrome`, "Edge": `Software\Policies\Microsoft\Edge`}
	for browser, base := range vendors {
		for _, root := range []registry.Key{registry.LOCAL_MACHINE, registry.CURRENT_USER} {
			for _, name := range loopbackPolicies {
				k, err := registry.OpenKey(root, base+`\`+name, registry.QUERY_VALUE|registry.WOW64_64KEY)
				if err != nil {
					continue
				}
				names, _ := k.ReadValueNames(0)
				for _, n := range names {
					if v, _, err := k.GetStringValue(n); err == nil {
						out[browser] = append(out[browser], v)
					}
				}
				k.Close()
			}
		}
	}
	return out
}
