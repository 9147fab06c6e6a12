package rpc_test

import (
	"bytes"
	"context"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/odoo-shim/odoo-shim/models/modeltest"
	"github.com/odoo-shim/odoo-shim/rpc/internal/cdp"
)

// Phone size the pages are tested at (CSS pixels of a common phone).
const phoneWidth, phoneHeight = 390, 844

// page is a headless Chromium tab on the test server, with the checks the flow needs.
type page struct {
	t   *testing.T
	ctx context.Context
	p   *cdp.Page
}

// newPhone starts Chromium and opens a phone-sized tab asking for lang. Without Chromium
// the test is skipped, unless ODOO_SHIM_REQUIRE_BROWSER is set (make test sets it, after
// installing Debian's chromium when it is missing).
func newPhone(t *testing.T, lang string) *page {
	t.Helper()
	bin, err := cdp.Find()
	if err != nil {
		if os.Getenv("ODOO_SHIM_REQUIRE_BROWSER") != "" {
			t.Fatal(err)
		}
		t.Skipf("skipping the browser test: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	b, err := cdp.Start(bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	p, err := b.NewPage(ctx, phoneWidth, phoneHeight, true, lang)
	if err != nil {
		t.Fatal(err)
	}
	return &page{t: t, ctx: ctx, p: p}
}

func (p *page) open(url string) {
	p.t.Helper()
	if err := p.p.Navigate(p.ctx, url); err != nil {
		p.t.Fatal(err)
	}
}

func (p *page) typeIn(selector, text string) {
	p.t.Helper()
	if err := p.p.Type(p.ctx, selector, text); err != nil {
		p.t.Fatal(err)
	}
}

func (p *page) submit() {
	p.t.Helper()
	if err := p.p.Submit(p.ctx, `button[type="submit"]`); err != nil {
		p.t.Fatal(err)
	}
}

func (p *page) eval(expr string, out any) {
	p.t.Helper()
	if err := p.p.Eval(p.ctx, expr, out); err != nil {
		p.t.Fatal(err)
	}
}

func (p *page) text() string {
	p.t.Helper()
	var s string
	p.eval(`document.body.innerText`, &s)
	return s
}

func (p *page) value(selector string) string {
	p.t.Helper()
	var s string
	p.eval(`document.querySelector(`+quoteJS(selector)+`).value`, &s)
	return s
}

func (p *page) mustSay(s string) {
	p.t.Helper()
	if txt := p.text(); !strings.Contains(txt, s) {
		p.t.Fatalf("the page does not say %q:\n%s", s, txt)
	}
}

// fitsPhone checks what makes a page usable on a phone: a viewport meta tag, nothing wider
// than the screen, and no resource loaded from anywhere (the page is self-contained).
func (p *page) fitsPhone() {
	p.t.Helper()
	var r struct {
		Viewport   string
		Scroll     int
		Width      int
		Resources  []string
		InputWidth int
	}
	p.eval(`({Viewport: (document.querySelector('meta[name=viewport]') || {}).content || "",
		Scroll: document.documentElement.scrollWidth, Width: window.innerWidth,
		Resources: performance.getEntriesByType("resource").map(e => e.name),
		InputWidth: Math.max(0, ...[...document.querySelectorAll("input:not([type=hidden]),`+
		`button")].map(e => e.getBoundingClientRect().right))})`, &r)
	if !strings.Contains(r.Viewport, "width=device-width") {
		p.t.Errorf("viewport meta %q; want width=device-width", r.Viewport)
	}
	if r.Scroll > r.Width || r.InputWidth > r.Width {
		p.t.Errorf("page %dpx / fields %dpx wide on a %dpx phone", r.Scroll, r.InputWidth,
			r.Width)
	}
	if len(r.Resources) > 0 {
		p.t.Errorf("the page loads resources: %v", r.Resources)
	}
}

// shot saves a screenshot as testdata/screenshots/name.png when
// ODOO_SHIM_UPDATE_SCREENSHOTS is set; otherwise it only checks that the browser produced
// a phone-wide PNG (fonts differ between machines, so pixels are not compared).
func (p *page) shot(name string) {
	p.t.Helper()
	data, err := p.p.Screenshot(p.ctx)
	if err != nil {
		p.t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	if w := img.Bounds().Dx(); w != phoneWidth {
		p.t.Errorf("screenshot %s is %d px wide; want %d", name, w, phoneWidth)
	}
	if os.Getenv("ODOO_SHIM_UPDATE_SCREENSHOTS") == "" {
		return
	}
	dir := filepath.Join(modeltest.RepoRoot(p.t), "testdata", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), data, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// sessionUID asks get_session_info who the browser's session_id cookie belongs to. The
// pages' Content-Security-Policy forbids scripts to fetch, so the test asks instead.
func (p *page) sessionUID(e *env) float64 {
	p.t.Helper()
	cookies, err := p.p.Cookies(p.ctx, e.url)
	if err != nil {
		p.t.Fatal(err)
	}
	w := newWebClient(p.t, e)
	u, _ := url.Parse(e.url)
	for _, c := range cookies {
		if c.Name == "session_id" && (!c.HTTPOnly || c.Path != "/") {
			p.t.Errorf("session cookie %+v; want HttpOnly, Path=/", c)
		}
		w.c.Jar.SetCookies(u, []*http.Cookie{{Name: c.Name, Value: c.Value}})
	}
	res, _ := w.call("/web/session/get_session_info", map[string]any{})["result"].(map[string]any)
	uid, _ := res["uid"].(float64)
	return uid
}

func quoteJS(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// mailedLink waits for the n-th mail and returns the reset link it carries, as the user
// would click it.
func mailedLink(t *testing.T, e *env, n int) string {
	t.Helper()
	msgs, err := e.mails.Wait(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`https?://[^\s"<>]+token=[A-Za-z0-9_-]+`).
		FindString(strings.Join(textParts(t, msgs[n-1].Data), "\n"))
	if link == "" {
		t.Fatal("no link in the mail")
	}
	return link
}

// The whole page flow in a real browser at phone width, as a user goes through it: ask
// for a link, open it from the mail, mistype the confirmation, set the password, arrive
// signed in; then the spent link.
func TestBrowserResetFlow(t *testing.T) {
	e := newEnv(t, modeltest.Own18)
	// Links are built from web.base.url: point it at this server, so the mailed link is
	// opened exactly as it was sent.
	modeltest.Exec(t, e.db, `UPDATE ir_config_parameter SET value = '`+e.url+`'
		WHERE key = 'web.base.url'`)
	p := newPhone(t, "en-US,en;q=0.9")

	p.open(e.url + "/web/reset_password")
	p.mustSay("Enter the login or e-mail address of your account.")
	p.fitsPhone()
	p.shot("request-form")

	p.typeIn("#login", "teacher.english")
	p.submit()
	p.mustSay("No account found for this login")
	p.mustSay("Check what you typed: your login, or the e-mail address of your account.")
	if v := p.value("#login"); v != "teacher.english" {
		t.Errorf("the login field holds %q after the error; want what was typed", v)
	}
	p.fitsPhone()
	p.shot("request-unknown-login")

	p.typeIn("#login", "teacher.en")
	p.submit()
	p.mustSay("Password reset instructions sent to your email")
	p.mustSay("Open that e-mail and press its button within 4 hours.")
	p.mustSay("Send me a new link")
	p.shot("request-sent")

	link := mailedLink(t, e, 1)
	p.open(link)
	p.mustSay("Choose a new password for your account.")
	if v := p.value("#login"); v != "teacher.en" {
		t.Errorf("the form shows login %q; want teacher.en", v)
	}
	p.fitsPhone()
	p.shot("reset-form")

	p.typeIn("#password", "kata-sandi-1234")
	p.typeIn("#confirm_password", "kata-sandi-4321")
	p.submit()
	p.mustSay("Passwords do not match; please retype them.")
	if a, b := p.value("#password"), p.value("#confirm_password"); a != "" || b != "" {
		t.Errorf("the password fields kept %q / %q after the error", a, b)
	}
	p.fitsPhone()
	p.shot("reset-mismatch")

	p.typeIn("#password", "kata-sandi-1234")
	p.typeIn("#confirm_password", "kata-sandi-1234")
	p.submit()
	var where string
	p.eval(`location.pathname`, &where)
	if where != "/odoo" {
		t.Errorf("after the reset the browser is at %s; want /odoo", where)
	}
	p.mustSay("Signed in as Visiting Teacher (teacher.en).")
	if uid := p.sessionUID(e); uid != 10 {
		t.Errorf("get_session_info with the browser's session says uid %v; want 10", uid)
	}
	p.fitsPhone()
	p.shot("signed-in")

	p.open(link)
	p.mustSay("Invalid signup token")
	p.mustSay("Ask for a new link")
	p.mustSay("Send me a new link")
	p.shot("link-used")
}

// The same pages in Indonesian, for a user whose account is in Indonesian.
func TestBrowserIndonesian(t *testing.T) {
	e := newEnv(t, modeltest.Own18)
	p := newPhone(t, "id-ID,id;q=0.9")

	p.open(resetLink(t, e, 6))
	p.mustSay("Pilih kata sandi baru untuk akun Anda.")
	p.fitsPhone()
	p.shot("id-reset-form")

	p.typeIn("#password", "kata-sandi-1234")
	p.typeIn("#confirm_password", "kata-sandi-12345")
	p.submit()
	p.mustSay("Kata Sandi tidak cocok; tolong ketik ulang.")
	p.shot("id-reset-mismatch")

	p.typeIn("#password", "kata-sandi-1234")
	p.typeIn("#confirm_password", "kata-sandi-1234")
	p.submit()
	p.mustSay("Masuk sebagai Ahmad Santoso (ahmad).")
	p.shot("id-signed-in")
}
