package models

import (
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// demoMarker is the ir_config_parameter key that marks a database as odoo-shim's demo.
const demoMarker = "odoo_shim.demo"

// ErrNotDemo reports a database that holds data odoo-shim's demo must not touch.
var ErrNotDemo = errors.New("not an odoo-shim demo database")

// LoadDemo fills an empty database with the demo's schema and data (plain SQL, run over
// the connection itself, so no psql is needed) and reports whether it did. A database that
// already is a demo, or that the demo created itself (owned), is left as it is; any other
// database with tables is refused, so that a real Odoo database is never touched.
func LoadDemo(ctx context.Context, dsn string, owned bool, scripts ...string) (bool, error) {
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		return false, fmt.Errorf("open demo database: %w", err)
	}
	defer db.Close()

	var tables int
	err = db.GetContext(ctx, &tables, `
		SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'`)
	if err != nil {
		return false, fmt.Errorf("inspect demo database: %w", err)
	}
	if tables > 0 {
		if owned {
			return false, nil
		}
		if v, err := param(ctx, db, demoMarker, ""); err != nil || v != "True" {
			return false, fmt.Errorf("%w: the database already holds tables; give the demo an "+
				"empty database, or serve an existing Odoo database with odoo-shim serve",
				ErrNotDemo)
		}
		return false, nil
	}

	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("load demo: %w", err)
	}
	defer tx.Rollback()
	for _, script := range scripts {
		if _, err := tx.ExecContext(ctx, script); err != nil {
			return false, fmt.Errorf("load demo: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO ir_config_parameter (key, value) VALUES ($1, 'True')`, demoMarker); err != nil {
		return false, fmt.Errorf("load demo: %w", err)
	}
	return true, tx.Commit()
}

// ConfigureDemo points the demo database at the demo's own mail catcher and address: every
// active mail server row is sent to host:port without encryption or login, and
// web.base.url to baseURL. It is meant for odoo-shim's demo database only, never for a
// database Odoo serves.
func ConfigureDemo(ctx context.Context, dsn, host string, port int, baseURL string) error {
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		return fmt.Errorf("open demo database: %w", err)
	}
	defer db.Close()

	_, err = db.ExecContext(ctx, `
		UPDATE ir_mail_server
		SET smtp_host = $1, smtp_port = $2, smtp_encryption = 'none', smtp_user = NULL,
			smtp_pass = NULL
		WHERE active`, host, port)
	if err != nil {
		return fmt.Errorf("point the demo mail server at the catcher: %w", err)
	}
	_, err = db.ExecContext(ctx, `
		UPDATE ir_config_parameter SET value = $1 WHERE key = 'web.base.url'`, baseURL)
	if err != nil {
		return fmt.Errorf("set the demo web.base.url: %w", err)
	}
	return nil
}
