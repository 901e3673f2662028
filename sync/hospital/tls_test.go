package hospital_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tiepdon/tiepdon/agent/events"
	"github.com/tiepdon/tiepdon/agent/patient"
	"github.com/tiepdon/tiepdon/sync/hospital"
	"github.com/tiepdon/tiepdon/sync/hospital/pgtest"
)

// TestTLSClientCertificate runs the set-up docs/hospital.md recommends on a
// real PostgreSQL: TLS only, desks identified by a client certificate
// (pg_hba "hostssl … cert") and checking the server's name
// (sslmode=verify-full). A desk with its certificate connects, migrates
// and replicates; without a certificate, without TLS, or under a name the
// server's certificate does not carry, it gets no connection.
func TestTLSClientCertificate(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t)
	ca, caKey := newCert(t, nil, nil, "Bệnh viện test CA", nil, nil)
	srv, srvKey := newCert(t, ca, caKey, "db", []string{"localhost"}, nil)
	cli, cliKey := newCert(t, ca, caKey, "postgres", nil, nil) // cert auth: the CN is the role
	caFile := c.WriteFile(t, "ca.pem", pemCert(ca))
	srvFile, srvKeyFile := c.WriteFile(t, "server.pem", pemCert(srv)), c.WriteFile(t, "server.key", pemKey(t, srvKey))
	cliFile, cliKeyFile := c.WriteFile(t, "desk.pem", pemCert(cli)), c.WriteFile(t, "desk.key", pemKey(t, cliKey))
	c.WriteFile(t, "data/pg_hba.conf", []byte("local all all trust\nhostssl all all 127.0.0.1/32 cert\nhost all all 127.0.0.1/32 reject\n"))
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, c.DSN) // the unix socket
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	for _, q := range []string{
		"ALTER SYSTEM SET ssl = on",
		fmt.Sprintf("ALTER SYSTEM SET ssl_cert_file = '%s'", srvFile),
		fmt.Sprintf("ALTER SYSTEM SET ssl_key_file = '%s'", srvKeyFile),
		fmt.Sprintf("ALTER SYSTEM SET ssl_ca_file = '%s'", caFile),
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	c.Reload(t)
	dsn := func(host, extra string) string {
		return fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres connect_timeout=3 %s", host, c.Port, extra)
	}
	good := dsn("localhost", fmt.Sprintf("sslmode=verify-full sslrootcert=%s sslcert=%s sslkey=%s", caFile, cliFile, cliKeyFile))
	// The server loads its TLS files and pg_hba.conf after it tells its
	// backends to reload: wait until new connections see both.
	waitFor(t, "PostgreSQL to take TLS and the new pg_hba.conf", func() bool {
		conn, err := pgx.Connect(ctx, good)
		if err != nil {
			return false
		}
		conn.Close(ctx)
		plain, err := pgx.Connect(ctx, dsn("localhost", "sslmode=disable"))
		if err == nil {
			plain.Close(ctx)
		}
		return err != nil
	})
	for _, bad := range []struct{ what, dsn, says string }{
		{"without a client certificate", dsn("localhost", "sslmode=verify-full sslrootcert="+caFile), "certificate"},
		{"without TLS", dsn("localhost", "sslmode=disable"), "rejects"},
		{"under a name the server's certificate lacks", dsn("127.0.0.1", fmt.Sprintf("sslmode=verify-full sslrootcert=%s sslcert=%s sslkey=%s", caFile, cliFile, cliKeyFile)), "127.0.0.1"},
	} {
		conn, err := pgx.Connect(ctx, bad.dsn)
		if err == nil {
			conn.Close(ctx)
			t.Errorf("a desk connected %s", bad.what)
		} else if !strings.Contains(err.Error(), bad.says) {
			t.Errorf("a desk %s was refused, but not for that reason: %v", bad.what, err)
		}
	}

	h, err := hospital.New(hospital.Options{DSN: good, Keys: testKeys(t), DeskID: "desk-tls", Desk: "Quầy 1", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	db := runDesk(t, h).db
	waitFor(t, "the desk to connect over TLS with its certificate", func() bool { ok, _ := h.Ready(); return ok })
	if err := db.SaveResult(ctx, events.EligibilityResult, answer("c1", an, "", time.Now())); err != nil {
		t.Fatal(err)
	}
	waitRows(t, admin, "desk-tls", 1)
	var ssl bool
	if err := admin.QueryRow(ctx, `SELECT bool_or(ssl) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE client_addr IS NOT NULL`).Scan(&ssl); err != nil || !ssl {
		t.Errorf("the desk's connections are not over TLS (%v)", err)
	}
	if _, ok, err := h.Lookup(ctx, patient.Query{CitizenID: an.CitizenID}, time.Now().Add(-time.Hour)); err != nil || !ok {
		t.Errorf("a lookup over TLS: %v %v", ok, err)
	}
}

// newCert makes a certificate for cn (a CA when parent is nil) with the
// DNS names and IPs given.
func newCert(t *testing.T, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, cn string, dns []string, ips []net.IP) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn}, DNSNames: dns, IPAddresses: ips,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	signer, signerKey := tmpl, key
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign
		tmpl.ExtKeyUsage = nil
	} else {
		signer, signerKey = parent, parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func pemKey(t *testing.T, k *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}
