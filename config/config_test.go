package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func write(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEnvironmentAlone(t *testing.T) {
	t.Setenv("ODOO_SHIM_DATABASE_DSN", "postgres://odoo:s3cret@db.internal/prod")
	t.Setenv("ODOO_SHIM_LISTEN", "0.0.0.0:9069")
	t.Setenv("ODOO_SHIM_MAIL_TIMEOUT", "5s")
	c, err := Load("", true)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Listen != "0.0.0.0:9069" ||
		c.Database.DSN != "postgres://odoo:s3cret@db.internal/prod?sslmode=prefer" ||
		c.Mail.Timeout != 5*time.Second || c.SMTP.Server != "localhost" || c.SMTP.Port != 25 {
		t.Errorf("Load = %+v", c)
	}
	if s := c.String(); strings.Contains(s, "s3cret") || !strings.Contains(s, "redacted") {
		t.Errorf("String() = %s; want the password redacted", s)
	}
}

func TestFileThenEnvironment(t *testing.T) {
	file := write(t, "odoo-shim.yaml", `
listen: 127.0.0.1:7000
database:
  dsn: postgres://odoo@localhost/school
odoo:
  server_version: 18.0-20250506
limits:
  hash_concurrency: 3
`)
	t.Setenv("ODOO_SHIM_LISTEN", "127.0.0.1:7001")
	c, err := Load(file, true)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Listen != "127.0.0.1:7001" || c.Odoo.ServerVersion != "18.0-20250506" ||
		c.Limits.HashConcurrency != 3 {
		t.Errorf("Load = %+v; want the environment to win over the file", c)
	}
}

func TestOdooConf(t *testing.T) {
	conf := write(t, "odoo.conf", `[options]
admin_passwd = not-for-us
db_host = db.internal
db_port = 5433
db_user = odoo
db_password = p@ss:word
db_name = pesantren
smtp_server = smtp.gmail.com
smtp_port = 587
smtp_ssl = True
smtp_user = tu@example.com
smtp_password = app-password
email_from = False
`)
	t.Setenv("ODOO_SHIM_DATABASE_ODOO_CONF", conf)
	t.Setenv("ODOO_SHIM_SMTP_PORT", "2525")
	c, err := Load("", true)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := "postgres://odoo:p%40ss%3Aword@db.internal:5433/pesantren?sslmode=prefer"
	if c.Database.DSN != want {
		t.Errorf("DSN = %s; want %s", c.Database.DSN, want)
	}
	if c.SMTP.Server != "smtp.gmail.com" || !c.SMTP.SSL || c.SMTP.Port != 2525 ||
		c.SMTP.Password != "app-password" || c.SMTP.EmailFrom != "" {
		t.Errorf("SMTP = %+v; want odoo.conf values with the environment's port", c.SMTP)
	}
	if strings.Contains(c.String(), "app-password") || strings.Contains(c.String(), "word@") {
		t.Errorf("String() leaks a secret: %s", c.String())
	}
}

func TestOdooConfSocket(t *testing.T) {
	conf := write(t, "odoo.conf", "[options]\ndb_host = False\ndb_user = odoo\ndb_name = prod\n")
	opts, err := ReadOdooConf(conf)
	if err != nil {
		t.Fatal(err)
	}
	dsn, err := opts.DSN()
	want := "postgres://odoo@/prod?host=%2Fvar%2Frun%2Fpostgresql&sslmode=prefer"
	if err != nil || dsn != want {
		t.Errorf("DSN = %s, %v; want %s", dsn, err, want)
	}
}

// Every problem is reported at once, and none of the messages repeats a secret.
func TestValidationReportsAll(t *testing.T) {
	t.Setenv("ODOO_SHIM_LISTEN", "nonsense")
	t.Setenv("ODOO_SHIM_DATABASE_DSN", "postgres://u:topsecret@host")
	t.Setenv("ODOO_SHIM_LIMITS_HASH_CONCURRENCY", "0")
	t.Setenv("ODOO_SHIM_LOG_LEVEL", "loud")
	t.Setenv("ODOO_SHIM_MAIL_CA_FILE", "/no/such/ca.pem")
	_, err := Load("", true)
	if err == nil {
		t.Fatal("Load succeeded")
	}
	msg := err.Error()
	for _, want := range []string{"listen", "database.dsn", "hash_concurrency", "log.level",
		"mail.ca_file"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %s", msg, want)
		}
	}
	if strings.Contains(msg, "topsecret") {
		t.Errorf("error leaks the DSN password: %s", msg)
	}
}

func TestRequireDB(t *testing.T) {
	t.Setenv("ODOO_SHIM_DATABASE_DSN", "")
	if _, err := Load("", true); err == nil || !strings.Contains(err.Error(),
		"ODOO_SHIM_DATABASE_DSN") {
		t.Errorf("Load without a database = %v; want a message naming ODOO_SHIM_DATABASE_DSN", err)
	}
	if _, err := Load("", false); err != nil {
		t.Errorf("Load(requireDB=false) = %v", err)
	}
}

func TestRedactDSN(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u:pw@h/db", "postgres://u:redacted@h/db"},
		{"postgres://u@h/db?password=pw", "postgres://u@h/db?password=redacted"},
		{"host=h dbname=db password=pw", "host=h dbname=db password=redacted"},
		{"host=h password='my secret pw' dbname=x", "host=h password=redacted dbname=x"},
		{"host=h password = hunter2 dbname=x", "host=h password=redacted dbname=x"},
		{`password='it\'s' dbname=x`, "password=redacted dbname=x"},
		{"password='unterminated dbname=x", "<connection string not shown>"},
		{"postgres://u@h/db", "postgres://u@h/db"},
	}
	for _, tt := range tests {
		if got := RedactDSN(tt.in); got != tt.want {
			t.Errorf("RedactDSN(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestDefaultSSLMode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://u@h/db", "postgres://u@h/db?sslmode=prefer"},
		{"postgres://u@h/db?sslmode=disable", "postgres://u@h/db?sslmode=disable"},
		{"host=h dbname=db", "host=h dbname=db sslmode=prefer"},
		{"host=h dbname=db sslmode=require", "host=h dbname=db sslmode=require"},
	}
	for _, tt := range tests {
		if got := withDefaultSSLMode(tt.in); got != tt.want {
			t.Errorf("withDefaultSSLMode(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestUpstream(t *testing.T) {
	tests := []struct {
		name, url, timeout, body string
		wantErr                  string
	}{
		{"off by default", "", "", "", ""},
		{"an odoo server", "http://127.0.0.1:8070", "", "", ""},
		{"https with a trailing slash", "https://odoo.internal/", "5s", "0", ""},
		{"not a URL", "odoo.internal:8070", "", "", "upstream.url"},
		{"a query", "http://odoo/?db=x", "", "", "upstream.url"},
		{"a password in the URL", "http://u:pw@odoo/", "", "", "upstream.url"},
		{"no timeout", "http://odoo/", "0s", "", "upstream.timeout"},
		{"negative body cap", "http://odoo/", "", "-1", "upstream.max_body_bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("ODOO_SHIM_UPSTREAM_URL", tt.url)
			if tt.timeout != "" {
				t.Setenv("ODOO_SHIM_UPSTREAM_TIMEOUT", tt.timeout)
			}
			if tt.body != "" {
				t.Setenv("ODOO_SHIM_UPSTREAM_MAX_BODY_BYTES", tt.body)
			}
			c, err := Load("", false)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Load: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Load = %v; want an error about %s", err, tt.wantErr)
			case tt.wantErr != "":
				if strings.Contains(err.Error(), "pw@") {
					t.Errorf("error repeats a password: %v", err)
				}
				return
			}
			if c.Upstream.URL != tt.url || c.Upstream.SessionTTL != 30*time.Second {
				t.Errorf("Upstream = %+v", c.Upstream)
			}
			if tt.timeout == "" && c.Upstream.Timeout != 120*time.Second {
				t.Errorf("default timeout %s; want 120s", c.Upstream.Timeout)
			}
		})
	}
}

// The outbox keys are read from the environment and checked together.
func TestOutboxKeys(t *testing.T) {
	t.Setenv("ODOO_SHIM_DATABASE_DSN", "postgres://u@host/db")
	t.Setenv("ODOO_SHIM_MAIL_WAIT", "2s")
	t.Setenv("ODOO_SHIM_MAIL_RATE_PER_MINUTE", "20")
	t.Setenv("ODOO_SHIM_MAIL_INSECURE_SERVERS", "3, odoo.conf")
	c, err := Load("", true)
	if err != nil {
		t.Fatal(err)
	}
	if c.Mail.Wait != 2*time.Second || c.Mail.RatePerMinute != 20 || c.Mail.MaxAttempts != 8 ||
		strings.Join(c.Mail.InsecureServers, ",") != "3,odoo.conf" {
		t.Errorf("mail = %+v", c.Mail)
	}
	if c.Mail.KeepAlive != 30*time.Second || !c.Mail.Pipelining {
		t.Errorf("keep_alive %v, pipelining %v; want the defaults 30s, true",
			c.Mail.KeepAlive, c.Mail.Pipelining)
	}
	t.Setenv("ODOO_SHIM_MAIL_KEEP_ALIVE", "0s")
	t.Setenv("ODOO_SHIM_MAIL_PIPELINING", "false")
	if c, err = Load("", true); err != nil || c.Mail.KeepAlive != 0 || c.Mail.Pipelining {
		t.Errorf("Load = %+v, %v; want keep_alive 0, no pipelining from the environment",
			c.Mail, err)
	}

	t.Setenv("ODOO_SHIM_MAIL_LEASE", "10s")
	t.Setenv("ODOO_SHIM_MAIL_MAX_ATTEMPTS", "0")
	t.Setenv("ODOO_SHIM_MAIL_DAILY_QUOTA", "-1")
	_, err = Load("", true)
	for _, want := range []string{"mail.lease", "mail.max_attempts", "mail.daily_quota"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
}

func TestListDB(t *testing.T) {
	t.Setenv("ODOO_SHIM_DATABASE_DSN", "postgres://odoo@localhost/school")
	c, err := Load("", true)
	if err != nil || !c.Database.ListDB {
		t.Fatalf("Load = %+v, %v; want list_db on by default, as in Odoo", c, err)
	}

	conf := write(t, "odoo.conf", "[options]\nlist_db = False\n")
	t.Setenv("ODOO_SHIM_DATABASE_ODOO_CONF", conf)
	if c, err = Load("", true); err != nil || c.Database.ListDB {
		t.Errorf("Load with odoo.conf list_db = False: %+v, %v; want it off", c, err)
	}
	t.Setenv("ODOO_SHIM_DATABASE_LIST_DB", "true")
	if c, err = Load("", true); err != nil || !c.Database.ListDB {
		t.Errorf("Load with the variable set: %+v, %v; want it to win over odoo.conf", c, err)
	}
}

// Values of the wrong type are reported with the value and where it came from, all at
// once and together with the other problems.
func TestTypeProblemsReportedWithTheRest(t *testing.T) {
	file := filepath.Join(t.TempDir(), "shim.yaml")
	if err := os.WriteFile(file, []byte("mail:\n  batch: many\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ODOO_SHIM_DATABASE_DSN", "postgres://odoo@localhost/odoo")
	t.Setenv("ODOO_SHIM_MAIL_TIMEOUT", "abc")
	t.Setenv("ODOO_SHIM_PROXY_MODE", "maybe")
	t.Setenv("ODOO_SHIM_LISTEN", "nonsense")
	_, err := Load(file, true)
	if err == nil {
		t.Fatal("Load succeeded")
	}
	want := []string{
		`mail.batch: "many" is not a whole number (in ` + file + `)`,
		`mail.timeout: "abc" is not a duration such as 30s, 5m or 1h (from ODOO_SHIM_MAIL_TIMEOUT)`,
		`proxy_mode: "maybe" is not true or false (from ODOO_SHIM_PROXY_MODE)`,
		`listen: "nonsense" is not host:port`,
	}
	if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", err, strings.Join(want, "\n"))
	}
}
