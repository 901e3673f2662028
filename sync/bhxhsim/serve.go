package bhxhsim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Serve listens on addr (e.g. "127.0.0.1:0" for any free port) and serves
// the simulator until ctx ends. It returns the address it listens on at
// once; the server stops by itself when ctx is done.
func (s *Sim) Serve(ctx context.Context, addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("bhxhsim: listening on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("The gateway simulator stopped on an error; restart it (tiepdon sim)", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		s.Close() // release requests held by the Timeout fault
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
	}()
	return ln.Addr(), nil
}

// URL returns the base URL for a listener address returned by Serve.
func URL(a net.Addr) string { return "http://" + a.String() }
