package mail

import (
	"context"
	"testing"
	"time"

	"github.com/odoo-shim/odoo-shim/mail/catcher"
	"github.com/odoo-shim/odoo-shim/models"
)

func TestKeepAliveReusesConnection(t *testing.T) {
	serverTLS, roots := testTLS(t)
	c := startCatcher(t, catcher.Options{TLS: serverTLS,
		Users: map[string]string{testUser: testPassword}})
	s := testSender(roots)
	s.KeepAlive = time.Minute
	t.Cleanup(func() { s.Close() })
	srv := serverAt(t, c.Addr(), "starttls")
	srv.User, srv.Password = testUser, testPassword

	for i := 0; i < 3; i++ {
		res, err := s.Send(context.Background(), srv, []models.ResetMail{mailTo("a@example.org")})
		if err != nil || res[0] != nil {
			t.Fatalf("Send %d: %v %v", i, err, res)
		}
	}
	if got := c.Connections(); got != 1 {
		t.Errorf("%d connections for three batches; want 1", got)
	}

	srv.Password = "changed"
	if _, err := s.Send(context.Background(), srv, []models.ResetMail{mailTo("a@example.org")}); err == nil {
		t.Error("a changed password reused the old authenticated connection")
	}
}

func TestKeepAliveSurvivesServerHangup(t *testing.T) {
	c := startCatcher(t, catcher.Options{})
	addr := c.Addr()
	s := testSender(nil)
	s.KeepAlive = time.Minute
	t.Cleanup(func() { s.Close() })
	srv := serverAt(t, addr, "none")

	if res, err := s.Send(context.Background(), srv, []models.ResetMail{mailTo("a@example.org")}); err != nil ||
		res[0] != nil {
		t.Fatalf("first Send: %v %v", err, res)
	}
	// The server goes away and comes back: the idle connection is dead.
	c.Close()
	c2 := catcher.New(catcher.Options{Logger: quiet})
	if err := c2.Start(addr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c2.Close() })

	res, err := s.Send(context.Background(), srv, []models.ResetMail{mailTo("b@example.org")})
	if err != nil || res[0] != nil {
		t.Fatalf("Send after the hang-up: %v %v", err, res)
	}
	if n := len(c2.Messages()); n != 1 {
		t.Errorf("%d messages after the hang-up; want 1", n)
	}
}

func TestKeepAliveExpires(t *testing.T) {
	c := startCatcher(t, catcher.Options{})
	s := testSender(nil)
	s.KeepAlive = 50 * time.Millisecond
	srv := serverAt(t, c.Addr(), "none")
	for i := 0; i < 2; i++ {
		if _, err := s.Send(context.Background(), srv, []models.ResetMail{mailTo("a@example.org")}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got := c.Connections(); got != 2 {
		t.Errorf("%d connections; want 2, the idle one having expired", got)
	}
}
