package install

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// removeTree deletes dir file by file with DeleteFileW and
// RemoveDirectoryW, clearing the read-only attribute first. os.RemoveAll
// (Go 1.25 and later) deletes with FileDispositionInformationEx and falls
// back to the older call only on the answers older Windows versions give;
// a file system or a Windows-compatible layer that answers otherwise (Wine
// 8: STATUS_INVALID_DEVICE_REQUEST) makes it fail, and this finishes the
// job. err is os.RemoveAll's error, returned if this fails too.
func removeTree(dir string, err error) error {
	var dirs []string
	var errs []error
	walkErr := filepath.WalkDir(dir, func(p string, d fs.DirEntry, werr error) error {
		if werr != nil {
			if errors.Is(werr, fs.ErrNotExist) {
				return nil
			}
			errs = append(errs, werr)
			return nil
		}
		name, _ := windows.UTF16PtrFromString(p)
		if attrs, aerr := windows.GetFileAttributes(name); aerr == nil && attrs&windows.FILE_ATTRIBUTE_READONLY != 0 {
			windows.SetFileAttributes(name, attrs&^windows.FILE_ATTRIBUTE_READONLY)
		}
		if d.IsDir() {
			dirs = append(dirs, p)
			return nil
		}
		if derr := windows.DeleteFile(name); derr != nil {
			errs = append(errs, &os.PathError{Op: "DeleteFile", Path: p, Err: derr})
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		name, _ := windows.UTF16PtrFromString(dirs[i])
		if derr := windows.RemoveDirectory(name); derr != nil {
			errs = append(errs, &os.PathError{Op: "RemoveDirectory", Path: dirs[i], Err: derr})
		}
	}
	if walkErr != nil || len(errs) > 0 {
		return errors.Join(append([]error{err, walkErr}, errs...)...)
	}
	return nil
}
