package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrNoMaxEmailSize is returned for databases older than Odoo 18, whose ir_mail_server has
// no max_email_size: there Odoo caps nothing and the mail server's limit decides alone.
var ErrNoMaxEmailSize = errors.New("ir_mail_server.max_email_size does not exist before " +
	"Odoo 18")

// Where a SizeLimit comes from.
const (
	LimitServer  = "max_email_size"              // the server row's own value
	LimitDefault = "base.default_max_email_size" // the system parameter, for rows without one
)

// defaultMaxEmailSize is Odoo's value of base.default_max_email_size when it is not set.
const defaultMaxEmailSize = "10"

// SizeLimit is the size, in MB (2^20 bytes), up to which Odoo 18+ lets a mail for a server
// grow before it turns its attachments into download links.
type SizeLimit struct {
	MB     float64
	Source string // LimitServer or LimitDefault
	// Invalid is the parameter as written when it is not a number; MB is then 0.
	Invalid string
}

// EmailSizeLimit returns Odoo's size limit for the server row id (0 for odoo.conf's
// server): its max_email_size when set and not zero, else base.default_max_email_size.
func (s *Store) EmailSizeLimit(ctx context.Context, id int64) (SizeLimit, error) {
	if !s.info.MaxEmailSize {
		return SizeLimit{}, s.noMaxEmailSize()
	}
	var own sql.NullFloat64
	if id != 0 {
		err := s.db.GetContext(ctx, &own, `SELECT max_email_size FROM ir_mail_server
			WHERE id = $1`, id)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return SizeLimit{}, fmt.Errorf("read max_email_size of ir_mail_server %d: %w",
				id, err)
		}
	}
	if own.Valid && own.Float64 != 0 {
		return SizeLimit{MB: own.Float64, Source: LimitServer}, nil
	}

	v, err := param(ctx, s.db, LimitDefault, defaultMaxEmailSize)
	if err != nil {
		return SizeLimit{}, err
	}
	mb, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return SizeLimit{Source: LimitDefault, Invalid: v}, nil
	}
	return SizeLimit{MB: mb, Source: LimitDefault}, nil
}

// SetMaxEmailSize stores a server's announced maximum of bytes as its max_email_size in
// MB, as Odoo 18's button does, and returns the value stored.
func (s *Store) SetMaxEmailSize(ctx context.Context, id int64, bytes int64) (float64, error) {
	if !s.info.MaxEmailSize {
		return 0, s.noMaxEmailSize()
	}
	mb := float64(bytes) / (1 << 20)
	res, err := s.db.ExecContext(ctx, `UPDATE ir_mail_server
		SET max_email_size = $1, write_date = now() AT TIME ZONE 'UTC'
		WHERE id = $2`, mb, id)
	if err != nil {
		return 0, fmt.Errorf("store max_email_size of ir_mail_server %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, fmt.Errorf("ir_mail_server %d no longer exists", id)
	}
	return mb, nil
}

func (s *Store) noMaxEmailSize() error {
	return fmt.Errorf("%w (this database runs Odoo %s)", ErrNoMaxEmailSize, s.info.Serie())
}
