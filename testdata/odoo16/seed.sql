-- Rows for the real Odoo 16 schema (../shared/fixtures/odoo16-schema.sql, which has none):
-- our own data, the same fictitious school and users as testdata/odoo18/demo.sql, written
-- into the columns the 16 schema has. Passwords: admin/admin, ustadz/ustadz-demo,
-- operator/operator-demo, hashed with the 350 000 rounds Odoo 16 writes. The API key of
-- admin is 6e0f3a1c9b7d4e2f8a5c1b3d7e9f0a2c4b6d8e1f. database.secret is public: tests only.

INSERT INTO ir_module_module (name, state, latest_version) VALUES
    ('base', 'installed', '16.0.1.3'),
    ('web', 'installed', '16.0.1.0'),
    ('mail', 'installed', '16.0.1.10'),
    ('auth_signup', 'installed', '16.0.1.0'),
    ('auth_password_policy', 'installed', '16.0.1.0'),
    ('auth_totp', 'installed', '16.0.1.0'),
    ('contacts', 'installed', '16.0.1.0'),
    ('website', 'uninstalled', NULL);

INSERT INTO res_lang (id, name, code, iso_code, url_code, direction, date_format, time_format,
    week_start, "grouping", decimal_point, thousands_sep, active) VALUES
    (1, 'English (US)', 'en_US', 'en', 'en', 'ltr', '%m/%d/%Y', '%H:%M:%S', '7', '[3,0]', '.',
        ',', true),
    (2, 'Indonesian / Bahasa Indonesia', 'id_ID', 'id', 'id', 'ltr', '%d/%m/%Y', '%H:%M:%S',
        '1', '[3,0]', ',', '.', true);

INSERT INTO res_currency (id, name, symbol, active) VALUES (1, 'IDR', 'Rp', true);

INSERT INTO res_partner (id, name, display_name, company_id, email, email_normalized, lang,
    active, is_company, partner_share, type, create_date, write_date) VALUES
    (1, 'Pondok Pesantren Demo', 'Pondok Pesantren Demo', NULL, 'tu@pesantren-demo.test',
        'tu@pesantren-demo.test', 'id_ID', true, true, true, 'contact', now(), now()),
    (2, 'OdooBot', 'OdooBot', NULL, 'odoobot@example.com', 'odoobot@example.com', 'id_ID',
        false, false, false, 'contact', now(), now()),
    (3, 'Administrator', 'Administrator', NULL, 'admin@pesantren-demo.test',
        'admin@pesantren-demo.test', 'id_ID', true, false, false, 'contact', now(), now()),
    (4, 'Public user', 'Public user', NULL, NULL, NULL, 'id_ID', false, false, true,
        'contact', now(), now()),
    (7, 'Ahmad Santoso', 'Ahmad Santoso', NULL, 'ahmad.santoso@example.org',
        'ahmad.santoso@example.org', 'id_ID', true, false, false, 'contact', now(), now()),
    (8, 'Fatimah Az-Zahra', 'Fatimah Az-Zahra', NULL, 'Fatimah.AzZahra@Example.org',
        'fatimah.azzahra@example.org', 'id_ID', true, false, false, 'contact', now(), now()),
    (9, 'Budi Tanpa Email', 'Budi Tanpa Email', NULL, NULL, NULL, 'id_ID', true, false,
        false, 'contact', now(), now()),
    (10, 'Alumni Lama', 'Alumni Lama', NULL, 'alumni.lama@example.org',
        'alumni.lama@example.org', 'id_ID', true, false, false, 'contact', now(), now()),
    (11, 'Visiting Teacher', 'Visiting Teacher', NULL, 'visiting.teacher@example.org',
        'visiting.teacher@example.org', 'en_US', true, false, false, 'contact', now(), now()),
    (12, 'Ustadz Hasan', 'Ustadz Hasan', NULL, 'ustadz.hasan@example.org',
        'ustadz.hasan@example.org', 'id_ID', true, false, false, 'contact', now(), now()),
    (13, 'Operator Tata Usaha', 'Operator Tata Usaha', NULL, 'operator@example.org',
        'operator@example.org', 'id_ID', true, false, false, 'contact', now(), now()),
    (14, 'Ibu Wali Santri', 'Ibu Wali Santri', NULL, 'wali@example.org', 'wali@example.org',
        'id_ID', true, false, true, 'contact', now(), now());
SELECT setval(pg_get_serial_sequence('res_partner', 'id'), 100);

INSERT INTO res_company (id, name, partner_id, currency_id, email, phone, layout_background,
    fiscalyear_last_day, fiscalyear_last_month, account_opening_date, security_lead,
    manufacturing_lead, po_lead, active, create_date, write_date) VALUES
    (1, 'Pondok Pesantren Demo', 1, 1, 'tu@pesantren-demo.test', '', 'Blank', 31, '12',
        '2026-01-01', 0, 0, 0, true, now(), now());
UPDATE res_partner SET company_id = 1 WHERE id IN (2, 3);

INSERT INTO res_users (id, login, password, partner_id, company_id, active, share,
    notification_type, create_date, write_date) VALUES
    (1, '__system__', NULL, 2, 1, false, false, 'email', now(), now()),
    (2, 'admin', '$pbkdf2-sha512$350000$90uH5x9.g2sMq3.sCQwQCQ$nWmhcrCUeRn0uySDidQI./oPZAMlogBzo/6hAOe2TH.7wv2P8Zm2q0E0XJ3fbJAGwvERequSo0YNbqVrLb1EHw',
        3, 1, true, false, 'email', now(), now()),
    (4, 'public', NULL, 4, 1, false, true, 'email', now(), now()),
    (6, 'ahmad', NULL, 7, 1, true, false, 'email', now(), now()),
    (7, 'fatimah@example.org', NULL, 8, 1, true, false, 'email', now(), now()),
    (8, 'budi', NULL, 9, 1, true, false, 'email', now(), now()),
    (9, 'alumni', NULL, 10, 1, false, false, 'email', now(), now()),
    (10, 'teacher.en', NULL, 11, 1, true, false, 'email', now(), now()),
    (11, 'ustadz', '$pbkdf2-sha512$350000$Yx/UrS.GJRjKRbvEbI3xiw$5HY76C9dH/PeTlO6y9d8SsDIMwIu7qZ4MUnO59YqvbwQwhxLXAC9t1gQzBn6ZThYpK3NQ8pOJpbcGpwNl5EFuw',
        12, 1, true, false, 'email', now(), now()),
    (12, 'operator', '$pbkdf2-sha512$350000$OC6jg4bJ6bjrv6xJ1.tZsA$UCj/lsChtlGBA7CANHQZ6ke1TS8KTSQOfoNVail/s5eUADHWCiwGVuvKmRU29omrP/iXvcfSZSo/IOVtkEKZ.A',
        13, 1, true, false, 'email', now(), now()),
    (13, 'wali@example.org', NULL, 14, 1, true, true, 'email', now(), now());
SELECT setval(pg_get_serial_sequence('res_users', 'id'), 100);

INSERT INTO res_company_users_rel (cid, user_id)
    SELECT 1, id FROM res_users;

INSERT INTO ir_module_category (id, name) VALUES
    (1, '{"en_US": "Administration", "id_ID": "Administrasi"}');

INSERT INTO res_groups (id, name, category_id) VALUES
    (1, '{"en_US": "Internal User", "id_ID": "User Internal"}', NULL),
    (2, '{"en_US": "Access Rights", "id_ID": "Hak Akses"}', 1),
    (4, '{"en_US": "Settings", "id_ID": "Pengaturan"}', 1),
    (7, '{"en_US": "Technical Features", "id_ID": "Fitur Teknis"}', NULL),
    (9, '{"en_US": "Contact Creation", "id_ID": "Pembuatan Kontak"}', NULL),
    (10, '{"en_US": "Portal", "id_ID": "Portal"}', NULL),
    (11, '{"en_US": "Public", "id_ID": "Umum"}', NULL);
SELECT setval(pg_get_serial_sequence('res_groups', 'id'), 100);

INSERT INTO res_groups_implied_rel (gid, hid) VALUES (2, 1), (4, 2), (1, 9);

-- Odoo 15-18 keep res_groups_users_rel closed under implication.
INSERT INTO res_groups_users_rel (gid, uid) VALUES
    (1, 1), (2, 1), (4, 1),
    (1, 2), (2, 2), (4, 2), (9, 2),
    (11, 4),
    (1, 6), (9, 6), (1, 7), (9, 7), (1, 8), (1, 9), (1, 10), (9, 10),
    (1, 11), (9, 11),
    (1, 12), (2, 12), (9, 12),
    (10, 13);

INSERT INTO ir_model_data (module, name, model, res_id, noupdate) VALUES
    ('base', 'main_company', 'res.company', 1, true),
    ('base', 'main_partner', 'res.partner', 1, true),
    ('base', 'user_root', 'res.users', 1, true),
    ('base', 'partner_root', 'res.partner', 2, true),
    ('base', 'user_admin', 'res.users', 2, true),
    ('base', 'partner_admin', 'res.partner', 3, true),
    ('base', 'public_user', 'res.users', 4, true),
    ('base', 'group_user', 'res.groups', 1, false),
    ('base', 'group_erp_manager', 'res.groups', 2, false),
    ('base', 'group_system', 'res.groups', 4, false),
    ('base', 'group_no_one', 'res.groups', 7, false),
    ('base', 'group_partner_manager', 'res.groups', 9, false),
    ('base', 'group_portal', 'res.groups', 10, false),
    ('base', 'group_public', 'res.groups', 11, false),
    ('base', 'lang_en', 'res.lang', 1, false),
    ('base', 'lang_id', 'res.lang', 2, false);

INSERT INTO res_users_apikeys (name, user_id, scope, index, key) VALUES
    ('demo script', 2, 'rpc', '6e0f3a1c',
     '$pbkdf2-sha512$6000$o.soy0LWmAs/DG6EpWKj/A$whoFS142h5cltXHrAve4V593CTINtGbk3adlZHh4mQKTFED6bmgtRd4m3nAM4DHPoRlZPB9En4FwDcTSmg2/Cg');

INSERT INTO ir_config_parameter (key, value, create_date, write_date) VALUES
    ('database.secret', '7c2d1e9a-4b3f-4a6e-8d5c-1f2e3d4c5b6a', now(), now()),
    ('database.uuid', '5a6b7c8d-0000-11f1-8000-000000000016', now(), now()),
    ('web.base.url', 'http://127.0.0.1:8069', now(), now()),
    ('web.base.url.freeze', 'True', now(), now()),
    ('auth_signup.reset_password', 'True', now(), now()),
    ('auth_signup.invitation_scope', 'b2b', now(), now()),
    ('auth_password_policy.minlength', '8', now(), now()),
    ('base.login_cooldown_after', '10', now(), now()),
    ('base.login_cooldown_duration', '60', now(), now());

INSERT INTO ir_mail_server (name, from_filter, smtp_host, smtp_port, smtp_authentication,
    smtp_encryption, sequence, active, create_date, write_date) VALUES
    ('Demo mail catcher', NULL, '127.0.0.1', 2525, 'login', 'none', 10, true, now(), now());
