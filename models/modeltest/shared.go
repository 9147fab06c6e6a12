// Package modeltest is test support shared by odoo-shim's packages: it finds the reference
// material in ../shared and gives each test its own PostgreSQL database, cloned from
// templates loaded once per test binary into a private cluster.
package modeltest

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot returns the directory holding go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

// SharedDir returns the shared reference directory (ODOO_SHIM_SHARED, else ../shared next
// to the repository). Tests that need it are skipped, saying so, when it is absent.
func SharedDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("ODOO_SHIM_SHARED")
	if dir == "" {
		dir = filepath.Join(RepoRoot(t), "..", "shared")
	}
	if _, err := os.Stat(filepath.Join(dir, "vectors")); err != nil {
		t.Skipf("reference material not found at %s (set ODOO_SHIM_SHARED): "+
			"skipping the tests against Odoo's recorded vectors and fixtures", dir)
	}
	return dir
}

// SharedFile returns the path of a file under the shared directory, skipping like SharedDir.
func SharedFile(t testing.TB, rel string) string {
	t.Helper()
	return filepath.Join(SharedDir(t), rel)
}
