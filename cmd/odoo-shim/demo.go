package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/odoo-shim/odoo-shim/config"
	"github.com/odoo-shim/odoo-shim/mail/catcher"
	"github.com/odoo-shim/odoo-shim/models"
	"github.com/odoo-shim/odoo-shim/models/pgcluster"
)

const demoDB = "odoo_demo"

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", "", "YAML configuration `file`")
	data := fs.String("data", ".data", "`directory` for the demo's PostgreSQL cluster")
	fixtures := fs.String("fixtures", filepath.Join("testdata", "odoo18"),
		"`directory` holding schema.sql and demo.sql")
	smtpAddr := fs.String("smtp", "127.0.0.1:2525", "`address` of the mail catcher")
	if err := fs.Parse(args); err != nil {
		return err
	}

	cfg, err := config.Load(*file, false)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg.Log, stderr)
	if err != nil {
		return err
	}

	cluster, err := demoDatabase(ctx, cfg, *data, *fixtures)
	if err != nil {
		return err
	}
	if cluster != nil {
		defer cluster.Stop()
	}

	mails := catcher.New(catcher.Options{Domain: "odoo-shim-demo"})
	if err := mails.Start(*smtpAddr); err != nil {
		if err := mails.Start("127.0.0.1:0"); err != nil {
			return fmt.Errorf("start the mail catcher: %w", err)
		}
	}
	defer mails.Close()

	if err := pointDemo(ctx, cfg, mails.Addr()); err != nil {
		return err
	}

	ready := make(chan string, 1)
	go func() {
		if addr, ok := <-ready; ok {
			printDemo(stdout, addr, cluster, cfg.Database.DSN)
		}
	}()
	return serve(ctx, cfg, log, mails.Handler(), ready)
}

func demoDSNFile(c *pgcluster.Cluster) string { return filepath.Join(c.Dir, "demo.dsn") }

// demoDatabase readies the demo's database: the one ODOO_SHIM_DATABASE_DSN names, when it
// is set (an empty database, filled on first use), else one in a private cluster under
// dir, which it returns so that the caller stops it.
func demoDatabase(ctx context.Context, cfg *config.Config, dir,
	fixtures string) (*pgcluster.Cluster, error) {
	var cluster *pgcluster.Cluster
	if cfg.Database.DSN == "" {
		var err error
		if cluster, err = startCluster(ctx, dir); err != nil {
			return nil, err
		}
		cfg.Database.DSN = cluster.DSN(demoDB)
		// For the operator commands (outbox, check-mail) on the demo's database; the DSN
		// holds the cluster's password, so the file is the caller's alone.
		if err := os.WriteFile(demoDSNFile(cluster), []byte(cfg.Database.DSN+"\n"),
			0o600); err != nil {
			cluster.Stop()
			return nil, fmt.Errorf("demo: %w", err)
		}
	}

	if err := loadDemo(ctx, cfg.Database.DSN, cluster != nil, fixtures); err != nil {
		if cluster != nil {
			cluster.Stop()
		}
		return nil, err
	}
	return cluster, nil
}

func startCluster(ctx context.Context, dir string) (*pgcluster.Cluster, error) {
	cluster, err := pgcluster.Start(ctx, filepath.Join(dir, "pg"))
	if errors.Is(err, pgcluster.ErrNoPostgres) {
		return nil, fmt.Errorf("%w\nOr give the demo an empty database of a PostgreSQL server "+
			"you have: ODOO_SHIM_DATABASE_DSN=postgres://USER@HOST/EMPTYDB make run", err)
	}
	if err != nil {
		return nil, err
	}
	ok, err := cluster.DatabaseExists(ctx, demoDB)
	if err == nil && !ok {
		err = cluster.CreateDatabase(ctx, demoDB, "")
	}
	if err != nil {
		cluster.Stop()
		return nil, err
	}
	return cluster, nil
}

func loadDemo(ctx context.Context, dsn string, owned bool, fixtures string) error {
	var scripts []string
	for _, f := range []string{"schema.sql", "demo.sql"} {
		b, err := os.ReadFile(filepath.Join(fixtures, f))
		if err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		scripts = append(scripts, string(b))
	}
	_, err := models.LoadDemo(ctx, dsn, owned, scripts...)
	return err
}

func pointDemo(ctx context.Context, cfg *config.Config, smtpAddr string) error {
	host, portText, err := net.SplitHostPort(smtpAddr)
	if err != nil {
		return err
	}
	port, _ := strconv.Atoi(portText)
	return models.ConfigureDemo(ctx, cfg.Database.DSN, host, port, "http://"+cfg.Listen)
}

func printDemo(w io.Writer, addr string, c *pgcluster.Cluster, dsn string) {
	url := "http://" + addr
	db := config.DatabaseName(dsn)
	fmt.Fprintf(w, `
odoo-shim demo is running at %[1]s (database %[2]s).

Reset the demo user "ahmad" (id 6) as admin, with Python's own XML-RPC client:

  python3 -c "import xmlrpc.client as x; u='%[1]s'; db='%[2]s'; uid=x.ServerProxy(u+'/xmlrpc/2/common').authenticate(db,'admin','admin',{}); print(x.ServerProxy(u+'/xmlrpc/2/object').execute_kw(db,uid,'admin','res.users','action_reset_password',[[6]]))"

Then open the mail catcher's inbox, %[1]s/dev/mail/ , press "Ubah password" in the mail,
and choose a new password. The self-service page is %[1]s/web/reset_password .
Demo logins: admin/admin, ustadz/ustadz-demo, operator/operator-demo.
After the new password is set you land signed in on %[1]s/odoo (the demo has no Odoo
web client, so its "Back to Login" links go nowhere).

The web client's button, as the Odoo 18 web client sends it:

  curl -c /tmp/odoo-shim-jar -H 'Content-Type: application/json' -d '{"jsonrpc":"2.0","method":"call","params":{"db":"%[2]s","login":"admin","password":"admin"}}' %[1]s/web/session/authenticate
  curl -b /tmp/odoo-shim-jar -H 'Content-Type: application/json' -d '{"id":1,"jsonrpc":"2.0","method":"call","params":{"args":[[6]],"kwargs":{"context":{"lang":"id_ID"}},"method":"action_reset_password","model":"res.users"}}' %[1]s/web/dataset/call_button/res.users/action_reset_password
`, url, db)
	if c != nil {
		fmt.Fprintf(w, "\nPostgreSQL: PGPASSFILE=%s psql -h 127.0.0.1 -p %d -U %s %s\n"+
			"  (data in %s, kept between runs; \"make clean\" removes .data to start "+
			"afresh).\n", c.PassFile(), c.Port, pgcluster.Superuser, db, c.Dir)
		env := fmt.Sprintf("ODOO_SHIM_DATABASE_DSN=\"$(cat %s)\"", demoDSNFile(c))
		fmt.Fprintf(w, "Operator commands on it (check-mail while the demo runs):\n"+
			"  %[1]s %[2]s outbox\n  %[1]s %[2]s check-mail\n", env, os.Args[0])
	} else {
		fmt.Fprintf(w, "\nDatabase: %s\n", config.RedactDSN(dsn))
	}
	fmt.Fprintln(w, "Stop with Ctrl-C.")
}
