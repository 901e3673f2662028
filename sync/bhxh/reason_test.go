package bhxh

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestReason(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("checking: %w", &CodeError{Step: "check", Code: "500"}), "gateway code 500"},
		{fmt.Errorf("checking: %w", ErrBreakerOpen), "gateway offline"},
		{fmt.Errorf("posting https://egw.example/api?token=abc: %w", context.DeadlineExceeded), "timeout"},
		{ErrBadResponse, "answer not understood"},
		{errors.New("dial tcp 10.0.0.1:443: connection refused"), "gateway unavailable"},
	} {
		if got := Reason(tc.err); got != tc.want {
			t.Errorf("Reason(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
