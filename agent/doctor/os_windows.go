package doctor

import (
	"errors"

	"golang.org/x/sys/windows"
)

func pcscHint() Text {
	return bi("Start the \"Smart Card\" service (SCardSvr): in an administrator prompt `sc config SCardSvr start= auto` and `sc start SCardSvr`. "+
		"Windows stops it when no reader is plugged in, so plug the reader in first.",
		"Bật dịch vụ \"Smart Card\" (SCardSvr): trong cửa sổ lệnh quản trị chạy `sc config SCardSvr start= auto` và `sc start SCardSvr`. "+
			"Windows tự dừng dịch vụ khi không cắm đầu đọc, nên hãy cắm đầu đọc trước.")
}

func clockFix() Text {
	return bi("Turn on \"Set time automatically\" (Settings > Time & language), or `w32tm /resync` in an administrator prompt.",
		"Bật \"Tự động đặt giờ\" (Cài đặt > Thời gian và ngôn ngữ), hoặc chạy `w32tm /resync` trong cửa sổ lệnh quản trị.")
}

// portAccess is not checked on Windows: a COM port busy in another program
// only shows when it is opened, which would take it from a running tiepdon.
func portAccess(string) error { return nil }

func portAccessHint() Text { return Text{} }

func isAddrInUse(err error) bool { return errors.Is(err, windows.WSAEADDRINUSE) }

func isReadOnlyFS(err error) bool { return errors.Is(err, windows.ERROR_WRITE_PROTECT) }

func freeSpace(dir string) (uint64, bool) {
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return 0, false
	}
	var free uint64
	if err := windows.GetDiskFreeSpaceEx(p, &free, nil, nil); err != nil {
		return 0, false
	}
	return free, true
}

func portOwner(string) (int, string, bool) { return 0, "", false }

func isDiskFull(err error) bool {
	return errors.Is(err, windows.ERROR_DISK_FULL) || errors.Is(err, windows.ERROR_HANDLE_DISK_FULL)
}
