package install

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestRemoveTree: the file-by-file deletion removes a tree with a
// read-only file (as the cache's key file can be) and nothing beside it.
func TestRemoveTree(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "tiepdon")
	os.MkdirAll(filepath.Join(dir, "logs", "old"), 0o755)
	os.WriteFile(filepath.Join(dir, "cache.db"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "logs", "old", "tiepdon.log.gz"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, "cache.db.key"), []byte("x"), 0o400)
	os.WriteFile(filepath.Join(root, "beside.txt"), []byte("x"), 0o644)
	if err := removeTree(dir, errors.New("os.RemoveAll failed")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still there: %v", dir, err)
	}
	if _, err := os.Stat(filepath.Join(root, "beside.txt")); err != nil {
		t.Errorf("removed a file beside the tree: %v", err)
	}
}
