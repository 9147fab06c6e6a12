package models

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

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
