package models

import (
	"context"
	"testing"

	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// TestMigrateConcurrently opens one database from several instances at once, as a rolling
// deploy does: every step must be applied exactly once and every Open must succeed.
func TestMigrateConcurrently(t *testing.T) {
	dsn, _ := modeltest.NewDatabase(t, modeltest.Own18)
	ctx := context.Background()

	const instances = 4
	errs := make(chan error, instances)
	for range instances {
		go func() {
			s, err := Open(ctx, dsn, Settings{Hasher: NewHasher(1)})
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for range instances {
		if err := <-errs; err != nil {
			t.Fatalf("Open: %v", err)
		}
	}

	s, err := Open(ctx, dsn, Settings{Hasher: NewHasher(1)})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	var ids []string
	if err := s.db.SelectContext(ctx, &ids,
		`SELECT id FROM odoo_shim.migration ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if len(ids) != len(migrations) {
		t.Fatalf("applied steps = %v, want one row per step (%d)", ids, len(migrations))
	}
	for i, m := range migrations {
		if ids[i] != m.id {
			t.Errorf("step %d = %q, want %q", i, ids[i], m.id)
		}
	}
}
