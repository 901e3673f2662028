package settings

import (
	"errors"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// The settings page is IT's: the window opens it with the IT PIN (its
// bcrypt hash is settings.pin_hash in the machine-wide config) or for an
// OS administrator. Wrong PINs lock it for a while, so a PIN cannot be
// guessed at the counter.
const (
	maxPINTries  = 5
	firstLockout = time.Minute
	maxLockout   = time.Hour
)

// ErrPINFormat is returned by HashPIN for a PIN too short or too long.
var ErrPINFormat = errors.New("the IT PIN must be 6 to 32 characters")

// HashPIN returns the bcrypt hash of pin for settings.pin_hash.
func HashPIN(pin string) (string, error) {
	if n := len([]rune(pin)); n < 6 || n > 32 {
		return "", ErrPINFormat
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pin), bcrypt.DefaultCost)
	return string(h), err
}

// PINSet reports whether IT has set a PIN for the settings page.
func (s *Store) PINSet() bool { return s.Config().Settings.PINHash != "" }

// Admin reports whether the window runs as an OS administrator, who may
// change settings without the PIN.
func (s *Store) Admin() bool {
	if s.o.Admin != nil {
		return s.o.Admin()
	}
	return isAdmin()
}

// Unlock checks pin against the IT PIN. While wrong PINs have locked the
// page it returns false and how long is left, without checking.
func (s *Store) Unlock(pin string) (ok bool, wait time.Duration) {
	now := s.now()
	s.mu.Lock()
	if now.Before(s.lockedUntil) {
		wait = s.lockedUntil.Sub(now)
		s.mu.Unlock()
		return false, wait
	}
	hash := s.cfg.Settings.PINHash
	s.mu.Unlock()
	ok = hash != "" && bcrypt.CompareHashAndPassword([]byte(hash), []byte(pin)) == nil
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok {
		s.pinFails, s.lockouts = 0, 0
		return true, 0
	}
	s.pinFails++
	if s.pinFails >= maxPINTries {
		d := firstLockout << s.lockouts
		if d > maxLockout || d <= 0 {
			d = maxLockout
		}
		s.lockouts++
		s.pinFails = 0
		s.lockedUntil = now.Add(d)
		s.o.Logger.Warn("The settings page is locked after five wrong IT PINs in a row; it opens again by itself after the wait; tell IT if nobody at the desk knows the PIN", "wait", d)
		return false, d
	}
	return false, 0
}

func (s *Store) now() time.Time {
	if s.o.Now != nil {
		return s.o.Now()
	}
	return time.Now()
}
