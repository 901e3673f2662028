package doctor

import (
	"context"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tiepdon/tiepdon/agent/config"
	"github.com/tiepdon/tiepdon/sync/hospital"
)

// HospitalKeys checks hospital mode's key file ([hospital] key_file): that
// it reads and parses, and, when PostgreSQL answers within a few seconds,
// that it holds every key the data there still needs (answers within the
// cache retention, the fleet's gateway password). A running desk refuses
// such a file and keeps the keys it had, so this is what IT must fix. The
// findings name keys by ID only, never their secret.
func HospitalKeys(ctx context.Context, c *config.Config) Result {
	r := Result{Check: "hospital-keys"}
	h := c.Hospital
	if h.DSN == "" {
		r.Status = Skip
		r.Found = bi("Not checked: hospital mode is off (no [hospital] dsn).", "Không kiểm tra: chế độ bệnh viện đang tắt (không có [hospital] dsn).")
		return r
	}
	fix := bi("Copy the hospital's current key file (IT's safe, or IT's machine after tiepdon fleet new-key / promote-key) to %s, readable only by the accounts that run tiepdon. A running tiepdon takes it within 20 s.",
		"Chép tệp khoá hiện tại của bệnh viện (trong két của IT, hoặc máy của IT sau tiepdon fleet new-key / promote-key) vào %s, chỉ tài khoản chạy tiepdon được đọc. tiepdon đang chạy sẽ dùng nó trong vòng 20 giây.", h.KeyFile)
	b, err := os.ReadFile(h.KeyFile)
	if err == nil {
		var keys *hospital.Keyring
		if keys, err = hospital.ParseKeys(b); err == nil {
			return neededKeys(ctx, r, c, keys, fix)
		}
	}
	r.Status = Fail
	r.Found = bi("The hospital key file cannot be used (%v): a running tiepdon keeps the keys it read before, a starting one cannot start in hospital mode.",
		"Không dùng được tệp khoá bệnh viện (%v): tiepdon đang chạy giữ các khoá đã đọc trước đó, tiepdon khởi động lại sẽ không chạy được ở chế độ bệnh viện.", err)
	r.Fix = fix
	return r
}

func neededKeys(ctx context.Context, r Result, c *config.Config, keys *hospital.Keyring, fix Text) Result {
	ids := strings.Join(keys.IDs(), ", ")
	r.Status = OK
	r.Found = bi("The hospital key file %s holds keys %s; %s seals new data.", "Tệp khoá bệnh viện %s có các khoá %s; %s mã hoá dữ liệu mới.",
		c.Hospital.KeyFile, ids, keys.Current())
	needed, err := func() ([]string, error) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		pc, err := pgxpool.ParseConfig(c.Hospital.DSN)
		if err != nil {
			return nil, err
		}
		pc.ConnConfig.ConnectTimeout = 3 * time.Second
		pool, err := pgxpool.NewWithConfig(ctx, pc)
		if err != nil {
			return nil, err
		}
		defer pool.Close()
		return hospital.NeededKeys(ctx, pool, c.Cache.Retention.Duration)
	}()
	if err != nil {
		r.Found.EN += " PostgreSQL did not answer (or this role may not read answers), so which keys its data still needs was not checked."
		r.Found.VI += " PostgreSQL không trả lời (hoặc vai trò này không được đọc kết quả) nên chưa kiểm tra được dữ liệu còn cần khoá nào."
		return r
	}
	var missing []string
	for _, id := range needed {
		if !keys.Holds(id) {
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
