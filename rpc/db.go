package rpc

import (
	"context"

	"github.com/odoo-shim/odoo-shim/models"
)

// dbMethods is Odoo's db service. odoo-shim serves one database and manages none, so the
// calls that need the master password are always refused, as Odoo refuses a wrong one.
func (s *Server) dbMethods() map[string]method {
	m := map[string]method{
		"list":           s.dbList,
		"db_exist":       s.dbExist,
		"server_version": s.dbServerVersion,
		"list_lang":      s.dbListLang,
	}
	for _, name := range []string{"create_database", "duplicate_database", "drop", "dump",
		"restore", "rename", "change_admin_password", "migrate_databases", "list_countries"} {
		m[name] = dbSuperOnly
	}
	return m
}

// dbSuperOnly answers the calls Odoo guards with the master password (check_super):
// AccessDenied, as odoo-shim has no master password.
func dbSuperOnly(context.Context, []any) (any, error) { return nil, models.ErrAccessDenied }

// dbList is db.list(document=False): the database odoo-shim serves, as Odoo lists the
// databases it may use when --database names them; AccessDenied when list_db is off.
func (s *Server) dbList(_ context.Context, params []any) (any, error) {
	if err := arity("exp_list", params, 0, 1); err != nil {
		return nil, err
	}
	if s.opt.ListDBDisabled {
		return nil, models.ErrAccessDenied
	}
	return []any{s.store.Info().Name}, nil
}

// dbExist is db.db_exist(name): whether odoo-shim can serve that database. Other
// databases on the same server are not odoo-shim's to reveal or to open.
func (s *Server) dbExist(_ context.Context, params []any) (any, error) {
	if err := arity("exp_db_exist", params, 1, 1); err != nil {
		return nil, err
	}
	name, _ := params[0].(string)
	return name == s.store.Info().Name, nil
}

// dbServerVersion is db.server_version(): release.version.
func (s *Server) dbServerVersion(_ context.Context, params []any) (any, error) {
	if err := arity("exp_server_version", params, 0, 0); err != nil {
		return nil, err
	}
	return s.serverVersion(), nil
}

// dbListLang is db.list_lang(): [code, name] pairs sorted by name.
func (s *Server) dbListLang(ctx context.Context, params []any) (any, error) {
	if err := arity("exp_list_lang", params, 0, 0); err != nil {
		return nil, err
	}
	langs, err := s.store.Languages(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(langs))
	for i, l := range langs {
		out[i] = []any{l[0], l[1]}
	}
	return out, nil
}
