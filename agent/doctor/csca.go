package doctor

import (
	"time"
)

// CSCAInfo is one trusted country signing CA certificate, as the chip
// reads see it.
type CSCAInfo struct {
	Subject  string
	Country  string // e.g. "VN"
	NotAfter time.Time
}

// CSCA reports whether a Vietnamese CSCA (the one that vouches for CCCD
// chips) is installed: without it a chip read can show the data intact but
// not who issued it. disabled is reader.disabled; list nil skips the check.
func CSCA(disabled bool, list func() ([]CSCAInfo, error), now time.Time) Result {
	r := Result{Check: "csca"}
	switch {
	case disabled:
		r.Status, r.Found = Skip, bi("Not checked: chip reading is off.", "Không kiểm tra: đã tắt đọc chip.")
		return r
	case list == nil:
		r.Status, r.Found = Skip, bi("Not checked.", "Không kiểm tra.")
		return r
	}
	importFix := bi("Get the CCCD country signing CA certificate (CSCA) and its SHA-256 fingerprint from the issuing authority, then run `tiepdon csca import FILE` as administrator and compare the fingerprint it shows.",
		"Lấy chứng chỉ CA ký quốc gia (CSCA) của CCCD và mã SHA-256 của nó từ cơ quan cấp, rồi chạy `tiepdon csca import TỆP` bằng quyền quản trị và so mã nó hiển thị.")
	certs, err := list()
	if err != nil {
		r.Status = Fail
		r.Found = bi("The trusted CSCA certificates cannot be read (%v), so every chip read shows the issuer as not verified.",
			"Không đọc được các chứng chỉ CSCA tin cậy (%v), nên mọi lần đọc chip đều báo chưa xác minh nơi cấp.", err)
		r.Fix = bi("Remove or replace the file named (reader.csca, or the csca folder beside the machine config), then import it again with `tiepdon csca import FILE`.",
			"Xóa hoặc thay tệp được nêu (reader.csca, hoặc thư mục csca cạnh tệp cấu hình máy), rồi nhập lại bằng `tiepdon csca import TỆP`.")
		return r
	}
	var vn []CSCAInfo
	for _, c := range certs {
		if c.Country == "VN" {
			vn = append(vn, c)
		}
	}
	if len(vn) == 0 {
		r.Status = Warn
		r.Found = bi("No Vietnamese CSCA is installed (%d other certificate(s)): chip CCCDs read as \"intact, issuer not verified\", never \"verified\".",
			"Chưa cài CSCA của Việt Nam (có %d chứng chỉ khác): thẻ CCCD gắn chip chỉ báo \"nguyên vẹn, chưa xác minh nơi cấp\", không bao giờ \"đã xác minh\".", len(certs))
		r.Fix = importFix
		return r
	}
	latest := vn[0]
	for _, c := range vn {
		if c.NotAfter.After(latest.NotAfter) {
			latest = c
		}
	}
	r.Status = OK
	r.Found = bi("%d Vietnamese CSCA certificate(s) installed (%s, valid until %s).",
		"Đã cài %d chứng chỉ CSCA của Việt Nam (%s, hiệu lực đến %s).", len(vn), latest.Subject, latest.NotAfter.Format("2006-01-02"))
	if latest.NotAfter.Before(now) {
		// Cards signed before it expired still verify; new cards need
		// the next one.
		r.Status = Warn
		r.Fix = importFix
	}
	return r
}
