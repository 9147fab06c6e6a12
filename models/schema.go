package models

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// Schema is the PostgreSQL schema that holds odoo-shim's own tables (sessions, the mail
// outbox). Odoo never reads it, and odoo-shim never writes its state into Odoo's tables
// where Odoo's own machinery would act on it.
const Schema = "odoo_shim"

// migration is one step of odoo-shim's own schema. Steps are applied once, in order, and
// never edited after they have shipped: a change is a new step.
type migration struct {
	id  string
	sql string
}

// migrations lists every step. Append new steps at the end.
var migrations = []migration{
	{"0001_schema", `CREATE SCHEMA IF NOT EXISTS odoo_shim`},
	// Browser sessions (session.go): the SHA-256 of the session id, never the id itself.
	// No foreign key to res_users: odoo-shim adds no constraint Odoo would trip over when
	// it deletes a user; such a session fails its token check and is removed.
	{"0002_sessions", `
		CREATE TABLE odoo_shim.session (
			id_hash bytea PRIMARY KEY,
			uid integer NOT NULL,
			login varchar NOT NULL,
			session_token varchar NOT NULL,
			created_at timestamp NOT NULL,
			last_seen timestamp NOT NULL
		);
		CREATE INDEX session_last_seen_idx ON odoo_shim.session (last_seen)`},
	{"0003_outbox", outboxSchema},
	// Odoo 15-17 keep the reset token on the partner: a failed mail puts it back too.
	{"0004_outbox_stored_tokens", `
		ALTER TABLE odoo_shim.outbox
			ADD COLUMN prior_signup_token varchar,
			ADD COLUMN prior_signup_expiration timestamp`},
	{"0005_outbox_hand_over", outboxHandOver},
	{"0006_outbox_doubt_quota", outboxDoubtAndQuota},
	{"0007_outbox_handed_index", outboxHandedIndex},
}

// migrate brings odoo-shim's schema up to date. Several instances may start at once on one
// database: a transaction-scoped advisory lock lets one apply the steps while the others
// wait, then find nothing left to do.
func migrate(ctx context.Context, db *sqlx.DB) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate own schema: %w", err)
	}
	defer tx.Rollback()

	// The key is arbitrary but fixed: the first 8 bytes of "odooshim" read as an int64.
	const lockKey = 8026662960349342061
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey); err != nil {
		return fmt.Errorf("lock own schema: %w", err)
	}
	_, err = tx.ExecContext(ctx, `
		CREATE SCHEMA IF NOT EXISTS odoo_shim;
		CREATE TABLE IF NOT EXISTS odoo_shim.migration (
			id text PRIMARY KEY,
			applied_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
		)`)
	if err != nil {
		return fmt.Errorf("create own schema %s (the database user needs CREATE on the "+
			"database): %w", Schema, err)
	}

	applied := map[string]bool{}
	var ids []string
	if err := tx.SelectContext(ctx, &ids, `SELECT id FROM odoo_shim.migration`); err != nil {
		return fmt.Errorf("read own schema version: %w", err)
	}
	for _, id := range ids {
		applied[id] = true
	}

	for _, m := range migrations {
		if applied[m.id] {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("apply own schema step %s: %w", m.id, err)
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO odoo_shim.migration (id) VALUES ($1)`, m.id); err != nil {
			return fmt.Errorf("record own schema step %s: %w", m.id, err)
		}
	}
	return tx.Commit()
}
