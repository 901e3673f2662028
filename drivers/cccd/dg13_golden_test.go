package cccd

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tiepdon/tiepdon/agent/patient"
)

// goldenDG13 is testdata/chip/dg13-synthetic.der, written by the virtual
// card through MarshalDG13.
var goldenDG13 = filepath.Join("..", "..", "testdata", "chip", "dg13-synthetic.der")

func TestDG13Golden(t *testing.T) {
	b, err := os.ReadFile(goldenDG13)
	if err != nil {
		t.Fatal(err)
	}
	d, err := DecodeDG13(b)
	if err != nil {
		t.Fatal(err)
	}
	if d.CitizenID != "001190012345" || d.Name != "Nguyễn Thị Ánh Hồng" || d.Sex != patient.Female ||
		d.BirthDate != (patient.Date{Year: 1990, Month: 3, Day: 15}) || d.OldID() != "012345678" ||
		d.Father != "Nguyễn Văn Bình" || d.Mother != "Trần Thị Cúc" || d.Spouse != "" || d.Has(FieldSpouse) ||
		d.ExpiryDate != (patient.Date{Year: 2030, Month: 3, Day: 15}) || d.Field16 != "1a2b3c4d5e6f7081" {
		t.Errorf("golden DG13 decodes to %+v", typed(d))
	}
	if len(d.Fields) != 15 {
		t.Errorf("%d fields, want 15 (no spouse)", len(d.Fields))
	}
}
