package catcher

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed inbox/list.html inbox/message.html
var pages embed.FS

var (
	listPage    = template.Must(template.ParseFS(pages, "inbox/list.html"))
	messagePage = template.Must(template.ParseFS(pages, "inbox/message.html"))
)

// Handler returns the inbox. Its paths are relative, so it can be mounted anywhere with
// http.StripPrefix:
//
//	GET /                    the messages, newest first
//	GET /{n}                 message n (from 1): headers, text part, its links, and its
//	                         HTML part in a sandboxed frame
//	GET /{n}.html            message n's HTML part, sandboxed, loading nothing from elsewhere
//	GET /{n}.eml             message n as received
//	GET /latest.json?to=ADDR the newest message to ADDR as JSON; 404 when there is none
func (c *Catcher) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", c.serveList)
	mux.HandleFunc("GET /latest.json", c.serveLatest)
	mux.HandleFunc("GET /{id}", c.serveMessage)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The messages carry live reset links: keep them out of caches and referrers.
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; "+
			"style-src 'unsafe-inline'; frame-src 'self'")
		if r.URL.Path == "" {
			redirectToDir(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// redirectToDir answers a request for the mount point itself ("/dev/mail" once StripPrefix
// has removed everything) with a relative redirect to "/dev/mail/", so that the relative
// links of the list resolve under the mount point.
func redirectToDir(w http.ResponseWriter, r *http.Request) {
	p, _, _ := strings.Cut(r.RequestURI, "?")
	target := "./"
	if base := path.Base(p); base != "/" && base != "." {
		target = base + "/"
	}
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusMovedPermanently)
}

// listRow is one line of the inbox list.
type listRow struct {
	N        int
	Received string
	To       string
	From     string
	Subject  string
}

func (c *Catcher) serveList(w http.ResponseWriter, _ *http.Request) {
	msgs := c.Messages()
	rows := make([]listRow, 0, len(msgs))
	for i, m := range slices.Backward(msgs) {
		p := parse(m.Data)
		rows = append(rows, listRow{
			N:        i + 1,
			Received: m.Received.Format(time.DateTime),
			To:       strings.Join(m.To, ", "),
			From:     p.From,
			Subject:  p.Subject,
		})
	}
	render(w, listPage, rows)
}

// messageView is the data of the message page.
type messageView struct {
	N        int
	Received string
	Envelope string
	TLS      bool
	User     string
	parsed
}

func (c *Catcher) serveMessage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	raw := strings.HasSuffix(id, ".eml")
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSuffix(id, ".eml"), ".html"))
	msgs := c.Messages()
	if err != nil || n < 1 || n > len(msgs) {
		http.NotFound(w, r)
		return
	}
	m := msgs[n-1]

	if strings.HasSuffix(id, ".html") {
		serveHTMLPart(w, r, m)
		return
	}
	if raw {
		w.Header().Set("Content-Type", "message/rfc822")
		disposition := fmt.Sprintf(`attachment; filename="message-%d.eml"`, n)
		w.Header().Set("Content-Disposition", disposition)
		_, _ = w.Write(m.Data)
		return
	}

	render(w, messagePage, messageView{
		N:        n,
		Received: m.Received.Format(time.DateTime),
		Envelope: m.From + " → " + strings.Join(m.To, ", "),
		TLS:      m.TLS,
		User:     m.User,
		parsed:   parse(m.Data),
	})
}

// htmlPartPolicy confines a mail's HTML part: no script, nothing loaded from elsewhere
// (images inline only), and links that leave the frame only when clicked.
const htmlPartPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; " +
	"sandbox allow-top-navigation-by-user-activation allow-popups " +
	"allow-popups-to-escape-sandbox"

// serveHTMLPart serves m's HTML part as the mail client would show it. Its links open in
// the whole window, as a reset link should, not inside the inbox's frame.
func serveHTMLPart(w http.ResponseWriter, r *http.Request, m Message) {
	body := parse(m.Data).HTML
	if body == "" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Security-Policy", htmlPartPolicy)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(withTopTarget(body)))
}

// withTopTarget adds <base target="_top"> to the head of page, or before it when it has
// no head.
func withTopTarget(page string) string {
	const base = `<base target="_top">`
	lower := strings.ToLower(page)
	if i := strings.Index(lower, "<head"); i >= 0 {
		if j := strings.IndexByte(page[i:], '>'); j >= 0 {
			at := i + j + 1
			return page[:at] + base + page[at:]
		}
	}
	return base + page
}

// latest is the JSON answer of /latest.json.
type latest struct {
	ID      int      `json:"id"`
	From    string   `json:"from"`
	To      string   `json:"to"`
	Subject string   `json:"subject"`
	Text    string   `json:"text"`
	Links   []string `json:"links"`
}

func (c *Catcher) serveLatest(w http.ResponseWriter, r *http.Request) {
	to := normalize(r.URL.Query().Get("to"))
	if to == "" {
		http.Error(w, "missing to parameter", http.StatusBadRequest)
		return
	}

	msgs := c.Messages()
	for i, m := range slices.Backward(msgs) {
		if !slices.ContainsFunc(m.To, func(a string) bool { return normalize(a) == to }) {
			continue
		}
		p := parse(m.Data)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(latest{
			ID: i + 1, From: p.From, To: p.To, Subject: p.Subject, Text: p.Text, Links: p.Links,
		})
		return
	}
	http.NotFound(w, r)
}

// render executes t into a buffer first, so that a failure still gives a clean 500.
func render(w http.ResponseWriter, t *template.Template, data any) {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		http.Error(w, "render page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}
