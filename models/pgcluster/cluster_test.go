package pgcluster

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

func TestStartCreateLoad(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	dir, err := os.MkdirTemp("", "pgcluster-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })

	c, err := Start(ctx, dir)
	if errors.Is(err, ErrNoPostgres) && os.Getenv("ODOO_SHIM_REQUIRE_PG") == "" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { c.Stop() })

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
	dir, err := os.MkdirTemp("", "pgcluster-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c, err := Start(ctx, dir)
	if errors.Is(err, ErrNoPostgres) && os.Getenv("ODOO_SHIM_REQUIRE_PG") == "" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })

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
