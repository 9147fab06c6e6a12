package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/odoo-shim/odoo-shim/mail/catcher"
	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// resetBody is an XML-RPC execute_kw call of action_reset_password for ids, as admin.
func resetBody(db string, ids []int) string {
	var vals strings.Builder
	for _, id := range ids {
		vals.WriteString("<value><int>" + strconv.Itoa(id) + "</int></value>")
	}
	return `<?xml version="1.0"?><methodCall><methodName>execute_kw</methodName><params>` +
		`<param><value><string>` + db + `</string></value></param><param><value><int>2</int>` +
		`</value></param><param><value><string>admin</string></value></param><param><value>` +
		`<string>res.users</string></value></param><param><value><string>` +
		`action_reset_password</string></value></param><param><value><array><data><value>` +
		`<array><data>` + vals.String() + `</data></array></value></data></array></value>` +
		`</param></params></methodCall>`
}

// addSantri adds n resettable users with ids from 1001.
func addSantri(t testing.TB, db string, n int) []int {
	modeltest.Exec(t, db, fmt.Sprintf(`
		INSERT INTO res_partner (id, name, email, lang, active)
			SELECT 1000 + i, 'Santri ' || i, 'santri' || i || '@example.org', 'id_ID', true
			FROM generate_series(1, %[1]d) i;
		INSERT INTO res_users (id, login, partner_id, company_id, active, share)
			SELECT 1000 + i, 'santri' || i, 1000 + i, 1, true, false
			FROM generate_series(1, %[1]d) i`, n))
	ids := make([]int, n)
	for i := range ids {
		ids[i] = 1001 + i
	}
	return ids
}

func buildBinary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "odoo-shim")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// The real binary is killed with SIGKILL in the middle of a batch and started again: every
// mail arrives, none is lost, and a mail sent twice (the one in flight at the kill) carries
// the same Message-Id, which the catcher counts once.
func TestKillAndRestart(t *testing.T) {
	bin := buildBinary(t)
	dsn, db := modeltest.NewDatabase(t, modeltest.Own18)
	mails := catcher.New(catcher.Options{OnData: func([]byte) error {
		time.Sleep(3 * time.Millisecond) // a batch takes long enough to be cut
		return nil
	}})
	if err := mails.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer mails.Close()
	host, port, _ := net.SplitHostPort(mails.Addr())
	modeltest.Exec(t, db, fmt.Sprintf(`UPDATE ir_mail_server SET smtp_host = '%s',
		smtp_port = %s, smtp_encryption = 'none', smtp_user = NULL, smtp_pass = NULL`,
		host, port))
	const n = 300
	ids := addSantri(t, db, n)

	addr := freeAddr(t)
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve")
		cmd.Env = append(os.Environ(), "ODOO_SHIM_DATABASE_DSN="+dsn,
			"ODOO_SHIM_LISTEN="+addr, "ODOO_SHIM_LOG_LEVEL=warn", "ODOO_SHIM_MAIL_WAIT=50ms",
			"ODOO_SHIM_MAIL_TIMEOUT=1s", "ODOO_SHIM_MAIL_LEASE=3s", "ODOO_SHIM_MAIL_POLL=50ms",
			"ODOO_SHIM_MAIL_BATCH=40")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitHealthy(t, "http://"+addr)
		return cmd
	}

	first := start()
	resp, err := http.Post("http://"+addr+"/xmlrpc/2/object", "text/xml",
		strings.NewReader(resetBody(db, ids)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := mails.Wait(ctx, n/4); err != nil {
		t.Fatal(err)
	}
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	atKill := len(mails.Messages())
	if atKill >= n {
		t.Fatalf("all %d mails went out before the kill; the test proves nothing", atKill)
	}

	second := start()
	defer func() {
		_ = second.Process.Signal(syscall.SIGTERM)
		if err := second.Wait(); err != nil {
			t.Errorf("serve after SIGTERM: %v", err)
		}
	}()
	for len(mails.ByMessageID()) < n && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
	}

	counts := mails.ByMessageID()
	total := len(mails.Messages())
	t.Logf("%d mails out at the kill; %d received in all, %d distinct", atKill, total,
		len(counts))
	if len(counts) != n || counts[""] != 0 {
		t.Fatalf("%d distinct Message-Ids; want %d", len(counts), n)
	}
	if total-len(counts) > 2 {
		t.Errorf("%d mails were sent twice; at most the ones in flight at the kill may be "+
			"(one per sender: the call's first attempt, the background sender)",
			total-len(counts))
	}
	var queued []string
	sqlDB := openTestDB(t, db)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		queued = nil
		if err := sqlDB.Select(&queued, `SELECT message_id FROM odoo_shim.outbox
			WHERE state <> 'sent' OR body IS NOT NULL`); err != nil {
			t.Fatal(err)
		}
		if len(queued) == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(queued) != 0 {
		t.Errorf("%d outbox rows not recorded as sent (or with a body left)", len(queued))
	}
}
