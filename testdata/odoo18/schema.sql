-- An Odoo-18-shaped schema written for odoo-shim's tests and demo: only the tables and
-- columns the password-reset flow reads or writes, with the types, defaults and uniqueness
-- rules Odoo 18 gives them. It is not a dump of Odoo; a real Odoo database has many more
-- columns, tables and foreign keys.

CREATE TABLE ir_module_category (
    id serial PRIMARY KEY,
    name jsonb NOT NULL,
    parent_id integer,
    sequence integer
);

CREATE TABLE ir_module_module (
    id serial PRIMARY KEY,
    name varchar NOT NULL UNIQUE,
    state varchar,
    latest_version varchar,
    category_id integer REFERENCES ir_module_category(id)
);

CREATE TABLE ir_model (
    id serial PRIMARY KEY,
    model varchar NOT NULL UNIQUE,
    name jsonb NOT NULL,
    "order" varchar NOT NULL DEFAULT 'id',
    state varchar DEFAULT 'base',
    transient boolean DEFAULT false
);

CREATE TABLE ir_model_data (
    id serial PRIMARY KEY,
    module varchar NOT NULL,
    name varchar NOT NULL CHECK (name NOT LIKE '% %'),
    model varchar NOT NULL,
    res_id integer,
    noupdate boolean DEFAULT false,
    create_date timestamp DEFAULT (now() AT TIME ZONE 'UTC'),
    write_date timestamp DEFAULT (now() AT TIME ZONE 'UTC'),
    UNIQUE (module, name)
);
CREATE INDEX ir_model_data_model_res_id_index ON ir_model_data (model, res_id);

CREATE TABLE ir_config_parameter (
    id serial PRIMARY KEY,
    key varchar NOT NULL UNIQUE,
    value text NOT NULL,
    create_uid integer,
    write_uid integer,
    create_date timestamp,
    write_date timestamp
);

CREATE TABLE res_lang (
    id serial PRIMARY KEY,
    name varchar NOT NULL UNIQUE,
    code varchar NOT NULL UNIQUE,
    iso_code varchar,
    url_code varchar NOT NULL UNIQUE,
    direction varchar NOT NULL DEFAULT 'ltr',
    date_format varchar NOT NULL DEFAULT '%m/%d/%Y',
    time_format varchar NOT NULL DEFAULT '%H:%M:%S',
    short_time_format varchar NOT NULL DEFAULT '%H:%M',
    week_start varchar NOT NULL DEFAULT '7',
    "grouping" varchar NOT NULL DEFAULT '[]',
    decimal_point varchar NOT NULL DEFAULT '.',
    thousands_sep varchar DEFAULT ',',
    active boolean
);

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

CREATE TABLE res_partner (
    id serial PRIMARY KEY,
    name varchar,
    complete_name varchar,
    company_id integer,
    type varchar DEFAULT 'contact',
    email varchar,
    email_normalized varchar,
    lang varchar,
    tz varchar,
    active boolean DEFAULT true,
    is_company boolean DEFAULT false,
    partner_share boolean,
    signup_type varchar,
    create_uid integer,
    write_uid integer,
    create_date timestamp,
    write_date timestamp,
    CHECK ((type = 'contact' AND name IS NOT NULL) OR type <> 'contact')
);

CREATE TABLE res_company (
    id serial PRIMARY KEY,
    name varchar NOT NULL UNIQUE,
    partner_id integer NOT NULL REFERENCES res_partner(id),
    currency_id integer NOT NULL DEFAULT 1,
    email varchar,
    phone varchar,
    sequence integer DEFAULT 10,
    parent_id integer,
    active boolean DEFAULT true,
    alias_domain_id integer REFERENCES mail_alias_domain(id),
    uses_default_logo boolean DEFAULT true,
    create_date timestamp,
    write_date timestamp
);

CREATE TABLE res_users (
    id serial PRIMARY KEY,
    login varchar NOT NULL UNIQUE,
    password varchar,
    partner_id integer NOT NULL REFERENCES res_partner(id) ON DELETE RESTRICT,
    company_id integer NOT NULL REFERENCES res_company(id),
    active boolean DEFAULT true,
    share boolean,
    totp_secret varchar,
    notification_type varchar NOT NULL DEFAULT 'email',
    signature text,
    create_uid integer,
    write_uid integer,
    create_date timestamp,
    write_date timestamp
);

CREATE TABLE res_users_log (
    id serial PRIMARY KEY,
    create_uid integer,
    write_uid integer,
    create_date timestamp,
    write_date timestamp
);
CREATE INDEX res_users_log_create_uid_idx ON res_users_log (create_uid);

CREATE TABLE res_users_apikeys (
    id serial PRIMARY KEY,
    name varchar NOT NULL,
    user_id integer NOT NULL REFERENCES res_users(id) ON DELETE CASCADE,
    scope varchar,
    expiration_date timestamp,
    index varchar(8) CHECK (char_length(index) = 8),
    key varchar,
    create_date timestamp DEFAULT (now() AT TIME ZONE 'utc')
);
CREATE INDEX res_users_apikeys_user_id_index_idx ON res_users_apikeys (user_id, index);

CREATE TABLE res_groups (
    id serial PRIMARY KEY,
    name jsonb NOT NULL,
    category_id integer REFERENCES ir_module_category(id),
    share boolean,
    api_key_duration double precision
);

CREATE TABLE res_groups_users_rel (
    gid integer NOT NULL REFERENCES res_groups(id) ON DELETE CASCADE,
    uid integer NOT NULL REFERENCES res_users(id) ON DELETE CASCADE,
    PRIMARY KEY (gid, uid)
);
CREATE INDEX ON res_groups_users_rel (uid, gid);

CREATE TABLE res_groups_implied_rel (
    gid integer NOT NULL REFERENCES res_groups(id) ON DELETE CASCADE,
    hid integer NOT NULL REFERENCES res_groups(id) ON DELETE CASCADE,
    PRIMARY KEY (gid, hid)
);

CREATE TABLE res_company_users_rel (
    cid integer NOT NULL REFERENCES res_company(id) ON DELETE CASCADE,
    user_id integer NOT NULL REFERENCES res_users(id) ON DELETE CASCADE,
    PRIMARY KEY (cid, user_id)
);

CREATE TABLE ir_mail_server (
    id serial PRIMARY KEY,
    name varchar NOT NULL,
    from_filter varchar,
    smtp_host varchar,
    smtp_port integer DEFAULT 25,
    smtp_authentication varchar NOT NULL DEFAULT 'login',
    smtp_user varchar,
    smtp_pass varchar,
    smtp_encryption varchar NOT NULL DEFAULT 'none',
    smtp_ssl_certificate bytea,
    smtp_ssl_private_key bytea,
    smtp_debug boolean,
    max_email_size double precision,
    sequence integer DEFAULT 10,
    active boolean DEFAULT true,
    google_gmail_access_token_expiration integer,
    google_gmail_authorization_code varchar,
    google_gmail_refresh_token varchar,
    google_gmail_access_token varchar,
    create_date timestamp,
    write_date timestamp,
    CHECK (smtp_encryption <> 'none' OR smtp_authentication <> 'certificate')
);
