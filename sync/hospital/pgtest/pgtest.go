// Package pgtest starts a throwaway PostgreSQL cluster for tests: initdb in
// a temp dir, pg_ctl start on a free port with its unix socket in that dir,
// stopped by the test's cleanup. As root (CI) the cluster runs as the
// postgres user of Debian's package, since initdb refuses root.
package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
)

// BinDir is where Debian's postgresql 15 package puts its programs.
var BinDir = "/usr/lib/postgresql/15/bin"

// Cluster is a running throwaway PostgreSQL.
type Cluster struct {
	Dir  string
	Port int
	DSN  string // over the unix socket in Dir, user postgres, db postgres
	run  func(name string, args ...string) *exec.Cmd
}

// Start starts a cluster for t. Outside CI, with no PostgreSQL installed,
// the test is skipped loudly; in CI (CI=true) it fails.
func Start(t testing.TB) *Cluster {
	t.Helper()
	if _, err := os.Stat(filepath.Join(BinDir, "initdb")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL is not installed (%v): .ci/debian-packages lists postgresql in the test group", err)
		}
		t.Skipf("SKIPPED: PostgreSQL not installed (%v); apt-get install postgresql to run the hospital-mode tests", err)
	}
	dir, err := os.MkdirTemp("", "tiepdon-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c := &Cluster{Dir: dir, run: func(name string, args ...string) *exec.Cmd {
		return exec.Command(filepath.Join(BinDir, name), args...)
	}}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs the postgres user of Debian's package: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
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
	c.Start(t)
	t.Cleanup(func() { c.Stop(t) })
	return c
}

// Start (re)starts the cluster and waits until it accepts connections.
func (c *Cluster) Start(t testing.TB) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", c.Port, c.Dir)
	if out, err := c.run("pg_ctl", "-D", filepath.Join(c.Dir, "data"), "-o", opts, "-l", filepath.Join(c.Dir, "log"), "-w", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.Dir, "log"))
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// Stop stops the cluster at once (pg_ctl -m immediate, like a crash).
func (c *Cluster) Stop(t testing.TB) {
	t.Helper()
	if out, err := c.run("pg_ctl", "-D", filepath.Join(c.Dir, "data"), "-m", "immediate", "-w", "stop").CombinedOutput(); err != nil {
		t.Logf("pg_ctl stop: %v\n%s", err, out)
	}
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
