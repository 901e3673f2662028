package hospital

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestKeyringRotation(t *testing.T) {
	k1, err := NewKey("2026-01")
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := NewKey("2026-07")
	before, err := ParseKeys([]byte("# hospital keys\n" + k1 + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	id, sealed, err := before.Seal([]byte("079200001234"), []byte("verdicts"))
	if err != nil || id != "2026-01" {
		t.Fatalf("seal: %q %v", id, err)
	}
	if bytes.Contains(sealed, []byte("079200001234")) {
		t.Fatal("sealed data holds the plain ID")
	}
	// After the rotation the new key seals; the old one still opens and finds.
	after, err := ParseKeys([]byte(k2 + "\n" + k1 + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if after.Current() != "2026-07" {
		t.Fatalf("current = %q", after.Current())
	}
	plain, err := after.Open(id, sealed, []byte("verdicts"))
	if err != nil || string(plain) != "079200001234" {
		t.Fatalf("open after rotation: %q %v", plain, err)
	}
	if _, err := after.Open(id, sealed, []byte("audit")); err == nil {
		t.Fatal("opened with the wrong row binding")
	}
	old := before.Lookups("cid", "079200001234")[0]
	found := false
	for _, l := range after.Lookups("cid", "079200001234") {
		found = found || bytes.Equal(l, old)
	}
	if !found {
		t.Fatal("a lookup written before the rotation is not found after it")
	}
	if bytes.Equal(after.Lookups("cid", "079200001234")[0], after.Lookups("card", "079200001234")[0]) {
		t.Fatal("lookups of different kinds collide")
	}
	// A desk that only holds the new key cannot open the old data.
	only, _ := ParseKeys([]byte(k2))
	if _, err := only.Open(id, sealed, []byte("verdicts")); !errors.Is(err, ErrNoKey) {
		t.Fatalf("open without the key: %v, want ErrNoKey", err)
	}
}

func TestParseKeysErrors(t *testing.T) {
	k, _ := NewKey("a")
	for name, in := range map[string]string{
		"empty":     "# nothing\n",
		"no secret": "a\n",
		"short":     "a AAAA\n",
		"twice":     k + "\n" + k + "\n",
	} {
		_, err := ParseKeys([]byte(in))
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if strings.Contains(err.Error(), strings.Fields(k)[1]) {
			t.Errorf("%s: the error shows the secret", name)
		}
	}
}

func FuzzParseKeys(f *testing.F) {
	k, _ := NewKey("2026-01")
	f.Add([]byte(k + "\n"))
	f.Add([]byte("# c\n\n" + k + "\nb AAAA\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		kr, err := ParseKeys(b)
		if err != nil {
			return
		}
		id, s, err := kr.Seal([]byte("x"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if p, err := kr.Open(id, s, nil); err != nil || string(p) != "x" {
			t.Fatalf("round trip: %q %v", p, err)
		}
	})
}
