package models

import (
	"context"
	"fmt"
)

// Languages returns the [code, name] pairs of every language Odoo knows, sorted by name,
// as the db service's list_lang gives them.
// NOTE: Odoo reads them from its base/data/res.lang.csv; odoo-shim reads the res_lang
// table, which Odoo fills from that file (installed or not), and falls back to English.
func (s *Store) Languages(ctx context.Context) ([][2]string, error) {
	var rows []struct {
		Code string `db:"code"`
		Name string `db:"name"`
	}
	err := s.db.SelectContext(ctx, &rows, `SELECT code, name FROM res_lang ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("read languages: %w", err)
	}
	if len(rows) == 0 {
		return [][2]string{{"en_US", "English"}}, nil
	}
	out := make([][2]string, len(rows))
	for i, r := range rows {
		out[i] = [2]string{r.Code, r.Name}
	}
	return out, nil
}
