package cccd

import (
	"errors"
	"fmt"

	"github.com/tiepdon/tiepdon/agent/patient"
)

// ErrInvalidID is returned for a citizen ID that is not 12 digits.
var ErrInvalidID = errors.New("cccd: citizen ID is not 12 digits")

// Keys is the key material a CCCD chip can be opened with, derived from
// the holder's 12-digit citizen ID (and, for BAC, dates).
type Keys struct {
	// CAN is the card access number for PACE: the last 6 digits of the ID.
	CAN string
	// DocumentNumber is the MRZ document number for BAC: the last 9
	// digits of the ID.
	DocumentNumber string
	// BirthDate and ExpiryDate complete the BAC key seed when known
	// (from a QR scan, from the card's printed face, or typed).
	BirthDate, ExpiryDate patient.Date
}

// KeysFromID derives the CAN and the MRZ document number from id.
func KeysFromID(id patient.CitizenID) (Keys, error) {
	if !id.Valid() {
		return Keys{}, ErrInvalidID
	}
	return Keys{CAN: string(id[6:]), DocumentNumber: string(id[3:])}, nil
}

// KeysFromIdentity derives keys from an identity (a CCCD QR read): the CAN
// and document number from its citizen ID, the birth date as read and the
// expiry date as ExpiryFor estimates it from the birth and issue dates.
func KeysFromIdentity(id patient.Identity) (Keys, error) {
	k, err := KeysFromID(id.CitizenID)
	if err != nil {
		return Keys{}, err
	}
	k.BirthDate = id.BirthDate
	if id.Chip != nil && !id.Chip.ExpiryDate.IsZero() {
		k.ExpiryDate = id.Chip.ExpiryDate
	} else if e, ok := ExpiryFor(id.BirthDate, id.IssueDate); ok {
		k.ExpiryDate = e
	}
	return k, nil
}

// ValidCAN reports whether s has the shape of a CCCD CAN: 6 digits.
func ValidCAN(s string) bool { return len(s) == 6 && isDigits(s) }

// ExpiryFor estimates a CCCD's expiry date from the holder's birth date and
// the card's issue date, by the rule of the 2014 Citizen Identification
// Law (art. 21): a card is renewed on the 25th, 40th and 60th birthdays, and
// one issued within two years before such a birthday lasts until the next.
// ok is false when the dates are partial or the card does not expire
// (issued within two years of the 60th birthday or after it).
//
// This is an inference to try BAC with when only a QR was read; the MRZ on
// the card is the authority.
func ExpiryFor(birth, issue patient.Date) (expiry patient.Date, ok bool) {
	if !birth.Full() || !issue.Full() {
		return patient.Date{}, false
	}
	for _, age := range []int{25, 40, 60} {
		milestone := patient.Date{Year: birth.Year + age, Month: birth.Month, Day: birth.Day}
		if birth.Month == 2 && birth.Day == 29 && !leap(milestone.Year) {
			milestone.Day = 28
		}
		// Issued at least two years before the milestone: expires then.
		twoBefore := milestone.Time().AddDate(-2, 0, 0)
		if issue.Time().Before(twoBefore) {
			return milestone, true
		}
	}
	return patient.Date{}, false
}

func leap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// String describes k without personal data (for logs).
func (k Keys) String() string {
	return fmt.Sprintf("cccd.Keys{CAN:%t DocumentNumber:%t Dates:%t}", k.CAN != "", k.DocumentNumber != "",
		k.BirthDate.Full() && k.ExpiryDate.Full())
}
