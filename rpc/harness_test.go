package rpc_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/odoo-shim/odoo-shim/mail"
	"github.com/odoo-shim/odoo-shim/mail/catcher"
	"github.com/odoo-shim/odoo-shim/models"
	"github.com/odoo-shim/odoo-shim/models/modeltest"
	"github.com/odoo-shim/odoo-shim/rpc"
)

func TestMain(m *testing.M) { modeltest.Main(m) }

// recordedAt is when Odoo 18 answered the recorded reset_one call (its Date header).
var recordedAt = time.Unix(1796316133, 716680288)

// env is one test's odoo-shim: a fresh database, a real SMTP server requiring STARTTLS
// and AUTH, and the HTTP handler under httptest.
type env struct {
	url    string
	db     string
	store  *models.Store
	mails  *catcher.Catcher
	now    time.Time
	server *httptest.Server
}

func (e *env) clock() time.Time { return e.now }

const smtpUser, smtpPass = "tu@pesantren-contoh.sch.id", "app-password-16ch"

// recordedDB is the name of the database the Odoo 18 vectors were recorded on.
const recordedDB = "pesantren18"

// newEnv starts odoo-shim on a fresh copy of tmpl; opts adjust its options.
func newEnv(t testing.TB, tmpl modeltest.Template, opts ...func(*rpc.Options)) *env {
	t.Helper()
	var dsn, name string
	if tmpl == modeltest.Fixture18 {
		dsn, name = modeltest.NewNamedDatabase(t, tmpl, recordedDB)
	} else {
		dsn, name = modeltest.NewDatabase(t, tmpl)
	}
	e := &env{db: name, now: recordedAt}

	serverTLS, roots, err := catcher.TestTLS()
	if err != nil {
		t.Fatal(err)
	}
	e.mails = catcher.New(catcher.Options{TLS: serverTLS,
		Users: map[string]string{smtpUser: smtpPass}})
	if err := e.mails.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.mails.Close() })
	host, port, _ := net.SplitHostPort(e.mails.Addr())
	modeltest.Exec(t, name, fmt.Sprintf(`UPDATE ir_mail_server SET smtp_host = '%s',
		smtp_port = %s, smtp_encryption = 'starttls', smtp_user = '%s', smtp_pass = '%s'`,
		host, port, smtpUser, smtpPass))

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sender := &mail.Sender{Timeout: 5 * time.Second, RootCAs: roots, Logger: log,
		Hostname: "odoo-shim.test", Now: e.clock, KeepAlive: 30 * time.Second}
	t.Cleanup(func() { sender.Close() })
	e.store, err = models.Open(context.Background(), dsn, models.Settings{
		Hasher: models.NewHasher(4), Mailer: sender, Now: e.clock, Logger: log,
		Fallback: models.MailServer{Host: "localhost", Port: 25},
		MessageID: func() string {
			id, _ := mail.NewMessageID(e.clock(), "odoo-shim.test")
			return id
		}})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { e.store.Close() })

	opt := rpc.Options{ServerVersion: "18.0-20250506", Logger: log, Now: e.clock}
	for _, f := range opts {
		f(&opt)
	}
	srv, err := rpc.New(e.store, opt)
	if err != nil {
		t.Fatal(err)
	}
	e.server = httptest.NewServer(srv.Handler())
	t.Cleanup(e.server.Close)
	e.url = e.server.URL
	return e
}

func port(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func openDB(t testing.TB, e *env) *sqlx.DB {
	t.Helper()
	db, err := sqlx.Open("postgres", modeltest.Cluster(t).DSN(e.db))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
