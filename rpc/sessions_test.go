package rpc_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/odoo-shim/odoo-shim/rpc"
)

// sessionProbe starts the session check of a proxy-mode odoo-shim on pe's database with
// the given cache lifetime and a clock the test moves.
func sessionProbe(t testing.TB, pe *proxyEnv, ttl time.Duration, now *time.Time) (
	*rpc.Server, string) {
	t.Helper()
	up, _ := url.Parse(pe.upURL)
	srv, err := rpc.New(pe.store, rpc.Options{Logger: quietLog(),
		Now:      func() time.Time { return *now },
		Upstream: &rpc.Upstream{URL: up, SessionTTL: ttl}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.SessionProbe())
	t.Cleanup(hs.Close)
	return srv, hs.URL
}

func probe(t *testing.T, u, sid string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", u, nil)
	if sid != "" {
		req.AddCookie(&http.Cookie{Name: "session_id", Value: sid})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

const sessionExpired = `{"jsonrpc":"2.0","id":7,"error":{"code":100,` +
	`"message":"Odoo Session Expired","data":{"name":"odoo.http.SessionExpiredException",` +
	`"debug":"Traceback (most recent call last):\n  File \"odoo-shim\", line 1, in dispatch` +
	`\nodoo.http.SessionExpiredException: Session expired","message":"Session expired",` +
	`"arguments":["Session expired"],"context":{}}}}`

// In front proxy mode the upstream says who a session belongs to; its answer is reused for
// the cache lifetime, and an unknown session gets Odoo's code-100 error.
func TestUpstreamSessionCheck(t *testing.T) {
	pe := newProxyEnv(t)
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	srv, u := sessionProbe(t, pe, 30*time.Second, &now)
	sid := pe.stub.SignIn(6, "ahmad")
	want := `{"jsonrpc":"2.0","id":7,"result":{"uid":6,"db":"` + pe.db +
		`","login":"ahmad","lang":"id_ID"}}`

	calls := func() int64 { return pe.stub.SessionInfoCalls.Load() }
	steps := []struct {
		name      string
		sid       string
		advance   time.Duration
		signOut   bool
		want      string
		wantCalls int64
	}{
		{"first look-up asks the upstream", sid, 0, false, want, 1},
		{"again within the lifetime: cached", sid, 10 * time.Second, false, want, 1},
		{"signed out upstream, still cached", sid, 10 * time.Second, true, want, 1},
		{"lifetime over: asked again, expired", sid, 11 * time.Second, false, sessionExpired, 2},
		{"the expiry is cached too", sid, time.Second, false, sessionExpired, 2},
		{"unknown session", "Z" + sid[1:], 0, false, sessionExpired, 3},
		{"no cookie: nobody asked", "", 0, false, sessionExpired, 3},
		{"malformed cookie: nobody asked", "../../etc/passwd", 0, false, sessionExpired, 3},
	}
	for _, st := range steps {
		now = now.Add(st.advance)
		if st.signOut {
			pe.stub.SignOut(sid)
		}
		if got := probe(t, u, st.sid); got != st.want || calls() != st.wantCalls {
			t.Fatalf("%s: %s (upstream asked %d times; want %d)\nwant %s", st.name, got,
				calls(), st.wantCalls, st.want)
		}
	}

	// A password change drops the user's cached sessions at once.
	sid2 := pe.stub.SignIn(6, "ahmad")
	probe(t, u, sid2)
	pe.stub.SignOut(sid2)
	srv.ForgetSessionsOf(6)
	if got := probe(t, u, sid2); got != sessionExpired {
		t.Errorf("after forgetting uid 6: %s", got)
	}
}

// A session of another database is not one odoo-shim may act for; an upstream that cannot
// answer is an error, not a sign-in.
func TestUpstreamSessionOtherDatabaseAndDown(t *testing.T) {
	pe := newProxyEnv(t)
	now := time.Now()
	_, u := sessionProbe(t, pe, 30*time.Second, &now)
	sid := pe.stub.SignIn(2, "admin")

	pe.stub.SetDB("another_school")
	if got := probe(t, u, sid); got != sessionExpired {
		t.Errorf("a session of another database: %s", got)
	}
	pe.stub.SetDB(pe.db)
	sid = pe.stub.SignIn(2, "admin")
	pe.stub.Close()
	if got := probe(t, u, sid); !strings.Contains(got, `"code":200`) || strings.Contains(got, `"result"`) {
		t.Errorf("upstream down: %s", got)
	}
}

// BenchmarkUpstreamSessionCheck is the session check of a web-client call in front proxy
// mode: remembered (the usual case within session_ttl) and asked of the upstream.
func BenchmarkUpstreamSessionCheck(b *testing.B) {
	pe := newProxyEnv(b)
	pe.stub.StopRecording()
	sid := pe.stub.SignIn(6, "ahmad")
	for _, c := range []struct {
		name string
		ttl  time.Duration
	}{{"cached", time.Hour}, {"asked", -1}} {
		b.Run(c.name, func(b *testing.B) {
			now := time.Now()
			srv, _ := sessionProbe(b, pe, c.ttl, &now)
			h := srv.SessionProbe()
			req := httptest.NewRequest("POST", "/", nil)
			req.AddCookie(&http.Cookie{Name: "session_id", Value: sid})
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if !strings.Contains(rec.Body.String(), `"uid":6`) {
					b.Fatal(rec.Body.String())
				}
			}
		})
	}
}
