// Package pgcluster runs a private PostgreSQL cluster from the machine's own PostgreSQL
// binaries (initdb, pg_ctl, psql): the embedded default behind `odoo-shim demo` and the
// database the integration tests run against. The cluster listens on 127.0.0.1 on a port of
// its own, keeps its socket in its own directory, and runs as an unprivileged user when the
// caller is root, because PostgreSQL refuses to run as root.
package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNoPostgres reports that no PostgreSQL server binaries were found on this machine.
var ErrNoPostgres = errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found; " +
	"install them (Debian: apt-get install postgresql) or set ODOO_SHIM_DATABASE_DSN " +
	"to an existing database")

// Superuser is the name of the cluster's superuser role.
const Superuser = "postgres"

// Cluster is a running private PostgreSQL cluster.
type Cluster struct {
	Dir  string // holds data/, sock/ and the server log
	Port int
	bin  string
	cred *syscall.Credential
	log  string
}

// Start initialises dir on first use and starts the cluster in it. A cluster already running
// in dir (left by an earlier process) is stopped and restarted on a free port.
func Start(ctx context.Context, dir string) (*Cluster, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}

	c := &Cluster{Dir: dir, bin: bin, log: filepath.Join(dir, "postgres.log")}
	if err := c.prepareDirs(); err != nil {
		return nil, err
	}

	if err := c.initdb(ctx); err != nil {
		return nil, err
	}

	return c, c.start(ctx)
}

// DSN returns a libpq URL for database name on this cluster, as the superuser.
func (c *Cluster) DSN(name string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", Superuser, c.Port, name)
}

// Exec runs one SQL statement (or several separated by semicolons) in database db.
func (c *Cluster) Exec(ctx context.Context, db, sql string) error {
	return c.psql(ctx, db, "-c", sql)
}

// LoadFile runs a SQL script (a pg_dump file included) in database db, stopping at the
// first error.
func (c *Cluster) LoadFile(ctx context.Context, db, path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("load %s: %w", path, err)
	}
	return c.psql(ctx, db, "-f", abs)
}

// CreateDatabase creates database name, copied from template when template is not empty.
func (c *Cluster) CreateDatabase(ctx context.Context, name, template string) error {
	sql := "CREATE DATABASE " + quoteIdent(name)
	if template != "" {
		sql += " TEMPLATE " + quoteIdent(template)
	}
	return c.Exec(ctx, "postgres", sql)
}

// DatabaseExists reports whether database name exists.
func (c *Cluster) DatabaseExists(ctx context.Context, name string) (bool, error) {
	out, err := c.output(ctx, "postgres", "-tAc",
		"SELECT 1 FROM pg_database WHERE datname = '"+strings.ReplaceAll(name, "'", "''")+"'")
	if err != nil {
		return false, err
	}
	return strings.TrimSpace(out) == "1", nil
}

// Stop shuts the cluster down, waiting for it to exit.
func (c *Cluster) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.run(ctx, "pg_ctl", "stop", "-D", c.dataDir(), "-m", "fast", "-w")
}

func (c *Cluster) dataDir() string { return filepath.Join(c.Dir, "data") }
func (c *Cluster) sockDir() string { return filepath.Join(c.Dir, "sock") }

func (c *Cluster) prepareDirs() error {
	if err := os.MkdirAll(c.sockDir(), 0o755); err != nil {
		return fmt.Errorf("create cluster directory: %w", err)
	}

	if os.Geteuid() != 0 {
		return nil
	}

	cred, err := unprivileged()
	if err != nil {
		return err
	}
	c.cred = cred

	// The unprivileged user must reach the cluster directory through its parents.
	for d := c.Dir; d != "/" && d != "."; d = filepath.Dir(d) {
		if err := ensureTraversable(d); err != nil {
			return err
		}
	}
	return chownTree(c.Dir, int(cred.Uid), int(cred.Gid))
}

func (c *Cluster) initdb(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(c.dataDir(), "PG_VERSION")); err == nil {
		return nil
	}

	err := c.run(ctx, "initdb", "-D", c.dataDir(), "-U", Superuser, "--auth=trust",
		"--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")
	if err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	return nil
}

func (c *Cluster) start(ctx context.Context) error {
	// A server left running by an earlier process still owns the data directory.
	if c.run(ctx, "pg_ctl", "status", "-D", c.dataDir()) == nil {
		_ = c.Stop()
	}

	port, err := freePort()
	if err != nil {
		return err
	}
	c.Port = port

	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off "+
		"-c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
		port, c.sockDir())
	err = c.run(ctx, "pg_ctl", "start", "-D", c.dataDir(), "-l", c.log, "-o", opts, "-w",
		"-t", "60")
	if err != nil {
		return fmt.Errorf("start postgres (log in %s): %w", c.log, err)
	}
	return nil
}

func (c *Cluster) psql(ctx context.Context, db string, args ...string) error {
	_, err := c.output(ctx, db, args...)
	return err
}

func (c *Cluster) output(ctx context.Context, db string, args ...string) (string, error) {
	base := []string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
		"-p", strconv.Itoa(c.Port), "-U", Superuser, "-d", db}
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, "psql"), append(base, args...)...)
	cmd.Env = append(os.Environ(), "PGOPTIONS=-c client_min_messages=warning")
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("psql %s: %w: %s", db, err, lastLines(stderr.String(), 5))
	}
	return out.String(), nil
}

func (c *Cluster) run(ctx context.Context, tool string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, tool), args...)
	cmd.Dir = c.Dir
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", tool, err, lastLines(string(out), 5))
	}
	return nil
}

// findBin locates the directory holding initdb, pg_ctl and psql: the newest version under
// /usr/lib/postgresql (Debian), else the directory of initdb on PATH.
func findBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(real))
		}
	}

	for _, d := range dirs {
		if hasTools(d, "initdb", "pg_ctl", "psql") {
			return d, nil
		}
	}
	return "", ErrNoPostgres
}

func hasTools(dir string, tools ...string) bool {
	for _, t := range tools {
		if st, err := os.Stat(filepath.Join(dir, t)); err != nil || st.IsDir() {
			return false
		}
	}
	return true
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func unprivileged() (*syscall.Credential, error) {
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("running as root needs an unprivileged user for postgres: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func ensureTraversable(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("cluster directory: %w", err)
	}
	if st.Mode().Perm()&0o001 != 0 {
		return nil
	}
	if err := os.Chmod(dir, st.Mode().Perm()|0o011); err != nil {
		return fmt.Errorf("make %s traversable for postgres: %w", dir, err)
	}
	return nil
}

func chownTree(root string, uid, gid int) error {
	return filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
