package config

import (
	"bufio"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/viper"
)

// OdooConf is the [options] section of an odoo.conf file. Odoo writes "False" for unset
// values; those are treated as absent.
type OdooConf map[string]string

// ReadOdooConf parses an odoo.conf file.
func ReadOdooConf(path string) (OdooConf, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read odoo.conf: %w", err)
	}
	defer f.Close()

	opts := OdooConf{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == ';' || line[0] == '#':
		case line[0] == '[' && strings.HasSuffix(line, "]"):
			section = strings.TrimSpace(line[1 : len(line)-1])
		case section == "options":
			if k, v, ok := strings.Cut(line, "="); ok {
				opts[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read odoo.conf: %w", err)
	}
	return opts, nil
}

// Get returns the value of key, or "" when it is missing or False.
func (o OdooConf) Get(key string) string {
	v := o[key]
	if v == "False" || v == "None" {
		return ""
	}
	return v
}

// DSN builds a libpq URL from db_host, db_port, db_user, db_password and db_name. Without
// db_host libpq uses its local socket, as Odoo does.
func (o OdooConf) DSN() (string, error) {
	name := o.Get("db_name")
	if name == "" || strings.Contains(name, ",") {
		return "", fmt.Errorf("db_name must name exactly one database, got %q", name)
	}

	u := url.URL{Scheme: "postgres", Path: "/" + name}
	user, pass := o.Get("db_user"), o.Get("db_password")
	switch {
	case pass != "":
		u.User = url.UserPassword(user, pass)
	case user != "":
		u.User = url.User(user)
	}

	host, port := o.Get("db_host"), o.Get("db_port")
	q := url.Values{}
	if host == "" {
		q.Set("host", "/var/run/postgresql")
	} else {
		u.Host = host
	}
	if port != "" {
		if host == "" {
			q.Set("port", port)
		} else {
			u.Host += ":" + port
		}
	}
	if mode := o.Get("db_sslmode"); mode != "" {
		q.Set("sslmode", mode)
	} else {
		q.Set("sslmode", "prefer")
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// applySMTP copies odoo.conf's smtp_* options into smtp unless the key was set explicitly
// in odoo-shim's own configuration or environment.
func (o OdooConf) applySMTP(smtp *SMTP, v *viper.Viper) {
	set := func(key string) bool { return v.InConfig(key) || os.Getenv(envName(key)) != "" }
	str := func(key, conf string, dst *string) {
		if val := o.Get(conf); val != "" && !set(key) {
			*dst = val
		}
	}
	str("smtp.server", "smtp_server", &smtp.Server)
	str("smtp.user", "smtp_user", &smtp.User)
	str("smtp.password", "smtp_password", &smtp.Password)
	str("smtp.email_from", "email_from", &smtp.EmailFrom)
	str("smtp.from_filter", "from_filter", &smtp.FromFilter)
	if p, err := strconv.Atoi(o.Get("smtp_port")); err == nil && !set("smtp.port") {
		smtp.Port = p
	}
	if b, err := strconv.ParseBool(o.Get("smtp_ssl")); err == nil && !set("smtp.ssl") {
		smtp.SSL = b
	}
}

// applyListDB copies odoo.conf's list_db unless database.list_db was set explicitly.
func (o OdooConf) applyListDB(db *Database, v *viper.Viper) {
	explicit := v.InConfig("database.list_db") || os.Getenv(envName("database.list_db")) != ""
	// Get would read "False" as unset; here it is the value.
	if b, err := strconv.ParseBool(o["list_db"]); err == nil && !explicit {
		db.ListDB = b
	}
}

func envName(key string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// ParseLevel reads a log level name.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("%q is not one of debug, info, warn, error", s)
	}
	return l, nil
}
