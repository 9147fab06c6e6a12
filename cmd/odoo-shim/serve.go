package main

import (
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/odoo-shim/odoo-shim/config"
	"github.com/odoo-shim/odoo-shim/mail"
	"github.com/odoo-shim/odoo-shim/mail/oauth"
	"github.com/odoo-shim/odoo-shim/models"
	"github.com/odoo-shim/odoo-shim/rpc"
)

func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", "", "YAML configuration `file`")
	if err := fs.Parse(args); err != nil {
		return err
	}

	cfg, err := config.Load(*file, true)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg.Log, stderr)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, log, nil, nil)
}

// service is one running odoo-shim: its store, mail sender and HTTP server.
type service struct {
	store  *models.Store
	sender *mail.Sender
	server *http.Server
	ln     net.Listener
}

func (svc *service) close() {
	svc.sender.Close()
	svc.store.Close()
}

// start opens the database, builds the handlers and listens; devMail, when set, is
// mounted under /dev/mail (the demo only).
func start(ctx context.Context, cfg *config.Config, log *slog.Logger,
	devMail http.Handler) (*service, error) {
	sender, err := newSender(cfg, log)
	if err != nil {
		return nil, err
	}

	store, err := models.Open(ctx, cfg.Database.DSN, storeSettings(cfg, log, sender))
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", config.RedactDSN(cfg.Database.DSN), err)
	}
	info := store.Info()
	log.Info("database ready", "database", info.Name, "odoo", info.Serie(),
		"base_version", info.BaseVersion)

	srv, err := rpc.New(store, rpc.Options{ServerVersion: cfg.Odoo.ServerVersion,
		ProxyMode: cfg.ProxyMode, ListDBDisabled: !cfg.Database.ListDB,
		MaxBodyBytes: cfg.Limits.MaxBodyBytes, MaxXMLDepth: cfg.Limits.MaxXMLDepth,
		RequestTimeout: cfg.Limits.RequestTimeout, DevMail: devMail, Logger: log,
		Upstream: upstreamOptions(cfg.Upstream)})
	if err != nil {
		store.Close()
		return nil, err
	}

	if cfg.Upstream.URL != "" {
		log.Info("front proxy mode", "upstream", cfg.Upstream.URL)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: cfg.Limits.ReadTimeout, WriteTimeout: cfg.Limits.WriteTimeout,
		IdleTimeout: cfg.Limits.IdleTimeout, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	return &service{store: store, sender: sender, server: hs, ln: ln}, nil
}

// serve runs until ctx ends, then lets requests in flight finish. ready, when set, receives
// the listening address.
func serve(ctx context.Context, cfg *config.Config, log *slog.Logger, devMail http.Handler,
	ready chan<- string) error {
	svc, err := start(ctx, cfg, log, devMail)
	if err != nil {
		return err
	}
	defer svc.close()

	log.Info("listening", "address", svc.ln.Addr().String())
	if ready != nil {
		ready <- svc.ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- svc.server.Serve(svc.ln) }()
	outboxCtx, stopOutbox := context.WithCancel(context.WithoutCancel(ctx))
	outboxDone := make(chan struct{})
	go func() {
		defer close(outboxDone)
		_ = svc.store.RunOutbox(outboxCtx)
	}()
	// The sender stops last: the mails in its hands are finished, the ones it claimed but
	// did not start go back to the queue.
	defer func() {
		stopOutbox()
		<-outboxDone
	}()

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := svc.server.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// upstreamOptions turns upstream.* into the server's front proxy settings; nil serves alone.
func upstreamOptions(c config.Upstream) *rpc.Upstream {
	if c.URL == "" {
		return nil
	}
	u, err := url.Parse(c.URL) // validated by config.Load
	if err != nil {
		return nil
	}
	ttl := c.SessionTTL
	if ttl == 0 {
		ttl = -1 // 0 in the configuration: ask the upstream every time
	}
	return &rpc.Upstream{URL: u, Timeout: c.Timeout, MaxBodyBytes: c.MaxBodyBytes,
		SessionTTL: ttl}
}

func storeSettings(cfg *config.Config, log *slog.Logger, m models.Mailer) models.Settings {
	fallback := models.MailServer{Name: "odoo.conf", Host: cfg.SMTP.Server, Port: cfg.SMTP.Port,
		Authentication: "login", User: cfg.SMTP.User, Password: cfg.SMTP.Password,
		Encryption: "none", FromFilter: cfg.SMTP.FromFilter}
	if cfg.SMTP.SSL {
		fallback.Encryption = "starttls" // odoo.conf's smtp_ssl means STARTTLS
	}
	mc := cfg.Mail
	return models.Settings{
		Hasher: models.NewHasher(cfg.Limits.HashConcurrency), Mailer: m, Logger: log,
		Fallback: fallback, EmailFrom: cfg.SMTP.EmailFrom, BaseURL: cfg.Odoo.BaseURL,
		MaxOpenConns: cfg.Database.MaxConns,
		Outbox: models.OutboxSettings{Wait: mc.Wait, MaxAttempts: mc.MaxAttempts,
			RetryBase: mc.RetryBase, RetryMax: mc.RetryMax, Lease: mc.Lease, Poll: mc.Poll,
			Batch: mc.Batch, RatePerMinute: mc.RatePerMinute, DailyQuota: mc.DailyQuota,
			Instance: mc.Instance, Keep: mc.Keep, ResendUnconfirmed: mc.ResendUnconfirmed},
		Tokens: &oauth.Refresher{GmailURL: mc.GmailTokenURL, OutlookURL: mc.OutlookTokenURL},
		MessageID: func() string {
			// crypto/rand does not fail; an empty id would let the mailer make one.
			id, _ := mail.NewMessageID(time.Now(), mc.HeloName)
			return id
		},
	}
}

func newSender(cfg *config.Config, log *slog.Logger) (*mail.Sender, error) {
	s := &mail.Sender{Timeout: cfg.Mail.Timeout, KeepAlive: cfg.Mail.KeepAlive,
		NoPipelining: !cfg.Mail.Pipelining, HeloName: cfg.Mail.HeloName, InsecureSkipVerify: cfg.Mail.InsecureSkipVerify,
		InsecureServers: map[string]bool{}, Logger: log}
	for _, name := range cfg.Mail.InsecureServers {
		s.InsecureServers[name] = true
	}
	if cfg.Mail.CAFile == "" {
		return s, nil
	}

	pem, err := os.ReadFile(cfg.Mail.CAFile)
	if err != nil {
		return nil, fmt.Errorf("mail.ca_file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("mail.ca_file %s: no PEM certificate found", cfg.Mail.CAFile)
	}
	s.RootCAs = pool
	return s, nil
}

func newLogger(c config.Log, w io.Writer) (*slog.Logger, error) {
	level, err := config.ParseLevel(c.Level)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}
