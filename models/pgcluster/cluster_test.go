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
