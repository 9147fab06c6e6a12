package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// clientOut is the JSON line every client script prints.
type clientOut struct {
	Client string         `json:"client"`
	UID    any            `json:"uid"`
	UserID any            `json:"user_id"`
	Result map[string]any `json:"result"`
	Fault  *struct {
		Code any    `json:"code"`
		Last string `json:"last"`
	} `json:"fault"`
}

// Odoo 15-17's action_reset_password returns None; what each client then reports. Over
// JSON-RPC the answer has no "result" member: fernandoslim reads undefined and OdooRPC
// 0.9.0 reads None (its execute_kw uses data.get("result")), neither an error.
const (
	noneXMLRPC = "TypeError: cannot marshal None unless allow_none is enabled"
	noneJSON   = ""
)

// realClient runs one real Odoo client against the service: it signs in as admin, finds
// the target user by login, resets its password and prints what it got.
type realClient struct {
	name   string
	none   string // what it reports for Odoo 15-17's None
	script func(t *testing.T, s *shim, target string) []string
}

var nodeDir = filepath.Join("..", "..", "testdata", "clients", "node")

func nodeScript(file string) func(*testing.T, *shim, string) []string {
	return func(t *testing.T, s *shim, target string) []string {
		needNodeClients(t)
		return []string{"node", filepath.Join(nodeDir, file), s.url, s.db, "admin", "admin",
			target}
	}
}

// needNodeClients fails, never skips: CI must run every client. `make test` installs them.
func needNodeClients(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is needed for the npm client tests (make clients installs it): %v", err)
	}
	for _, pkg := range []string{"odoo-xmlrpc", "odoo-await", "odoo-xmlrpc-ts",
		"@fernandoslim/odoo-jsonrpc"} {
		if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", pkg)); err != nil {
			t.Fatalf("npm package %s is not installed; run `make clients`: %v", pkg, err)
		}
	}
}

var realClients = []realClient{
	{"odoo-xmlrpc", noneXMLRPC, nodeScript("odoo_xmlrpc.js")},
	{"odoo-await", noneXMLRPC, nodeScript("odoo_await.js")},
	{"odoo-xmlrpc-ts", noneXMLRPC, nodeScript("odoo_xmlrpc_ts.mjs")},
	{"@fernandoslim/odoo-jsonrpc", noneJSON, nodeScript("fernandoslim.js")},
	{"odoorpc", noneJSON, func(t *testing.T, s *shim, target string) []string {
		// Debian installs OdooRPC for the system interpreter only, not for a pyenv one.
		if err := exec.Command("/usr/bin/python3", "-c", "import odoorpc").Run(); err != nil {
			t.Fatalf("OdooRPC is not installed for /usr/bin/python3 (apt-get install "+
				"python3-odoorpc; make clients does it): %v", err)
		}
		return []string{"/usr/bin/python3",
			filepath.Join("..", "..", "testdata", "clients", "odoorpc_flow.py"),
			s.url, s.db, "admin", "admin", target}
	}},
}

// Every real client finds a user by login, resets its password and reads the answer, on
// the real Odoo 18 database and on the real Odoo 16 schema; each mailed link then sets a
// password the user signs in with.
func TestRealClients(t *testing.T) {
	dbs := []struct {
		name          string
		tmpl          modeltest.Template
		db            string
		target, email string
		uid           int64
	}{
		{"Odoo 18 fixture", modeltest.Fixture18, "pesantren18", "guest.teacher",
			"guest.teacher@example.com", 14},
		{"Odoo 16 schema", modeltest.Seeded16, "", "ahmad", "ahmad.santoso@example.org", 6},
	}
	for _, d := range dbs {
		t.Run(d.name, func(t *testing.T) {
			s := startShim(t, d.tmpl, d.db)
			for i, c := range realClients {
				t.Run(c.name, func(t *testing.T) {
					before := len(s.mails.Messages())
					argv := c.script(t, s, d.target)
					out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
					if err != nil {
						t.Fatalf("%s: %v\n%s\nservice log:\n%s", c.name, err, out, s.logs)
					}
					var r clientOut
					if err := json.Unmarshal(out, &r); err != nil {
						t.Fatalf("%s printed %s", c.name, out)
					}
					if fmt.Sprint(r.UID) != "2" || fmt.Sprint(r.UserID) != fmt.Sprint(d.uid) {
						t.Errorf("signed in as %v, found user %v; want 2 and %d", r.UID,
							r.UserID, d.uid)
					}
					checkAnswer(t, r, d.tmpl == modeltest.Seeded16, c.none)

					if _, err := s.mails.Wait(context.Background(), before+1); err != nil {
						t.Fatal(err)
					}
					password := fmt.Sprintf("Kata-sandi-klien-%d", i)
					setPassword(t, s.url, latestLink(t, s, d.email), password)
					if got := callKolo(t, s.url+"/xmlrpc/2/common", "login",
						[]any{s.db, d.target, password}); got != d.uid {
						t.Errorf("login with the password set through %s's mail = %v",
							c.name, got)
					}
				})
			}
		})
	}
}

// checkAnswer checks what a client read from action_reset_password: Odoo 18's
// notification, or on Odoo 16 what that client makes of None.
func checkAnswer(t *testing.T, r clientOut, none bool, noneText string) {
	t.Helper()
	fault := ""
	if r.Fault != nil {
		fault = r.Fault.Last
	}
	if none {
		if r.Result != nil || fault != noneText {
			t.Errorf("answer on Odoo 16: result %v, fault %q; want none and %q", r.Result,
				fault, noneText)
		}
		return
	}
	params, _ := r.Result["params"].(map[string]any)
	if fault != "" || r.Result["type"] != "ir.actions.client" ||
		r.Result["tag"] != "display_notification" || params["title"] != "Notification" ||
		!strings.Contains(fmt.Sprint(params["message"]), "reset password") {
		t.Errorf("answer on Odoo 18: result %v, fault %q", r.Result, fault)
	}
}

// kolo/xmlrpc on the Odoo 16 schema: the lookup, the reset and the fault Odoo 16's None
// gives, which kolo reports as a plain rpc.ServerError.
func TestKoloOdoo16(t *testing.T) {
	s := startShim(t, modeltest.Seeded16, "")
	object := s.url + "/xmlrpc/2/object"
	uid := callKolo(t, s.url+"/xmlrpc/2/common", "authenticate", []any{s.db, "operator",
		"operator-demo", map[string]any{}})
	found := callKolo(t, object, "execute_kw", []any{s.db, uid, "operator-demo", "res.users",
		"search", []any{[]any{[]any{"login", "=", "ahmad"}}}})
	if fmt.Sprint(found) != "[6]" {
		t.Fatalf("search = %v", found)
	}
	_, err := tryKolo(object, "execute_kw", []any{s.db, uid, "operator-demo", "res.users",
		"action_reset_password", []any{[]int64{6}}})
	if err == nil || !strings.HasPrefix(err.Error(), "Fault(1): Traceback") ||
		!strings.HasSuffix(err.Error(), noneXMLRPC) {
		t.Errorf("reset on Odoo 16 = %v; want fault 1 ending %q", err, noneXMLRPC)
	}
	link := latestLink(t, s, "ahmad.santoso@example.org")
	setPassword(t, s.url, link, "Ahmad-enam-belas")
	if got := callKolo(t, s.url+"/xmlrpc/2/common", "login", []any{s.db, "ahmad",
		"Ahmad-enam-belas"}); got != int64(6) {
		t.Errorf("login with the new password = %v", got)
	}
}
