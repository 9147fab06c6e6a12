// Package pgcluster runs a private PostgreSQL cluster from the machine's own PostgreSQL
// binaries (initdb, pg_ctl, psql): the embedded default behind `odoo-shim demo` and the
// database the integration tests run against. The cluster listens on 127.0.0.1 on a port of
// its own, keeps its socket in its own directory, and runs as an unprivileged user when the
// caller is root, because PostgreSQL refuses to run as root. Its superuser has a random
// password, kept in a file only the caller can read: other local users and processes
// cannot log in to it.
package pgcluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
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
	Dir      string // holds data/, sock/ and the server log
	Port     int
	bin      string
	cred     *syscall.Credential
	log      string
	password string // the superuser's
}

// ErrInUse reports a cluster directory that another live process is using.
var ErrInUse = errors.New("cluster directory in use")

// Start initialises dir on first use and starts the cluster in it. A cluster left running
// in dir by a process that has ended is stopped and restarted on a free port; one whose
// owner is still alive gives ErrInUse. When started as root, the cluster runs as the
// unprivileged user nobody; if nobody cannot reach dir, the cluster lives instead in a
// directory of its own under the system's temporary directory (see Cluster.Dir), so that
// no permission of the caller's directories is changed.
func Start(ctx context.Context, dir string) (*Cluster, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}

	c := &Cluster{Dir: abs, bin: bin}
	if err := c.prepareDirs(); err != nil {
		return nil, err
	}
	c.log = filepath.Join(c.Dir, "postgres.log")

	fresh, err := c.initdb(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.start(ctx); err != nil {
		return nil, err
	}
	if !fresh {
		if err := c.requirePassword(ctx); err != nil {
			return nil, err
		}
	}
	return c, c.claim()
}

// ownerFile records the pid of the process that started the cluster.
func (c *Cluster) ownerFile() string { return filepath.Join(c.Dir, "owner.pid") }

func (c *Cluster) claim() error {
	return os.WriteFile(c.ownerFile(), []byte(strconv.Itoa(os.Getpid())), 0o644)
}

// liveOwner returns the pid of another live process that owns the cluster, or 0.
func (c *Cluster) liveOwner() int {
	data, err := os.ReadFile(c.ownerFile())
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid == os.Getpid() || pid <= 0 {
		return 0
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return 0
	}
	return pid
}

// DSN returns a libpq URL for database name on this cluster, as the superuser, with its
// password.
func (c *Cluster) DSN(name string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(Superuser, c.password),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port)), Path: "/" + name,
		RawQuery: "sslmode=disable"}
	return u.String()
}

// PassFile is a libpq password file (PGPASSFILE) that lets psql log in as the superuser.
func (c *Cluster) PassFile() string { return filepath.Join(c.Dir, "pgpass") }

// passwordFile holds the superuser's password; only the caller can read it.
func (c *Cluster) passwordFile() string { return filepath.Join(c.Dir, "superuser.password") }

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
	err := c.run(ctx, "pg_ctl", "stop", "-D", c.dataDir(), "-m", "fast", "-w")
	if err == nil {
		_ = os.Remove(c.ownerFile())
	}
	return err
}

// StopStale stops a cluster left in dir by a process that has ended, and reports whether
// dir held one; it leaves a cluster whose owner is alive alone.
func StopStale(dir string) bool {
	bin, err := findBin()
	if err != nil {
		return false
	}
	c := &Cluster{Dir: dir, bin: bin}
	if c.liveOwner() != 0 {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if c.run(ctx, "pg_ctl", "status", "-D", c.dataDir()) == nil {
		_ = c.run(ctx, "pg_ctl", "stop", "-D", c.dataDir(), "-m", "immediate", "-w")
	}
	return true
}

func (c *Cluster) dataDir() string { return filepath.Join(c.Dir, "data") }
func (c *Cluster) sockDir() string { return filepath.Join(c.Dir, "sock") }

func (c *Cluster) prepareDirs() error {
	if os.Geteuid() == 0 {
		cred, err := unprivileged()
		if err != nil {
			return err
		}
		c.cred = cred
		if !reachable(filepath.Dir(c.Dir)) {
			c.Dir = relocated(c.Dir)
		}
	}

	if err := os.MkdirAll(c.sockDir(), 0o755); err != nil {
		return fmt.Errorf("create cluster directory: %w", err)
	}
	if c.cred == nil {
		return nil
	}
	// The cluster's own directory must let nobody in; nothing above it is touched.
	if err := os.Chmod(c.Dir, 0o755); err != nil {
		return fmt.Errorf("cluster directory: %w", err)
	}
	return chownTree(c.Dir, int(c.cred.Uid), int(c.cred.Gid))
}

// reachable reports whether other users may traverse dir and every directory above it.
func reachable(dir string) bool {
	for d := dir; ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			// Not there yet: MkdirAll will create it as 0755 under its parent.
			if d == filepath.Dir(d) {
				return false
			}
			continue
		}
		if st.Mode().Perm()&0o001 == 0 {
			return false
		}
		if d == filepath.Dir(d) {
			return true
		}
	}
}

// relocated is where a cluster for dir lives when nobody cannot reach dir: a directory of
// its own, named after dir, under the system's temporary directory.
func relocated(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return filepath.Join(os.TempDir(), "odoo-shim-pg-"+hex.EncodeToString(sum[:6]))
}

// initdb creates the cluster unless dir holds one already; fresh reports that it did.
// Connections over TCP need the superuser's password; the socket is in the cluster's own
// directory, for the cluster's own user.
func (c *Cluster) initdb(ctx context.Context) (fresh bool, err error) {
	if err := c.loadPassword(); err != nil {
		return false, err
	}
	if _, err := os.Stat(filepath.Join(c.dataDir(), "PG_VERSION")); err == nil {
		return false, nil
	}

	// initdb runs as the cluster's user and reads the password from a file of its own,
	// removed at once.
	pw := filepath.Join(c.Dir, "initdb.pw")
	if err := os.WriteFile(pw, []byte(c.password+"\n"), 0o600); err != nil {
		return false, fmt.Errorf("initdb: %w", err)
	}
	defer os.Remove(pw)
	if c.cred != nil {
		if err := os.Chown(pw, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return false, fmt.Errorf("initdb: %w", err)
		}
	}
	err = c.run(ctx, "initdb", "-D", c.dataDir(), "-U", Superuser, "--pwfile", pw,
		"--auth-host=scram-sha-256", "--auth-local=peer", "--encoding=UTF8",
		"--locale=C.UTF-8", "--no-sync")
	if err != nil {
		return false, fmt.Errorf("initdb: %w", err)
	}
	return true, nil
}

// loadPassword reads the superuser's password, making one on first use, and writes the
// libpq password file psql uses.
func (c *Cluster) loadPassword() error {
	data, err := os.ReadFile(c.passwordFile())
	switch {
	case err == nil:
		c.password = strings.TrimSpace(string(data))
	case errors.Is(err, os.ErrNotExist):
		var b [18]byte
		_, _ = rand.Read(b[:])
		c.password = hex.EncodeToString(b[:])
		if err := os.WriteFile(c.passwordFile(), []byte(c.password+"\n"), 0o600); err != nil {
			return fmt.Errorf("cluster password: %w", err)
		}
	default:
		return fmt.Errorf("cluster password: %w", err)
	}
	line := "127.0.0.1:*:*:" + Superuser + ":" + c.password + "\n"
	if err := os.WriteFile(c.PassFile(), []byte(line), 0o600); err != nil {
		return fmt.Errorf("cluster password: %w", err)
	}
	return nil
}

// requirePassword brings a cluster made by an older odoo-shim, which let any local
// connection in as the superuser, up to date: the superuser gets the password and TCP
// connections must give it. It changes nothing on a cluster that already asks for it.
func (c *Cluster) requirePassword(ctx context.Context) error {
	hba := filepath.Join(c.dataDir(), "pg_hba.conf")
	data, err := os.ReadFile(hba)
	if err != nil {
		return fmt.Errorf("cluster access rules: %w", err)
	}
	rules, changed := withPasswords(string(data))
	if !changed {
		return nil
	}

	// Still open to trust: the password is set over psql with the old rules, then the
	// new rules are loaded.
	// psql quotes the variable; a statement on -c would not expand it.
	if c.script(ctx, "ALTER ROLE "+quoteIdent(Superuser)+" PASSWORD :'pw'",
		"pw="+c.password) != nil {
		// psql's error may quote the statement, password included.
		return fmt.Errorf("set the cluster superuser's password failed (log in %s)", c.log)
	}
	if err := os.WriteFile(hba, []byte(rules), 0o600); err != nil {
		return fmt.Errorf("cluster access rules: %w", err)
	}
	return c.run(ctx, "pg_ctl", "reload", "-D", c.dataDir())
}

// script runs sql, read from standard input, in the postgres database with the psql
// variables vars ("name=value").
func (c *Cluster) script(ctx context.Context, sql string, vars ...string) error {
	var args []string
	for _, v := range vars {
		args = append(args, "-v", v)
	}
	_, err := c.outputIn(ctx, "postgres", strings.NewReader(sql+"\n"), args...)
	return err
}

// withPasswords turns pg_hba.conf rules that trust every connection into ones that ask
// TCP connections for a password and let local ones in only as their own system user.
func withPasswords(rules string) (string, bool) {
	lines := strings.Split(rules, "\n")
	changed := false
	for i, line := range lines {
		f := strings.Fields(line)
		if len(f) < 4 || f[len(f)-1] != "trust" || strings.HasPrefix(f[0], "#") {
			continue
		}
		method := "scram-sha-256"
		if f[0] == "local" {
			method = "peer"
		}
		lines[i] = strings.Join(append(f[:len(f)-1], method), " ")
		changed = true
	}
	return strings.Join(lines, "\n"), changed
}

func (c *Cluster) start(ctx context.Context) error {
	// A server left running by an earlier process still holds the data directory.
	if c.run(ctx, "pg_ctl", "status", "-D", c.dataDir()) == nil {
		if pid := c.liveOwner(); pid != 0 {
			return fmt.Errorf("%w: the PostgreSQL cluster in %s belongs to running process %d "+
				"(another odoo-shim demo?); stop it first", ErrInUse, c.Dir, pid)
		}
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
	return c.outputIn(ctx, db, nil, args...)
}

func (c *Cluster) outputIn(ctx context.Context, db string, stdin io.Reader,
	args ...string) (string, error) {
	base := []string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
		"-p", strconv.Itoa(c.Port), "-U", Superuser, "-d", db}
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, "psql"), append(base, args...)...)
	cmd.Env = append(os.Environ(), "PGOPTIONS=-c client_min_messages=warning",
		"PGPASSFILE="+c.PassFile())
	var out, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &stderr
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
