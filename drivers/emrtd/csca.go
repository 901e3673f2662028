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

// AddBytes adds the certificates in b: PEM (any number of CERTIFICATE
// blocks), one DER certificate, or an ICAO CSCA master list (DER CMS, as
// published by ICAO and national PKDs; its own signature is not checked).
func (s *CSCAStore) AddBytes(b []byte) (int, error) {
	if bytes.Contains(b, []byte("-----BEGIN")) {
		n := 0
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
				return n, err
			}
			s.Add(c)
			n++
		}
		if n == 0 {
			return 0, errors.New("emrtd: no CERTIFICATE in PEM data")
		}
		return n, nil
	}
	c, err := ParseCertificate(b)
	if err != nil {
		certs, mlErr := parseMasterList(b)
		if mlErr != nil {
			return 0, err
		}
		for _, c := range certs {
			s.Add(c)
		}
		return len(certs), nil
	}
	s.Add(c)
	return 1, nil
}

// LoadCSCAStore reads CSCA certificates from files (PEM, DER or an ICAO
// master list) and directories (every *.pem, *.crt, *.cer, *.der, *.ml
// inside, recursively).
func LoadCSCAStore(paths ...string) (*CSCAStore, error) {
	s := NewCSCAStore()
	for _, p := range paths {
		if p == "" {
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("CSCA store: %w", err)
		}
		if !fi.IsDir() {
			if err := s.addFile(p); err != nil {
				return nil, err
			}
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".pem", ".crt", ".cer", ".der", ".ml":
				return s.addFile(path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *CSCAStore) addFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("CSCA store: %w", err)
	}
	if _, err := s.AddBytes(b); err != nil {
		return fmt.Errorf("CSCA store %s: %w", filepath.Base(path), err)
	}
	return nil
}

// Verify finds the CSCA that issued ds (by name, and key identifier when
// both carry one) and checks ds's signature with it. The document signer's
// validity period is not enforced (documents outlive their signers); a
// CSCA that had expired before the signer was issued is refused.
func (s *CSCAStore) Verify(ds *Certificate, _ time.Time) (*Certificate, error) {
	var lastErr error
	for _, c := range s.certs {
		if !sameName(c.RawSubject, ds.RawIssuer) {
			continue
		}
		if ds.AuthorityKeyID != nil && c.SubjectKeyID != nil && !bytes.Equal(ds.AuthorityKeyID, c.SubjectKeyID) {
			continue
		}
		if err := ds.CheckSignatureFrom(c); err != nil {
			lastErr = fmt.Errorf("signature by %s: %w", c.Subject(), err)
			continue
		}
		if !c.NotAfter.IsZero() && ds.NotBefore.After(c.NotAfter) {
			lastErr = fmt.Errorf("CSCA %s expired before the signer was issued", c.Subject())
			continue
		}
		return c, nil
	}
	if lastErr != nil {
		return nil, lastErr
	}
	return nil, ErrUnknownIssuer
}
