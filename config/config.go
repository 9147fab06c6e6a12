// Package config loads odoo-shim's configuration: an optional YAML file, environment
// variables prefixed ODOO_SHIM_ that override any key, and the database and SMTP settings of
// an existing odoo.conf. Load validates everything at once and never prints a secret.
package config

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/viper"
)

// EnvPrefix prefixes every environment variable: database.dsn is ODOO_SHIM_DATABASE_DSN.
const EnvPrefix = "ODOO_SHIM"

// Config is the whole configuration.
type Config struct {
	Listen string `mapstructure:"listen"`
	// ProxyMode trusts X-Forwarded-For from the reverse proxy in front, as Odoo's option.
	ProxyMode bool     `mapstructure:"proxy_mode"`
	Database  Database `mapstructure:"database"`
	Odoo      Odoo     `mapstructure:"odoo"`
	Mail      Mail     `mapstructure:"mail"`
	SMTP      SMTP     `mapstructure:"smtp"`
	Limits    Limits   `mapstructure:"limits"`
	Log       Log      `mapstructure:"log"`
	Upstream  Upstream `mapstructure:"upstream"`
}

// Upstream is the Odoo server behind odoo-shim in front proxy mode: every request odoo-shim
// does not answer itself goes there unchanged.
type Upstream struct {
	// URL is the upstream Odoo's address, e.g. http://127.0.0.1:8070; empty serves alone.
	URL string `mapstructure:"url"`
	// Timeout is how long the upstream may take to start its answer.
	Timeout time.Duration `mapstructure:"timeout"`
	// MaxBodyBytes caps proxied request bodies, which are streamed, never held; 0: no cap.
	MaxBodyBytes int64 `mapstructure:"max_body_bytes"`
	// SessionTTL is how long an answer of the upstream about a session cookie is reused.
	SessionTTL time.Duration `mapstructure:"session_ttl"`
}

// Database says where the Odoo database is.
type Database struct {
	DSN      string `mapstructure:"dsn"`       // libpq URL or key=value string; secret
	OdooConf string `mapstructure:"odoo_conf"` // odoo.conf to take db_* (and smtp_*) from
	MaxConns int    `mapstructure:"max_conns"`
	// ListDB lets the db service's list() name the database, as odoo.conf's list_db.
	ListDB bool `mapstructure:"list_db"`
}

// Odoo holds what the database cannot tell about the Odoo in front of it.
type Odoo struct {
	// ServerVersion, when set, is reported by common.version instead of the series read
	// from the database (e.g. "18.0-20250506" for a nightly build).
	ServerVersion string `mapstructure:"server_version"`
	// BaseURL, when set, replaces web.base.url in mailed links.
	BaseURL string `mapstructure:"base_url"`
}

// Mail tunes how odoo-shim talks to mail servers.
type Mail struct {
	Timeout time.Duration `mapstructure:"timeout"`
	// KeepAlive keeps an authenticated connection open this long for the next reset.
	KeepAlive time.Duration `mapstructure:"keep_alive"`
	// Pipelining sends each mail's MAIL, RCPT and DATA as one group to servers that offer
	// PIPELINING (RFC 2920); false sends them one at a time.
	Pipelining bool   `mapstructure:"pipelining"`
	HeloName   string `mapstructure:"helo_name"`
	CAFile     string `mapstructure:"ca_file"` // extra trusted CAs (PEM)
	// InsecureSkipVerify accepts any server certificate, as Odoo 18 and older do.
	InsecureSkipVerify bool `mapstructure:"insecure_skip_verify"`
	// InsecureServers accepts any certificate from these servers only (ir_mail_server ids
	// or names, "odoo.conf" for the fallback).
	InsecureServers []string `mapstructure:"insecure_servers"`

	// Wait is how long a reset call waits for the first delivery attempt.
	Wait        time.Duration `mapstructure:"wait"`
	MaxAttempts int           `mapstructure:"max_attempts"`
	RetryBase   time.Duration `mapstructure:"retry_base"`
	RetryMax    time.Duration `mapstructure:"retry_max"`
	Lease       time.Duration `mapstructure:"lease"`
	Poll        time.Duration `mapstructure:"poll"`
	Batch       int           `mapstructure:"batch"`
	// RatePerMinute and DailyQuota limit the mails sent through each server (0: none).
	RatePerMinute int    `mapstructure:"rate_per_minute"`
	DailyQuota    int    `mapstructure:"daily_quota"`
	Instance      string `mapstructure:"instance"`
	// Keep is how long the outbox keeps what it did with a mail.
	Keep time.Duration `mapstructure:"keep"`
	// ResendUnconfirmed sends again, with the same Message-Id, a mail that went out whole
	// without a reply from the server, instead of keeping it unconfirmed.
	ResendUnconfirmed bool `mapstructure:"resend_unconfirmed"`
	// GmailTokenURL and OutlookTokenURL are the OAuth token endpoints.
	GmailTokenURL   string `mapstructure:"gmail_token_url"`
	OutlookTokenURL string `mapstructure:"outlook_token_url"`
}

// SMTP is Odoo's command-line mail server (odoo.conf smtp_*), used when the database has no
// active ir_mail_server row.
type SMTP struct {
	Server     string `mapstructure:"server"`
	Port       int    `mapstructure:"port"`
	SSL        bool   `mapstructure:"ssl"` // as in odoo.conf: STARTTLS, not implicit TLS
	User       string `mapstructure:"user"`
	Password   string `mapstructure:"password"` // secret
	EmailFrom  string `mapstructure:"email_from"`
	FromFilter string `mapstructure:"from_filter"`
}

// Limits bound what one request may cost.
type Limits struct {
	MaxBodyBytes    int64         `mapstructure:"max_body_bytes"`
	MaxXMLDepth     int           `mapstructure:"max_xml_depth"`
	HashConcurrency int           `mapstructure:"hash_concurrency"`
	RequestTimeout  time.Duration `mapstructure:"request_timeout"`
	ReadTimeout     time.Duration `mapstructure:"read_timeout"`
	WriteTimeout    time.Duration `mapstructure:"write_timeout"`
	IdleTimeout     time.Duration `mapstructure:"idle_timeout"`
}

// Log chooses the log output.
type Log struct {
	Level  string `mapstructure:"level"`  // debug, info, warn, error
	Format string `mapstructure:"format"` // text or json
}

func defaults() map[string]any {
	return map[string]any{
		"listen":                    "127.0.0.1:8069",
		"database.dsn":              "",
		"database.odoo_conf":        "",
		"database.max_conns":        20,
		"database.list_db":          true,
		"odoo.server_version":       "",
		"odoo.base_url":             "",
		"mail.timeout":              "30s",
		"mail.keep_alive":           "30s",
		"mail.pipelining":           true,
		"mail.helo_name":            "",
		"mail.ca_file":              "",
		"mail.insecure_skip_verify": false,
		"mail.insecure_servers":     []string{},
		"mail.wait":                 "10s",
		"mail.max_attempts":         8,
		"mail.retry_base":           "30s",
		"mail.retry_max":            "1h",
		"mail.lease":                "5m",
		"mail.poll":                 "1s",
		"mail.batch":                50,
		"mail.rate_per_minute":      0,
		"mail.daily_quota":          0,
		"mail.instance":             "",
		"mail.keep":                 "2160h",
		"mail.resend_unconfirmed":   false,
		"mail.gmail_token_url":      "https://oauth2.googleapis.com/token",
		"mail.outlook_token_url":    "https://login.microsoftonline.com/common/oauth2/v2.0/token",
		"smtp.server":               "localhost",
		"smtp.port":                 25,
		"smtp.ssl":                  false,
		"smtp.user":                 "",
		"smtp.password":             "",
		"smtp.email_from":           "",
		"smtp.from_filter":          "",
		"limits.max_body_bytes":     4 << 20,
		"limits.max_xml_depth":      64,
		"limits.hash_concurrency":   runtime.NumCPU(),
		"limits.request_timeout":    "60s",
		"limits.read_timeout":       "30s",
		"limits.write_timeout":      "90s",
		"limits.idle_timeout":       "120s",
		"log.level":                 "info",
		"log.format":                "text",
		"upstream.url":              "",
		"upstream.timeout":          "120s",
		"upstream.max_body_bytes":   128 << 20,
		"upstream.session_ttl":      "30s",
	}
}

// Load reads the configuration from file (may be empty) and the environment. With
// requireDB, a database must be configured. All problems are reported in one error.
func Load(file string, requireDB bool) (*Config, error) {
	v := viper.New()
	for k, d := range defaults() {
		v.SetDefault(k, d)
	}
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()

	if file != "" {
		v.SetConfigFile(file)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			return nil, fmt.Errorf("read config %s: %w", file, err)
		}
	}

	// Values of the wrong type are found first, each with its value and where it came
	// from; the rest of the configuration is still checked, so that one run reports all.
	bad := checkTypes(v, file)
	var c Config
	if err := v.Unmarshal(&c); err != nil && len(bad) == 0 {
		return nil, fmt.Errorf("config: %w", err)
	}
	c.Mail.InsecureServers = splitList(c.Mail.InsecureServers)
	if err := c.applyOdooConf(v); err != nil {
		return nil, err
	}
	if err := joinProblems(bad, c.validate(requireDB)); err != nil {
		return nil, err
	}
	c.Database.DSN = withDefaultSSLMode(c.Database.DSN)
	return &c, nil
}

// checkTypes returns, by key, the problem of every duration, number or boolean set to a
// string that cannot be read as one. Only such keys are checked, so no secret is quoted.
func checkTypes(v *viper.Viper, file string) map[string]error {
	bad := map[string]error{}
	for key, typ := range typedKeys(reflect.TypeOf(Config{}), "") {
		raw, ok := v.Get(key).(string)
		if !ok {
			continue
		}
		raw = strings.TrimSpace(raw)
		var err error
		want := ""
		switch {
		case typ == reflect.TypeOf(time.Duration(0)):
			_, err = time.ParseDuration(raw)
			want = "a duration such as 30s, 5m or 1h"
		case typ.Kind() == reflect.Int, typ.Kind() == reflect.Int64:
			_, err = strconv.ParseInt(raw, 10, 64)
			want = "a whole number"
		case typ.Kind() == reflect.Bool:
			_, err = strconv.ParseBool(raw)
			want = "true or false"
		default:
			continue
		}
		if err != nil {
			bad[key] = fmt.Errorf("%s: %q is not %s (%s)", key, raw, want, source(key, file))
		}
	}
	return bad
}

// typedKeys maps the dotted key of every field under t to its type.
func typedKeys(t reflect.Type, prefix string) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		key := prefix + f.Tag.Get("mapstructure")
		if f.Type.Kind() == reflect.Struct {
			maps.Copy(out, typedKeys(f.Type, key+"."))
			continue
		}
		out[key] = f.Type
	}
	return out
}

// source says where key's value came from: its environment variable, else the file.
func source(key, file string) string {
	env := EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
	if _, ok := os.LookupEnv(env); ok || file == "" {
		return "from " + env
	}
	return "in " + file
}

// joinProblems puts the type problems first, in key order, then the other problems,
// leaving out those about a key whose value could not be read: its zero value would only
// be reported a second time.
func joinProblems(bad map[string]error, rest []error) error {
	var out []error
	for _, key := range slices.Sorted(maps.Keys(bad)) {
		out = append(out, bad[key])
	}
	for _, err := range rest {
		key, _, _ := strings.Cut(err.Error(), ":")
		if bad[key] == nil {
			out = append(out, err)
		}
	}
	return errors.Join(out...)
}

// splitList splits comma-separated entries, as a list set in one environment variable
// arrives ("3, Gmail (school)"); server names may hold spaces, so only commas separate.
func splitList(in []string) []string {
	var out []string
	for _, e := range in {
		for _, part := range strings.Split(e, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// withDefaultSSLMode gives a DSN without sslmode libpq's default, "prefer" (TLS when the
// server offers it), as Odoo's connections have; lib/pq alone would insist on TLS.
func withDefaultSSLMode(dsn string) string {
	if dsn == "" || os.Getenv("PGSSLMODE") != "" {
		return dsn
	}
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		q := u.Query()
		if !q.Has("sslmode") {
			q.Set("sslmode", "prefer")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	if pairs, err := parseConninfo(dsn); err == nil {
		for _, kv := range pairs {
			if kv[0] == "sslmode" {
				return dsn
			}
		}
	}
	return dsn + " sslmode=prefer"
}

// applyOdooConf fills the database DSN, and SMTP keys not set explicitly, from odoo.conf.
func (c *Config) applyOdooConf(v *viper.Viper) error {
	if c.Database.OdooConf == "" {
		return nil
	}
	opts, err := ReadOdooConf(c.Database.OdooConf)
	if err != nil {
		return err
	}

	if c.Database.DSN == "" {
		dsn, err := opts.DSN()
		if err != nil {
			return fmt.Errorf("%s: %w", c.Database.OdooConf, err)
		}
		c.Database.DSN = dsn
	}
	opts.applySMTP(&c.SMTP, v)
	opts.applyListDB(&c.Database, v)
	return nil
}

// validate returns every problem of the configuration.
func (c *Config) validate(requireDB bool) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if _, port, err := net.SplitHostPort(c.Listen); err != nil || !validPort(port) {
		add("listen: %q is not host:port", c.Listen)
	}
	switch {
	case c.Database.DSN == "" && requireDB:
		add("database.dsn: no database configured; set ODOO_SHIM_DATABASE_DSN " +
			"(e.g. postgres://odoo@localhost/odoo) or database.odoo_conf")
	case c.Database.DSN != "":
		if err := checkDSN(c.Database.DSN); err != nil {
			add("database.dsn: %v", err)
		}
	}
	if c.Database.MaxConns < 1 {
		add("database.max_conns: must be at least 1, got %d", c.Database.MaxConns)
	}
	if c.Odoo.BaseURL != "" {
		if u, err := url.Parse(c.Odoo.BaseURL); err != nil || u.Host == "" ||
			(u.Scheme != "http" && u.Scheme != "https") {
			add("odoo.base_url: %q is not an http(s) URL", c.Odoo.BaseURL)
		}
	}
	errs = append(errs, c.validateMail()...)
	errs = append(errs, c.validateLimits()...)
	errs = append(errs, c.validateUpstream()...)
	if _, err := ParseLevel(c.Log.Level); err != nil {
		add("log.level: %v", err)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		add("log.format: %q is neither text nor json", c.Log.Format)
	}
	return errs
}

func (c *Config) validateMail() []error {
	var errs []error
	if c.Mail.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("mail.timeout: must be positive, got %s", c.Mail.Timeout))
	}
	if c.Mail.KeepAlive < 0 {
		errs = append(errs, fmt.Errorf("mail.keep_alive: must not be negative, got %s",
			c.Mail.KeepAlive))
	}
	if c.Mail.CAFile != "" {
		if _, err := os.Stat(c.Mail.CAFile); err != nil {
			errs = append(errs, fmt.Errorf("mail.ca_file: %v", err))
		}
	}
	for name, d := range map[string]time.Duration{"wait": c.Mail.Wait,
		"retry_base": c.Mail.RetryBase, "retry_max": c.Mail.RetryMax, "poll": c.Mail.Poll,
		"keep": c.Mail.Keep} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("mail.%s: must be positive, got %s", name, d))
		}
	}
	// A send is bounded to 9/10 of the lease, and starts no new mail after half of it;
	// an attempt cut short is recorded all the same, but should be rare.
	if c.Mail.Lease < 2*c.Mail.Timeout {
		errs = append(errs, fmt.Errorf("mail.lease: at least twice mail.timeout (%s), got %s",
			c.Mail.Timeout, c.Mail.Lease))
	}
	for name, n := range map[string]int{"max_attempts": c.Mail.MaxAttempts,
		"batch": c.Mail.Batch} {
		if n < 1 {
			errs = append(errs, fmt.Errorf("mail.%s: at least 1, got %d", name, n))
		}
	}
	// The daily quota counts the last day's mails from the outbox.
	if c.Mail.Keep > 0 && c.Mail.Keep < 24*time.Hour {
		errs = append(errs, fmt.Errorf("mail.keep: at least 24h (the daily quota counts "+
			"the last day's mails), got %s", c.Mail.Keep))
	}
	if c.Mail.RatePerMinute < 0 || c.Mail.DailyQuota < 0 {
		errs = append(errs, errors.New("mail.rate_per_minute and mail.daily_quota: "+
			"must not be negative (0 means no limit)"))
	}
	if c.SMTP.Port < 1 || c.SMTP.Port > 65535 {
		errs = append(errs, fmt.Errorf("smtp.port: %d is not a port", c.SMTP.Port))
	}
	return errs
}

func (c *Config) validateLimits() []error {
	var errs []error
	l := c.Limits
	if l.MaxBodyBytes < 1024 {
		errs = append(errs, fmt.Errorf("limits.max_body_bytes: at least 1024, got %d",
			l.MaxBodyBytes))
	}
	if l.MaxXMLDepth < 4 {
		errs = append(errs, fmt.Errorf("limits.max_xml_depth: at least 4, got %d", l.MaxXMLDepth))
	}
	if l.HashConcurrency < 1 {
		errs = append(errs, fmt.Errorf("limits.hash_concurrency: at least 1, got %d",
			l.HashConcurrency))
	}
	for name, d := range map[string]time.Duration{"request_timeout": l.RequestTimeout,
		"read_timeout": l.ReadTimeout, "write_timeout": l.WriteTimeout,
		"idle_timeout": l.IdleTimeout} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("limits.%s: must be positive, got %s", name, d))
		}
	}
	return errs
}

func (c *Config) validateUpstream() []error {
	var errs []error
	u := c.Upstream
	if u.URL != "" {
		p, err := url.Parse(u.URL)
		switch {
		case err == nil && p.User != nil: // never repeat what may be a password
			errs = append(errs, errors.New("upstream.url: must not hold a user or password"))
		case err != nil || p.Host == "" || (p.Scheme != "http" && p.Scheme != "https") ||
			p.RawQuery != "" || p.Fragment != "":
			errs = append(errs, fmt.Errorf("upstream.url: %q is not an http(s) URL of a "+
				"server (no query or fragment)", u.URL))
		}
	}
	if u.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("upstream.timeout: must be positive, got %s", u.Timeout))
	}
	if u.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("upstream.max_body_bytes: must not be negative "+
			"(0: no cap), got %d", u.MaxBodyBytes))
	}
	if u.SessionTTL < 0 {
		errs = append(errs, fmt.Errorf("upstream.session_ttl: must not be negative, got %s",
			u.SessionTTL))
	}
	return errs
}

// validPort reports whether p is a TCP port number; 0 asks the system for a free one.
func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 0 && n <= 65535
}

// checkDSN parses a libpq URL or key=value connection string without connecting. Its
// errors never repeat the string, which may hold a password.
func checkDSN(dsn string) error {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return errors.New("not a valid postgres:// URL")
		}
		if strings.TrimPrefix(u.Path, "/") == "" {
			return errors.New("the URL names no database (postgres://user@host/DBNAME)")
		}
		return nil
	}
	pairs, err := parseConninfo(dsn)
	if err != nil {
		return errors.New("neither a postgres:// URL nor key=value pairs")
	}
	for _, kv := range pairs {
		if kv[0] == "dbname" && kv[1] != "" {
			return nil
		}
	}
	return errors.New("the connection string names no dbname")
}

// DatabaseName returns the database a DSN names, or "".
func DatabaseName(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		return strings.TrimPrefix(u.Path, "/")
	}
	pairs, _ := parseConninfo(dsn)
	for _, kv := range pairs {
		if kv[0] == "dbname" {
			return kv[1]
		}
	}
	return ""
}

// RedactDSN returns dsn with its password replaced, for logs and error messages. A
// key=value string that cannot be parsed is not shown at all.
func RedactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "redacted")
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "redacted")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}

	pairs, err := parseConninfo(dsn)
	if err != nil {
		return "<connection string not shown>"
	}
	parts := make([]string, len(pairs))
	for i, kv := range pairs {
		if kv[0] == "password" {
			kv[1] = "redacted"
		}
		parts[i] = kv[0] + "=" + quoteConninfo(kv[1])
	}
	return strings.Join(parts, " ")
}

// parseConninfo reads libpq's "key = value" connection strings: values may be single-quoted
// with backslash escapes, and spaces may surround the equals sign.
func parseConninfo(s string) ([][2]string, error) {
	var pairs [][2]string
	i := 0
	skip := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
	}
	for {
		skip()
		if i == len(s) {
			return pairs, nil
		}
		start := i
		for i < len(s) && s[i] != '=' && s[i] != ' ' && s[i] != '\t' {
			i++
		}
		key := s[start:i]
		skip()
		if key == "" || i == len(s) || s[i] != '=' {
			return nil, errors.New("expected key=value")
		}
		i++
		skip()
		value, n, err := conninfoValue(s[i:])
		if err != nil {
			return nil, err
		}
		i += n
		pairs = append(pairs, [2]string{key, value})
	}
}

func conninfoValue(s string) (string, int, error) {
	var b strings.Builder
	quoted := len(s) > 0 && s[0] == '\''
	i := 0
	if quoted {
		i = 1
	}
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			b.WriteByte(s[i+1])
			i += 2
			continue
		case quoted && c == '\'':
			return b.String(), i + 1, nil
		case !quoted && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return b.String(), i, nil
		}
		b.WriteByte(c)
		i++
	}
	if quoted {
		return "", 0, errors.New("unterminated quoted value")
	}
	return b.String(), i, nil
}

func quoteConninfo(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t'\\") {
		return v
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// Redacted returns a copy of c safe to print: secrets are replaced.
func (c Config) Redacted() Config {
	c.Database.DSN = RedactDSN(c.Database.DSN)
	if c.SMTP.Password != "" {
		c.SMTP.Password = "redacted"
	}
	return c
}

// String prints the configuration without secrets.
func (c Config) String() string {
	type plain Config // without String, so %+v does not recurse
	return fmt.Sprintf("%+v", plain(c.Redacted()))
}
