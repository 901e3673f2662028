package emrtd

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrUnknownIssuer means no CSCA in the store issued the document signer.
var ErrUnknownIssuer = errors.New("emrtd: document signer issuer not in the CSCA store")

// CSCAStore holds trusted country signing CA certificates.
type CSCAStore struct {
	certs []*Certificate
}

// NewCSCAStore returns an empty store.
func NewCSCAStore() *CSCAStore { return &CSCAStore{} }

// Len returns the number of certificates.
func (s *CSCAStore) Len() int {
	if s == nil {
		return 0
	}
	return len(s.certs)
}

// Add adds one parsed certificate.
func (s *CSCAStore) Add(c *Certificate) { s.certs = append(s.certs, c) }

// Certificates returns the trusted certificates.
func (s *CSCAStore) Certificates() []*Certificate {
	if s == nil {
		return nil
	}
	return append([]*Certificate(nil), s.certs...)
}

// AddBytes adds the certificates in b: PEM (any number of CERTIFICATE
// blocks), one DER certificate, or an ICAO CSCA master list (DER CMS, as
// published by ICAO and national PKDs), whose signature is checked and
// whose signer must be issued by a CSCA already in the store.
func (s *CSCAStore) AddBytes(b []byte) (int, error) {
	certs, ml, err := parseCSCAFile(b)
	if err != nil {
		return 0, err
	}
	if ml {
		if certs, _, err = ParseMasterList(b, s.certs); err != nil {
			return 0, err
		}
	}
	s.certs = append(s.certs, certs...)
	return len(certs), nil
}

// parseCSCAFile reads certificates from PEM or DER; ml is true (and certs
// nil) when b is none of them but may be a master list.
func parseCSCAFile(b []byte) (certs []*Certificate, ml bool, err error) {
	if bytes.Contains(b, []byte("-----BEGIN")) {
		for {
			var blk *pem.Block
			blk, b = pem.Decode(b)
			if blk == nil {
				break
			}
			if blk.Type != "CERTIFICATE" {
				continue
			}
			c, err := ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, false, err
			}
			certs = append(certs, c)
		}
		if len(certs) == 0 {
			return nil, false, errors.New("emrtd: no CERTIFICATE in PEM data")
		}
		return certs, false, nil
	}
	c, err := ParseCertificate(b)
	if err != nil {
		if _, _, mlErr := masterListData(b); mlErr != nil {
			return nil, false, err // neither: the certificate's error
		}
		return nil, true, nil
	}
	return []*Certificate{c}, false, nil
}

// LoadCSCAStore reads CSCA certificates from files (PEM, DER or an ICAO
// master list) and directories (every *.pem, *.crt, *.cer, *.der, *.ml
// inside, recursively). Certificates are read first, then master lists,
// whose signers must be issued by one of those certificates.
func LoadCSCAStore(paths ...string) (*CSCAStore, error) {
	s := NewCSCAStore()
	var files []string
	for _, p := range paths {
		if p == "" {
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("CSCA store: %w", err)
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".pem", ".crt", ".cer", ".der", ".ml":
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	var lists []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("CSCA store: %w", err)
		}
		certs, ml, err := parseCSCAFile(b)
		if err != nil {
			return nil, fmt.Errorf("CSCA store %s: %w", filepath.Base(f), err)
		}
		if ml {
			lists = append(lists, f)
		}
		s.certs = append(s.certs, certs...)
	}
	roots := s.Certificates()
	for _, f := range lists {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("CSCA store: %w", err)
		}
		certs, _, err := ParseMasterList(b, roots)
		if err != nil {
			return nil, fmt.Errorf("CSCA store %s: %w", filepath.Base(f), err)
		}
		s.certs = append(s.certs, certs...)
	}
	return s, nil
}

// Verify finds the CSCA that issued ds (by name, and key identifier when
// both carry one) and checks ds's signature with it, the CSCA's key usage
// and critical extensions, and that the CSCA was valid when it issued ds.
// signedAt is when ds signed the document (zero: unknown); ds must have
// been valid then. Neither is checked against today: documents outlive
// their signers (ICAO 9303-12 §7.1).
func (s *CSCAStore) Verify(ds *Certificate, signedAt time.Time) (*Certificate, error) {
	if err := ds.usableAs(false); err != nil {
		return nil, err
	}
	if !signedAt.IsZero() && !ds.validAt(signedAt) {
		return nil, fmt.Errorf("document signer %s was not valid when the document was signed", ds.Subject())
	}
	var lastErr error
	for _, c := range s.certs {
		if !sameName(c.RawSubject, ds.RawIssuer) {
			continue
		}
		if ds.AuthorityKeyID != nil && c.SubjectKeyID != nil && !bytes.Equal(ds.AuthorityKeyID, c.SubjectKeyID) {
			continue
		}
		if err := c.usableAs(true); err != nil {
			lastErr = err
			continue
		}
		if err := ds.CheckSignatureFrom(c); err != nil {
			lastErr = fmt.Errorf("signature by %s: %w", c.Subject(), err)
			continue
		}
		if !c.validAt(ds.NotBefore) {
			lastErr = fmt.Errorf("CSCA %s was not valid when it issued the signer", c.Subject())
			continue
		}
		return c, nil
	}
	if lastErr != nil {
		return nil, lastErr
	}
	return nil, ErrUnknownIssuer
}
