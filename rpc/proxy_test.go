package rpc_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/odoo-shim/odoo-shim/internal/odoostub"
	"github.com/odoo-shim/odoo-shim/models/modeltest"
	"github.com/odoo-shim/odoo-shim/rpc"
)

// proxyEnv is odoo-shim in front proxy mode before the stand-in Odoo, both on one database.
type proxyEnv struct {
	*env
	stub  *odoostub.Stub
	upURL string
}

func newProxyEnv(t testing.TB, opts ...func(*rpc.Options)) *proxyEnv {
	t.Helper()
	return newProxyEnvOn(t, modeltest.Own18, opts...)
}

func newProxyEnvOn(t testing.TB, tmpl modeltest.Template,
	opts ...func(*rpc.Options)) *proxyEnv {
	t.Helper()
	pe := &proxyEnv{}
	pe.stub = odoostub.New("", func(ctx context.Context, login, pw string) (int64, error) {
		return pe.store.Authenticate(ctx, login, pw)
	})
	pe.upURL = pe.stub.Start()
	t.Cleanup(pe.stub.Close)
	up, _ := url.Parse(pe.upURL)
	opts = append([]func(*rpc.Options){func(o *rpc.Options) {
		o.Upstream = &rpc.Upstream{URL: up, Timeout: 5 * time.Second}
	}}, opts...)
	pe.env = newEnv(t, tmpl, opts...)
	pe.stub.SetDB(pe.db)
	return pe
}

// serverOn starts a second odoo-shim on e's database with other options.
func serverOn(t testing.TB, e *env, opt rpc.Options) string {
	t.Helper()
	if opt.Logger == nil {
		opt.Logger = quietLog()
	}
	opt.Now = e.clock
	srv, err := rpc.New(e.store, opt)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return hs.URL
}

func get(t *testing.T, u string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultTransport.RoundTrip(req) // no redirects, no cookie jar
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// A page of the web client reaches the browser as Odoo sent it: status, every header
// (cookies included, in order) and the exact bytes.
func TestProxyPageUnchanged(t *testing.T) {
	pe := newProxyEnv(t)
	const path = "/web/login?redirect=%2Fodoo%3Fdebug%3D1&x=a+b"

	direct, directBody := get(t, pe.upURL+path, nil)
	proxied, proxiedBody := get(t, pe.url+path, nil)
	if proxied.StatusCode != direct.StatusCode || !bytes.Equal(proxiedBody, directBody) {
		t.Fatalf("proxied %d %q; direct %d %q", proxied.StatusCode, proxiedBody,
			direct.StatusCode, directBody)
	}
	for _, h := range []string{"Content-Type", "Content-Length", "X-Frame-Options",
		"Content-Security-Policy", "X-Odoo-Stub"} {
		if proxied.Header.Get(h) != direct.Header.Get(h) || direct.Header.Get(h) == "" {
			t.Errorf("%s: proxied %q; direct %q", h, proxied.Header.Get(h), direct.Header.Get(h))
		}
	}
	pc, dc := proxied.Header.Values("Set-Cookie"), direct.Header.Values("Set-Cookie")
	if len(pc) != 2 || !strings.HasPrefix(pc[0], "session_id=") ||
		!strings.HasSuffix(pc[0], "; Max-Age=604800; HttpOnly; Path=/") ||
		pc[1] != dc[1] {
		t.Errorf("Set-Cookie proxied %q; direct %q", pc, dc)
	}
	seen := pe.stub.Seen()
	if last := seen[len(seen)-1]; last.RawQuery != "redirect=%2Fodoo%3Fdebug%3D1&x=a+b" {
		t.Errorf("the upstream saw the query %q", last.RawQuery)
	}

	// The browser's cookies reach Odoo: signed in there, the page names the user.
	sid := pe.stub.SignIn(2, "admin")
	resp, body := get(t, pe.url+"/odoo", http.Header{"Cookie": {"session_id=" + sid}})
	if resp.StatusCode != 200 || !strings.Contains(string(body), "uid 2 (admin)") {
		t.Errorf("/odoo with a session: %d %s", resp.StatusCode, body)
	}
}

func TestProxyBodiesAndRedirects(t *testing.T) {
	pe := newProxyEnv(t)

	payload := make([]byte, 1<<20)
	_, _ = rand.Read(payload)
	for _, method := range []string{"POST", "PUT", "DELETE"} {
		req, _ := http.NewRequest(method, pe.url+"/echo?a=1&b=%C3%BC", bytes.NewReader(payload))
		req.Header.Set("Content-Type", "application/octet-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 201 || resp.Header.Get("X-Echo-Method") != method ||
			resp.Header.Get("X-Echo-Query") != "a=1&b=%C3%BC" || !bytes.Equal(got, payload) {
			t.Errorf("%s: %d %s, %d bytes back", method, resp.StatusCode,
				resp.Header.Get("X-Echo-Method"), len(got))
		}
	}

	for path, want := range map[string]string{
		"/redirect":      "/web/login?redirect=%2Fodoo",
		"/redirect-away": "https://accounts.example.org/o/oauth2/auth?state=x",
		"/odoo":          "/web/login?redirect=/odoo", // no session: Odoo's own redirect
	} {
		resp, _ := get(t, pe.url+path, nil)
		if resp.StatusCode/100 != 3 || resp.Header.Get("Location") != want {
			t.Errorf("%s: %d Location %q; want %q", path, resp.StatusCode,
				resp.Header.Get("Location"), want)
		}
	}
}

func TestProxyBodyCap(t *testing.T) {
	pe := newProxyEnv(t, func(o *rpc.Options) { o.Upstream.MaxBodyBytes = 4096 })
	status, _ := post(t, pe.url+"/echo", "application/octet-stream", strings.Repeat("x", 4097))
	if status != http.StatusRequestEntityTooLarge {
		t.Errorf("a body over upstream.max_body_bytes: %d; want 413", status)
	}
	if status, body := post(t, pe.url+"/echo", "text/plain", "small"); status != 201 ||
		body != "small" {
		t.Errorf("a small body: %d %q", status, body)
	}
}

// A streamed answer reaches the browser part by part, before the upstream has finished.
func TestProxyStreams(t *testing.T) {
	pe := newProxyEnv(t)
	resp, err := http.Get(pe.url + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()

	first := make(chan string, 1)
	go func() {
		buf := make([]byte, 6)
		_, _ = io.ReadFull(resp.Body, buf)
		first <- string(buf)
	}()
	select {
	case got := <-first:
		if got != "first\n" {
			t.Fatalf("first part %q", got)
		}
	case <-time.After(10 * time.Second): // a deadlock guard, not a speed target
		t.Fatal("the first part did not arrive while the upstream was still answering")
	}
	pe.stub.Release()
	rest, _ := io.ReadAll(resp.Body)
	if string(rest) != "second\n" {
		t.Errorf("second part %q", rest)
	}
}

func TestProxyWebSocket(t *testing.T) {
	pe := newProxyEnv(t)
	conn, br, err := odoostub.Dial(strings.TrimPrefix(pe.url, "http://"), "/websocket")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	for _, msg := range []string{`{"event_name":"subscribe"}`, strings.Repeat("ä", 40000)} {
		if err := odoostub.WriteFrame(conn, odoostub.OpText, []byte(msg), true); err != nil {
			t.Fatal(err)
		}
		op, got, err := odoostub.ReadFrame(br)
		if err != nil || op != odoostub.OpText || string(got) != msg {
			t.Fatalf("echo: op %d, %d bytes, %v", op, len(got), err)
		}
	}
	_ = odoostub.WriteFrame(conn, odoostub.OpClose, nil, true)
	if op, _, err := odoostub.ReadFrame(br); err != nil || op != odoostub.OpClose {
		t.Errorf("close: op %d, %v", op, err)
	}
}

// The upstream sees who the client is, and the browser's Host; forwarding headers from a
// client are believed only with proxy_mode, which says a trusted proxy wrote them.
func TestProxyForwardingHeaders(t *testing.T) {
	pe := newProxyEnv(t)
	up, _ := url.Parse(pe.upURL)
	trusting := serverOn(t, pe.env, rpc.Options{ProxyMode: true,
		Upstream: &rpc.Upstream{URL: up}})
	forged := http.Header{"X-Forwarded-For": {"6.6.6.6"}, "X-Forwarded-Host": {"evil.example"},
		"X-Forwarded-Proto": {"https"}, "Forwarded": {"for=6.6.6.6"},
		"X-Forwarded-Port": {"443"}, "X-Forwarded-Prefix": {"/evil"},
		"X-Real-Ip": {"6.6.6.6"}, "True-Client-Ip": {"6.6.6.6"}}

	tests := []struct {
		name, base          string
		header              http.Header
		xff, xfHost, xfProt string
		forwarded           string
	}{
		{"alone", pe.url, nil, "127.0.0.1", hostOf(pe.url), "http", ""},
		{"forged", pe.url, forged, "127.0.0.1", hostOf(pe.url), "http", ""},
		{"proxy_mode, nothing sent", trusting, nil, "127.0.0.1", hostOf(trusting), "http", ""},
		{"proxy_mode", trusting, http.Header{"X-Forwarded-For": {"198.51.100.9, 203.0.113.7"},
			"X-Forwarded-Host": {"sekolah.example.id"}, "X-Forwarded-Proto": {"https"},
			"Forwarded": {"for=203.0.113.7;proto=https"}},
			"198.51.100.9, 203.0.113.7", "sekolah.example.id", "https",
			"for=203.0.113.7;proto=https"},
		{"proxy_mode, garbage", trusting, http.Header{"X-Forwarded-For": {"not-an-ip"}},
			"127.0.0.1", hostOf(trusting), "http", ""},
		// Two header lines: odoo-shim counts the first line's last entry, so that is what
		// the upstream must see last.
		{"proxy_mode, two lines", trusting,
			http.Header{"X-Forwarded-For": {"203.0.113.7", "6.6.6.6"}},
			"203.0.113.7", hostOf(trusting), "http", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			get(t, tt.base+"/web/login", tt.header)
			seen := pe.stub.Seen()
			h := seen[len(seen)-1]
			if h.Header.Get("X-Forwarded-For") != tt.xff ||
				h.Header.Get("X-Forwarded-Host") != tt.xfHost ||
				h.Header.Get("X-Forwarded-Proto") != tt.xfProt ||
				h.Header.Get("Forwarded") != tt.forwarded || h.Host != hostOf(tt.base) {
				t.Errorf("upstream saw Host %s, XFF %q, host %q, proto %q, Forwarded %q",
					h.Host, h.Header.Get("X-Forwarded-For"), h.Header.Get("X-Forwarded-Host"),
					h.Header.Get("X-Forwarded-Proto"), h.Header.Get("Forwarded"))
			}
			if tt.base == pe.url {
				for _, name := range []string{"X-Forwarded-Port", "X-Forwarded-Prefix",
					"X-Real-IP", "True-Client-IP"} {
					if v := h.Header.Get(name); v != "" {
						t.Errorf("upstream saw the client's %s: %q", name, v)
					}
				}
			}
		})
	}
}

func hostOf(u string) string { return strings.TrimPrefix(u, "http://") }

// Calls odoo-shim implements are answered from the database; any other call goes to the
// upstream with its body unchanged.
func TestProxyRoutesCalls(t *testing.T) {
	pe := newProxyEnv(t)
	resetCall := encodeCall(t, "execute_kw", pe.db, 2, "admin", "res.users",
		"action_reset_password", []any{[]any{6}})
	tests := []struct {
		name, path, contentType, body string
		upstream                      bool
	}{
		{"reset over XML-RPC", "/xmlrpc/2/object", "text/xml", resetCall, false},
		{"version", "/xmlrpc/2/common", "text/xml", encodeCall(t, "version"), false},
		{"another model", "/xmlrpc/2/object", "text/xml", encodeCall(t, "execute_kw", pe.db,
			2, "admin", "res.partner", "search_read", []any{[]any{}}), true},
		{"another database", "/xmlrpc/2/common", "text/xml", encodeCall(t, "authenticate",
			"other_db", "admin", "admin", map[string]any{}), true},
		{"db service", "/xmlrpc/2/db", "text/xml", encodeCall(t, "list"), true},
		{"JSON-RPC reset", "/jsonrpc", "application/json", `{"jsonrpc":"2.0","id":1,` +
			`"params":{"service":"object","method":"execute_kw","args":["` + pe.db +
			`",2,"admin","res.users","action_reset_password",[[6]]]}}`, false},
		{"JSON-RPC read", "/jsonrpc", "application/json", `{"jsonrpc":"2.0","id":1,` +
			`"params":{"service":"object","method":"execute_kw","args":["` + pe.db +
			`",2,"admin","res.partner","read",[[7]]]}}`, true},
		{"web client read", "/web/dataset/call_kw/res.partner/read", "application/json",
			`{"id":3,"jsonrpc":"2.0","method":"call","params":{"model":"res.partner",` +
				`"method":"read","args":[[7]],"kwargs":{}}}`, true},
		{"session route", "/web/session/get_session_info", "application/json", `{}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(pe.stub.Seen())
			status, body := post(t, pe.url+tt.path, tt.contentType, tt.body)
			seen := pe.stub.Seen()
			reached := len(seen) > before
			if reached != tt.upstream {
				t.Fatalf("reached the upstream: %v; want %v (%d %s)", reached, tt.upstream,
					status, body)
			}
			if reached && (seen[before].Path != tt.path || string(seen[before].Body) != tt.body) {
				t.Errorf("the upstream got %s %q", seen[before].Path, seen[before].Body)
			}
			if !reached && (status != 200 || strings.Contains(body, "fault")) {
				t.Errorf("answered locally: %d %s", status, body)
			}
		})
	}
}

// With the upstream down, proxied requests get a clear 502 and odoo-shim's own calls keep
// working from the database.
func TestProxyUpstreamDown(t *testing.T) {
	pe := newProxyEnv(t)
	link := resetLink(t, pe.env, 6)
	pe.stub.Close()

	for lang, says := range map[string]string{"id-ID,id;q=0.9": "Odoo sedang tidak menjawab",
		"en-GB": "Odoo is not answering"} {
		resp, body := get(t, pe.url+"/odoo", http.Header{"Accept-Language": {lang}})
		if resp.StatusCode != 502 || !strings.Contains(string(body), says) ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("%s: %d %s", lang, resp.StatusCode, body)
		}
		if strings.Contains(string(body), "src=") || strings.Contains(string(body), "http") {
			t.Errorf("the 502 page loads or links something: %s", body)
		}
	}

	status, body := post(t, pe.url+"/web/dataset/call_kw/res.partner/read", "application/json",
		`{"id":41,"jsonrpc":"2.0","method":"call","params":{"model":"res.partner",`+
			`"method":"read","args":[[7]],"kwargs":{}}}`)
	var env struct {
		ID    int `json:"id"`
		Error struct {
			Code int `json:"code"`
			Data struct{ Name, Message string }
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &env); err != nil || status != 502 || env.ID != 41 ||
		env.Error.Code != 200 || env.Error.Data.Name != "werkzeug.exceptions.BadGateway" ||
		env.Error.Data.Message == "" {
		t.Errorf("JSON call with the upstream down: %d %s", status, body)
	}

	status, body = post(t, pe.url+"/xmlrpc/2/object", "text/xml", encodeCall(t, "execute_kw",
		pe.db, 2, "admin", "res.users", "action_reset_password", []any{[]any{10}}))
	if status != 200 || !strings.Contains(body, "display_notification") {
		t.Errorf("reset with the upstream down: %d %s", status, body)
	}
	b := newBrowser(t, "en")
	b.do("GET", link, nil)
	if b.status != 200 || !strings.Contains(b.body, `name="password"`) {
		t.Errorf("reset page with the upstream down: %d", b.status)
	}
}

// Alone, odoo-shim answers 404 for what it does not serve, as before. (/odoo itself is
// its small signed-in landing page, landing.go.)
func TestStandaloneUnknownPath(t *testing.T) {
	e := newEnv(t, modeltest.Own18)
	for _, p := range []string{"/odoo/action-42", "/web/login", "/websocket"} {
		if resp, _ := get(t, e.url+p, nil); resp.StatusCode != 404 {
			t.Errorf("%s alone: %d; want 404", p, resp.StatusCode)
		}
	}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Through the proxy, the Odoo 18 web client's button request, sent with the browser's
// Odoo session, gets Odoo 18's answer from odoo-shim: the upstream only says who the
// session belongs to.
func TestProxyWebGolden(t *testing.T) {
	pe := newProxyEnvOn(t, modeltest.Fixture18)
	sid := pe.stub.SignIn(2, "admin")
	files, _ := filepath.Glob(filepath.Join("testdata", "web", "*call_*.txt"))
	if len(files) == 0 {
		t.Fatal("no web-client call exchanges in testdata/web")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		x := parseExchange(t, filepath.Base(f), string(data))
		t.Run(x.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", pe.url+x.path, strings.NewReader(x.request))
			req.Header.Set("Content-Type", "application/json")
			if !strings.HasPrefix(x.name, "nosession_") {
				req.AddCookie(&http.Cookie{Name: "session_id", Value: sid})
			}
			before := len(pe.stub.Seen())
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(x.response, `"error"`) {
				checkJSON(t, got, []byte(x.response))
			} else if string(got) != x.response {
				t.Errorf("response differs:\n got: %s\nwant: %s", got, x.response)
			}
			for _, r := range pe.stub.Seen()[before:] {
				if r.Path != "/web/session/get_session_info" {
					t.Errorf("the upstream was asked %s", r.Path)
				}
			}
		})
	}
	if n := pe.stub.SessionInfoCalls.Load(); n != 1 {
		t.Errorf("the upstream was asked about the session %d times; want 1 (cached)", n)
	}
}
