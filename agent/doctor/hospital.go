package doctor

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/tiepdon/tiepdon/agent/config"
)

// KeyFile is what the hospital-keys check is told of the hospital key file
// and of PostgreSQL. cmd/tiepdon reads both with sync/hospital, which the
// core does not import (as it lists the CSCAs for the csca check).
type KeyFile struct {
	IDs       []string // the keys the file holds, the sealing one first
	Needed    []string // the keys PostgreSQL's data still needs
	NeededErr error    // why Needed is unknown (PostgreSQL did not answer within a few seconds, or the role may not read answers)
}

// HospitalKeys checks hospital mode's key file ([hospital] key_file), as
// read reports it: that it reads and parses (read's error says why not),
// and, when PostgreSQL answers, that it holds every key the data there
// still needs (answers within the cache retention, the fleet's gateway
// password). A running desk refuses such a file and keeps the keys it had,
// so this is what IT must fix. The findings name keys by ID only, never
// their secret.
func HospitalKeys(ctx context.Context, c *config.Config, read func(context.Context, *config.Config) (KeyFile, error)) Result {
	r := Result{Check: "hospital-keys"}
	h := c.Hospital
	if h.DSN == "" {
		r.Status = Skip
		r.Found = bi("Not checked: hospital mode is off (no [hospital] dsn).", "Không kiểm tra: chế độ bệnh viện đang tắt (không có [hospital] dsn).")
		return r
	}
	fix := bi("Copy the hospital's current key file (IT's safe, or IT's machine after tiepdon fleet new-key / promote-key) to %s, readable only by the accounts that run tiepdon. A running tiepdon takes it within 20 s.",
		"Chép tệp khoá hiện tại của bệnh viện (trong két của IT, hoặc máy của IT sau tiepdon fleet new-key / promote-key) vào %s, chỉ tài khoản chạy tiepdon được đọc. tiepdon đang chạy sẽ dùng nó trong vòng 20 giây.", h.KeyFile)
	kf, err := read(ctx, c)
	if err == nil && len(kf.IDs) == 0 {
		err = errors.New("the file holds no key")
	}
	if err == nil {
		return neededKeys(r, c, kf, fix)
	}
	r.Status = Fail
	r.Found = bi("The hospital key file cannot be used (%v): a running tiepdon keeps the keys it read before, a starting one cannot start in hospital mode.",
		"Không dùng được tệp khoá bệnh viện (%v): tiepdon đang chạy giữ các khoá đã đọc trước đó, tiepdon khởi động lại sẽ không chạy được ở chế độ bệnh viện.", err)
	r.Fix = fix
	return r
}

func neededKeys(r Result, c *config.Config, kf KeyFile, fix Text) Result {
	r.Status = OK
	r.Found = bi("The hospital key file %s holds keys %s; %s seals new data.", "Tệp khoá bệnh viện %s có các khoá %s; %s mã hoá dữ liệu mới.",
		c.Hospital.KeyFile, strings.Join(kf.IDs, ", "), kf.IDs[0])
	if kf.NeededErr != nil {
		r.Found.EN += " PostgreSQL did not answer (or this role may not read answers), so which keys its data still needs was not checked."
		r.Found.VI += " PostgreSQL không trả lời (hoặc vai trò này không được đọc kết quả) nên chưa kiểm tra được dữ liệu còn cần khoá nào."
		return r
	}
	var missing []string
	for _, id := range kf.Needed {
		if !slices.Contains(kf.IDs, id) {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return r
	}
	slices.Sort(missing)
	m := strings.Join(missing, ", ")
	r.Status = Fail
	r.Found.EN += " But it lacks key " + m + ", which still opens answers of the last days in PostgreSQL or the fleet's gateway password: a running tiepdon refuses this file and keeps the keys it had."
	r.Found.VI += " Nhưng tệp thiếu khoá " + m + ", khoá vẫn còn cần để mở kết quả những ngày gần đây trong PostgreSQL hoặc mật khẩu cổng BHXH chung: tiepdon đang chạy từ chối tệp này và giữ các khoá cũ."
	r.Fix = fix
	return r
}
