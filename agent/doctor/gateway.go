package doctor

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// GatewayParams are the gateway settings the checks use.
type GatewayParams struct {
	URL      string // base URL, e.g. https://egw.baohiemxahoi.gov.vn
	Username string // facility account, e.g. 79014_BV
	Password string // plain password; only its MD5 is sent
	MD5Case  string // "upper" or "lower"
	Encoding string // "form" or "json"
}

// Clock skews beyond these warn and fail.
const (
	skewWarn = time.Minute
	skewFail = 5 * time.Minute
)

// loginAnswer is the part of /api/token/take's answer the check reads.
type loginAnswer struct {
	MaKetQua json.RawMessage `json:"maKetQua"`
	APIKey   *struct {
		AccessToken string `json:"access_token"`
	} `json:"APIKey"`
}

// Gateway signs in to the national gateway (POST /api/token/take) and
// returns three results: gateway (reachable, and answering like the
// gateway), gateway-account (the account and password accepted) and clock
// (this machine's clock against the gateway's Date header, read with now).
// The token it gets is thrown away; the password never appears in a result.
func Gateway(ctx context.Context, client *http.Client, p GatewayParams, now func() time.Time) []Result {
	gw := Result{Check: "gateway"}
	acct := Result{Check: "gateway-account"}
	clk := Result{Check: "clock"}
	skip := func(r *Result, why Text) { r.Status, r.Found = Skip, why }

	u, err := url.Parse(p.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		gw.Status = Fail
		gw.Found = bi("gateway.url %q is not an http(s) URL.", "gateway.url %q không phải URL http(s).", p.URL)
		gw.Fix = bi("Set gateway.url (MSI property GATEWAY_URL), e.g. https://egw.baohiemxahoi.gov.vn.",
			"Đặt gateway.url (thuộc tính MSI GATEWAY_URL), ví dụ https://egw.baohiemxahoi.gov.vn.")
		skip(&acct, bi("Not checked: no gateway.", "Không kiểm tra: chưa có cổng giám định."))
		skip(&clk, bi("Not checked: no gateway to compare with.", "Không kiểm tra: không có máy chủ để so giờ."))
		return []Result{gw, acct, clk}
	}

	sum := md5.Sum([]byte(p.Password))
	pw := hex.EncodeToString(sum[:])
	if p.MD5Case != "lower" {
		pw = strings.ToUpper(pw)
	}
	var body []byte
	ctype := "application/x-www-form-urlencoded"
	if p.Encoding == "json" {
		body, _ = json.Marshal(map[string]string{"username": p.Username, "password": pw})
		ctype = "application/json"
	} else {
		body = []byte(url.Values{"username": {p.Username}, "password": {pw}}.Encode())
	}
	endpoint := strings.TrimRight(p.URL, "/") + "/api/token/take"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		gw.Status, gw.Found = Fail, bi("Bad gateway URL: %v.", "URL cổng giám định sai: %v.", err)
		return []Result{gw, acct, clk}
	}
	req.Header.Set("Content-Type", ctype)
	start := now()
	resp, err := client.Do(req)
	if err != nil {
		gw.Status = Fail
		gw.Found, gw.Fix = explainNetErr(u.Host, err)
		skip(&acct, bi("Not checked: the gateway cannot be reached.", "Không kiểm tra: không kết nối được cổng giám định."))
		if isClockTLSErr(err) {
			clk.Status = Fail
			clk.Found = bi("The gateway's certificate looks expired or not yet valid, which usually means this computer's date is wrong.",
				"Chứng chỉ của cổng giám định có vẻ hết hạn hoặc chưa hiệu lực, thường do ngày giờ máy tính này sai.")
			clk.Fix = clockFix()
		} else {
			skip(&clk, bi("Not checked: no answer from the gateway to compare with.", "Không kiểm tra: không có trả lời để so giờ."))
		}
		return []Result{gw, acct, clk}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	elapsed := now().Sub(start)

	// Clock: any HTTP answer carries the server's Date.
	if d, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		skew := start.Add(elapsed / 2).Sub(d).Round(time.Second)
		abs := skew.Abs()
		switch {
		case abs <= skewWarn+time.Second:
			clk.Status = OK
			clk.Found = bi("The clock agrees with the gateway's (off by %s).", "Đồng hồ khớp với máy chủ cổng giám định (lệch %s).", skew)
		default:
			clk.Status = Warn
			if abs > skewFail {
				clk.Status = Fail
			}
			dir := bi("ahead of", "nhanh hơn")
			if skew < 0 {
				dir = bi("behind", "chậm hơn")
			}
			clk.Found = Text{
				EN: fmt.Sprintf("This computer's clock is %s %s the gateway's. Gateway tokens, certificates and the cache's age labels depend on it.", abs, dir.EN),
				VI: fmt.Sprintf("Đồng hồ máy này %s máy chủ cổng giám định %s. Phiên đăng nhập, chứng chỉ và tuổi dữ liệu đệm phụ thuộc vào nó.", dir.VI, abs),
			}
			clk.Fix = clockFix()
		}
	} else {
		skip(&clk, bi("Not checked: the gateway's answer has no Date header.", "Không kiểm tra: trả lời không có tiêu đề Date."))
	}

	switch {
	case resp.StatusCode == http.StatusNotFound:
		gw.Status = Fail
		gw.Found = bi("%s answers, but has no /api/token/take (HTTP 404): this is not the BHXH gateway's address.",
			"%s có trả lời nhưng không có /api/token/take (HTTP 404): đây không phải địa chỉ cổng giám định BHXH.", u.Host)
		gw.Fix = bi("Check gateway.url (GATEWAY_URL): https://egw.baohiemxahoi.gov.vn, or https://daotaoegw.baohiemxahoi.gov.vn for training.",
			"Kiểm tra gateway.url (GATEWAY_URL): https://egw.baohiemxahoi.gov.vn, hoặc https://daotaoegw.baohiemxahoi.gov.vn cho đào tạo.")
		skip(&acct, bi("Not checked.", "Không kiểm tra."))
		return []Result{gw, acct, clk}
	case resp.StatusCode >= 500:
		gw.Status = Fail
		gw.Found = bi("The gateway answers HTTP %d: it is down or under maintenance.", "Cổng giám định trả lời HTTP %d: đang lỗi hoặc bảo trì.", resp.StatusCode)
		gw.Fix = bi("Nothing to do here; tiepdon uses its cache meanwhile. Check again later.",
			"Không cần làm gì; tiepdon dùng dữ liệu đệm trong lúc này. Kiểm tra lại sau.")
		skip(&acct, bi("Not checked: the gateway is down.", "Không kiểm tra: cổng giám định đang lỗi."))
		return []Result{gw, acct, clk}
	}

	var ans loginAnswer
	if err := json.Unmarshal(raw, &ans); err != nil || ans.MaKetQua == nil {
		gw.Status = Fail
		gw.Found = bi("%s answers HTTP %d, but not like the BHXH gateway (no JSON result code). A proxy or login page may be in the way.",
			"%s trả lời HTTP %d nhưng không giống cổng giám định BHXH (không có mã kết quả JSON). Có thể proxy hoặc trang đăng nhập mạng đang chặn.",
			u.Host, resp.StatusCode)
		gw.Fix = bi("Open the gateway URL in a browser on this computer; ask the network team to let this computer reach it directly.",
			"Mở URL cổng giám định bằng trình duyệt trên máy này; nhờ bộ phận mạng cho máy này truy cập trực tiếp.")
		skip(&acct, bi("Not checked.", "Không kiểm tra."))
		return []Result{gw, acct, clk}
	}
	gw.Status = OK
	gw.Found = bi("%s answers (%s).", "%s có trả lời (%s).", u.Host, elapsed.Round(time.Millisecond))

	code := strings.Trim(string(ans.MaKetQua), `" `)
	switch {
	case p.Username == "":
		acct.Status = Fail
		acct.Found = bi("No gateway account is set (gateway.username), so no card can be checked online.",
			"Chưa đặt tài khoản cổng giám định (gateway.username), nên không tra cứu thẻ trực tuyến được.")
		acct.Fix = bi("Set gateway.username (usually <facility code>_BV) and the password (window settings, TIEPDON_GATEWAY_PASSWORD or gateway.password_file).",
			"Đặt gateway.username (thường là <mã cơ sở>_BV) và mật khẩu (trong cài đặt của cửa sổ, TIEPDON_GATEWAY_PASSWORD hoặc gateway.password_file).")
	case p.Password == "":
		acct.Status = Fail
		acct.Found = bi("No password is set for the gateway account %s.", "Chưa có mật khẩu cho tài khoản cổng giám định %s.", p.Username)
		acct.Fix = bi("Save it in the window's settings (OS keyring), or set TIEPDON_GATEWAY_PASSWORD or gateway.password_file.",
			"Lưu mật khẩu trong cài đặt của cửa sổ (kho khóa hệ điều hành), hoặc đặt TIEPDON_GATEWAY_PASSWORD hay gateway.password_file.")
	case code == "200" && ans.APIKey != nil && ans.APIKey.AccessToken != "":
		acct.Status = OK
		acct.Found = bi("The gateway accepted the account %s.", "Cổng giám định chấp nhận tài khoản %s.", p.Username)
	case code == "401" || code == "402" || code == "403":
		acct.Status = Fail
		acct.Found = bi("The gateway refused the account %s (code %s): wrong account name or password.",
			"Cổng giám định từ chối tài khoản %s (mã %s): sai tên tài khoản hoặc mật khẩu.", p.Username, code)
		acct.Fix = bi("Check the account and password with the facility's BHXH contact. If they are right, try gateway.md5_case = \"lower\" (or \"upper\"). "+
			"Meanwhile the running agent shows \"account refused\" and signs in again only a few times an hour (at once when the settings are saved), so the account is not locked.",
			"Kiểm tra tài khoản và mật khẩu với cán bộ BHXH của cơ sở. Nếu đúng, thử gateway.md5_case = \"lower\" (hoặc \"upper\"). "+
				"Trong lúc đó tiepdon đang chạy báo \"từ chối tài khoản\" và chỉ đăng nhập lại vài lần mỗi giờ (ngay khi lưu cài đặt), để tài khoản không bị khóa.")
	case code == "500":
		acct.Status = Warn
		acct.Found = bi("The gateway says it is under maintenance (code 500); the account could not be checked.",
			"Cổng giám định báo đang bảo trì (mã 500); chưa kiểm tra được tài khoản.")
		acct.Fix = bi("Check again later.", "Kiểm tra lại sau.")
	default:
		acct.Status = Fail
		acct.Found = bi("The gateway did not sign the account %s in (code %s).", "Cổng giám định không cho tài khoản %s đăng nhập (mã %s).", p.Username, code)
		acct.Fix = bi("Try gateway.encoding = \"json\" (or \"form\"); if that does not help, ask the facility's BHXH contact.",
			"Thử gateway.encoding = \"json\" (hoặc \"form\"); nếu không được, hỏi cán bộ BHXH của cơ sở.")
	}
	return []Result{gw, acct, clk}
}

// explainNetErr turns a transport error into words.
func explainNetErr(host string, err error) (Text, Text) {
	var dnsErr *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	switch {
	case errors.As(err, &dnsErr):
		return bi("The name %s cannot be looked up (DNS): %v.", "Không phân giải được tên %s (DNS): %v.", host, dnsErr),
			bi("Check this computer's network and DNS settings.", "Kiểm tra mạng và thiết lập DNS của máy này.")
	case errors.As(err, &unknownCA):
		return bi("The certificate of %s is signed by an authority this computer does not trust. A TLS-inspecting proxy or firewall is probably in the way.",
				"Chứng chỉ của %s do tổ chức mà máy này không tin cậy cấp. Có thể proxy hoặc tường lửa kiểm tra TLS đang chặn.", host),
			bi("Exempt the gateway from TLS inspection, or install the proxy's root certificate on this computer.",
				"Loại trừ cổng giám định khỏi kiểm tra TLS, hoặc cài chứng chỉ gốc của proxy lên máy này.")
	case errors.As(err, &hostErr):
		return bi("The certificate presented for %s is for another name: %v.", "Chứng chỉ nhận được cho %s là của tên khác: %v.", host, hostErr),
			bi("Check gateway.url; a proxy may be answering instead of the gateway.", "Kiểm tra gateway.url; có thể proxy đang trả lời thay cổng giám định.")
	case isClockTLSErr(err):
		return bi("The certificate of %s is not valid at this computer's current time.", "Chứng chỉ của %s không hợp lệ theo giờ hiện tại của máy này.", host),
			clockFix()
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return bi("%s did not answer in time.", "%s không trả lời kịp.", host),
			bi("Check that this computer can reach the Internet; a firewall may drop outgoing HTTPS (port 443).",
				"Kiểm tra máy này có vào được Internet; tường lửa có thể chặn HTTPS đi ra (cổng 443).")
	default:
		return bi("%s cannot be reached: %v.", "Không kết nối được %s: %v.", host, stripURL(err)),
			bi("Check the network, the proxy settings, and that outgoing HTTPS (port 443) to the gateway is allowed.",
				"Kiểm tra mạng, thiết lập proxy, và tường lửa cho phép HTTPS đi ra (cổng 443) tới cổng giám định.")
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isClockTLSErr(err error) bool {
	var inv x509.CertificateInvalidError
	return errors.As(err, &inv) && inv.Reason == x509.Expired
}

// stripURL drops the *url.Error wrapper, whose text repeats the URL.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
