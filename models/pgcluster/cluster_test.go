package pgcluster

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestStartCreateLoad(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	c, _ := startTemp(t)
	if err := c.CreateDatabase(ctx, `odd "name"`, ""); err != nil {
		t.Fatalf("CreateDatabase: %v", err)
	}
	ok, err := c.DatabaseExists(ctx, `odd "name"`)
	if err != nil || !ok {
		t.Fatalf("DatabaseExists = %v, %v; want true", ok, err)
	}
	if err := c.Exec(ctx, `odd "name"`, "CREATE TABLE t (x int); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatalf("Exec: %v", err)
	}
	if err := c.Exec(ctx, `odd "name"`, "SELECT * FROM missing"); err == nil {
		t.Fatal("Exec of a bad statement succeeded")
	}
}

// A cluster whose owner is another live process is not taken over; one whose owner has
// ended is restarted.
func TestStartRespectsLiveOwner(t *testing.T) {
	ctx := context.Background()
	c, dir := startTemp(t)

	// Pretend a live process (init) owns it.
	if err := os.WriteFile(c.ownerFile(), []byte("1"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Start(ctx, dir); !errors.Is(err, ErrInUse) {
		t.Fatalf("Start over a live owner's cluster = %v; want ErrInUse", err)
	}

	// An owner that has ended: the cluster is restarted for us.
	if err := os.WriteFile(c.ownerFile(), []byte("2147483646"), 0o644); err != nil {
		t.Fatal(err)
	}
	c2, err := Start(ctx, dir)
	if err != nil {
		t.Fatalf("Start over a stale cluster: %v", err)
	}
	if err := c2.Exec(ctx, "postgres", "SELECT 1"); err != nil {
		t.Errorf("restarted cluster: %v", err)
	}
	c = c2
}

// The superuser needs its password over TCP, and psql finds it in PassFile. A cluster an
// older odoo-shim made with trust authentication is brought to the same state.
func TestPasswordRequired(t *testing.T) {
	ctx := context.Background()
	c, dir := startTemp(t)
	assertPassword(t, c)

	// What an older cluster looked like: trust for everyone, no password.
	hba := filepath.Join(c.dataDir(), "pg_hba.conf")
	data, err := os.ReadFile(hba)
	if err != nil {
		t.Fatal(err)
	}
	trusting := strings.NewReplacer("scram-sha-256", "trust", "peer", "trust").
		Replace(string(data))
	if err := os.WriteFile(hba, []byte(trusting), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.run(ctx, "pg_ctl", "reload", "-D", c.dataDir()); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	os.Remove(c.passwordFile())

	c2, err := Start(ctx, dir)
	if err != nil {
		t.Fatalf("Start over a trusting cluster: %v", err)
	}
	t.Cleanup(func() { c2.Stop() })
	if c2.password == c.password {
		t.Error("the password was not renewed")
	}
	assertPassword(t, c2)
}

// assertPassword checks that psql without the password is refused and with it let in.
func assertPassword(t *testing.T, c *Cluster) {
	t.Helper()
	ctx := context.Background()
	if err := c.Exec(ctx, "postgres", "SELECT 1"); err != nil {
		t.Fatalf("psql with the password file: %v", err)
	}
	cmd := exec.Command(filepath.Join(c.bin, "psql"), "-X", "-w", "-h", "127.0.0.1", "-p",
		strconv.Itoa(c.Port), "-U", Superuser, "-d", "postgres", "-c", "SELECT 1")
	cmd.Env = append(os.Environ(), "PGPASSFILE=/dev/null", "PGPASSWORD=")
	if out, err := cmd.CombinedOutput(); err == nil ||
		!strings.Contains(string(out), "password") {
		t.Errorf("psql without the password: %v, %s; want a password refusal", err, out)
	}
	if info, err := os.Stat(c.passwordFile()); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("password file: %v, %v; want mode 0600", info, err)
	}
	if !strings.Contains(c.DSN("x"), ":"+c.password+"@127.0.0.1:") {
		t.Errorf("DSN %q lacks the password", c.DSN("x"))
	}
}

// startTemp starts a cluster in a temporary directory for the test, or skips it when
// PostgreSQL is not installed and not required.
func startTemp(t *testing.T) (*Cluster, string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "pgcluster-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c, err := Start(context.Background(), dir)
	if errors.Is(err, ErrNoPostgres) && os.Getenv("ODOO_SHIM_REQUIRE_PG") == "" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	return c, dir
}
