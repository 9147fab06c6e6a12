package models

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

func TestMain(m *testing.M) { modeltest.Main(m) }

// recordingMailer keeps what it is asked to send; fail, when set, is returned for every
// batch. It stands in for SMTP here; the rpc and cmd tests use a real SMTP server.
type recordingMailer struct {
	mu      sync.Mutex
	mails   []ResetMail
	servers []MailServer
	fail    error
}

func (r *recordingMailer) SendEach(_ context.Context, srv MailServer, mails []ResetMail,
	hooks SendHooks) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	for i, m := range mails {
		if hooks.Committing != nil {
			if err := hooks.Committing(i); err != nil {
				hooks.Report(i, err)
				continue
			}
		}
		r.mails = append(r.mails, m)
		r.servers = append(r.servers, srv)
		if !hooks.Report(i, nil) {
			break
		}
	}
	return nil
}

type fixedClock struct{ t time.Time }

func (c *fixedClock) now() time.Time { return c.t }

func openStore(t *testing.T, tmpl modeltest.Template, clock *fixedClock) (*Store,
	*recordingMailer, string) {
	t.Helper()
	dsn, name := modeltest.NewDatabase(t, tmpl)
	mailer := &recordingMailer{}
	set := Settings{Hasher: NewHasher(4), Mailer: mailer,
		Fallback: MailServer{Host: "localhost", Port: 25}}
	if clock != nil {
		set.Now = clock.now
	}
	s, err := Open(context.Background(), dsn, set)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, mailer, name
}
