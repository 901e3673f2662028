package words

import (
	"errors"
	"fmt"
	"testing"
)

func TestErr(t *testing.T) {
	e := Error("gateway test failed", "thử cổng không được")
	var vi interface{ Vietnamese() string }
	if !errors.As(fmt.Errorf("x: %w", e), &vi) || vi.Vietnamese() != "thử cổng không được" {
		t.Error("the Vietnamese words are not found through wrapping")
	}
	if !errors.Is(fmt.Errorf("x: %w", e), e) || e.Error() != "gateway test failed" || errors.Is(Error("gateway test failed", "x"), e) {
		t.Error("a words error is not a plain sentinel error")
	}
}
