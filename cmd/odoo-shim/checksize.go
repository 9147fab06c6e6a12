package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/odoo-shim/odoo-shim/mail"
	"github.com/odoo-shim/odoo-shim/models"
)

const mib = 1 << 20

// updateSize does what Odoo 18's button next to max_email_size does after a successful
// test: store the server's announced SIZE in MB, or say the server announces none.
func updateSize(ctx context.Context, store *models.Store, srv models.MailServer,
	r mail.TestResult, w io.Writer) bool {
	switch {
	case srv.ID == 0:
		fmt.Fprintln(w, "  odoo.conf's server is no ir_mail_server row: it has no "+
			"max_email_size to update (Odoo uses base.default_max_email_size for it)")
		return false
	case !r.SizeOK:
		fmt.Fprintf(w, "  "+mail.SizeMissingText+"\n", srv.Name)
		return false
	}
	mb, err := store.SetMaxEmailSize(ctx, srv.ID, r.MaxSize)
	if err != nil {
		fmt.Fprintf(w, "  %s\n", err)
		return false
	}
	details := srv.Name + ": " + mail.HumanSize(mb*mib)
	fmt.Fprintf(w, "  "+mail.SizeUpdatedText+"\n", details)
	return true
}

// reportSize prints the largest message the server announces it accepts and, on Odoo 18+,
// the size Odoo lets mails for it grow to, with a warning when Odoo's is the larger: a mail
// between the two is refused (552) instead of having its attachments turned into links.
func reportSize(ctx context.Context, store *models.Store, srv models.MailServer,
	r mail.TestResult, w io.Writer) {
	switch {
	case !r.SizeOK:
		fmt.Fprintln(w, "  Size: the server announces no maximum message size (no SIZE in "+
			"its EHLO reply)")
	case r.MaxSize == 0:
		fmt.Fprintln(w, "  Size: the server announces SIZE 0, no fixed maximum")
	default:
		fmt.Fprintf(w, "  Size: the server accepts messages of up to %s (SIZE %d)\n",
			mail.HumanSize(float64(r.MaxSize)), r.MaxSize)
	}
	if !store.Info().MaxEmailSize {
		return
	}

	limit, err := store.EmailSizeLimit(ctx, srv.ID)
	switch {
	case err != nil:
		fmt.Fprintf(w, "  %s\n", err)
		return
	case limit.Invalid != "":
		fmt.Fprintf(w, "  Warning: %s is %q, not a number of MB; set it to one (Odoo's "+
			"default is 10)\n", limit.Source, limit.Invalid)
		return
	}
	fmt.Fprintf(w, "  Odoo's limit for it: %s (%s %s MB)\n", mail.HumanSize(limit.MB*mib),
		limit.Source, strconv.FormatFloat(limit.MB, 'f', -1, 64))
	if !r.SizeOK || r.MaxSize == 0 || limit.MB*mib <= float64(r.MaxSize) {
		return
	}
	fix := "lower " + limit.Source
	if srv.ID != 0 {
		fix += fmt.Sprintf(", or run check-mail %d --update-size to store the server's "+
			"limit, as Odoo's button does", srv.ID)
	}
	fmt.Fprintf(w, "  Warning: Odoo keeps attachments in mails for this server up to %s, "+
		"but the server accepts only %s: mails in between are refused (552) instead of "+
		"getting download links; %s\n", mail.HumanSize(limit.MB*mib),
		mail.HumanSize(float64(r.MaxSize)), fix)
}
