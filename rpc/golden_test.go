package rpc_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// exchange is one recorded request and Odoo 18's answer to it.
type exchange struct {
	name, path, request string
	status              int
	response            string
}

func loadExchanges(t *testing.T) []exchange {
	t.Helper()
	dir := modeltest.SharedFile(t, "vectors/odoo18/exchanges")
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no exchanges in %s: %v", dir, err)
	}
	var out []exchange
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, parseExchange(t, filepath.Base(f), string(data)))
	}
	return out
}

// parseExchange reads "POST <path>\n\n<request>\n--- response <status> ...\n<response>".
func parseExchange(t *testing.T, name, s string) exchange {
	t.Helper()
	head, rest, ok := strings.Cut(s, "\n\n")
	req, resp, ok2 := strings.Cut(rest, "\n--- response ")
	if !ok || !ok2 || !strings.HasPrefix(head, "POST ") {
		t.Fatalf("%s: unexpected layout", name)
	}
	statusLine, body, _ := strings.Cut(resp, "\n")
	var status int
	if _, err := fmtSscan(statusLine, &status); err != nil {
		t.Fatalf("%s: status line %q", name, statusLine)
	}
	return exchange{name: name, path: strings.TrimPrefix(head, "POST "),
		request: strings.TrimSuffix(req, "\n"), status: status, response: body}
}

// Every recorded exchange, replayed against odoo-shim serving the same Odoo 18 database,
// gets Odoo's answer: XML-RPC byte for byte, JSON-RPC value for value (Odoo's tracebacks
// excepted, which the recording left out).
func TestRecordedExchanges(t *testing.T) {
	e := newEnv(t, modeltest.Fixture18)
	for _, x := range loadExchanges(t) {
		t.Run(x.name, func(t *testing.T) {
			ct := "text/xml"
			if strings.HasSuffix(x.name, ".jsonrpc.txt") {
				ct = "application/json"
			}
			resp, err := http.Post(e.url+x.path, ct, strings.NewReader(x.request))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != x.status {
				t.Fatalf("status %d; want %d", resp.StatusCode, x.status)
			}
			if ct == "text/xml" {
				checkXML(t, resp, string(body), x.response)
			} else {
				checkJSON(t, body, []byte(x.response))
			}
		})
	}
}

func checkXML(t *testing.T, resp *http.Response, got, want string) {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != "text/xml; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if strings.Contains(want, "Traceback") {
		// Fault 1 carries Odoo's Python traceback; only its last line is comparable.
		checkLastLine(t, got, want)
		return
	}
	if got != want {
		t.Errorf("response differs:\n got: %q\nwant: %q", got, want)
	}
}

func checkLastLine(t *testing.T, got, want string) {
	t.Helper()
	last := func(s string) string {
		s = s[:strings.LastIndex(s, "</string>")]
		return s[strings.LastIndex(s, "\n")+1:]
	}
	if last(got) != last(want) {
		t.Errorf("traceback ends %q; want %q", last(got), last(want))
	}
}

func checkJSON(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w map[string]any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	for _, m := range []map[string]any{g, w} {
		if e, ok := m["error"].(map[string]any); ok {
			if d, ok := e["data"].(map[string]any); ok {
				d["debug"] = "<traceback>"
			}
		}
	}
	if !reflect.DeepEqual(g, w) {
		gj, _ := json.Marshal(g)
		wj, _ := json.Marshal(w)
		t.Errorf("response differs:\n got: %s\nwant: %s", gj, wj)
	}
	if bytes.Contains(got, []byte(`\u003c`)) {
		t.Errorf("response HTML-escapes text: %s", got)
	}
}
