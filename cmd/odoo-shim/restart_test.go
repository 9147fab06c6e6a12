package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

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

// shimEnv is a database whose mail server is an in-process catcher, for real binaries.
type shimEnv struct {
	bin, dsn, db string
	mails        *catcher.Catcher
}

func newShimEnv(t *testing.T, opt catcher.Options) *shimEnv {
	e := &shimEnv{bin: buildBinary(t), mails: catcher.New(opt)}
	e.dsn, e.db = modeltest.NewDatabase(t, modeltest.Own18)
	if err := e.mails.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.mails.Close() })
	host, port, _ := net.SplitHostPort(e.mails.Addr())
	modeltest.Exec(t, e.db, fmt.Sprintf(`UPDATE ir_mail_server SET smtp_host = '%s',
		smtp_port = %s, smtp_encryption = 'none', smtp_user = NULL, smtp_pass = NULL`,
		host, port))
	return e
}

// serve starts `odoo-shim serve` on addr with the environment's database and extra
// settings, and waits until it answers.
func (e *shimEnv) serve(t *testing.T, addr string, env ...string) *exec.Cmd {
	cmd := exec.Command(e.bin, "serve")
	cmd.Env = append(os.Environ(), "ODOO_SHIM_DATABASE_DSN="+e.dsn,
		"ODOO_SHIM_LISTEN="+addr, "ODOO_SHIM_LOG_LEVEL=warn", "ODOO_SHIM_MAIL_TIMEOUT=1s",
		"ODOO_SHIM_MAIL_LEASE=3s", "ODOO_SHIM_MAIL_POLL=50ms", "ODOO_SHIM_MAIL_BATCH=40")
	cmd.Env = append(cmd.Env, env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitHealthy(t, "http://"+addr)
	return cmd
}

// stop ends a serve with SIGTERM, as an operator would, when the test ends.
func stop(t *testing.T, cmd *exec.Cmd) {
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("serve after SIGTERM: %v", err)
		}
	})
}

// resetAll asks the instance at addr to reset ids in one XML-RPC call.
func (e *shimEnv) resetAll(t *testing.T, addr string, ids []int) {
	resp, err := http.Post("http://"+addr+"/xmlrpc/2/object", "text/xml",
		strings.NewReader(resetBody(e.db, ids)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// settled waits until no outbox row is queued any more and returns the message ids by
// state.
func (e *shimEnv) settled(t *testing.T, ctx context.Context) map[string][]string {
	sqlDB := openTestDB(t, e.db)
	for {
		var rows []struct {
			State string `db:"state"`
			ID    string `db:"message_id"`
		}
		if err := sqlDB.Select(&rows, `SELECT state, message_id FROM odoo_shim.outbox`); err != nil {
			t.Fatal(err)
		}
		byState := map[string][]string{}
		for _, r := range rows {
			byState[r.State] = append(byState[r.State], r.ID)
		}
		if len(byState["queued"]) == 0 {
			return byState
		}
		if ctx.Err() != nil {
			t.Fatalf("%d mails still queued", len(byState["queued"]))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The real binary is killed with SIGKILL while the server holds the whole of one mail
// and has not answered yet, then started again. No mail is lost: every one reaches the
// server. By default none is sent twice either: the mail in flight, and any whose
// acceptance was not recorded yet, are left unconfirmed for an operator, since the server
// may have taken them (it did). With mail.resend_unconfirmed they are sent again instead,
// with the same Message-Id, and those alone arrive twice.
func TestKillAndRestart(t *testing.T) {
	tests := []struct {
		name   string
		resend bool
	}{
		{"unconfirmed kept", false},
		{"unconfirmed resent", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { killAndRestart(t, tt.resend) })
	}
}

func killAndRestart(t *testing.T, resend bool) {
	const n, killAt = 300, 75
	held, release := make(chan string, 1), make(chan struct{})
	var seen atomic.Int32
	e := newShimEnv(t, catcher.Options{OnData: func(msg []byte) error {
		if seen.Add(1) == killAt {
			held <- catcher.MessageID(msg)
			<-release
		}
		return nil
	}})
	ids := addSantri(t, e.db, n)
	addr := freeAddr(t)
	env := []string{"ODOO_SHIM_MAIL_WAIT=50ms",
		"ODOO_SHIM_MAIL_RESEND_UNCONFIRMED=" + strconv.FormatBool(resend)}

	first := e.serve(t, addr, env...)
	e.resetAll(t, addr, ids)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var inFlight string
	select {
	case inFlight = <-held:
	case <-ctx.Done():
		t.Fatal("the mail to hold never arrived")
	}
	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	close(release) // the server takes the mail; its answer goes nowhere

	stop(t, e.serve(t, addr, env...))
	byState := e.settled(t, ctx)
	counts := e.mails.ByMessageID()
	total := len(e.mails.Messages())
	unsure := byState["unconfirmed"]
	t.Logf("killed at mail %d; %d received, %d distinct; %d unconfirmed", killAt, total,
		len(counts), len(unsure))

	if len(counts) != n || counts[""] != 0 {
		t.Fatalf("%d distinct Message-Ids received; want all %d", len(counts), n)
	}
	if resend {
		if counts[inFlight] != 2 || total-n > 2 || len(byState["sent"]) != n {
			t.Errorf("in flight received %d times, %d sent twice, %d sent; want 2, at "+
				"most 2 (the one in flight, one waiting to be recorded), %d",
				counts[inFlight], total-n, len(byState["sent"]), n)
		}
		return
	}
	if total != n {
		t.Errorf("%d mails received twice; want none", total-n)
	}
	if !slices.Contains(unsure, inFlight) || len(unsure) > 2 ||
		len(byState["sent"])+len(unsure) != n {
		t.Errorf("unconfirmed %v, %d sent; want the one in flight (%s), at most one more, "+
			"and the rest sent", unsure, len(byState["sent"]), inFlight)
	}
	out := runOutboxCmd(t, e, "--state", "unconfirmed")
	if strings.Count(out, " unconfirmed ") != len(unsure) || strings.Contains(out, "token") {
		t.Errorf("odoo-shim outbox --state unconfirmed printed:\n%s", out)
	}
}

// runOutboxCmd runs `odoo-shim outbox` with args on the environment's database.
func runOutboxCmd(t *testing.T, e *shimEnv, args ...string) string {
	cmd := exec.Command(e.bin, append([]string{"outbox"}, args...)...)
	cmd.Env = append(os.Environ(), "ODOO_SHIM_DATABASE_DSN="+e.dsn, "ODOO_SHIM_LOG_LEVEL=warn")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("odoo-shim outbox %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// Two separate serve processes share one outbox. The mail server is down while 300
// mails are queued, then comes back slowly: both instances deliver, and no mail arrives
// twice.
func TestTwoInstancesOneOutbox(t *testing.T) {
	const n = 300
	var down atomic.Bool
	down.Store(true)
	e := newShimEnv(t, catcher.Options{OnMail: func(string) error {
		if down.Load() {
			return &smtp.SMTPError{Code: 450, Message: "mailbox busy"}
		}
		time.Sleep(2 * time.Millisecond) // one instance cannot empty the queue alone
		return nil
	}})
	ids := addSantri(t, e.db, n)
	retry := []string{"ODOO_SHIM_MAIL_RETRY_BASE=50ms", "ODOO_SHIM_MAIL_RETRY_MAX=100ms",
		"ODOO_SHIM_MAIL_MAX_ATTEMPTS=1000"}
	a, b := freeAddr(t), freeAddr(t)
	stop(t, e.serve(t, a, append(retry, "ODOO_SHIM_MAIL_INSTANCE=shim-a")...))
	stop(t, e.serve(t, b, append(retry, "ODOO_SHIM_MAIL_INSTANCE=shim-b")...))

	e.resetAll(t, a, ids)
	down.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	byState := e.settled(t, ctx)

	var by []string
	if err := openTestDB(t, e.db).Select(&by, `SELECT DISTINCT leased_by
		FROM odoo_shim.outbox WHERE state = 'sent' ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	total, counts := len(e.mails.Messages()), e.mails.ByMessageID()
	t.Logf("%d received, %d distinct, sent by %v", total, len(counts), by)
	if len(byState["sent"]) != n || total != n || len(counts) != n {
		t.Errorf("%d sent, %d received, %d distinct; want %d of each",
			len(byState["sent"]), total, len(counts), n)
	}
	if !slices.Equal(by, []string{"shim-a", "shim-b"}) {
		t.Errorf("sent by %v; want both instances", by)
	}
}
