package settings

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/tiepdon/tiepdon/agent"
	"github.com/tiepdon/tiepdon/agent/config"
	"github.com/tiepdon/tiepdon/agent/patient"
)

func TestPINUnlockAndLockout(t *testing.T) {
	hash, err := HashPIN("246810")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := HashPIN("123"); !errors.Is(err, ErrPINFormat) {
		t.Errorf("a 3-character PIN: %v, want ErrPINFormat", err)
	}
	now := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	cfg := config.Default()
	cfg.Settings.PINHash = hash
	s, err := New(cfg, Options{NewGateway: func(config.Config) (agent.Checker, error) { return nil, nil },
		Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if !s.PINSet() {
		t.Fatal("PINSet = false with a hash configured")
	}
	if ok, _ := s.Unlock("246810"); !ok {
		t.Fatal("the right PIN did not unlock")
	}
	for i := 1; i < maxPINTries; i++ {
		if ok, wait := s.Unlock("000000"); ok || wait != 0 {
			t.Fatalf("wrong PIN %d: ok %v wait %v", i, ok, wait)
		}
	}
	if ok, wait := s.Unlock("000000"); ok || wait != firstLockout {
		t.Fatalf("fifth wrong PIN: ok %v wait %v, want locked for %v", ok, wait, firstLockout)
	}
	if ok, wait := s.Unlock("246810"); ok || wait <= 0 {
		t.Errorf("while locked the right PIN unlocked (ok %v, wait %v)", ok, wait)
	}
	now = now.Add(firstLockout)
	for i := 0; i < maxPINTries; i++ {
		s.Unlock("000000")
	}
	if ok, wait := s.Unlock("246810"); ok || wait != 2*firstLockout {
		t.Errorf("second lockout in a row: ok %v wait %v, want %v", ok, wait, 2*firstLockout)
	}
	now = now.Add(2 * firstLockout)
	if ok, _ := s.Unlock("246810"); !ok {
		t.Error("after the wait the right PIN did not unlock")
	}
}

// signer is a gateway client whose sign-in fails with err.
type signer struct{ err error }

func (signer) Check(context.Context, patient.Query) (patient.Eligibility, error) {
	return patient.Eligibility{}, agent.ErrUnavailable
}
func (s signer) TrySignIn(context.Context) error { return s.err }

func TestTryGateway(t *testing.T) {
	r := newRig(t, false)
	refused := errors.New("login: code 401")
	made := 0
	r.s.o.NewGateway = func(c config.Config) (agent.Checker, error) {
		made++
		if c.Gateway.Username == "79014_BV" {
			return signer{}, nil
		}
		return signer{refused}, nil
	}
	cur := r.s.Config()
	same := Change{GatewayURL: cur.Gateway.URL, GatewayUser: cur.Gateway.Username, RetentionDays: 30}
	if err := r.s.Try(t.Context(), same, time.Second); err != nil || made != 0 {
		t.Errorf("unchanged gateway: %v after %d clients, want no test", err, made)
	}
	wrong := same
	wrong.GatewayUser = "79015_BV"
	err := r.s.Try(t.Context(), wrong, time.Second)
	if !errors.Is(err, ErrGatewayTest) || !errors.Is(err, refused) {
		t.Errorf("refused account: %v, want ErrGatewayTest wrapping the gateway's reason", err)
	}
	if _, statErr := r.s.Config(), error(nil); statErr != nil || r.s.Config().Gateway.Username != "79014_BV" {
		t.Error("Try changed the running config")
	}
	good := same
	good.GatewayPassword = "new secret"
	if err := r.s.Try(t.Context(), good, time.Second); err != nil {
		t.Errorf("good account: %v", err)
	}
	if len(r.used) != 0 {
		t.Errorf("Try put %d gateway clients to work", len(r.used))
	}
}
