package bhxh_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/sync/bhxh"
	"github.com/tiepdon/tiepdon/sync/bhxhsim"
)

// BenchmarkCheck is one full Check (token cached) against the simulator on
// 127.0.0.1 with no added latency: the client's own cost plus one HTTP
// round trip.
func BenchmarkCheck(b *testing.B) {
	sim, url := startSim(b, bhxhsim.Options{Seed: 1})
	c := newClient(b, url, bhxh.Options{})
	q := query(example(b, sim, "000"))
	ctx := context.Background()
	if _, err := c.Check(ctx, q); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		if _, err := c.Check(ctx, q); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkDecodeCheck is decoding one full gateway answer.
func BenchmarkDecodeCheck(b *testing.B) {
	body := []byte(`{"maKetQua":"000","ghiChu":"Thẻ còn giá trị sử dụng","maThe":"DN4790123456789","hoTen":"Lê Thị Hoa","ngaySinh":"02/03/1990","gioiTinh":"Nữ","diaChi":"Số 12 đường Lê Lợi, Phường Bến Nghé, Thành phố Hồ Chí Minh","maDKBD":"79014","cqBHXH":"Bảo hiểm xã hội Hồ Chí Minh","gtTheTu":"01/01/2026","gtTheDen":"31/12/2026","maKV":"","ngayDu5Nam":"01/12/2015","maSoBHXH":"7901234567","dsLichSuKCB2018":null,"dsLichSuKT2018":[]}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bhxh.DecodeCheck(body); err != nil {
			b.Fatal(err)
		}
	}
}
