package main

import (
	"os"
	"regexp"
	"testing"

	"github.com/tiepdon/tiepdon/sync/bhxhsim"
)

// TestTestPatientsDocumented: the test patients docs/his-api.md lists are
// the demo population's (seed 1), one per gateway code.
func TestTestPatientsDocumented(t *testing.T) {
	b, err := os.ReadFile("../../../docs/his-api.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([0-9]{3})` \\| `([0-9]{12})` \\| ([^|]+) \\| ([0-9/]+) \\| `([A-Z0-9]{15})` \\|$")
	rows := row.FindAllStringSubmatch(string(b), -1)
	sim := bhxhsim.New(bhxhsim.Options{Seed: 1})
	if len(rows) < len(bhxhsim.Showcase)-2 {
		t.Fatalf("docs/his-api.md lists %d test patients, the demo shows %d codes", len(rows), len(bhxhsim.Showcase))
	}
	for _, r := range rows {
		p, ok := sim.Example(r[1])
		if !ok || string(p.CitizenID) != r[2] || string(p.Name) != r[3] || p.BirthDate.String() != r[4] || string(p.CardNumber) != r[5] {
			t.Errorf("docs/his-api.md: test patient for code %s is not the demo's", r[1])
		}
	}
}
