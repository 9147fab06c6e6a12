// Package cdp drives a headless Chromium through the Chrome DevTools Protocol, for the
// browser tests of the reset pages. It speaks the protocol over --remote-debugging-pipe
// (NUL-terminated JSON on file descriptors 3 and 4), so it needs nothing beyond the
// standard library: no WebSocket, no port.
package cdp

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// Flags are the headless flags that work in containers and CI (no sandbox, no GPU, no
// network of Chromium's own).
var Flags = []string{"--headless", "--no-sandbox", "--disable-gpu",
	"--disable-background-networking", "--no-first-run", "--no-default-browser-check",
	"--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio"}

// Find returns the Chromium binary: $ODOO_SHIM_CHROMIUM, else chromium on the PATH or at
// /usr/bin/chromium (Debian's package).
func Find() (string, error) {
	if p := os.Getenv("ODOO_SHIM_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium found (Debian: apt-get install chromium)")
}

// Browser is a running Chromium.
type Browser struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan message
	pages   map[string]*Page
	done    chan struct{}
	readErr error
}

// message is one protocol message: a reply (ID set) or an event (Method set).
type message struct {
	ID        int64           `json:"id,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

// Start runs Chromium at path with a fresh profile under dir.
func Start(path, dir string) (*Browser, error) {
	chromeIn, in, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	out, chromeOut, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	args := append(append([]string{}, Flags...), "--remote-debugging-pipe",
		"--user-data-dir="+filepath.Join(dir, "profile"), "about:blank")
	cmd := exec.Command(path, args...)
	cmd.ExtraFiles = []*os.File{chromeIn, chromeOut} // fds 3 and 4
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	chromeIn.Close()
	chromeOut.Close()

	b := &Browser{cmd: cmd, in: in, pending: map[int64]chan message{},
		pages: map[string]*Page{}, done: make(chan struct{})}
	go b.read(out)
	return b, nil
}

func (b *Browser) read(r io.Reader) {
	defer close(b.done)
	br := bufio.NewReader(r)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			b.readErr = err
			return
		}
		var m message
		if json.Unmarshal(raw[:len(raw)-1], &m) != nil {
			continue
		}
		b.mu.Lock()
		if m.ID != 0 {
			if ch := b.pending[m.ID]; ch != nil {
				ch <- m
				delete(b.pending, m.ID)
			}
		} else if p := b.pages[m.SessionID]; p != nil {
			p.event(m)
		}
		b.mu.Unlock()
	}
}

// call sends method with params (to the page session, when not "") and decodes the
// result into out.
func (b *Browser) call(ctx context.Context, session, method string, params, out any) error {
	ch := make(chan message, 1)
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	b.pending[id] = ch
	b.mu.Unlock()

	p, err := json.Marshal(params)
	if err != nil {
		return err
	}
	msg, _ := json.Marshal(message{ID: id, SessionID: session, Method: method, Params: p})
	if _, err := b.in.Write(append(msg, 0)); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}

	select {
	case m := <-ch:
		if m.Error != nil {
			return fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		if out != nil {
			return json.Unmarshal(m.Result, out)
		}
		return nil
	case <-b.done:
		return fmt.Errorf("%s: chromium exited: %v", method, b.readErr)
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// Close ends Chromium and waits for it.
func (b *Browser) Close() error {
	_ = b.call(context.Background(), "", "Browser.close", struct{}{}, nil)
	b.in.Close()
	select {
	case <-b.done:
	case <-time.After(5 * time.Second):
		_ = b.cmd.Process.Kill()
	}
	return b.cmd.Wait()
}

// Page is one tab.
type Page struct {
	b       *Browser
	session string
	loads   chan struct{}
}

// NewPage opens a tab of width × height CSS pixels; mobile makes it behave as a phone.
// Every request it makes carries Accept-Language lang.
func (b *Browser) NewPage(ctx context.Context, width, height int, mobile bool,
	lang string) (*Page, error) {
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"},
		&target); err != nil {
		return nil, err
	}
	var att struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{
		"targetId": target.TargetID, "flatten": true}, &att); err != nil {
		return nil, err
	}
	p := &Page{b: b, session: att.SessionID, loads: make(chan struct{}, 8)}
	b.mu.Lock()
	b.pages[p.session] = p
	b.mu.Unlock()

	steps := []struct {
		method string
		params any
	}{
		{"Page.enable", struct{}{}},
		{"Network.enable", struct{}{}},
		{"Network.setExtraHTTPHeaders", map[string]any{"headers": map[string]string{
			"Accept-Language": lang}}},
		{"Emulation.setDeviceMetricsOverride", map[string]any{"width": width,
			"height": height, "deviceScaleFactor": 1, "mobile": mobile}},
	}
	for _, st := range steps {
		if err := p.call(ctx, st.method, st.params, nil); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *Page) call(ctx context.Context, method string, params, out any) error {
	return p.b.call(ctx, p.session, method, params, out)
}

// event is called with the browser's lock held.
func (p *Page) event(m message) {
	if m.Method == "Page.loadEventFired" {
		select {
		case p.loads <- struct{}{}:
		default:
		}
	}
}

// drainLoads forgets load events that happened before the action about to be taken.
func (p *Page) drainLoads() {
	for {
		select {
		case <-p.loads:
		default:
			return
		}
	}
}

func (p *Page) waitLoad(ctx context.Context) error {
	select {
	case <-p.loads:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the page to load: %w", ctx.Err())
	}
}

// Navigate opens url and waits for the page's load event.
func (p *Page) Navigate(ctx context.Context, url string) error {
	p.drainLoads()
	var res struct {
		ErrorText string `json:"errorText"`
	}
	if err := p.call(ctx, "Page.navigate", map[string]any{"url": url}, &res); err != nil {
		return err
	}
	if res.ErrorText != "" {
		return fmt.Errorf("navigate %s: %s", url, res.ErrorText)
	}
	return p.waitLoad(ctx)
}

// Eval runs a JavaScript expression in the page (awaiting a promise) and decodes its
// value into out.
func (p *Page) Eval(ctx context.Context, expr string, out any) error {
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	err := p.call(ctx, "Runtime.evaluate", map[string]any{"expression": expr,
		"returnByValue": true, "awaitPromise": true}, &res)
	if err != nil {
		return err
	}
	if res.Exception != nil {
		return fmt.Errorf("%s: %s %s", expr, res.Exception.Text,
			res.Exception.Exception.Description)
	}
	if out == nil || len(res.Result.Value) == 0 {
		return nil
	}
	return json.Unmarshal(res.Result.Value, out)
}

// Type focuses the element matching selector, clears it, and types text as keyboard
// input would.
func (p *Page) Type(ctx context.Context, selector, text string) error {
	sel, _ := json.Marshal(selector)
	expr := `(() => { const e = document.querySelector(` + string(sel) + `);
		if (!e) throw new Error("no element " + ` + string(sel) + `);
		e.focus(); e.select && e.select(); return true })()`
	if err := p.Eval(ctx, expr, nil); err != nil {
		return err
	}
	if err := p.call(ctx, "Input.dispatchKeyEvent", map[string]any{"type": "keyDown",
		"key": "Backspace", "code": "Backspace", "windowsVirtualKeyCode": 8}, nil); err != nil {
		return err
	}
	_ = p.call(ctx, "Input.dispatchKeyEvent", map[string]any{"type": "keyUp",
		"key": "Backspace", "code": "Backspace", "windowsVirtualKeyCode": 8}, nil)
	return p.call(ctx, "Input.insertText", map[string]any{"text": text}, nil)
}

// Submit clicks the element matching selector with the mouse, at its centre, and waits
// for the page the click leads to.
func (p *Page) Submit(ctx context.Context, selector string) error {
	sel, _ := json.Marshal(selector)
	var box struct{ X, Y float64 }
	expr := `(() => { const e = document.querySelector(` + string(sel) + `);
		if (!e) throw new Error("no element " + ` + string(sel) + `);
		e.scrollIntoView({block: "center"}); const r = e.getBoundingClientRect();
		return {X: r.left + r.width / 2, Y: r.top + r.height / 2} })()`
	if err := p.Eval(ctx, expr, &box); err != nil {
		return err
	}

	p.drainLoads()
	for _, typ := range []string{"mousePressed", "mouseReleased"} {
		if err := p.call(ctx, "Input.dispatchMouseEvent", map[string]any{"type": typ,
			"x": box.X, "y": box.Y, "button": "left", "clickCount": 1}, nil); err != nil {
			return err
		}
	}
	return p.waitLoad(ctx)
}

// Screenshot returns a PNG of the whole page at the page's width.
func (p *Page) Screenshot(ctx context.Context) ([]byte, error) {
	var size struct{ W, H float64 }
	if err := p.Eval(ctx, `({W: document.documentElement.clientWidth,
		H: document.documentElement.scrollHeight})`, &size); err != nil {
		return nil, err
	}
	var res struct {
		Data string `json:"data"`
	}
	err := p.call(ctx, "Page.captureScreenshot", map[string]any{"format": "png",
		"captureBeyondViewport": true, "clip": map[string]any{"x": 0, "y": 0,
			"width": size.W, "height": size.H, "scale": 1}}, &res)
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(res.Data)
}

// Cookie is a cookie the browser holds.
type Cookie struct {
	Name     string  `json:"name"`
	Value    string  `json:"value"`
	Path     string  `json:"path"`
	Expires  float64 `json:"expires"`
	HTTPOnly bool    `json:"httpOnly"`
	SameSite string  `json:"sameSite"`
}

// Cookies returns the cookies the browser would send to url.
func (p *Page) Cookies(ctx context.Context, url string) ([]Cookie, error) {
	var res struct {
		Cookies []Cookie `json:"cookies"`
	}
	err := p.call(ctx, "Network.getCookies", map[string]any{"urls": []string{url}}, &res)
	return res.Cookies, err
}
