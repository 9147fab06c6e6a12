package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/odoo-shim/odoo-shim/models"
)

// Upstream configures front proxy mode: odoo-shim stands at Odoo's address, answers what
// it implements and hands every other request to the Odoo server behind it.
type Upstream struct {
	// URL is the upstream Odoo, e.g. http://127.0.0.1:8070.
	URL *url.URL
	// Timeout is how long the upstream may take to start answering (default 120 s, Odoo's
	// own limit_time_real).
	Timeout time.Duration
	// MaxBodyBytes caps a proxied request body; bodies are streamed, never held. 0: no cap.
	MaxBodyBytes int64
	// SessionTTL is how long the upstream's word on a session cookie is reused (default
	// 30 s; negative: ask every time).
	SessionTTL time.Duration
	// Transport, when set, replaces the HTTP transport to the upstream (tests).
	Transport http.RoundTripper
}

// upstream is the Odoo behind odoo-shim: the reverse proxy for what odoo-shim does not
// answer, and a client for the calls odoo-shim itself makes (sign-in, session lookup).
type upstream struct {
	base      *url.URL
	opt       Upstream
	proxyMode bool
	log       *slog.Logger
	rp        *httputil.ReverseProxy
	client    *http.Client
	page      *template.Template
}

func newUpstream(opt Upstream, proxyMode bool, log *slog.Logger) (*upstream, error) {
	if opt.URL == nil || opt.URL.Host == "" {
		return nil, errors.New("upstream: no URL")
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 120 * time.Second
	}
	if opt.SessionTTL == 0 {
		opt.SessionTTL = 30 * time.Second
	}
	if opt.Transport == nil {
		opt.Transport = newTransport(opt.Timeout)
	}
	page, err := template.ParseFS(templateFS, "templates/unavailable.html")
	if err != nil {
		return nil, err
	}

	u := &upstream{base: opt.URL, opt: opt, proxyMode: proxyMode, log: log, page: page,
		client: &http.Client{Transport: opt.Transport, Timeout: opt.Timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			}}}
	u.rp = &httputil.ReverseProxy{Rewrite: u.rewrite, Transport: opt.Transport,
		ErrorHandler: u.unavailable, BufferPool: copyBuffers{},
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	return u, nil
}

// newTransport is the standard transport tuned for one upstream: no environment proxy, no
// transparent gzip (the browser's own Accept-Encoding goes through and the body comes back
// as sent), and enough idle connections for a busy web client.
func newTransport(timeout time.Duration) *http.Transport {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext:           dialer.DialContext,
		DisableCompression:    true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   128,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
	}
}

// copyBuffers reuses the proxy's 32 KiB copy buffers instead of one new buffer per request.
type copyBuffers struct{}

var copyBufferPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (copyBuffers) Get() []byte  { return *copyBufferPool.Get().(*[]byte) }
func (copyBuffers) Put(b []byte) { copyBufferPool.Put(&b) }

// ServeHTTP hands r to the upstream. A proxied request runs as long as the upstream and the
// browser keep it going (downloads, long-polling, WebSockets): the server's read and write
// deadlines and odoo-shim's request timeout do not apply; Timeout bounds the wait for the
// upstream's answer.
func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if max := u.opt.MaxBodyBytes; max > 0 {
		if r.ContentLength > max {
			http.Error(w, "Request Entity Too Large", http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
	}
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	if isJSON(r.Header.Get("Content-Type")) {
		r = withJSONBody(r)
	}
	u.rp.ServeHTTP(w, r)
}

// rewrite sends the request to the upstream unchanged but for the forwarding headers. The
// Host header stays the browser's, so Odoo builds its URLs (and applies its dbfilter) as
// if the browser had reached it directly.
func (u *upstream) rewrite(pr *httputil.ProxyRequest) {
	pr.SetURL(u.base)
	pr.Out.Host = pr.In.Host
	u.forwardHeaders(pr.Out.Header, pr.In)
}

// forwardHeaders sets the X-Forwarded-* headers out carries for the browser's request in.
// The last X-Forwarded-For entry is always the client odoo-shim itself counts: the peer
// address, or with proxy_mode the address the trusted proxy in front reported. So an
// upstream Odoo in proxy_mode, which trusts the last entry, sees the same client. Without
// proxy_mode whatever forwarding headers the client sent are dropped: anyone can write them.
func (u *upstream) forwardHeaders(out http.Header, in *http.Request) {
	proto := "http"
	if in.TLS != nil {
		proto = "https"
	}
	host := in.Host
	chain := peerIP(in)
	if u.proxyMode {
		chain = forwardedIP(in) // the client odoo-shim counts
		joined := strings.Join(in.Header.Values("X-Forwarded-For"), ", ")
		if lastHop(joined) == chain { // the trusted proxy's chain ends with it: pass it on
			chain = joined
		}
		if h := in.Header.Get("X-Forwarded-Host"); h != "" {
			host = h
		}
		if p := in.Header.Get("X-Forwarded-Proto"); p != "" {
			proto = p
		}
		if f := in.Header.Values("Forwarded"); len(f) > 0 {
			out["Forwarded"] = f
		}
	} else {
		for _, name := range clientAddressHeaders {
			out.Del(name)
		}
	}
	out.Set("X-Forwarded-For", chain)
	out.Set("X-Forwarded-Host", host)
	out.Set("X-Forwarded-Proto", proto)
}

// clientAddressHeaders are the headers that proxies use to report a client's address,
// port or path. A client can write any of them; without proxy_mode none reaches the
// upstream, where something behind odoo-shim might believe it.
var clientAddressHeaders = []string{"Forwarded", "X-Forwarded", "X-Forwarded-Port",
	"X-Forwarded-Prefix", "X-Forwarded-Server", "X-Forwarded-Ssl", "X-Real-IP",
	"X-Client-IP", "True-Client-IP", "X-Cluster-Client-IP", "CF-Connecting-IP",
	"Fastly-Client-IP", "X-Original-Forwarded-For"}

// lastHop is the last entry of an X-Forwarded-For list.
func lastHop(list string) string {
	return strings.TrimSpace(list[strings.LastIndexByte(list, ',')+1:])
}

// unavailable answers a request the upstream could not take: a 502 page in the visitor's
// language, or a JSON-RPC error for JSON requests. Odoo's web client treats a 502 as a lost
// connection and retries by itself.
func (u *upstream) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		http.Error(w, "Request Entity Too Large", http.StatusRequestEntityTooLarge)
		return
	case r.Context().Err() != nil: // the browser went away; nobody to answer
		return
	}
	u.log.Warn("upstream unavailable", "method", r.Method, "path", clip(r.URL.Path),
		"error", err)

	w.Header().Set("Retry-After", "10")
	if isJSON(r.Header.Get("Content-Type")) {
		u.unavailableJSON(w, r)
		return
	}
	lang := pageLang(r, "")
	t := unavailableTexts(lang)
	var buf bytes.Buffer
	if err := u.page.Execute(&buf, t); err != nil {
		http.Error(w, "Bad Gateway", http.StatusBadGateway)
		return
	}
	pageHeaders(w)
	w.WriteHeader(http.StatusBadGateway)
	_, _ = w.Write(buf.Bytes())
}

func (u *upstream) unavailableJSON(w http.ResponseWriter, r *http.Request) {
	msg := unavailableTexts(pageLang(r, "")).Problem
	id := requestID(r)
	env := orderedObject{{"jsonrpc", "2.0"}, {"id", id}, {"error", jsonError{Code: 200,
		Message: "Odoo Server Error", Data: jsonErrorData{
			Name: "werkzeug.exceptions.BadGateway", Debug: traceback(
				"werkzeug.exceptions.BadGateway", msg), Message: msg,
			Arguments: []any{msg}, Context: map[string]any{}}}}}
	body, _ := json.Marshal(env)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusBadGateway)
	_, _ = w.Write(body)
}

// unavailableView is the 502 page's words.
type unavailableView struct {
	HTMLLang, Title, Problem, Advice, Reset string
}

func unavailableTexts(lang string) unavailableView {
	if models.IsIndonesian(lang) {
		return unavailableView{HTMLLang: "id", Title: "Odoo sedang tidak menjawab",
			Problem: "Server Odoo di belakang layanan ini tidak dapat dihubungi.",
			Advice: "Tunggu sebentar lalu muat ulang halaman ini. Jika masih gagal, " +
				"beri tahu administrator Anda.",
			Reset: "Tautan pada email atur ulang kata sandi tetap berfungsi."}
	}
	return unavailableView{HTMLLang: "en", Title: "Odoo is not answering",
		Problem: "The Odoo server behind this service cannot be reached.",
		Advice: "Wait a moment, then reload this page. If it still fails, tell your " +
			"administrator.",
		Reset: "Links in password-reset e-mails still work."}
}

// jsonBodyKey holds a small JSON request body read ahead of proxying, so that the error
// for a failed upstream can carry the request's JSON-RPC id.
type jsonBodyKey struct{}

const readAheadBytes = 16 << 10

// withJSONBody reads a small JSON body ahead (larger ones stream untouched).
func withJSONBody(r *http.Request) *http.Request {
	if r.ContentLength <= 0 || r.ContentLength > readAheadBytes {
		return r
	}
	body, err := io.ReadAll(r.Body)
	r.Body = replayBody(body, nil)
	if err != nil {
		return r // the upstream will see the same truncated body and the same end
	}
	return r.WithContext(context.WithValue(r.Context(), jsonBodyKey{}, body))
}

// requestID is the JSON-RPC id of r's body when it was read ahead, else null.
func requestID(r *http.Request) json.RawMessage {
	body, _ := r.Context().Value(jsonBodyKey{}).([]byte)
	var env struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(body, &env) != nil || len(env.ID) == 0 {
		return json.RawMessage("null")
	}
	return env.ID
}

// forward hands a request whose body odoo-shim has already read to the upstream.
func (u *upstream) forward(w http.ResponseWriter, r *http.Request, body []byte,
	rest io.ReadCloser) {
	r.Body = replayBody(body, rest)
	u.ServeHTTP(w, r)
}

func replayBody(body []byte, rest io.ReadCloser) io.ReadCloser {
	if rest == nil {
		return io.NopCloser(bytes.NewReader(body))
	}
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), rest), rest}
}
