-- Odoo 15 test database, derived: the real Odoo 16 schema and testdata/odoo16/seed.sql,
-- then this file. No Odoo 15 schema dump is available; the differences below are the ones
-- rpc.md §7 lists for the tables odoo-shim reads (our own writing):
-- - base and auth_signup report 15.0 versions;
-- - res_groups.name is a plain varchar (translations lived in ir_translation before 16);
-- - password hashes are passlib's default 25 000 rounds (admin's is replaced here);
-- - google_gmail switches Gmail OAuth on with the boolean use_google_gmail_service (on
--   ir_mail_server and fetchmail_server, from google.gmail.mixin) instead of
--   smtp_authentication = 'gmail'; the token columns google_gmail_authorization_code,
--   _refresh_token, _access_token and _access_token_expiration (integer, Unix seconds) are
--   those of 16, which the schema already has (mail.md §1.1);
-- - microsoft_outlook likewise switches Outlook OAuth on with the boolean
--   use_microsoft_outlook_service (from microsoft.outlook.mixin) instead of
--   smtp_authentication = 'outlook'. The 16 schema is one without microsoft_outlook, so its
--   token columns microsoft_outlook_refresh_token, _access_token and
--   _access_token_expiration (integer, Unix seconds) are added here too, on ir_mail_server
--   and, as OCA's 15.0 mail_environment_office365 configures them there as well,
--   fetchmail_server.
-- The signup columns of res_partner are those of 16.
UPDATE ir_module_module SET latest_version = replace(latest_version, '16.0.', '15.0.')
    WHERE latest_version LIKE '16.0.%';

ALTER TABLE res_groups ALTER COLUMN name TYPE varchar USING name->>'en_US';

UPDATE res_users SET password = '$pbkdf2-sha512$25000$VbDEenUh0LpjULKNIkxYAg$AiVLuQNhHexWCEzS1s3zke4FX3afw1iEh41B/gUjREEBr4XUWXc2vk3DOgsN6NHbvsI1OOCrwpoLHYO/0HZ8Sg'
    WHERE login = 'admin';

ALTER TABLE ir_mail_server ADD COLUMN use_google_gmail_service boolean;
ALTER TABLE fetchmail_server ADD COLUMN use_google_gmail_service boolean;

ALTER TABLE ir_mail_server ADD COLUMN use_microsoft_outlook_service boolean,
    ADD COLUMN microsoft_outlook_refresh_token varchar,
    ADD COLUMN microsoft_outlook_access_token varchar,
    ADD COLUMN microsoft_outlook_access_token_expiration integer;
ALTER TABLE fetchmail_server ADD COLUMN use_microsoft_outlook_service boolean,
    ADD COLUMN microsoft_outlook_refresh_token varchar,
    ADD COLUMN microsoft_outlook_access_token varchar,
    ADD COLUMN microsoft_outlook_access_token_expiration integer;
