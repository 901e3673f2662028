// Package pgtest starts a throwaway PostgreSQL cluster for tests: initdb in
// a temp dir, pg_ctl start on a free port with its unix socket in that dir,
// stopped by the test's cleanup. As root (CI) the cluster runs as the
// postgres user of Debian's package, since initdb refuses root.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
)

// BinDir is where Debian's postgresql 15 package puts its programs.
var BinDir = "/usr/lib/postgresql/15/bin"

// Cluster is a running throwaway PostgreSQL.
type Cluster struct {
	Dir  string
	Port int
	DSN  string // over the unix socket in Dir, user postgres, db postgres
	// TCP is the same database over TCP on 127.0.0.1 (for a proxy).
	TCP      string
	settings []string
	run      func(name string, args ...string) *exec.Cmd
	uid, gid int // the server's user when the tests run as root, else -1
}

// T is what the rig needs of a test: testing.TB has it, and so has the
// rig's own stand-in for TestMain (Shared).
type T interface {
	Helper()
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
}

// Start starts a cluster for t, with extra server settings ("name=value",
// as postgres -c takes them). Outside CI, with no PostgreSQL installed,
// the test is skipped loudly; in CI (CI=true) it fails.
func Start(t testing.TB, settings ...string) *Cluster {
	t.Helper()
	if err := installed(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v", err)
		}
		t.Skipf("SKIPPED: %v", err)
	}
	c := initCluster(t, settings...)
	t.Cleanup(func() { os.RemoveAll(c.Dir) })
	c.Start(t)
	t.Cleanup(func() { c.Stop(t) })
	return c
}

func installed() error {
	if _, err := os.Stat(filepath.Join(BinDir, "initdb")); err != nil {
		return fmt.Errorf("PostgreSQL is not installed (%v): apt-get install postgresql (.ci/debian-packages lists it in the test group) to run the hospital-mode tests", err)
	}
	return nil
}

// ErrNotInstalled is Shared's error outside CI on a machine without
// PostgreSQL: the package's tests that need it skip loudly.
var ErrNotInstalled = errors.New("PostgreSQL is not installed")

// mainT stands in for a test in TestMain: a fatal error panics, and
// Shared turns the panic into its error.
type mainT struct{}

type fatal struct{ msg string }

func (mainT) Helper()                        {}
func (mainT) Logf(format string, a ...any)   { fmt.Fprintf(os.Stderr, format+"\n", a...) }
func (mainT) Fatalf(format string, a ...any) { panic(fatal{fmt.Sprintf(format, a...)}) }

// Shared starts one cluster for a whole test binary, from TestMain, so a
// package's tests share it (each takes its own database with NewDB); call
// stop after m.Run. Outside CI without PostgreSQL it returns
// ErrNotInstalled and the tests skip; in CI that is an error.
func Shared() (c *Cluster, stop func(), err error) {
	if err := installed(); err != nil {
		if os.Getenv("CI") != "" {
			return nil, nil, err
		}
		fmt.Fprintf(os.Stderr, "SKIPPED: %v\n", err)
		return nil, nil, ErrNotInstalled
	}
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(fatal)
			if !ok {
				panic(r)
			}
			if c != nil {
				os.RemoveAll(c.Dir)
			}
			c, stop, err = nil, nil, errors.New(f.msg)
		}
	}()
	c = initCluster(mainT{})
	c.Start(mainT{})
	return c, func() {
		c.Stop(mainT{})
		os.RemoveAll(c.Dir)
	}, nil
}

var dbSeq atomic.Int64

// NewDB creates an empty database for t in the cluster and returns its
// DSN. A nil cluster (Shared found no PostgreSQL) skips t loudly.
func (c *Cluster) NewDB(t testing.TB) string {
	t.Helper()
	if c == nil {
		t.Skip("SKIPPED: PostgreSQL is not installed; apt-get install postgresql to run the hospital-mode tests")
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.DSN)
	if err != nil {
		t.Fatalf("connecting to the test cluster: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable", c.Dir, c.Port, name)
}

func initCluster(t T, settings ...string) *Cluster {
	t.Helper()
	dir, err := os.MkdirTemp("", "tiepdon-pg-")
	if err != nil {
		t.Fatalf("%v", err)
	}
	c := &Cluster{Dir: dir, settings: settings, uid: -1, gid: -1, run: func(name string, args ...string) *exec.Cmd {
		return exec.Command(filepath.Join(BinDir, name), args...)
	}}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs the postgres user of Debian's package: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.uid, c.gid = uid, gid
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatalf("%v", err)
		}
		c.run = func(name string, args ...string) *exec.Cmd {
			return exec.Command("setpriv", append([]string{"--reuid=" + u.Uid, "--regid=" + u.Gid, "--clear-groups", "--",
				filepath.Join(BinDir, name)}, args...)...)
		}
	}
	// The cluster's locale is C whatever the machine's: initdb refuses a
	// LANG whose locale is not generated (CI sets en_US.UTF-8 and may not
	// have it).
	base := c.run
	c.run = func(name string, args ...string) *exec.Cmd {
		cmd := base(name, args...)
		cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
		return cmd
	}
	data := filepath.Join(dir, "data")
	if out, err := c.run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	c.Port = freePort(t)
	c.DSN = fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres sslmode=disable", dir, c.Port)
	c.TCP = fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable", c.Port)
	return c
}

// Start (re)starts the cluster and waits until it accepts connections.
func (c *Cluster) Start(t T) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", c.Port, c.Dir)
	for _, s := range c.settings {
		opts += " -c " + s
	}
	if out, err := c.run("pg_ctl", "-D", filepath.Join(c.Dir, "data"), "-o", opts, "-l", filepath.Join(c.Dir, "log"), "-w", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.Dir, "log"))
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// WriteFile writes a file the server reads (a certificate, its key,
// pg_hba.conf) at name under the cluster's folder, mode 0600, owned by the
// server's user, and returns its path.
func (c *Cluster) WriteFile(t testing.TB, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(c.Dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatalf("%v", err)
	}
	if c.uid >= 0 {
		if err := os.Chown(path, c.uid, c.gid); err != nil {
			t.Fatalf("%v", err)
		}
	}
	return path
}

// Reload makes the server read its configuration files again (pg_ctl
// reload): pg_hba.conf, and settings changed with ALTER SYSTEM, TLS ones
// included.
func (c *Cluster) Reload(t testing.TB) {
	t.Helper()
	if out, err := c.run("pg_ctl", "-D", filepath.Join(c.Dir, "data"), "reload").CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl reload: %v\n%s", err, out)
	}
}

// Stop stops the cluster at once (pg_ctl -m immediate, like a crash).
func (c *Cluster) Stop(t T) {
	t.Helper()
	if out, err := c.run("pg_ctl", "-D", filepath.Join(c.Dir, "data"), "-m", "immediate", "-w", "stop").CombinedOutput(); err != nil {
		t.Logf("pg_ctl stop: %v\n%s", err, out)
	}
}

func freePort(t T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
