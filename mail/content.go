package mail

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"

	"github.com/odoo-shim/odoo-shim/models"
)

// Mail kinds, as in models.ResetMail.Kind.
const (
	KindReset  = "reset"
	KindSignup = "signup"
)

// phrases are the sentences of one mail kind in one language. Each is a text/template
// snippet run against phraseData; the results are plain text, escaped later by the layouts.
// The wording is the service's own; only the button labels follow Odoo 18's mail.
type phrases struct {
	Greeting   string
	Intro      string
	Action     string // leads to the button (HTML part)
	TextAction string // leads to the link on its own line (text part)
	Button     string
	Fallback   string // under the button, for mail readers that do not show it
	Validity   string
	Ignore     string
	Closing    string
}

// catalogue holds the phrases by language ("en", "id") and kind.
var catalogue = map[string]map[string]phrases{
	"en": {
		KindReset: {
			Greeting: `Hello{{with .UserName}} {{.}}{{end}},`,
			Intro: `We received a request to set a new password for the account ` +
				`"{{.Login}}"{{with .Company}} at {{.}}{{end}}.`,
			Action:     `To choose your new password, use the button below.`,
			TextAction: `To choose your new password, open this link:`,
			Button:     `Change password`,
			Fallback:   `If the button does not work, copy this address into your browser:`,
			Validity:   enValidity,
			Ignore: `If you did not ask for this, there is nothing to do: ` +
				`your current password keeps working.`,
			Closing: `Kind regards,`,
		},
		KindSignup: {
			Greeting: `Hello{{with .UserName}} {{.}}{{end}},`,
			Intro: `You have been invited to use the account ` +
				`"{{.Login}}"{{with .Company}} at {{.}}{{end}}.`,
			Action:     `To accept the invitation and choose your password, use the button below.`,
			TextAction: `To accept the invitation and choose your password, open this link:`,
			Button:     `Accept invitation`,
			Fallback:   `If the button does not work, copy this address into your browser:`,
			Validity:   enValidity,
			Ignore:     `If this invitation is not meant for you, simply delete this e-mail.`,
			Closing:    `Kind regards,`,
		},
	},
	"id": {
		KindReset: {
			Greeting: `Halo{{with .UserName}} {{.}}{{end}},`,
			Intro: `Kami menerima permintaan untuk membuat password baru bagi akun ` +
				`"{{.Login}}"{{with .Company}} di {{.}}{{end}}.`,
			Action:     `Untuk memilih password baru, tekan tombol di bawah ini.`,
			TextAction: `Untuk memilih password baru, buka tautan berikut:`,
			Button:     `Ubah password`,
			Fallback:   `Jika tombol tidak berfungsi, salin alamat berikut ke browser Anda:`,
			Validity:   idValidity,
			Ignore: `Jika Anda tidak merasa meminta ini, Anda tidak perlu melakukan apa pun: ` +
				`password Anda saat ini tetap berlaku.`,
			Closing: `Salam,`,
		},
		KindSignup: {
			Greeting: `Halo{{with .UserName}} {{.}}{{end}},`,
			Intro: `Anda diundang untuk menggunakan akun ` +
				`"{{.Login}}"{{with .Company}} di {{.}}{{end}}.`,
			Action:     `Untuk menerima undangan dan memilih password, tekan tombol di bawah ini.`,
			TextAction: `Untuk menerima undangan dan memilih password, buka tautan berikut:`,
			Button:     `Terima undangan`,
			Fallback:   `Jika tombol tidak berfungsi, salin alamat berikut ke browser Anda:`,
			Validity:   idValidity,
			Ignore:     `Jika undangan ini bukan untuk Anda, hapus saja email ini.`,
			Closing:    `Salam,`,
		},
	},
}

const (
	enValidity = `{{with .ValidHours}}This link is valid for {{.}} ` +
		`{{if eq . "1"}}hour{{else}}hours{{end}}.{{end}}`
	idValidity = `{{with .ValidHours}}Tautan ini berlaku selama {{.}} jam.{{end}}`
)

// phraseData is what the phrase snippets may refer to.
type phraseData struct {
	UserName   string
	Login      string
	Company    string
	ValidHours string
}

// view is the finished, plain-text content of one mail, laid out by the two templates.
type view struct {
	Lang       string
	Title      string
	Company    string
	Link       string
	Greeting   string
	Intro      string
	Action     string
	TextAction string
	Button     string
	Fallback   string
	Validity   string
	Ignore     string
	Closing    string
}

// compiledPhrases holds the parsed snippets, keyed by "lang/kind/field".
var compiledPhrases = compilePhrases()

func compilePhrases() map[string]*texttemplate.Template {
	out := make(map[string]*texttemplate.Template)
	for lang, kinds := range catalogue {
		for kind, p := range kinds {
			for field, src := range p.fields() {
				key := lang + "/" + kind + "/" + field
				out[key] = texttemplate.Must(texttemplate.New(key).Parse(src))
			}
		}
	}
	return out
}

func (p phrases) fields() map[string]string {
	return map[string]string{
		"Greeting": p.Greeting, "Intro": p.Intro, "Action": p.Action,
		"TextAction": p.TextAction, "Button": p.Button, "Fallback": p.Fallback,
		"Validity": p.Validity, "Ignore": p.Ignore, "Closing": p.Closing,
	}
}

// language maps an Odoo language code to a catalogue key: Indonesian for id and id_ID,
// English for everything else.
func language(code string) string {
	if strings.HasPrefix(strings.ToLower(code), "id") {
		return "id"
	}
	return "en"
}

// newView renders the phrases of m's kind and language.
func newView(m models.ResetMail) (view, error) {
	kind := m.Kind
	if kind == "" {
		kind = KindReset
	}
	lang := language(m.Lang)
	if _, ok := catalogue[lang][kind]; !ok {
		return view{}, fmt.Errorf("unknown mail kind %q", m.Kind)
	}

	login := m.Login
	if login == "" {
		login = m.To
	}
	data := phraseData{
		UserName:   strings.TrimSpace(m.UserName),
		Login:      login,
		Company:    strings.TrimSpace(m.CompanyName),
		ValidHours: strings.TrimSpace(m.ValidHours),
	}

	v := view{Lang: lang, Title: m.Subject, Company: data.Company, Link: m.Link}
	render := func(field string) string {
		var b strings.Builder
		// The snippets are constants parsed at start-up and phraseData has every field
		// they use, so execution cannot fail.
		_ = compiledPhrases[lang+"/"+kind+"/"+field].Execute(&b, data)
		return b.String()
	}
	v.Greeting, v.Intro, v.Action = render("Greeting"), render("Intro"), render("Action")
	v.TextAction, v.Button = render("TextAction"), render("Button")
	v.Fallback, v.Validity = render("Fallback"), render("Validity")
	v.Ignore, v.Closing = render("Ignore"), render("Closing")
	return v, nil
}

// layouts holds body.txt, the text/plain part (the same content as the HTML, the link on
// its own line), and body.html, the text/html part: one centred column of at most 560 px
// made of tables and inline styles, which mail clients render most consistently, and no
// remote resources.
//
//go:embed layout/body.txt layout/body.html
var layouts embed.FS

var (
	textLayout = texttemplate.Must(texttemplate.ParseFS(layouts, "layout/body.txt"))
	htmlLayout = htmltemplate.Must(htmltemplate.ParseFS(layouts, "layout/body.html"))
)

// renderBodies returns the text and HTML bodies of m, with LF line ends.
func renderBodies(m models.ResetMail) (text, html []byte, err error) {
	v, err := newView(m)
	if err != nil {
		return nil, nil, err
	}

	var t, h bytes.Buffer
	if err := textLayout.Execute(&t, v); err != nil {
		return nil, nil, fmt.Errorf("render text part: %w", err)
	}
	if err := htmlLayout.Execute(&h, v); err != nil {
		return nil, nil, fmt.Errorf("render html part: %w", err)
	}
	return t.Bytes(), h.Bytes(), nil
}
