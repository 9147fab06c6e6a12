package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/odoo-shim/odoo-shim/config"
	"github.com/odoo-shim/odoo-shim/mail"
	"github.com/odoo-shim/odoo-shim/models"
)

// errFailed makes the command exit non-zero after it has printed why.
var errFailed = errors.New("some checks failed")

// openForCommand loads the configuration and opens the store as serve would, logging only
// warnings: the command's own output is what the operator reads.
func openForCommand(ctx context.Context, file string, stderr io.Writer) (*config.Config,
	*models.Store, *mail.Sender, error) {
	cfg, err := config.Load(file, true)
	if err != nil {
		return nil, nil, nil, err
	}
	cfg.Log.Level = "warn"
	log, err := newLogger(cfg.Log, stderr)
	if err != nil {
		return nil, nil, nil, err
	}
	sender, err := newSender(cfg, log)
	if err != nil {
		return nil, nil, nil, err
	}
	store, err := models.Open(ctx, cfg.Database.DSN, storeSettings(cfg, log, sender))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("database %s: %w", config.RedactDSN(cfg.Database.DSN),
			err)
	}
	return cfg, store, sender, nil
}

// runOutbox lists the outbox, or retries or drops one mail.
func runOutbox(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("outbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", "", "YAML configuration `file`")
	state := fs.String("state", "", "list only mails in this `state` (queued, sent, "+
		"unconfirmed, failed, dropped)")
	limit := fs.Int("limit", 50, "list at most `n` mails, newest first")
	retry := fs.Int64("retry", 0, "send mail `id` again now")
	drop := fs.Int64("drop", 0, "give up queued mail `id` and put the user's signup state back")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *limit <= 0 {
		return fmt.Errorf("--limit %d: give a positive number of mails", *limit)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("outbox takes no arguments, only flags (got %q)", fs.Arg(0))
	}
	if *retry != 0 && *drop != 0 {
		return errors.New("give --retry or --drop, not both")
	}
	switch *state {
	case "", models.StateQueued, models.StateSent, models.StateFailed, models.StateDropped,
		models.StateUnconfirmed:
	default:
		return fmt.Errorf("--state %q: not one of queued, sent, unconfirmed, failed, "+
			"dropped", *state)
	}

	_, store, sender, err := openForCommand(ctx, *file, stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	defer sender.Close()

	switch {
	case *retry != 0:
		return retryMail(ctx, store, *retry, stdout)
	case *drop != 0:
		if err := store.DropMail(ctx, *drop); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "mail %d dropped\n", *drop)
		return nil
	}
	entries, err := store.OutboxEntries(ctx, *state, *limit)
	if err != nil {
		return err
	}
	printOutbox(stdout, entries)
	return nil
}

// retryMail retries one mail. A failed mail's user is reset again, which waits for the
// first attempt like a reset call; the background sender of a running serve takes any
// retry that stays queued.
func retryMail(ctx context.Context, store *models.Store, id int64, stdout io.Writer) error {
	msg, err := store.RetryMail(ctx, id)
	if err != nil {
		if e, ok := models.AsError(err); ok && e.Detail != "" {
			return fmt.Errorf("%s\n%s", e.Message, e.Detail)
		}
		return err
	}
	fmt.Fprintln(stdout, msg)
	return nil
}

func printOutbox(w io.Writer, entries []models.OutboxEntry) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tKIND\tUSER\tRECIPIENT\tSERVER\tATTEMPTS\tCREATED\tWHEN\tLAST ERROR")
	for _, e := range entries {
		when := ""
		switch {
		case e.SentAt.Valid:
			when = "sent " + e.SentAt.Time.Format(time.DateTime)
		case e.State == models.StateUnconfirmed && e.HandedAt.Valid:
			when = "went out " + e.HandedAt.Time.Format(time.DateTime)
		case e.State == models.StateQueued && e.Leased:
			when = "sending (" + e.LeasedBy.String + ")"
		case e.State == models.StateQueued:
			when = "next " + e.NextAttempt.Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%d\t%s\t%s\t%s\n", e.ID, e.State, e.Kind,
			e.UserID, e.Recipient, e.Server, e.Attempts, e.CreatedAt.Format(time.DateTime),
			when, oneLine(strings.TrimPrefix(e.LastError.String, "mail server "+e.Server+": "),
				120))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d mails; times are UTC\n", len(entries))
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(models.Printable(s)), " ")
	if len(s) > n {
		s = s[:n-1] + "…"
	}
	return s
}

// runCheckMail does what Odoo's Test Connection button does, for one server or all.
func runCheckMail(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check-mail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", "", "YAML configuration `file`")
	from := fs.String("from", "", "sender `address` when the server has no from_filter "+
		"(default: the admin user's e-mail)")
	update := fs.Bool("update-size", false, "store each server's announced maximum size "+
		"(ESMTP SIZE) as its max_email_size, as Odoo 18's button does (Odoo 18+)")
	if err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return errors.New("check-mail takes at most one server (id or name)")
	}

	_, store, sender, err := openForCommand(ctx, *file, stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	defer sender.Close()
	if *update && !store.Info().MaxEmailSize {
		return fmt.Errorf("--update-size: %w (this database runs Odoo %s); nothing to "+
			"update, the mail server's own limit is what counts", models.ErrNoMaxEmailSize,
			store.Info().Serie())
	}

	servers, err := serversToCheck(ctx, store, fs.Arg(0))
	if err != nil {
		return err
	}
	failed := false
	for _, srv := range servers {
		if !checkServer(ctx, store, sender, srv, checkOptions{*from, *update}, stdout) {
			failed = true
		}
	}
	if failed {
		return errFailed
	}
	return nil
}

// serversToCheck finds the servers named by id or name, every row when name is "", and
// odoo.conf's server when the database has none.
func serversToCheck(ctx context.Context, store *models.Store, name string) (
	[]models.MailServer, error) {
	all, err := store.AllMailServers(ctx)
	if err != nil {
		return nil, err
	}
	if name == "" {
		if len(all) == 0 {
			return []models.MailServer{store.FallbackServer()}, nil
		}
		return all, nil
	}
	if name == "odoo.conf" {
		return []models.MailServer{store.FallbackServer()}, nil
	}
	id, _ := strconv.ParseInt(name, 10, 64)
	for _, srv := range all {
		if srv.ID == id || strings.EqualFold(srv.Name, name) {
			return []models.MailServer{srv}, nil
		}
	}
	return nil, fmt.Errorf("no ir_mail_server with id or name %q", name)
}

// checkOptions are check-mail's flags: the test sender and whether to store the size.
type checkOptions struct {
	from       string
	updateSize bool
}

// checkServer tests one server and prints Odoo's outcome, what to fix and how its size
// limit compares with Odoo's.
func checkServer(ctx context.Context, store *models.Store, sender *mail.Sender,
	srv models.MailServer, opt checkOptions, w io.Writer) bool {
	fmt.Fprintf(w, "%s: %s:%d, encryption %s, authentication %s%s\n", srv.Label(), srv.Host,
		srv.Port, cmp.Or(srv.Encryption, "none"), authPart(store.Info(), srv), userPart(srv))
	if !srv.Active && srv.ID != 0 {
		fmt.Fprintln(w, "  (archived: Odoo never picks it for mail)")
	}

	testFrom, err := testSenderFor(ctx, store, srv, opt.from)
	if err != nil {
		fmt.Fprintf(w, "  %s\n", err)
		return false
	}
	r := testServer(ctx, store, sender, srv, testFrom)

	fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(models.Printable(r.Message), "\n", "\n  "))
	ok := r.OK
	if r.OK {
		if note := senderNote(srv, testFrom); note != "" {
			fmt.Fprintf(w, "  Note: %s\n", note)
		}
	} else if hint := r.Err.Hint(); hint != "" {
		fmt.Fprintf(w, "  What to fix: %s.\n", hint)
	}
	if r.OK && opt.updateSize {
		ok = updateSize(ctx, store, srv, r, w)
	}
	if r.Greeted {
		reportSize(ctx, store, srv, r, w)
	}
	return ok
}

// testServer runs Odoo's connection test on srv, after refreshing its OAuth token.
func testServer(ctx context.Context, store *models.Store, sender *mail.Sender,
	srv models.MailServer, testFrom string) mail.TestResult {
	prepared, err := store.PrepareServer(ctx, srv)
	var r mail.TestResult
	if err != nil {
		var de *models.DeliveryError
		if !errors.As(err, &de) {
			de = &models.DeliveryError{Server: srv.Label(), Stage: models.StageAuth, Err: err}
		}
		r = mail.TestResult{Message: "Connection Test Failed! Here is what we got instead:\n " +
			de.Error(), Err: de}
	} else {
		r = sender.Test(ctx, prepared, testFrom)
	}
	return r
}

func testSenderFor(ctx context.Context, store *models.Store, srv models.MailServer,
	from string) (string, error) {
	if from == "" {
		var err error
		// Odoo tests as the user pressing the button; from the command line, the admin
		// (base.user_admin, id 2) stands in.
		if from, err = store.UserEmail(ctx, 2); err != nil {
			return "", err
		}
	}
	return store.TestFrom(ctx, srv, from)
}

// senderNote warns when the server logs in as one domain but mails go out from another
// (cases.md C14): Gmail then rewrites the From, Microsoft 365 refuses it (SendAsDenied).
func senderNote(srv models.MailServer, from string) string {
	_, userDomain, ok := strings.Cut(srv.User, "@")
	_, fromDomain, _ := strings.Cut(from, "@")
	if !ok || fromDomain == "" || strings.EqualFold(userDomain, fromDomain) {
		return ""
	}
	return fmt.Sprintf("the server logs in as %s but mails are sent from %s; Gmail "+
		"rewrites such a From to the account and Microsoft 365 refuses it, unless %s is a "+
		"verified send-as address (set from_filter to match what the account may send)",
		srv.User, from, from)
}

// authPart names the authentication; on Odoo 15 a gmail or outlook one comes from a flag
// (use_google_gmail_service, use_microsoft_outlook_service), smtp_authentication being login.
func authPart(info models.DBInfo, srv models.MailServer) string {
	if flag := info.OAuthFlags[srv.Authentication]; flag != "" {
		return srv.Authentication + " (" + flag + ")"
	}
	return cmp.Or(srv.Authentication, "none")
}

func userPart(srv models.MailServer) string {
	if srv.User == "" {
		return ""
	}
	return ", user " + srv.User
}

// parseInterspersed parses flags placed before or after the positional arguments, so that
// "check-mail 3 --from a@b" works as well as "check-mail --from a@b 3".
func parseInterspersed(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return fs.Parse(positional)
}
