package doctor

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// Window reports the state of the running agent's window, as its /healthz
// tells it: open, failed (with the agent's reason and fix: no OpenGL 2.1
// over Remote Desktop or without a graphics driver), or none asked for.
// Without a running tiepdon on addr there is nothing to check.
func Window(ctx context.Context, client *http.Client, addr string) Result {
	r := Result{Check: "window"}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var h struct {
		Window *struct {
			State  string `json:"state"`
			Reason string `json:"reason"`
			FixVI  string `json:"fixVi"`
			FixEN  string `json:"fixEn"`
		} `json:"window"`
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
	if err == nil {
		var resp *http.Response
		if resp, err = client.Do(req); err == nil {
			err = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&h)
			resp.Body.Close()
		}
	}
	switch {
	case err != nil:
		r.Status = Skip
		r.Found = bi("Not checked: tiepdon is not running on %s.", "Không kiểm tra: tiepdon không chạy tại %s.", addr)
	case h.Window == nil:
		r.Status = Skip
		r.Found = bi("Not checked: the tiepdon on %s does not report its window (an older version).", "Không kiểm tra: tiepdon tại %s không báo trạng thái cửa sổ (phiên bản cũ).", addr)
	case h.Window.State == "open":
		r.Status = OK
		r.Found = bi("The tiepdon window is open.", "Cửa sổ tiepdon đang mở.")
	case h.Window.State == "headless":
		r.Status = OK
		r.Found = bi("tiepdon runs without a window (--headless), as asked.", "tiepdon chạy không có cửa sổ (--headless), theo yêu cầu.")
	case h.Window.State == "failed":
		r.Status = Fail
		r.Found = bi("The tiepdon window could not open (%s): reception staff see nothing, though the HIS still gets results.",
			"Cửa sổ tiepdon không mở được (%s): nhân viên tiếp đón không thấy gì, dù HIS vẫn nhận kết quả.", h.Window.Reason)
		r.Fix = Text{EN: h.Window.FixEN, VI: h.Window.FixVI}
		if r.Fix.EN == "" {
			r.Fix = bi("Update the graphics driver; over Remote Desktop, enable hardware OpenGL for RDP sessions; then start tiepdon again.",
				"Cập nhật driver card đồ hoạ; nếu dùng Remote Desktop, bật OpenGL phần cứng cho phiên RDP; rồi mở lại tiepdon.")
		}
	default:
		r.Status = Warn
		r.Found = bi("The tiepdon window reports the state %q.", "Cửa sổ tiepdon báo trạng thái %q.", h.Window.State)
	}
	return r
}
