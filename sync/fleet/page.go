package fleet

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// The fleet page is read-only and served by "tiepdon fleet serve" on an IT
// machine, never by a desk. Access is by a token: "tiepdon fleet serve"
// makes one on first start, prints it once and keeps only its SHA-256 in
// the token file; IT types it into the page's sign-in form (or a script
// sends it as "Authorization: Bearer TOKEN"), and the page answers with a
// session cookie (HttpOnly, SameSite=Strict, Secure over HTTPS) valid for
// 12 hours. "tiepdon fleet serve --new-token" replaces the token.

//go:embed page.html
var pageFS embed.FS

var pageTmpl = template.Must(template.New("page.html").Funcs(template.FuncMap{
	"ago": func(d time.Duration) string { return roundAge(d) + " ago" },
	"clock": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.Local().Format("2006-01-02 15:04:05")
	},
	"devices": func(ds []Device) string {
		if len(ds) == 0 {
			return "none"
		}
		var parts []string
		for _, d := range ds {
			parts = append(parts, d.Name+": "+d.State)
		}
		return strings.Join(parts, ", ")
	},
	"ms": func(d time.Duration) int64 { return d.Milliseconds() },
}).ParseFS(pageFS, "page.html"))

// sessionTTL is how long a sign-in lasts.
const sessionTTL = 12 * time.Hour

// PageOptions configure the fleet page.
type PageOptions struct {
	Pool *pgxpool.Pool
	// TokenHash is the SHA-256 of the access token (TokenFile reads it).
	TokenHash    []byte
	MissingAfter time.Duration
	// Secure marks the session cookie Secure (the page is served over HTTPS).
	Secure bool
	Logger *slog.Logger
}

// Page is the fleet page's HTTP handler.
type Page struct {
	o   PageOptions
	mux *http.ServeMux

	mu       sync.Mutex
	sessions map[string]time.Time // session ID's hash → expiry
}

// NewPage returns the fleet page.
func NewPage(o PageOptions) (*Page, error) {
	if len(o.TokenHash) != sha256.Size {
		return nil, errors.New("the fleet page needs its access token's hash")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	p := &Page{o: o, mux: http.NewServeMux(), sessions: map[string]time.Time{}}
	p.mux.HandleFunc("GET /{$}", p.serveIndex)
	p.mux.HandleFunc("GET /status.json", p.serveJSON)
	p.mux.HandleFunc("POST /login", p.serveLogin)
	p.mux.HandleFunc("POST /logout", p.serveLogout)
	return p, nil
}

func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self' 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	p.mux.ServeHTTP(w, r)
}

const cookieName = "tiepdon_fleet"

func hashOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return string(h[:])
}

// authed reports whether r carries a live session or the token.
func (p *Page) authed(r *http.Request) bool {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return p.tokenOK(tok)
	}
	c, err := r.Cookie(cookieName)
	if err != nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	exp, ok := p.sessions[hashOf(c.Value)]
	if ok && time.Now().After(exp) {
		delete(p.sessions, hashOf(c.Value))
		return false
	}
	return ok
}

func (p *Page) tokenOK(tok string) bool {
	h := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	return subtle.ConstantTimeCompare(h[:], p.o.TokenHash) == 1
}

func (p *Page) serveLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if !p.tokenOK(r.FormValue("token")) {
		p.o.Logger.Warn("Someone typed a wrong access token on the fleet page; if that was not IT, keep the page on a trusted network or replace the token with tiepdon fleet serve --new-token", "remote", r.RemoteAddr)
		w.WriteHeader(http.StatusUnauthorized)
		p.render(w, r, pageData{SignIn: true, Wrong: true})
		return
	}
	var b [32]byte
	rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	p.mu.Lock()
	now := time.Now()
	for k, exp := range p.sessions {
		if now.After(exp) {
			delete(p.sessions, k)
		}
	}
	p.sessions[hashOf(id)] = now.Add(sessionTTL)
	p.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: "/", HttpOnly: true, Secure: p.o.Secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL.Seconds())})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (p *Page) serveLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(cookieName); err == nil {
		p.mu.Lock()
		delete(p.sessions, hashOf(c.Value))
		p.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: p.o.Secure, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

type pageData struct {
	SignIn, Wrong bool
	Desks         []Desk
	Error         string
	Counts        map[string]int
	Missing       int
	At            time.Time
}

func (p *Page) serveIndex(w http.ResponseWriter, r *http.Request) {
	if !p.authed(r) {
		p.render(w, r, pageData{SignIn: true})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	d := pageData{At: time.Now(), Counts: map[string]int{}}
	desks, err := List(ctx, p.o.Pool, p.o.MissingAfter)
	if err != nil {
		p.o.Logger.Warn("The fleet page could not read the desks' status from PostgreSQL; check the database connection in [hospital] dsn", "err", err)
		d.Error = "The desks' status cannot be read from PostgreSQL: " + err.Error()
	}
	for _, x := range desks {
		d.Counts[x.Severity.String()]++
		if x.Missing {
			d.Missing++
		}
	}
	d.Desks = desks
	p.render(w, r, d)
}

func (p *Page) render(w http.ResponseWriter, _ *http.Request, d pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pageTmpl.Execute(w, d); err != nil {
		p.o.Logger.Warn("The fleet page could not be written to the browser; reload the page", "err", err)
	}
}

func (p *Page) serveJSON(w http.ResponseWriter, r *http.Request) {
	if !p.authed(r) {
		http.Error(w, "sign in first (Authorization: Bearer TOKEN)", http.StatusUnauthorized)
		return
	}
	desks, err := List(r.Context(), p.o.Pool, p.o.MissingAfter)
	if err != nil {
		http.Error(w, "reading the desks' status: "+err.Error(), http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"desks": desks})
}

// TokenFile reads the access token's hash from file, or makes a new token
// (when the file is missing or fresh is set), keeps its hash there (0600)
// and returns the token, to be shown once.
func TokenFile(file string, fresh bool) (hash []byte, token string, err error) {
	if !fresh {
		b, err := os.ReadFile(file)
		if err == nil {
			h, err := hex.DecodeString(strings.TrimSpace(string(b)))
			if err != nil || len(h) != sha256.Size {
				return nil, "", fmt.Errorf("%s does not hold a token hash: remove it or pass --new-token", file)
			}
			return h, "", nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, "", err
		}
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, "", err
	}
	token = base64.RawURLEncoding.EncodeToString(b[:])
	h := sha256.Sum256([]byte(token))
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(file, []byte(hex.EncodeToString(h[:])+"\n"), 0o600); err != nil {
		return nil, "", err
	}
	return h[:], token, nil
}
