package modeltest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/odoo-shim/odoo-shim/models/pgcluster"
)

// Template names a database shape a test can ask for.
type Template string

// Templates, loaded into the cluster once per test binary on first use.
const (
	Own18     Template = "own18"     // testdata/odoo18: our own Odoo-18-shaped schema and demo data
	Fixture18 Template = "fixture18" // ../shared/fixtures: real Odoo 18 schema and seed
	Fixture16 Template = "fixture16" // ../shared/fixtures: real Odoo 16 schema, no rows
	// Seeded16 is the real Odoo 16 schema with our own rows (testdata/odoo16/seed.sql).
	Seeded16 Template = "seeded16"
	// Derived15 and Derived17 are Seeded16 changed into an Odoo 15 or 17 database by
	// testdata/odoo15/delta.sql or testdata/odoo17/delta.sql, which state the differences.
	Derived15 Template = "derived15"
	Derived17 Template = "derived17"
	// Derived19 is Own18 changed into an Odoo 19 database by testdata/odoo19/delta.sql.
	Derived19 Template = "derived19"
)

var (
	clusterOnce sync.Once
	cluster     *pgcluster.Cluster
	clusterErr  error
	clusterDir  string

	templates sync.Map // Template → *templateState
	dbCounter atomic.Int64
)

type templateState struct {
	once sync.Once
	err  error
}

// clusterPrefix names the test clusters' directories under the temporary directory.
const clusterPrefix = "odoo-shim-test-pg-"

// Main runs the tests and then stops the cluster, if one was started; an interrupt stops
// it too. Clusters left by test runs that were killed are stopped and removed first. Use
// it from TestMain.
func Main(m *testing.M) {
	sweepStale()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		stopCluster()
		os.Exit(1)
	}()

	code := m.Run()
	stopCluster()
	os.Exit(code)
}

var stopOnce sync.Once

func stopCluster() {
	stopOnce.Do(func() {
		if cluster != nil {
			_ = cluster.Stop()
			_ = os.RemoveAll(clusterDir)
		}
	})
}

// sweepStale removes the test clusters of runs whose process has ended.
func sweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), clusterPrefix+"*"))
	for _, d := range dirs {
		if st, err := os.Stat(d); err != nil || time.Since(st.ModTime()) < time.Minute {
			continue // just created, perhaps by a test binary starting next to this one
		}
		if pgcluster.StopStale(d) {
			_ = os.RemoveAll(d)
		}
	}
}

// Required reports whether database tests must fail rather than skip when PostgreSQL is
// unavailable; `make test` sets ODOO_SHIM_REQUIRE_PG=1.
func Required() bool { return os.Getenv("ODOO_SHIM_REQUIRE_PG") != "" }

// Cluster returns the test binary's private PostgreSQL cluster, starting it on first use.
func Cluster(t testing.TB) *pgcluster.Cluster {
	t.Helper()
	clusterOnce.Do(startCluster)
	if clusterErr != nil {
		if errors.Is(clusterErr, pgcluster.ErrNoPostgres) && !Required() {
			t.Skipf("no PostgreSQL on this machine, skipping database tests: %v", clusterErr)
		}
		t.Fatalf("start the test PostgreSQL cluster: %v", clusterErr)
	}
	return cluster
}

func startCluster() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	clusterDir, clusterErr = os.MkdirTemp("", clusterPrefix)
	if clusterErr != nil {
		return
	}
	cluster, clusterErr = pgcluster.Start(ctx, clusterDir)
}

// NewDatabase creates a fresh database from tmpl and returns its libpq URL and name. The
// database is dropped when the test ends.
func NewDatabase(t testing.TB, tmpl Template) (dsn, name string) {
	t.Helper()
	return NewNamedDatabase(t, tmpl, fmt.Sprintf("%s_%d", tmpl, dbCounter.Add(1)))
}

// NewNamedDatabase is NewDatabase with a chosen name, for tests that compare against
// recordings naming their database (links carry db=<name>). Two live databases cannot share
// a name, so such tests must not run in parallel with each other.
func NewNamedDatabase(t testing.TB, tmpl Template, name string) (dsn, dbname string) {
	t.Helper()
	c := Cluster(t)
	ensureTemplate(t, c, tmpl)

	ctx := context.Background()
	if err := c.CreateDatabase(ctx, name, templateDB(tmpl)); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		_ = c.Exec(context.Background(), "postgres",
			"DROP DATABASE IF EXISTS \""+name+"\" WITH (FORCE)")
	})
	return c.DSN(name), name
}

// Exec runs SQL in the test database name, failing the test on error.
func Exec(t testing.TB, name, sql string) {
	t.Helper()
	if err := Cluster(t).Exec(context.Background(), name, sql); err != nil {
		t.Fatalf("exec %q: %v", firstLine(sql), err)
	}
}

func templateDB(tmpl Template) string { return "tmpl_" + string(tmpl) }

func ensureTemplate(t testing.TB, c *pgcluster.Cluster, tmpl Template) {
	t.Helper()
	files := templateFiles(t, tmpl)

	base := baseTemplate(tmpl)
	if base != "" {
		ensureTemplate(t, c, base)
	}
	v, _ := templates.LoadOrStore(tmpl, &templateState{})
	st := v.(*templateState)
	st.once.Do(func() { st.err = loadTemplate(c, tmpl, base, files) })
	if st.err != nil {
		t.Fatalf("load template %s: %v", tmpl, st.err)
	}
}

func templateFiles(t testing.TB, tmpl Template) []string {
	switch tmpl {
	case Own18:
		dir := filepath.Join(RepoRoot(t), "testdata", "odoo18")
		return []string{filepath.Join(dir, "schema.sql"), filepath.Join(dir, "demo.sql")}
	case Fixture18:
		dir := SharedFile(t, "fixtures")
		return []string{filepath.Join(dir, "odoo18-schema.sql"),
			filepath.Join(dir, "odoo18-seed.sql")}
	case Fixture16:
		return []string{SharedFile(t, "fixtures/odoo16-schema.sql")}
	case Seeded16:
		return []string{SharedFile(t, "fixtures/odoo16-schema.sql"),
			filepath.Join(RepoRoot(t), "testdata", "odoo16", "seed.sql")}
	case Derived15:
		return []string{filepath.Join(RepoRoot(t), "testdata", "odoo15", "delta.sql")}
	case Derived17:
		return []string{filepath.Join(RepoRoot(t), "testdata", "odoo17", "delta.sql")}
	case Derived19:
		dir := filepath.Join(RepoRoot(t), "testdata")
		return []string{filepath.Join(dir, "odoo18", "schema.sql"),
			filepath.Join(dir, "odoo18", "demo.sql"), filepath.Join(dir, "odoo19", "delta.sql")}
	}
	t.Fatalf("unknown template %q", tmpl)
	return nil
}

// baseTemplate is the template a derived one is copied from before its files run.
func baseTemplate(tmpl Template) Template {
	if tmpl == Derived15 || tmpl == Derived17 {
		return Seeded16
	}
	return ""
}

func loadTemplate(c *pgcluster.Cluster, tmpl, base Template, files []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	if filepath.Base(files[0]) == "odoo16-schema.sql" {
		// The Odoo 16 dump assigns ownership to the role its database had.
		_ = c.Exec(ctx, "postgres", "CREATE ROLE openpg")
	}
	from := ""
	if base != "" {
		from = templateDB(base)
	}
	if err := c.CreateDatabase(ctx, templateDB(tmpl), from); err != nil {
		return err
	}
	for _, f := range files {
		if err := c.LoadFile(ctx, templateDB(tmpl), f); err != nil {
			return err
		}
	}
	return nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
