package virtual_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/tiepdon/tiepdon/drivers/virtual"
)

var update = flag.Bool("update", false, "rewrite the fixtures in testdata/chip")

// The fixtures in testdata/chip are files of the synthetic card that do not
// depend on keys generated at run time (EF.CardAccess, EF.COM, DG1, DG13).
// They must match what the card builds; -update rewrites them.
func TestChipFixtures(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "chip")
	bp := virtual.Synthetic(0)
	bp.Options.PACECurve = "brainpoolP256r1"
	cards := map[string]virtual.Profile{"": virtual.Synthetic(0), "brainpool-": bp}
	for prefix, p := range cards {
		c, err := virtual.NewCard(p)
		if err != nil {
			t.Fatal(err)
		}
		files := map[string]uint16{"cardaccess.der": virtual.FIDCardAccess}
		if prefix == "" {
			files["com.der"] = virtual.FIDCOM
			files["dg1-synthetic.der"] = virtual.FIDDG1
			files["dg13-synthetic.der"] = virtual.FIDDG13
		}
		for name, fid := range files {
			path := filepath.Join(dir, prefix+name)
			got, _ := c.File(fid)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./drivers/virtual -run TestChipFixtures -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the card's file", path)
			}
		}
	}
}
