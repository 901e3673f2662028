package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/tiepdon/tiepdon/agent/config"
	"github.com/tiepdon/tiepdon/sync/fleet"
)

// fleetServeReady tells tests where the page listens.
var fleetServeReady = func(net.Addr) {}

// fleetServe runs the read-only fleet page on an IT machine (never on a
// desk): token sign-in, HTTPS when given a certificate.
func fleetServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("fleet serve", "fleet serve [--addr 127.0.0.1:8740] [--cert FILE --key FILE] [--token-file FILE] [--new-token] [--missing-after 2m] [--config FILE] [--dsn DSN]", stderr)
	var c fleetConn
	c.flags(fs)
	addr := fs.String("addr", "127.0.0.1:8740", "address to listen on (e.g. :8740 for the IT network)")
	cert := fs.String("cert", "", "TLS certificate (PEM) for HTTPS")
	key := fs.String("key", "", "TLS private key (PEM) for HTTPS")
	tokenFile := fs.String("token-file", "", "file keeping the access token's hash (default: fleet-page-token in the data folder)")
	newToken := fs.Bool("new-token", false, "make a new access token (the old one stops working)")
	missing := fs.Duration("missing-after", fleet.MissingAfter, "a desk silent this long is missing")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if (*cert == "") != (*key == "") {
		fmt.Fprintln(stderr, "tiepdon fleet serve: --cert and --key go together")
		return 2
	}
	if *tokenFile == "" {
		cfg, err := config.Load(c.configFile, os.Getenv)
		if err != nil {
			return fleetFail(stderr, "serve", err)
		}
		*tokenFile = filepath.Join(cfg.ResolvedDataDir(), "fleet-page-token")
	}
	hash, token, err := fleet.TokenFile(*tokenFile, *newToken)
	if err != nil {
		return fleetFail(stderr, "serve", err)
	}
	if token != "" {
		fmt.Fprintf(stdout, "The fleet page's access token (shown this once; %s keeps only its hash):\n\n    %s\n\n", *tokenFile, token)
	}
	p, err := c.pool(ctx)
	if err != nil {
		return fleetFail(stderr, "serve", err)
	}
	defer p.Close()
	log := slog.New(slog.NewTextHandler(stderr, nil))
	page, err := fleet.NewPage(fleet.PageOptions{Pool: p, TokenHash: hash, MissingAfter: *missing, Secure: *cert != "", Logger: log})
	if err != nil {
		return fleetFail(stderr, "serve", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fleetFail(stderr, "serve", err)
	}
	scheme := "http"
	if *cert != "" {
		scheme = "https"
	} else if host, _, _ := net.SplitHostPort(ln.Addr().String()); !config.IsLoopback(host) {
		log.Warn("The fleet page is served over plain HTTP on the network, so the access token crosses it readable; pass --cert and --key for HTTPS")
	}
	srv := &http.Server{Handler: page, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	fmt.Fprintf(stdout, "Fleet page: %s://%s/\n", scheme, ln.Addr())
	fleetServeReady(ln.Addr())
	if *cert != "" {
		err = srv.ServeTLS(ln, *cert, *key)
	} else {
		err = srv.Serve(ln)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fleetFail(stderr, "serve", err)
	}
	return 0
}
