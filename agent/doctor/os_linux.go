package doctor

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

func pcscHint() Text {
	if _, err := os.Stat("/usr/sbin/pcscd"); err != nil {
		return bi("pcscd is not installed: `sudo apt install pcscd` (Fedora: `sudo dnf install pcsc-lite`), then `sudo systemctl enable --now pcscd.socket`.",
			"Chưa cài pcscd: `sudo apt install pcscd` (Fedora: `sudo dnf install pcsc-lite`), rồi `sudo systemctl enable --now pcscd.socket`.")
	}
	return bi("pcscd is installed but not running: `sudo systemctl enable --now pcscd.socket`. `journalctl -u pcscd` shows why it stopped.",
		"Đã cài pcscd nhưng không chạy: `sudo systemctl enable --now pcscd.socket`. `journalctl -u pcscd` cho biết vì sao nó dừng.")
}

func clockFix() Text {
	return bi("Turn on network time: `sudo timedatectl set-ntp true` (check with `timedatectl`).",
		"Bật đồng bộ giờ qua mạng: `sudo timedatectl set-ntp true` (kiểm tra bằng `timedatectl`).")
}

func portAccess(name string) error {
	if err := unix.Access(name, unix.R_OK|unix.W_OK); err != nil {
		return fmt.Errorf("access %s: %w", name, err)
	}
	return nil
}

func portAccessHint() Text {
	return bi("Add the user to the group that owns the port (usually dialout): `sudo usermod -aG dialout $USER`, then log out and in again.",
		"Thêm người dùng vào nhóm sở hữu cổng (thường là dialout): `sudo usermod -aG dialout $USER`, rồi đăng xuất và đăng nhập lại.")
}

func isAddrInUse(err error) bool { return errors.Is(err, unix.EADDRINUSE) }

func isReadOnlyFS(err error) bool { return errors.Is(err, unix.EROFS) }

func freeSpace(dir string) (uint64, bool) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, false
	}
	return st.Bavail * uint64(st.Bsize), true
}

// portOwner finds the process listening on a TCP port through /proc: the
// socket's inode in /proc/net/tcp{,6}, then the process holding it. It only
// sees processes this user may inspect.
func portOwner(port string) (pid int, name string, ok bool) {
	p, err := strconv.Atoi(port)
	if err != nil {
		return 0, "", false
	}
	want := fmt.Sprintf(":%04X", p)
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			// sl local rem st tx:rx tr:when retrnsmt uid timeout inode
			if len(fields) > 9 && strings.HasSuffix(fields[1], want) && fields[3] == "0A" {
				inodes["socket:["+fields[9]+"]"] = true
			}
		}
		fh.Close()
	}
	if len(inodes) == 0 {
		return 0, "", false
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/fd")
	for _, fdDir := range procs {
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			if err != nil || !inodes[link] {
				continue
			}
			dir := filepath.Dir(fdDir)
			pid, _ := strconv.Atoi(filepath.Base(dir))
			comm, _ := os.ReadFile(filepath.Join(dir, "comm"))
			return pid, strings.TrimSpace(string(comm)), true
		}
	}
	return 0, "", false
}

func isDiskFull(err error) bool { return errors.Is(err, unix.ENOSPC) }
