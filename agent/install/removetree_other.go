//go:build !windows

package install

// removeTree is the fallback deletion of Windows (removetree_windows.go);
// elsewhere os.RemoveAll's error stands.
func removeTree(dir string, err error) error { return err }
