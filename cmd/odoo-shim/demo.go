package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
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

	cluster, err := startDemoDB(ctx, *data, *fixtures)
	if err != nil {
		return err
	}
	defer cluster.Stop()

	mails := catcher.New(catcher.Options{Domain: "odoo-shim-demo"})
	if err := mails.Start(*smtpAddr); err != nil {
		if err := mails.Start("127.0.0.1:0"); err != nil {
			return fmt.Errorf("start the mail catcher: %w", err)
		}
	}
	defer mails.Close()

	cfg.Database.DSN = cluster.DSN(demoDB)
	if err := pointDemo(ctx, cfg, mails.Addr()); err != nil {
		return err
	}

	ready := make(chan string, 1)
	go func() {
		if addr, ok := <-ready; ok {
			printDemo(stdout, addr, cluster)
		}
	}()
	return serve(ctx, cfg, log, mails.Handler(), ready)
}

// startDemoDB starts the private cluster under dir and loads the demo database once.
func startDemoDB(ctx context.Context, dir, fixtures string) (*pgcluster.Cluster, error) {
	cluster, err := pgcluster.Start(ctx, filepath.Join(dir, "pg"))
	if errors.Is(err, pgcluster.ErrNoPostgres) {
		return nil, fmt.Errorf("%w\nTo serve an existing Odoo database instead: "+
			"ODOO_SHIM_DATABASE_DSN=postgres://USER@HOST/DB odoo-shim serve", err)
	}
	if err != nil {
		return nil, err
	}

	ok, err := cluster.DatabaseExists(ctx, demoDB)
	if err == nil && !ok {
		err = loadDemo(ctx, cluster, fixtures)
	}
	if err != nil {
		cluster.Stop()
		return nil, err
	}
	return cluster, nil
}

func loadDemo(ctx context.Context, c *pgcluster.Cluster, fixtures string) error {
	if err := c.CreateDatabase(ctx, demoDB, ""); err != nil {
		return err
	}
	for _, f := range []string{"schema.sql", "demo.sql"} {
		if err := c.LoadFile(ctx, demoDB, filepath.Join(fixtures, f)); err != nil {
			_ = c.Exec(ctx, "postgres", "DROP DATABASE "+demoDB)
			return fmt.Errorf("load demo data: %w", err)
		}
	}
	return nil
}

func pointDemo(ctx context.Context, cfg *config.Config, smtpAddr string) error {
	host, portText, err := net.SplitHostPort(smtpAddr)
	if err != nil {
		return err
	}
	port, _ := strconv.Atoi(portText)
	return models.ConfigureDemo(ctx, cfg.Database.DSN, host, port, "http://"+cfg.Listen)
}

func printDemo(w io.Writer, addr string, c *pgcluster.Cluster) {
	url := "http://" + addr
	fmt.Fprintf(w, `
odoo-shim demo is running at %[1]s (database %[2]s).

Reset the demo user "ahmad" (id 6) as admin, with Python's own XML-RPC client:

  python3 -c "import xmlrpc.client as x; u='%[1]s'; db='%[2]s'; uid=x.ServerProxy(u+'/xmlrpc/2/common').authenticate(db,'admin','admin',{}); print(x.ServerProxy(u+'/xmlrpc/2/object').execute_kw(db,uid,'admin','res.users','action_reset_password',[[6]]))"

Then open the mail catcher's inbox, %[1]s/dev/mail/ , press "Ubah password" in the mail,
and choose a new password. The self-service page is %[1]s/web/reset_password .
Demo logins: admin/admin, ustadz/ustadz-demo, operator/operator-demo.
The demo has no Odoo web client, so its "Sign in" links go nowhere; check a new password
with XML-RPC authenticate instead.

PostgreSQL: psql -h 127.0.0.1 -p %[3]d -U %[4]s %[2]s   (data in %[5]s,
kept between runs; "make clean" removes .data to start afresh). Stop with Ctrl-C.
`, url, demoDB, c.Port, pgcluster.Superuser, c.Dir)
}
