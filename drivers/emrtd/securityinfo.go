package emrtd

import (
	"encoding/asn1"
	"fmt"
)

// Object identifiers of ICAO 9303-11 §9.2 (bsi-de 0.4.0.127.0.7).
var (
	oidBSI      = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7}
	oidPACE     = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 4}
	oidCA       = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 3}
	oidPK       = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 1}
	oidAA       = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 5}
	oidPKDH     = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 1, 1}
	oidPKECDH   = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 1, 2}
	oidECPubKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
)

// PACE mappings.
const (
	MappingGM  = 1 // generic mapping
	MappingIM  = 2 // integrated mapping
	MappingCAM = 3 // chip authentication mapping
)

// PACEOID returns id-PACE-{DH,ECDH}-{GM,IM,CAM}-<cipher>.
func PACEOID(ecdh bool, mapping int, c Cipher) asn1.ObjectIdentifier {
	var m int
	switch {
	case mapping == MappingGM && !ecdh:
		m = 1
	case mapping == MappingGM:
		m = 2
	case mapping == MappingIM && !ecdh:
		m = 3
	case mapping == MappingIM:
		m = 4
	default:
		m = 6
	}
	return append(append(asn1.ObjectIdentifier{}, oidPACE...), m, int(c))
}

// CAOID returns id-CA-{DH,ECDH}-<cipher>.
func CAOID(ecdh bool, c Cipher) asn1.ObjectIdentifier {
	k := 1
	if ecdh {
		k = 2
	}
	return append(append(asn1.ObjectIdentifier{}, oidCA...), k, int(c))
}

// PACEInfo is one PACE protocol the chip offers (EF.CardAccess).
type PACEInfo struct {
	Protocol    asn1.ObjectIdentifier
	Version     int
	ParameterID int // standardized domain parameters; -1 if absent
	ECDH        bool
	Mapping     int // MappingGM, MappingIM, MappingCAM
	Cipher      Cipher
}

// Supported reports whether this package can run the protocol: ECDH with
// generic mapping on a curve CurveByParameterID knows.
func (p PACEInfo) Supported() bool {
	return p.ECDH && p.Mapping == MappingGM && p.Cipher.Valid() && CurveByParameterID(p.ParameterID) != nil
}

// ChipAuthenticationInfo is a Chip Authentication protocol (DG14).
type ChipAuthenticationInfo struct {
	Protocol asn1.ObjectIdentifier
	Version  int
	KeyID    int // -1 if absent
	ECDH     bool
	Cipher   Cipher
}

// ChipAuthenticationPublicKeyInfo is the chip's static key (DG14).
type ChipAuthenticationPublicKeyInfo struct {
	Protocol  asn1.ObjectIdentifier
	PublicKey *PublicKey
	KeyID     int // -1 if absent
}

// ActiveAuthenticationInfo names the signature algorithm of ECDSA Active
// Authentication (DG14).
type ActiveAuthenticationInfo struct {
	Version            int
	SignatureAlgorithm asn1.ObjectIdentifier
}

// SecurityInfos is the content of EF.CardAccess or DG14.
type SecurityInfos struct {
	PACE     []PACEInfo
	ChipAuth []ChipAuthenticationInfo
	ChipKeys []ChipAuthenticationPublicKeyInfo
	AA       *ActiveAuthenticationInfo
	Unknown  []asn1.ObjectIdentifier // protocols this package ignores
}

type securityInfo struct {
	Protocol asn1.ObjectIdentifier
	Required asn1.RawValue
	Optional asn1.RawValue `asn1:"optional"`
}

// ParseSecurityInfos parses SecurityInfos (a SET OF SecurityInfo, DER or
// BER), as in EF.CardAccess; a DG14 wrapper (tag '6E') is removed first.
func ParseSecurityInfos(b []byte) (*SecurityInfos, error) {
	if len(b) > 0 && b[0] == 0x6E {
		t, _, err := ParseTLV(b)
		if err != nil {
			return nil, fmt.Errorf("parsing DG14: %w", err)
		}
		b = t.Value
	}
	if der, err := toDER(b); err == nil {
		b = der // chips may write BER (indefinite or long lengths)
	}
	var raw []asn1.RawValue
	rest, err := asn1.UnmarshalWithParams(b, &raw, "set")
	if err != nil {
		return nil, malformed("SecurityInfos: %v", err)
	}
	if len(rest) > 0 {
		return nil, malformed("SecurityInfos: %d trailing bytes", len(rest))
	}
	out := &SecurityInfos{}
	for _, r := range raw {
		var si securityInfo
		if rest, err := asn1.Unmarshal(r.FullBytes, &si); err != nil || len(rest) > 0 {
			return nil, malformed("SecurityInfo: %v", err)
		}
		p := si.Protocol
		switch {
		case hasPrefix(p, oidPACE) && len(p) == len(oidPACE)+2:
			info := PACEInfo{Protocol: p, ParameterID: -1}
			if _, err := asn1.Unmarshal(si.Required.FullBytes, &info.Version); err != nil {
				return nil, malformed("PACEInfo version: %v", err)
			}
			if len(si.Optional.FullBytes) > 0 {
				if _, err := asn1.Unmarshal(si.Optional.FullBytes, &info.ParameterID); err != nil {
					// PACEDomainParameterInfo or proprietary: keep -1.
					info.ParameterID = -1
				}
			}
			switch p[len(oidPACE)] {
			case 1:
				info.Mapping = MappingGM
			case 2:
				info.Mapping, info.ECDH = MappingGM, true
			case 3:
				info.Mapping = MappingIM
			case 4:
				info.Mapping, info.ECDH = MappingIM, true
			case 6:
				info.Mapping, info.ECDH = MappingCAM, true
			default:
				out.Unknown = append(out.Unknown, p)
				continue
			}
			info.Cipher = Cipher(p[len(oidPACE)+1])
			if !info.Cipher.Valid() {
				out.Unknown = append(out.Unknown, p)
				continue
			}
			out.PACE = append(out.PACE, info)
		case hasPrefix(p, oidCA) && len(p) == len(oidCA)+2:
			info := ChipAuthenticationInfo{Protocol: p, KeyID: -1, ECDH: p[len(oidCA)] == 2, Cipher: Cipher(p[len(oidCA)+1])}
			if _, err := asn1.Unmarshal(si.Required.FullBytes, &info.Version); err != nil {
				return nil, malformed("ChipAuthenticationInfo version: %v", err)
			}
			if len(si.Optional.FullBytes) > 0 {
				if _, err := asn1.Unmarshal(si.Optional.FullBytes, &info.KeyID); err != nil {
					return nil, malformed("ChipAuthenticationInfo keyId: %v", err)
				}
			}
			out.ChipAuth = append(out.ChipAuth, info)
		case p.Equal(oidPKDH) || p.Equal(oidPKECDH):
			pk, err := ParsePublicKeyInfo(si.Required.FullBytes)
			if err != nil {
				return nil, fmt.Errorf("ChipAuthenticationPublicKeyInfo: %w", err)
			}
			info := ChipAuthenticationPublicKeyInfo{Protocol: p, PublicKey: pk, KeyID: -1}
			if len(si.Optional.FullBytes) > 0 {
				if _, err := asn1.Unmarshal(si.Optional.FullBytes, &info.KeyID); err != nil {
					return nil, malformed("ChipAuthenticationPublicKeyInfo keyId: %v", err)
				}
			}
			out.ChipKeys = append(out.ChipKeys, info)
		case p.Equal(oidAA):
			info := &ActiveAuthenticationInfo{}
			if _, err := asn1.Unmarshal(si.Required.FullBytes, &info.Version); err != nil {
				return nil, malformed("ActiveAuthenticationInfo version: %v", err)
			}
			if len(si.Optional.FullBytes) > 0 {
				if _, err := asn1.Unmarshal(si.Optional.FullBytes, &info.SignatureAlgorithm); err != nil {
					return nil, malformed("ActiveAuthenticationInfo algorithm: %v", err)
				}
			}
			out.AA = info
		default:
			out.Unknown = append(out.Unknown, p)
		}
	}
	return out, nil
}

func hasPrefix(oid, prefix asn1.ObjectIdentifier) bool {
	return len(oid) >= len(prefix) && oid[:len(prefix)].Equal(prefix)
}

// PreferredPACE returns the best PACE protocol this package supports:
// AES before 3DES, then larger keys, or false if none.
func (s *SecurityInfos) PreferredPACE() (PACEInfo, bool) {
	best, ok := PACEInfo{}, false
	for _, p := range s.PACE {
		if !p.Supported() {
			continue
		}
		if !ok || p.Cipher > best.Cipher {
			best, ok = p, true
		}
	}
	return best, ok
}
