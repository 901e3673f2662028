package patient

import "time"

// Medium says how an identity reached tiepdon.
type Medium string

// Media.
const (
	MediumChip   Medium = "chip"    // read from the CCCD chip over PC/SC
	MediumQRCCCD Medium = "qr-cccd" // QR code on the CCCD
	MediumQRBHYT Medium = "qr-bhyt" // QR code on a BHYT card, VssID or VNeID screen
	MediumTyped  Medium = "typed"   // typed by reception staff
	MediumQR     Medium = "qr"      // a QR scan whose kind is not known yet (or not a card QR at all)
)

// Identity is who the patient is, as far as the presented medium tells.
// Fields a medium does not carry are left zero.
type Identity struct {
	Medium    Medium    `json:"medium"`
	CitizenID CitizenID `json:"citizenId,omitempty"`
	OldID     string    `json:"oldId,omitempty"` // 9-digit CMND, if printed
	Name      Name      `json:"name,omitempty"`
	BirthDate Date      `json:"birthDate,omitzero"`
	Sex       Sex       `json:"sex,omitempty"`
	Address   string    `json:"address,omitempty"`
	IssueDate Date      `json:"issueDate,omitzero"` // ID card issue date

	// Printed on the BHYT card (QR) only.
	CardNumber            CardNumber `json:"cardNumber,omitempty"`
	SocialInsuranceNumber string     `json:"socialInsuranceNumber,omitempty"` // 10-digit mã số BHXH
	RegisteredFacility    string     `json:"registeredFacility,omitempty"`    // nơi ĐKBĐ code, e.g. "01043"
	CardValidFrom         Date       `json:"cardValidFrom,omitzero"`
	CardValidTo           Date       `json:"cardValidTo,omitzero"`
	FiveYearDate          Date       `json:"fiveYearDate,omitzero"`

	// From the chip only.
	Chip *ChipData `json:"chip,omitempty"`

	Authenticity Authenticity `json:"authenticity"`
}

// ChipData is what only the chip carries.
type ChipData struct {
	Photo       []byte    `json:"-"`                     // face image (JPEG or PNG), sent only to clients allowed to see it
	PhotoType   string    `json:"photoType,omitempty"`   // MIME type of Photo
	Ethnicity   string    `json:"ethnicity,omitempty"`   // DG13 field 6
	Religion    string    `json:"religion,omitempty"`    // DG13 field 7
	Hometown    string    `json:"hometown,omitempty"`    // DG13 field 8
	ExpiryDate  Date      `json:"expiryDate,omitzero"`   // DG13 field 12
	Nationality string    `json:"nationality,omitempty"` // DG13 field 5
	ReadAt      time.Time `json:"readAt"`
}

// Authenticity says how far the identity data can be trusted.
type Authenticity struct {
	Level  AuthLevel  `json:"level"`
	Detail string     `json:"detail,omitempty"` // for staff and logs; never personal data
	Clone  CloneCheck `json:"cloneCheck,omitempty"`
	// Signer is the chip's document signer certificate subject (passive
	// authentication), as signed receipts record it; "" for QR and typed data.
	Signer string `json:"signer,omitempty"`
}

// AuthLevel grades an identity's provenance.
type AuthLevel string

// Authenticity levels. QR codes and typed data are always Unverified: only a
// chip read with passive authentication proves the data.
const (
	Unverified          AuthLevel = "unverified"            // QR or typed: no proof
	Verified            AuthLevel = "verified"              // chip data hashes and signer chain verified against a trusted CSCA
	IntactIssuerUnknown AuthLevel = "intact-issuer-unknown" // chip data matches its SOD, but no trusted CSCA for the signer
	Failed              AuthLevel = "failed"                // chip data does not match its SOD or the signature is bad
)

// CloneCheck is the result of Active or Chip Authentication.
type CloneCheck string

// Clone-check results.
const (
	CloneNotChecked CloneCheck = ""
	ClonePassed     CloneCheck = "passed"
	CloneFailed     CloneCheck = "failed"
)

// Query is what a gateway check needs: the identifiers to try (in the order
// card number, social-insurance number, citizen ID) and the holder's name
// and date of birth.
type Query struct {
	CardNumber            CardNumber `json:"cardNumber,omitempty"`
	SocialInsuranceNumber string     `json:"socialInsuranceNumber,omitempty"`
	CitizenID             CitizenID  `json:"citizenId,omitempty"`
	Name                  Name       `json:"name"`
	BirthDate             Date       `json:"birthDate"`
	Staff                 Staff      `json:"staff"` // who asks (hoTenCb, cccdCb)
}

// QueryOf returns the gateway query for an identity.
func QueryOf(id Identity) Query {
	return Query{
		CardNumber:            id.CardNumber,
		SocialInsuranceNumber: id.SocialInsuranceNumber,
		CitizenID:             id.CitizenID,
		Name:                  id.Name,
		BirthDate:             id.BirthDate,
	}
}

// Candidates returns the values to send as maThe, in the order the gateway
// should be asked: 15-character card number, 10-digit social-insurance
// number, 12-digit citizen ID. Empty values are skipped.
func (q Query) Candidates() []string {
	var out []string
	for _, s := range []string{string(q.CardNumber), q.SocialInsuranceNumber, string(q.CitizenID)} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Empty reports whether q has no identifier at all.
func (q Query) Empty() bool { return len(q.Candidates()) == 0 }

// Staff is the reception staff member signed in for the shift. The 2024
// gateway check sends their name and CCCD (hoTenCb, cccdCb); the gateway
// refuses lookups by staff the facility has not registered (codes 054/055).
type Staff struct {
	Name      Name      `json:"name"`
	CitizenID CitizenID `json:"citizenId"`
}
