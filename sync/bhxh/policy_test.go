package bhxh

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the table in docs/eligibility-policy.md from Policy")

var policyDoc = filepath.Join("..", "..", "docs", "eligibility-policy.md")

// policyTable renders Policy as the Markdown table of the policy document.
func policyTable() string {
	codes := make([]string, 0, len(Policy))
	for c := range Policy {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	var b strings.Builder
	b.WriteString("| code | verdict | field | shown to staff (Vietnamese) | English | next step (Vietnamese) | next step (English) |\n|---|---|---|---|---|---|---|\n")
	for _, c := range codes {
		r := Policy[c]
		v := "`" + string(r.Verdict) + "`"
		if r.Unavailable {
			v = "gateway unavailable (error; cached answer shown)"
		}
		field := r.Field
		if field != "" {
			field = "`" + field + "`"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", c, v, field, r.ReasonVI, r.ReasonEN, r.NextVI, r.NextEN)
	}
	return b.String()
}

const (
	tableBegin = "<!-- policy-table:begin -->\n"
	tableEnd   = "<!-- policy-table:end -->"
)

// TestPolicyDoc keeps docs/eligibility-policy.md in step with Policy.
func TestPolicyDoc(t *testing.T) {
	doc, err := os.ReadFile(policyDoc)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, tableBegin), strings.Index(s, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("%s: table markers missing", policyDoc)
	}
	want := s[:i+len(tableBegin)] + policyTable() + s[j:]
	if *update {
		if err := os.WriteFile(policyDoc, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if s != want {
		t.Fatalf("%s is out of date with Policy: run go test ./sync/bhxh -run TestPolicyDoc -update", policyDoc)
	}
}

// TestPolicyMatchesSpec checks the table against the policy in
// policy: the verdict of every code in docs/eligibility-policy.md.
func TestPolicyMatchesSpec(t *testing.T) {
	spec := map[string]string{
		"000": "eligible", "004": "eligible",
		"001": "check-documents", "002": "check-documents", "130": "check-documents",
		"010": "not-eligible", "050": "not-eligible", "110": "not-eligible",
		"120": "not-eligible", "121": "not-eligible", "122": "not-eligible", "123": "not-eligible", "124": "not-eligible",
		"051": "input-mismatch", "052": "input-mismatch", "053": "input-mismatch", "060": "input-mismatch",
		"061": "input-mismatch", "070": "input-mismatch", "205": "input-mismatch",
		"054": "staff-problem", "055": "staff-problem",
	}
	for code, v := range spec {
		if r := RuleFor(code); string(r.Verdict) != v || r.Unavailable {
			t.Errorf("%s: %s, spec says %s", code, r.Verdict, v)
		}
	}
	for _, code := range []string{"100", "101", "500", "401"} {
		if !RuleFor(code).Unavailable {
			t.Errorf("%s is not treated as gateway unavailable", code)
		}
	}
	for code, r := range Policy {
		if r.Code != code || r.ReasonVI == "" || r.ReasonEN == "" {
			t.Errorf("%s: incomplete rule %+v", code, r)
		}
	}
}

// TestEveryCodeSaysWhatToDo: every row, and the row of an unknown code,
// tells the receptionist the next step in both languages, in one sentence
// that is not the reason again.
func TestEveryCodeSaysWhatToDo(t *testing.T) {
	rules := []Rule{unknownRule("999")}
	for _, r := range Policy {
		rules = append(rules, r)
	}
	for _, r := range rules {
		for lang, s := range map[string]string{"vi": r.NextVI, "en": r.NextEN} {
			switch {
			case s == "":
				t.Errorf("code %s: no next step (%s)", r.Code, lang)
			case s == r.ReasonVI || s == r.ReasonEN:
				t.Errorf("code %s: the next step (%s) repeats the reason", r.Code, lang)
			case strings.Contains(s, "\n") || !strings.HasSuffix(s, "."):
				t.Errorf("code %s: next step (%s) %q is not one sentence ending in a full stop", r.Code, lang, s)
			}
		}
	}
}
