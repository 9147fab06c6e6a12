-- Odoo 17 test database, derived: the real Odoo 16 schema and testdata/odoo16/seed.sql,
-- then this file. No Odoo 17 schema dump is available; the differences below are the ones
-- rpc.md §7 and reset.md §2 list that odoo-shim reads (our own writing):
-- - base and auth_signup report 17.0 versions;
-- - companies gain mail alias domains (17 moved the notifications and bounce addresses
--   from ir_config_parameter to mail_alias_domain);
-- - res_partner stores complete_name;
-- - password hashes are written with 600 000 rounds (admin's is replaced here).
-- res_partner.signup_token, signup_type and signup_expiration mean what they meant in 16.
UPDATE ir_module_module SET latest_version = replace(latest_version, '16.0.', '17.0.')
    WHERE latest_version LIKE '16.0.%';

CREATE TABLE mail_alias_domain (
    id serial PRIMARY KEY,
    name varchar NOT NULL UNIQUE,
    sequence integer,
    bounce_alias varchar NOT NULL DEFAULT 'bounce',
    catchall_alias varchar NOT NULL DEFAULT 'catchall',
    default_from varchar DEFAULT 'notifications',
    create_date timestamp,
    write_date timestamp
);
ALTER TABLE res_company ADD COLUMN alias_domain_id integer REFERENCES mail_alias_domain(id);
ALTER TABLE res_partner ADD COLUMN complete_name varchar;
UPDATE res_partner SET complete_name = name;

UPDATE res_users SET password = '$pbkdf2-sha512$600000$m31uLxR9eprc2EWJfwd1MQ$MX.AvgcHIhrJzjFfDZ3JNfUow6xwyTM8esFHC2h/hEVadOFmo1hKX38WJfaKWTEddeY1a0cavtDLeDzJAhemjg'
    WHERE login = 'admin';
