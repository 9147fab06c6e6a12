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

	v, _ := templates.LoadOrStore(tmpl, &templateState{})
	st := v.(*templateState)
	st.once.Do(func() { st.err = loadTemplate(c, tmpl, files) })
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
	}
	t.Fatalf("unknown template %q", tmpl)
	return nil
}

func loadTemplate(c *pgcluster.Cluster, tmpl Template, files []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	if tmpl == Fixture16 {
		// The Odoo 16 dump assigns ownership to the role its database had.
		_ = c.Exec(ctx, "postgres", "CREATE ROLE openpg")
	}
	if err := c.CreateDatabase(ctx, templateDB(tmpl), ""); err != nil {
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
