-- Odoo 19 test database, derived: testdata/odoo18 (schema.sql and demo.sql), then this
-- file. No Odoo 19 schema dump is available; the differences below are the ones rpc.md
-- §6-§7 lists for what odoo-shim reads (our own writing):
-- - base and auth_signup report 19.0 versions;
-- - res_groups_users_rel holds only the groups given to a user explicitly: membership is
--   its closure over res_groups_implied_rel (Odoo 19's all_group_ids). Here admin is given
--   Settings only and the operator Access Rights only; both still reach Access Rights.
-- - res_groups.category_id became privilege_id.
-- The signup token is the stateless signed token of 18, unchanged.
UPDATE ir_module_module SET latest_version = replace(latest_version, '18.0.', '19.0.')
    WHERE latest_version LIKE '18.0.%';

ALTER TABLE res_groups RENAME COLUMN category_id TO privilege_id;

DELETE FROM res_groups_users_rel;
INSERT INTO res_groups_users_rel (gid, uid) VALUES
    (4, 1), (4, 2), (11, 4),
    (1, 6), (1, 7), (1, 8), (1, 9), (1, 10), (1, 11),
    (2, 12),
    (10, 13);
