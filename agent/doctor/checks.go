package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"

	"go.bug.st/serial/enumerator"

	"github.com/tiepdon/tiepdon/agent/config"
)

// Config checks that the configuration loaded and is valid, and warns about
// settings that are valid but leave a feature off.
func Config(c *config.Config, loadErr error) Result {
	r := Result{Check: "config"}
	if loadErr != nil {
		r.Status = Fail
		r.Found = bi("The configuration could not be read: %v", "Không đọc được cấu hình: %v", loadErr)
		r.Fix = bi("Correct the file named above (an unknown key is an error, to catch typos); docs/configuration.md lists every key.",
			"Sửa tệp nêu trên (khóa lạ bị coi là lỗi để bắt lỗi gõ); docs/configuration.md liệt kê mọi khóa.")
		return r
	}
	if err := c.Validate(); err != nil {
		r.Status = Fail
		msg := strings.ReplaceAll(err.Error(), "\n", "; ")
		r.Found = bi("The configuration is not valid: %s", "Cấu hình không hợp lệ: %s", msg)
		r.Fix = Text{EN: "Correct these settings in " + filesOr(c.Files).EN + ".", VI: "Sửa các thiết lập này trong " + filesOr(c.Files).VI + "."}
		return r
	}
	var missing []string
	if c.Facility.Code == "" {
		missing = append(missing, "facility.code")
	}
	if len(c.HIS.Origins) == 0 {
		missing = append(missing, "his.origins")
	}
	if len(missing) > 0 {
		r.Status = Warn
		r.Found = Text{
			EN: fmt.Sprintf("Valid, read from %s, but %s not set: no HIS web page can connect until his.origins lists its origin.",
				filesOr(c.Files).EN, strings.Join(missing, ", ")),
			VI: fmt.Sprintf("Hợp lệ, đọc từ %s, nhưng chưa đặt %s: trang HIS chưa kết nối được cho đến khi his.origins có địa chỉ của nó.",
				filesOr(c.Files).VI, strings.Join(missing, ", ")),
		}
		r.Fix = bi("Set them in %s (Windows: the MSI properties FACILITY_CODE and HIS_ORIGINS).",
			"Đặt chúng trong %s (Windows: thuộc tính MSI FACILITY_CODE và HIS_ORIGINS).", config.MachineConfigFile())
		return r
	}
	r.Status = OK
	r.Found = Text{EN: "Valid, read from " + filesOr(c.Files).EN + ".", VI: "Hợp lệ, đọc từ " + filesOr(c.Files).VI + "."}
	return r
}

func filesOr(files []string) Text {
	if len(files) == 0 {
		return Text{EN: "the built-in defaults (no config file)", VI: "giá trị mặc định (không có tệp cấu hình)"}
	}
	f := strings.Join(files, ", ")
	return Text{EN: f, VI: f}
}

// minFree is the free space under which DataDir warns.
const minFree = 200 << 20

// DataDir checks that dir exists (creating it if needed), that a file can be
// written, synced and removed there, and that the disk has some room left.
func DataDir(dir string) Result {
	r := Result{Check: "data-dir"}
	err := func() error {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		f, err := os.CreateTemp(dir, ".doctor-*")
		if err != nil {
			return err
		}
		name := f.Name()
		defer os.Remove(name)
		if _, err := f.Write(make([]byte, 64<<10)); err != nil {
			f.Close()
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		return os.Remove(name)
	}()
	if err != nil {
		r.Status = Fail
		switch {
		case errors.Is(err, fs.ErrPermission):
			r.Found = bi("Cannot write to the data directory %s: no permission (%v).",
				"Không ghi được vào thư mục dữ liệu %s: không có quyền (%v).", dir, err)
			r.Fix = bi("Give the user who runs tiepdon write access to it, or set data_dir to a directory that user owns.",
				"Cấp quyền ghi cho người dùng chạy tiepdon, hoặc đặt data_dir sang thư mục của người dùng đó.")
		case isDiskFull(err):
			r.Found = bi("Cannot write to the data directory %s: the disk is full (%v). A running tiepdon keeps checks in memory until it can write them.",
				"Không ghi được vào thư mục dữ liệu %s: ổ đĩa đã đầy (%v). tiepdon đang chạy sẽ giữ các lượt kiểm tra trong bộ nhớ cho đến khi ghi được.", dir, err)
			r.Fix = bi("Free disk space on that drive now (empty the recycle bin, remove old downloads), or set data_dir to a directory on a disk with room; nothing is lost if you do it before tiepdon is closed.",
				"Giải phóng dung lượng ổ đĩa đó ngay (dọn thùng rác, xoá tệp tải về cũ), hoặc đặt data_dir sang ổ còn chỗ; không mất dữ liệu nếu làm trước khi tắt tiepdon.")
		case isReadOnlyFS(err):
			r.Found = bi("Cannot write to the data directory %s: the disk is read-only (%v).",
				"Không ghi được vào thư mục dữ liệu %s: ổ đĩa chỉ đọc (%v).", dir, err)
			r.Fix = bi("Set data_dir to a directory on a writable disk.", "Đặt data_dir sang thư mục trên ổ ghi được.")
		default:
			r.Found = bi("Cannot write to the data directory %s: %v.", "Không ghi được vào thư mục dữ liệu %s: %v.", dir, err)
			r.Fix = bi("Check the disk, or set data_dir to another directory.", "Kiểm tra ổ đĩa, hoặc đặt data_dir sang thư mục khác.")
		}
		return r
	}
	if free, ok := freeSpace(dir); ok && free < minFree {
		r.Status = Warn
		r.Found = bi("%s is writable, but only %d MB are free.", "%s ghi được, nhưng chỉ còn %d MB trống.", dir, free>>20)
		r.Fix = bi("Free some disk space: the cache and logs need room to grow.", "Giải phóng dung lượng đĩa: bộ nhớ đệm và nhật ký cần chỗ.")
		return r
	}
	r.Status = OK
	r.Found = bi("%s is writable.", "%s ghi được.", dir)
	return r
}

// HISPort checks that tiepdon can listen on addr. If something already
// listens there, it asks that something whether it is tiepdon (GET
// /healthz) and, where the OS tells, which process it is.
func HISPort(ctx context.Context, client *http.Client, addr string) Result {
	r := Result{Check: "his-port"}
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		ln.Close()
		r.Status = OK
		r.Found = bi("%s is free for the HIS connection.", "%s còn trống cho kết nối HIS.", addr)
		return r
	}
	r.Status = Fail
	if !isAddrInUse(err) {
		r.Found = bi("tiepdon cannot listen on %s: %v.", "tiepdon không mở được cổng %s: %v.", addr, err)
		r.Fix = bi("Set his.addr to a loopback address and free port, e.g. 127.0.0.1:8733.",
			"Đặt his.addr thành địa chỉ loopback với cổng trống, ví dụ 127.0.0.1:8733.")
		return r
	}
	if isTiepdon(ctx, client, addr) {
		r.Status = OK
		r.Found = bi("tiepdon is already running and answering on %s.", "tiepdon đang chạy và trả lời tại %s.", addr)
		return r
	}
	who := bi("another program", "một chương trình khác")
	_, port, _ := net.SplitHostPort(addr)
	if pid, name, ok := portOwner(port); ok {
		who = bi("process %d (%s)", "tiến trình %d (%s)", pid, name)
	}
	r.Found = Text{
		EN: fmt.Sprintf("%s is already used by %s, so the HIS cannot reach tiepdon there.", addr, who.EN),
		VI: fmt.Sprintf("%s đang bị %s dùng, nên HIS không kết nối được với tiepdon ở đó.", addr, who.VI),
	}
	r.Fix = bi("Stop that program, or give tiepdon another port (his.addr, MSI property HIS_PORT) and tell the HIS page the new one. "+
		"To see who holds it: Windows `netstat -ano | findstr :%[1]s`, Linux `ss -ltnp 'sport = :%[1]s'`.",
		"Tắt chương trình đó, hoặc đổi cổng của tiepdon (his.addr, thuộc tính MSI HIS_PORT) và báo cổng mới cho trang HIS. "+
			"Xem ai đang giữ cổng: Windows `netstat -ano | findstr :%[1]s`, Linux `ss -ltnp 'sport = :%[1]s'`.", port)
	return r
}

// isTiepdon reports whether the server at addr answers /healthz as tiepdon:
// a Server header or a body that names it.
func isTiepdon(ctx context.Context, client *http.Client, addr string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	return strings.Contains(strings.ToLower(resp.Header.Get("Server")), "tiepdon") ||
		strings.Contains(strings.ToLower(string(body)), "tiepdon")
}

// PCSC checks that the PC/SC service answers (pcsc-service) and which card
// readers it sees (card-readers). want is reader.name: a substring one of
// the readers must contain; empty accepts any reader.
func PCSC(list func() ([]string, error), want string) []Result {
	svc := Result{Check: "pcsc-service"}
	rd := Result{Check: "card-readers"}
	names, err := list()
	if err != nil {
		svc.Status = Fail
		if errors.Is(err, ErrNoService) {
			svc.Found = bi("The smart-card service is not running (%v), so no chip card can be read.",
				"Dịch vụ thẻ thông minh không chạy (%v), nên không đọc được thẻ chip.", err)
			svc.Fix = pcscHint()
		} else {
			svc.Found = bi("The smart-card service answered with an error: %v.", "Dịch vụ thẻ thông minh báo lỗi: %v.", err)
			svc.Fix = bi("Unplug and replug the reader; if that does not help, restart the smart-card service.",
				"Rút và cắm lại đầu đọc; nếu không được, khởi động lại dịch vụ thẻ thông minh.")
		}
		rd.Status = Skip
		rd.Found = bi("Not checked: the smart-card service does not answer.", "Không kiểm tra: dịch vụ thẻ thông minh không trả lời.")
		return []Result{svc, rd}
	}
	svc.Status = OK
	svc.Found = bi("The smart-card service is running.", "Dịch vụ thẻ thông minh đang chạy.")
	switch {
	case len(names) == 0:
		rd.Status = Warn
		rd.Found = bi("No card reader is plugged in. Chip cards cannot be read; QR codes and typing still work.",
			"Chưa cắm đầu đọc thẻ. Không đọc được thẻ chip; mã QR và nhập tay vẫn dùng được.")
		rd.Fix = bi("Plug the reader in (a different USB port helps if it is not seen) and install its driver if the maker ships one.",
			"Cắm đầu đọc (thử cổng USB khác nếu không nhận) và cài trình điều khiển nếu nhà sản xuất có cung cấp.")
	case want != "" && !anyContains(names, want):
		rd.Status = Fail
		rd.Found = bi("No reader matches reader.name %q. Readers seen: %s.",
			"Không có đầu đọc nào khớp reader.name %q. Đầu đọc đang thấy: %s.", want, strings.Join(names, "; "))
		rd.Fix = bi("Set reader.name to part of one of these names, or empty to use any reader.",
			"Đặt reader.name thành một phần tên của một đầu đọc trên, hoặc để trống để dùng bất kỳ đầu đọc nào.")
	default:
		rd.Status = OK
		rd.Found = bi("%d reader(s): %s.", "%d đầu đọc: %s.", len(names), strings.Join(names, "; "))
	}
	return []Result{svc, rd}
}

func anyContains(names []string, sub string) bool {
	for _, n := range names {
		if strings.Contains(strings.ToLower(n), strings.ToLower(sub)) {
			return true
		}
	}
	return false
}

// Port is one serial port the OS knows.
type Port struct {
	Name    string `json:"name"`
	USB     bool   `json:"usb"`
	VID     string `json:"vid,omitempty"`
	PID     string `json:"pid,omitempty"`
	Product string `json:"product,omitempty"`
	Vendor  string `json:"vendor,omitempty"` // a known scanner maker, from the VID
}

func (p Port) String() string {
	if !p.USB {
		return p.Name
	}
	s := fmt.Sprintf("%s (USB %s:%s", p.Name, p.VID, p.PID)
	for _, d := range []string{p.Vendor, p.Product} {
		if d != "" {
			s += " " + d
		}
	}
	return s + ")"
}

// SerialPorts lists the serial ports with go.bug.st/serial/enumerator.
func SerialPorts() ([]Port, error) {
	list, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return nil, fmt.Errorf("listing serial ports: %w", err)
	}
	ports := make([]Port, 0, len(list))
	for _, p := range list {
		ports = append(ports, Port{Name: p.Name, USB: p.IsUSB, VID: p.VID, PID: p.PID, Product: p.Product})
	}
	return ports, nil
}

// Scanner checks the QR scanner's serial port: port is scanner.port ("" is
// off, "auto" means any USB serial port, anything else a port name or
// path).
func Scanner(port string, list func() ([]Port, error)) Result {
	r := Result{Check: "scanner"}
	if port == "" {
		r.Status = Skip
		r.Found = bi("The serial QR scanner is switched off (scanner.port is empty). Keyboard-wedge scanners need no setup.",
			"Máy quét QR cổng nối tiếp đang tắt (scanner.port trống). Máy quét kiểu bàn phím không cần cài đặt.")
		return r
	}
	ports, err := list()
	if err != nil {
		r.Status = Fail
		r.Found = bi("Serial ports cannot be listed: %v.", "Không liệt kê được cổng nối tiếp: %v.", err)
		return r
	}
	var names []string
	for _, p := range ports {
		names = append(names, p.String())
	}
	seen := strings.Join(names, ", ")
	if seen == "" {
		seen = "none / không có"
	}
	var use []string
	if port == "auto" {
		for _, p := range ports {
			if p.USB {
				use = append(use, p.Name)
			}
		}
		if len(use) == 0 {
			r.Status = Warn
			r.Found = bi("No USB serial port is present (ports seen: %s), so no serial QR scanner is connected.",
				"Không có cổng nối tiếp USB nào (cổng đang thấy: %s), nên chưa có máy quét QR nối tiếp.", seen)
			r.Fix = bi("Plug the scanner in and set it to USB-COM (CDC/virtual COM) mode with the setup barcode from its manual. "+
				"A scanner in keyboard mode needs nothing here; set scanner.port = \"\" to silence this warning.",
				"Cắm máy quét và chuyển sang chế độ USB-COM (CDC/COM ảo) bằng mã vạch cài đặt trong sách hướng dẫn. "+
					"Máy quét kiểu bàn phím thì không cần; đặt scanner.port = \"\" để tắt cảnh báo này.")
			return r
		}
	} else {
		found := false
		for _, p := range ports {
			if strings.EqualFold(p.Name, port) {
				found = true
			}
		}
		if !found && !portExists(port) {
			r.Status = Fail
			r.Found = bi("The scanner port %s does not exist. Ports seen: %s.", "Cổng máy quét %s không tồn tại. Cổng đang thấy: %s.", port, seen)
			r.Fix = bi("Plug the scanner in, or set scanner.port to one of the ports seen (or \"auto\").",
				"Cắm máy quét, hoặc đặt scanner.port thành một cổng đang thấy (hoặc \"auto\").")
			return r
		}
		use = []string{port}
	}
	for _, p := range use {
		if err := portAccess(p); err != nil {
			r.Status = Fail
			r.Found = bi("The scanner port %s exists but this user cannot open it: %v.",
				"Cổng máy quét %s có nhưng người dùng này không mở được: %v.", p, err)
			r.Fix = portAccessHint()
			return r
		}
	}
	r.Status = OK
	r.Found = bi("Scanner port: %s.", "Cổng máy quét: %s.", strings.Join(use, ", "))
	return r
}

// portExists reports whether a port given by path (a pty, /dev/serial/by-id/…)
// exists; Windows COM names are only known through the enumerator.
func portExists(name string) bool {
	if runtime.GOOS == "windows" {
		return false
	}
	fi, err := os.Stat(name)
	return err == nil && fi.Mode()&fs.ModeDevice != 0
}
