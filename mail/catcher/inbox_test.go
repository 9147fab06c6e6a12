package catcher

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// inbox serves c's inbox under /dev/mail, as the demo mode mounts it.
func inbox(t *testing.T, c *Catcher) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/dev/mail/", http.StripPrefix("/dev/mail", c.Handler()))
	mux.Handle("/dev/mail", http.StripPrefix("/dev/mail", c.Handler()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// get fetches path without following redirects.
func get(t *testing.T, srv *httptest.Server, path string) (*http.Response, string) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := client.Get(srv.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", path, err)
	}
	return resp, string(body)
}

func TestInboxPages(t *testing.T) {
	c := start(t, Options{})
	send(t, dial(t, c), "to@example.com")
	srv := inbox(t, c)

	tests := []struct {
		path   string
		status int
		want   []string // substrings of the body
		reject []string
	}{
		{"/dev/mail/", 200, []string{`href="1"`, "Reset – &lt;script&gt;", "to@example.com"},
			[]string{"<script>"}},
		{"/dev/mail/1", 200,
			[]string{"&lt;script&gt;", `href="1.eml"`, "Open this link:",
				`href="https://erp.example.com/web/reset_password?db=x&amp;token=`,
				`<iframe src="1.html"`},
			[]string{"<script>"}},
		{"/dev/mail/1.html", 200, []string{`<base target="_top"><p>hi</p>`}, nil},
		{"/dev/mail/2.html", 404, nil, nil},
		{"/dev/mail/1.eml", 200, []string{sample}, nil},
		{"/dev/mail/2", 404, nil, nil},
		{"/dev/mail/x.eml", 404, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := get(t, srv, tt.path)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
			csp := resp.Header.Get("Content-Security-Policy")
			if !strings.HasPrefix(csp, "default-src 'none'") ||
				tt.status == 200 && strings.HasSuffix(tt.path, ".html") &&
					!strings.Contains(csp, "sandbox ") {
				t.Errorf("Content-Security-Policy = %q", csp)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q:\n%s", w, body)
				}
			}
			for _, r := range tt.reject {
				if strings.Contains(body, r) {
					t.Errorf("body contains %q unescaped", r)
				}
			}
		})
	}
}

func TestWithTopTarget(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<p>x</p>", `<base target="_top"><p>x</p>`},
		{"<!DOCTYPE html><html><HEAD lang=id><title>t</title></head>",
			`<!DOCTYPE html><html><HEAD lang=id><base target="_top"><title>t</title></head>`},
		{"<head", `<base target="_top"><head`},
	}
	for _, tt := range tests {
		if got := withTopTarget(tt.in); got != tt.want {
			t.Errorf("withTopTarget(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestInboxMountRedirect(t *testing.T) {
	srv := inbox(t, start(t, Options{}))

	resp, _ := get(t, srv, "/dev/mail")
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "mail/" {
		t.Fatalf("GET /dev/mail = %d Location %q, want 301 mail/",
			resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := get(t, srv, "/dev/mail/")
	if resp.StatusCode != 200 || !strings.Contains(body, "No messages yet.") {
		t.Errorf("GET /dev/mail/ = %d %q", resp.StatusCode, body)
	}
}

func TestInboxLatestJSON(t *testing.T) {
	c := start(t, Options{})
	cl := dial(t, c)
	send(t, cl, "other@example.com")
	send(t, cl, "To@Example.com")
	send(t, cl, "other@example.com")
	srv := inbox(t, c)

	resp, body := get(t, srv, "/dev/mail/latest.json?to=to@example.com")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var got latest
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	if got.ID != 2 || got.Subject != "Reset – <script>" ||
		got.From != `"Sender" <from@example.com>` || got.To != "to@example.com" ||
		len(got.Links) != 1 || got.Links[0] != sampleLink ||
		!strings.HasPrefix(got.Text, "Open this link:\n") {
		t.Errorf("latest = %+v", got)
	}

	resp, _ = get(t, srv, "/dev/mail/latest.json?to=nobody@example.com")
	if resp.StatusCode != 404 {
		t.Errorf("unknown recipient: status %d, want 404", resp.StatusCode)
	}
	if resp, _ := get(t, srv, "/dev/mail/latest.json"); resp.StatusCode != 400 {
		t.Errorf("missing to: status %d, want 400", resp.StatusCode)
	}
}
