package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// `make run` runs `odoo-shim demo`. The Python line it prints, which the README shows too,
// resets a demo user through the mail catcher, and the mailed link opens the reset form.
func TestDemo(t *testing.T) {
	modeltest.Cluster(t) // fails or skips exactly as the other database tests do
	addr := freeAddr(t)
	t.Setenv("ODOO_SHIM_LISTEN", addr)
	t.Setenv("ODOO_SHIM_DATABASE_DSN", "")

	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	data := t.TempDir()
	go func() {
		done <- run(ctx, []string{"demo", "--data", data, "--smtp", "127.0.0.1:0",
			"--fixtures", filepath.Join("..", "..", "testdata", "odoo18")}, out, &syncBuffer{})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo: %v", err)
		}
	})

	line := waitForLine(t, out, done, "python3 -c ")
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), strings.ReplaceAll(line, addr, "127.0.0.1:8069")) {
		t.Errorf("the README does not show the demo's line:\n%s", line)
	}

	res, err := exec.Command("sh", "-c", line).CombinedOutput()
	if err != nil || !bytes.Contains(res, []byte("'tag': 'display_notification'")) {
		t.Fatalf("the demo's python line: %v\n%s", err, res)
	}

	resp, err := http.Get("http://" + addr + "/dev/mail/latest.json?to=ahmad.santoso%40example.org")
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Links []string }
	err = json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if err != nil || len(m.Links) == 0 || !strings.HasPrefix(m.Links[0], "http://"+addr) {
		t.Fatalf("inbox: %+v, %v", m, err)
	}
	page := get(t, http.DefaultClient, m.Links[0])
	if !strings.Contains(page, `name="password"`) {
		t.Errorf("the mailed link does not open the reset form")
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitForLine waits until out holds a line containing prefix and returns that line.
func waitForLine(t *testing.T, out *syncBuffer, done chan error, prefix string) string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^\s*(` + regexp.QuoteMeta(prefix) + `.*)$`)
	deadline := time.After(2 * time.Minute)
	for {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return strings.TrimSpace(m[1])
		}
		select {
		case err := <-done:
			t.Fatalf("demo ended: %v\n%s", err, out)
		case <-deadline:
			t.Fatalf("the demo printed no %q line:\n%s", prefix, out)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// With ODOO_SHIM_DATABASE_DSN naming an empty database, the demo fills it and runs there;
// a database that already holds other tables is refused and left untouched.
func TestDemoOnGivenDatabase(t *testing.T) {
	c := modeltest.Cluster(t)
	name := "demo_given"
	if err := c.CreateDatabase(context.Background(), name, ""); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ODOO_SHIM_DATABASE_DSN", c.DSN(name))
	addr := freeAddr(t)
	t.Setenv("ODOO_SHIM_LISTEN", addr)

	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--smtp", "127.0.0.1:0", "--fixtures",
			filepath.Join("..", "..", "testdata", "odoo18")}, out, &syncBuffer{})
	}()
	line := waitForLine(t, out, done, "python3 -c ")
	res, err := exec.Command("sh", "-c", line).CombinedOutput()
	if err != nil || !bytes.Contains(res, []byte("display_notification")) {
		t.Errorf("the demo's python line on the given database: %v\n%s", err, res)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("demo: %v", err)
	}

	_, odoo := modeltest.NewDatabase(t, modeltest.Own18)
	modeltest.Exec(t, odoo, "DELETE FROM ir_config_parameter WHERE key = 'odoo_shim.demo'")
	t.Setenv("ODOO_SHIM_DATABASE_DSN", c.DSN(odoo))
	err = run(context.Background(), []string{"demo", "--smtp", "127.0.0.1:0", "--fixtures",
		filepath.Join("..", "..", "testdata", "odoo18")}, out, &syncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "give the demo an empty database") {
		t.Errorf("demo on a database that is not a demo = %v", err)
	}
}
