//go:build !linux && !windows

package doctor

import (
	"errors"
	"syscall"
)

func pcscHint() Text {
	return bi("Start the PC/SC service of this system.", "Bật dịch vụ PC/SC của hệ thống.")
}

func clockFix() Text {
	return bi("Turn on network time synchronisation.", "Bật đồng bộ giờ qua mạng.")
}

func portAccess(string) error { return nil }

func portAccessHint() Text { return Text{} }

func isAddrInUse(err error) bool { return errors.Is(err, syscall.EADDRINUSE) }

func isReadOnlyFS(err error) bool { return errors.Is(err, syscall.EROFS) }

func freeSpace(string) (uint64, bool) { return 0, false }

func portOwner(string) (int, string, bool) { return 0, "", false }

func isDiskFull(err error) bool { return errors.Is(err, syscall.ENOSPC) }
