package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/term"

	"github.com/tiepdon/tiepdon/agent/config"
	"github.com/tiepdon/tiepdon/sync/fleet"
	"github.com/tiepdon/tiepdon/sync/hospital"
)

func init() {
	register(&command{
		name:    "fleet",
		summary: "hospital mode, for IT: desks' status, fleet settings and password, the fleet page, hospital keys",
		run:     runFleet,
	})
}

const fleetUsage = `fleet <command> [flags]

IT's commands for a hospital's desks in hospital mode (docs/hospital.md). They
reach the hospital's PostgreSQL through [hospital] dsn of the config file
(--config) or --dsn.

  status [--json] [--missing-after 2m]   every desk, what needs attention first
  settings                               the fleet settings desks apply
  set KEY VALUE [--lock]                 set a config key on every desk (--lock:
                                         a user's own config cannot change it)
  unset KEY                              remove a fleet setting (gateway.password:
                                         the fleet's password)
  set-password                           seal the gateway password (read from the
                                         terminal or one line of standard input)
                                         with the hospital key, for every desk
  serve [--addr ADDR] [--cert F --key F] the read-only fleet page, on IT's machine
  migrate                                create or update the hospital schema
  new-key [--id ID] FILE                 make a hospital key file, or add a new
                                         key after the current one (rotation)
  promote-key ID FILE                    make that key seal new data (rotation,
                                         once every desk has the file)

Common flags: --config FILE, --dsn DSN, --key-file FILE.`

func runFleet(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(stderr, "Usage: tiepdon %s\n", fleetUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	sub, rest := args[0], args[1:]
	f, ok := map[string]func(context.Context, []string, io.Writer, io.Writer) int{
		"status": fleetStatus, "settings": fleetSettings, "set": fleetSet, "unset": fleetUnset,
		"set-password": fleetSetPassword, "serve": fleetServe, "migrate": fleetMigrate, "new-key": fleetNewKey,
		"promote-key": fleetPromoteKey,
	}[sub]
	if !ok {
		fmt.Fprintf(stderr, "tiepdon fleet: unknown command %q\n\nUsage: tiepdon %s\n", sub, fleetUsage)
		return 2
	}
	return f(ctx, rest, stdout, stderr)
}

// fleetConn are the flags every fleet command that reaches PostgreSQL has.
type fleetConn struct {
	configFile, dsn, keyFile string
}

func (c *fleetConn) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.configFile, "config", "", "config file with the [hospital] section (default: the usual files)")
	fs.StringVar(&c.dsn, "dsn", "", "PostgreSQL connection string (default: [hospital] dsn)")
	fs.StringVar(&c.keyFile, "key-file", "", "hospital key file (default: [hospital] key_file)")
}

// resolve fills the DSN and key file from the config where no flag gave them.
func (c *fleetConn) resolve() error {
	if c.dsn != "" && c.keyFile != "" {
		return nil
	}
	cfg, err := config.Load(c.configFile, os.Getenv)
	if err != nil {
		return err
	}
	if c.dsn == "" {
		c.dsn = cfg.Hospital.DSN
	}
	if c.keyFile == "" {
		c.keyFile = cfg.Hospital.KeyFile
	}
	if c.dsn == "" {
		return errors.New("no hospital database: set [hospital] dsn in the config file or pass --dsn")
	}
	return nil
}

func (c *fleetConn) pool(ctx context.Context) (*pgxpool.Pool, error) {
	if err := c.resolve(); err != nil {
		return nil, err
	}
	pc, err := pgxpool.ParseConfig(c.dsn)
	if err != nil {
		return nil, errors.New("the hospital DSN is not a PostgreSQL connection string")
	}
	pc.ConnConfig.ConnectTimeout = 5 * time.Second
	pc.MaxConns = 4
	p, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.Ping(pctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("connecting to the hospital database: %w", err)
	}
	return p, nil
}

func (c *fleetConn) keys() (*hospital.Keyring, error) {
	if err := c.resolve(); err != nil {
		return nil, err
	}
	if c.keyFile == "" {
		return nil, errors.New("no hospital key file: set [hospital] key_file or pass --key-file")
	}
	k, _, err := hospital.ReadKeys(c.keyFile)
	return k, err
}

// explain turns a missing table into what to do.
func explain(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" {
		return fmt.Errorf("%w\nThe hospital database has no tiepdon schema yet: run tiepdon fleet migrate with the owner role (docs/hospital.md)", err)
	}
	if errors.As(err, &pe) && pe.Code == "42501" {
		return fmt.Errorf("%w\nThis database role may not do that: fleet commands need the IT role (docs/hospital.md)", err)
	}
	return err
}

func fleetFail(stderr io.Writer, sub string, err error) int {
	fmt.Fprintf(stderr, "tiepdon fleet %s: %v\n", sub, explain(err))
	return 1
}

func fleetStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("fleet status", "fleet status [--json] [--missing-after 2m] [--config FILE] [--dsn DSN]", stderr)
	var c fleetConn
	c.flags(fs)
	asJSON := fs.Bool("json", false, "print the desks as JSON")
	missing := fs.Duration("missing-after", fleet.MissingAfter, "a desk silent this long is missing")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	p, err := c.pool(ctx)
	if err != nil {
		return fleetFail(stderr, "status", err)
	}
	defer p.Close()
	desks, err := fleet.List(ctx, p, *missing)
	if err != nil {
		return fleetFail(stderr, "status", err)
	}
	if *asJSON {
		if desks == nil {
			desks = []fleet.Desk{}
		}
		if err := writeJSON(stdout, map[string]any{"desks": desks}); err != nil {
			return 1
		}
		return 0
	}
	writeDesks(stdout, desks)
	return 0
}

// writeDesks prints one line per desk, worst first.
func writeDesks(w io.Writer, desks []fleet.Desk) {
	if len(desks) == 0 {
		fmt.Fprintln(w, "No desk has reported yet.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tDESK\tVERSION\tLAST REPORT\tGATEWAY\tNEEDS ATTENTION")
	for _, d := range desks {
		state := strings.ToUpper(d.Severity.String())
		if d.Missing {
			state = "MISSING"
		}
		att := "—"
		if len(d.Attention) > 0 {
			att = strings.Join(d.Attention, "; ")
		}
		gw := d.Status.Gateway.State
		if gw == "" {
			gw = "—"
		}
		fmt.Fprintf(tw, "%s\t%s (%s)\t%s\t%s ago\t%s\t%s\n", state, d.Name, d.ID, d.Status.Version,
			d.Silence.Round(time.Second), gw, att)
	}
	tw.Flush()
}

func fleetSettings(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("fleet settings", "fleet settings [--config FILE] [--dsn DSN]", stderr)
	var c fleetConn
	c.flags(fs)
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	p, err := c.pool(ctx)
	if err != nil {
		return fleetFail(stderr, "settings", err)
	}
	defer p.Close()
	s, err := fleet.Read(ctx, p)
	if err != nil {
		return fleetFail(stderr, "settings", err)
	}
	if len(s.Settings) == 0 && len(s.Secrets) == 0 {
		fmt.Fprintln(stdout, "No fleet settings: every desk uses its own config.")
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tVALUE\tLOCKED\tSET AT")
	for _, x := range s.Settings {
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\n", x.Key, x.Value, x.Locked, x.UpdatedAt.Local().Format(time.DateTime))
	}
	for _, x := range s.Secrets {
		fmt.Fprintf(tw, "%s\t(sealed with hospital key %s)\ttrue\t%s\n", x.Name, x.KeyID, x.UpdatedAt.Local().Format(time.DateTime))
	}
	tw.Flush()
	return 0
}

func fleetSet(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("fleet set", "fleet set KEY VALUE [--lock] [--config FILE] [--dsn DSN]", stderr)
	var c fleetConn
	c.flags(fs)
	lock := fs.Bool("lock", false, "lock the key: a user's own config file cannot change it")
	args, code := parseInterspersed(fs, args)
	if code >= 0 {
		return code
	}
	if len(args) != 2 {
		fmt.Fprintf(stderr, "tiepdon fleet set: want KEY VALUE; keys: %s\n", strings.Join(fleet.Keys(), ", "))
		return 2
	}
	if err := config.CheckFleetSetting(args[0], args[1]); err != nil {
		fmt.Fprintf(stderr, "tiepdon fleet set: %v\n", err)
		return 2
	}
	p, err := c.pool(ctx)
	if err != nil {
		return fleetFail(stderr, "set", err)
	}
	defer p.Close()
	if err := fleet.Set(ctx, p, args[0], args[1], *lock); err != nil {
		return fleetFail(stderr, "set", err)
	}
	how := ""
	if *lock {
		how = ", locked"
	}
	fmt.Fprintf(stdout, "%s = %s%s: desks apply it within a minute.\n", args[0], args[1], how)
	return 0
}

// parseInterspersed parses flags that may come after the arguments
// ("set KEY VALUE --lock") and returns the arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, int) {
	var rest []string
	for {
		if code := parseFlags(fs, args); code >= 0 {
			return nil, code
		}
		if fs.NArg() == 0 {
			return rest, -1
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func fleetUnset(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("fleet unset", "fleet unset KEY [--config FILE] [--dsn DSN]", stderr)
	var c fleetConn
	c.flags(fs)
	args, code := parseInterspersed(fs, args)
	if code >= 0 {
		return code
	}
	if len(args) != 1 {
		fmt.Fprintln(stderr, "tiepdon fleet unset: want KEY")
		return 2
	}
	p, err := c.pool(ctx)
	if err != nil {
		return fleetFail(stderr, "unset", err)
	}
	defer p.Close()
	found, err := fleet.Unset(ctx, p, args[0])
	if err != nil {
		return fleetFail(stderr, "unset", err)
	}
	if !found {
		fmt.Fprintf(stdout, "%s was not a fleet setting.\n", args[0])
		return 0
	}
	fmt.Fprintf(stdout, "%s removed: desks go back to their own value within a minute.\n", args[0])
	return 0
}

// isTerminal reports whether r is a terminal (then the password is read
// without echo).
var isTerminal = func(r io.Reader) (int, bool) {
	f, ok := r.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0, false
	}
	return int(f.Fd()), true
}

func fleetSetPassword(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("fleet set-password", "fleet set-password [--config FILE] [--dsn DSN] [--key-file FILE] < password.txt", stderr)
	var c fleetConn
	c.flags(fs)
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	keys, err := c.keys()
	if err != nil {
		return fleetFail(stderr, "set-password", err)
	}
	in := osStdin()
	var pw string
	if fd, ok := isTerminal(in); ok {
		fmt.Fprint(stderr, "Gateway password: ")
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(stderr)
		if err != nil {
			return fleetFail(stderr, "set-password", err)
		}
		fmt.Fprint(stderr, "Again: ")
		b2, err := term.ReadPassword(fd)
		fmt.Fprintln(stderr)
		if err != nil {
			return fleetFail(stderr, "set-password", err)
		}
		if string(b) != string(b2) {
			fmt.Fprintln(stderr, "tiepdon fleet set-password: the two passwords differ; nothing was changed")
			return 2
		}
		pw = string(b)
	} else {
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && err != io.EOF {
			return fleetFail(stderr, "set-password", fmt.Errorf("reading the password from standard input: %w", err))
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	if pw == "" {
		fmt.Fprintln(stderr, "tiepdon fleet set-password: the password is empty; nothing was changed")
		return 2
	}
	p, err := c.pool(ctx)
	if err != nil {
		return fleetFail(stderr, "set-password", err)
	}
	defer p.Close()
	id, err := fleet.SetPassword(ctx, p, keys, pw)
	if err != nil {
		return fleetFail(stderr, "set-password", err)
	}
	fmt.Fprintf(stdout, "The gateway password is saved, sealed with hospital key %s: desks use it within a minute.\n", id)
	return 0
}

func fleetMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("fleet migrate", "fleet migrate [--config FILE] [--dsn DSN]", stderr)
	var c fleetConn
	c.flags(fs)
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	p, err := c.pool(ctx)
	if err != nil {
		return fleetFail(stderr, "migrate", err)
	}
	defer p.Close()
	conn, err := p.Acquire(ctx)
	if err != nil {
		return fleetFail(stderr, "migrate", err)
	}
	defer conn.Release()
	v, err := hospital.Migrate(ctx, conn.Conn(), hospital.Migrations())
	if err != nil {
		return fleetFail(stderr, "migrate", err)
	}
	fmt.Fprintf(stdout, "The hospital schema is at version %d.\n", v)
	return 0
}

func fleetNewKey(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("fleet new-key", "fleet new-key [--id ID] FILE", stderr)
	id := fs.String("id", time.Now().Format("2006-01-02"), "the new key's name (a word)")
	args, code := parseInterspersed(fs, args)
	if code >= 0 {
		return code
	}
	if len(args) != 1 {
		fmt.Fprintln(stderr, "tiepdon fleet new-key: want the key FILE")
		return 2
	}
	file := args[0]
	line, err := hospital.NewKey(*id)
	if err != nil {
		fmt.Fprintf(stderr, "tiepdon fleet new-key: %v\n", err)
		return 2
	}
	old, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fleetFail(stderr, "new-key", err)
	}
	body := "# tiepdon hospital keys (docs/hospital.md): the first seals new data, the others still open older data. Keep this file secret.\n" + line + "\n"
	done := fmt.Sprintf("Made %s with key %s: copy it to every desk and IT machine ([hospital] key_file), readable only by tiepdon.\n", file, *id)
	if len(old) > 0 {
		// Rotation, first round: the new key goes second, so desks open and
		// find with it but still seal with the current one until every desk
		// has the file (promote-key then makes it first).
		prev, err := hospital.ParseKeys(old)
		if err != nil {
			return fleetFail(stderr, "new-key", err)
		}
		body = insertAfterFirstKey(string(old), line)
		if _, err := hospital.ParseKeys([]byte(body)); err != nil {
			return fleetFail(stderr, "new-key", fmt.Errorf("%w (choose another --id)", err))
		}
		done = fmt.Sprintf("Added key %s after the current key %s in %s. Copy the file to every desk and IT machine; once all have it, run tiepdon fleet promote-key %s %s and copy it again.\n", *id, prev.Current(), file, *id, file)
	}
	if err := writeKeyFile(file, body); err != nil {
		return fleetFail(stderr, "new-key", err)
	}
	fmt.Fprint(stdout, done)
	return 0
}

// keyLines splits a key file into its key lines' indexes and all lines.
func keyLines(body string) (lines []string, keys []int) {
	lines = strings.Split(strings.TrimRight(body, "\n"), "\n")
	for i, l := range lines {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			keys = append(keys, i)
		}
	}
	return lines, keys
}

func insertAfterFirstKey(body, line string) string {
	lines, keys := keyLines(body)
	at := len(lines)
	if len(keys) > 0 {
		at = keys[0] + 1
	}
	lines = append(lines[:at], append([]string{line}, lines[at:]...)...)
	return strings.Join(lines, "\n") + "\n"
}

func writeKeyFile(file, body string) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}

// fleetPromoteKey makes a key of the file the one that seals (rotation,
// second round), keeping the others below it.
func fleetPromoteKey(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("fleet promote-key", "fleet promote-key ID FILE", stderr)
	args, code := parseInterspersed(fs, args)
	if code >= 0 {
		return code
	}
	if len(args) != 2 {
		fmt.Fprintln(stderr, "tiepdon fleet promote-key: want the key ID and the key FILE")
		return 2
	}
	id, file := args[0], args[1]
	b, err := os.ReadFile(file)
	if err != nil {
		return fleetFail(stderr, "promote-key", err)
	}
	lines, keys := keyLines(string(b))
	found := -1
	for _, i := range keys {
		if k, _, _ := strings.Cut(strings.TrimSpace(lines[i]), " "); k == id {
			found = i
		}
	}
	if found < 0 {
		fmt.Fprintf(stderr, "tiepdon fleet promote-key: %s holds no key %q\n", file, id)
		return 2
	}
	line := lines[found]
	lines = append(lines[:found], lines[found+1:]...)
	_, keys = keyLines(strings.Join(lines, "\n"))
	at := len(lines)
	if len(keys) > 0 {
		at = keys[0]
	}
	lines = append(lines[:at], append([]string{line}, lines[at:]...)...)
	body := strings.Join(lines, "\n") + "\n"
	if kr, err := hospital.ParseKeys([]byte(body)); err != nil || kr.Current() != id {
		return fleetFail(stderr, "promote-key", fmt.Errorf("the key file would not be valid: %v", err))
	}
	if err := writeKeyFile(file, body); err != nil {
		return fleetFail(stderr, "promote-key", err)
	}
	fmt.Fprintf(stdout, "Key %s now seals new data (%s). Copy the file to every desk and IT machine, then run tiepdon fleet set-password again to seal the password with it.\n", id, file)
	return 0
}
