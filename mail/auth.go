package mail

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/odoo-shim/odoo-shim/models"
)

// Authentication kinds of ir_mail_server.smtp_authentication.
const (
	AuthLogin       = "login"
	AuthCertificate = "certificate"
)

// xoauth2 is the XOAUTH2 mechanism of Gmail and Outlook: the bearer token as the initial
// response. A rejected token draws a 334 challenge holding a JSON error; the empty answer
// to it makes the server send its real reply (535), which Odoo never reads.
type xoauth2 struct{ user, token string }

// Start implements sasl.Client.
func (x *xoauth2) Start() (string, []byte, error) {
	return mechXOAuth2, []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}

// Next implements sasl.Client.
func (x *xoauth2) Next([]byte) ([]byte, error) { return []byte{}, nil }

const mechXOAuth2 = "XOAUTH2"

// authenticateOAuth runs AUTH XOAUTH2 with the server's access token.
func authenticateOAuth(c *smtp.Client, user, token string) error {
	if ok, _ := c.Extension("AUTH"); !ok {
		return ErrNoAuth
	}
	if !c.SupportsAuth(mechXOAuth2) {
		return ErrNoXOAuth2
	}
	if token == "" {
		return errors.New("no OAuth access token")
	}
	return c.Auth(&xoauth2{user: user, token: token})
}

// mechanism is one SASL mechanism we can offer, in smtplib's order of preference (CRAM-MD5
// is left out: go-sasl has no client for it and servers offering it offer PLAIN too).
type mechanism struct {
	name   string
	client func(user, password string) sasl.Client
}

var mechanisms = []mechanism{
	{sasl.Plain, func(u, p string) sasl.Client { return sasl.NewPlainClient("", u, p) }},
	{sasl.Login, func(u, p string) sasl.Client { return &loginClient{user: u, password: p} }},
}

// authenticate runs SMTP AUTH for the "login" kind: PLAIN, then LOGIN, among what the
// server advertises. A rejection moves on to the next mechanism and the last error is
// returned, as smtplib does; anything else stops at once. It returns the mechanism used.
func authenticate(c *smtp.Client, user, password string) (string, error) {
	if ok, _ := c.Extension("AUTH"); !ok {
		return "", ErrNoAuth
	}

	var last error
	for _, m := range mechanisms {
		if !c.SupportsAuth(m.name) {
			continue
		}
		err := c.Auth(m.client(user, password))
		if err == nil {
			return m.name, nil
		}
		last = err
		if connectionBroken(err) {
			break
		}
	}
	if last == nil {
		return "", ErrNoAuthMechanism
	}
	return "", last
}

// loginClient is the LOGIN mechanism as smtplib runs it: the user name as the initial
// response, the password for the "Password:" challenge, the user name again should the
// server ignore the initial response and ask for it. go-sasl's client aborts on any
// challenge other than exactly "Password:".
type loginClient struct {
	user, password string
}

// Start implements sasl.Client.
func (a *loginClient) Start() (string, []byte, error) {
	return sasl.Login, []byte(a.user), nil
}

// Next implements sasl.Client.
func (a *loginClient) Next(challenge []byte) ([]byte, error) {
	if bytes.HasPrefix(bytes.ToLower(challenge), []byte("user")) {
		return []byte(a.user), nil
	}
	return []byte(a.password), nil
}

// clientCertificate loads the certificate and private key of "certificate" authentication.
// Odoo stores both base64-encoded in binary columns; plain PEM is accepted too. Every
// failure wraps models.ErrClientCertificate: the stored pair is at fault, not the server.
func clientCertificate(certPEM, keyPEM []byte) (tls.Certificate, error) {
	cert, err := pemBytes(certPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%w: smtp_ssl_certificate: %w",
			models.ErrClientCertificate, err)
	}
	key, err := pemBytes(keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%w: smtp_ssl_private_key: %w",
			models.ErrClientCertificate, err)
	}

	pair, err := tls.X509KeyPair(cert, key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%w: %w", models.ErrClientCertificate, err)
	}
	return pair, nil
}

// pemBytes returns b when it is PEM, or its base64 decoding when that is PEM.
func pemBytes(b []byte) ([]byte, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, errors.New("missing")
	}
	if bytes.HasPrefix(b, []byte("-----BEGIN")) {
		return b, nil
	}

	clean := strings.Join(strings.Fields(string(b)), "")
	dec, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		return nil, fmt.Errorf("neither PEM nor base64: %w", err)
	}
	if !bytes.HasPrefix(bytes.TrimSpace(dec), []byte("-----BEGIN")) {
		return nil, errors.New("not PEM after base64 decoding")
	}
	return dec, nil
}
