// Command odoo-shim serves Odoo's password-reset flow and its RPC protocols directly
// against an Odoo PostgreSQL database.
//
// Usage:
//
//	odoo-shim [serve] [--config FILE]   serve the database named by the configuration
//	odoo-shim demo [--config FILE] [--data DIR] [--fixtures DIR]
//	                                    run against a private demo database with a mail catcher
//	odoo-shim outbox [--state S] [--retry ID] [--drop ID]
//	                                    list the mail outbox; retry or drop a mail
//	odoo-shim check-mail [SERVER]       test the mail servers as Odoo's Test Connection does
//	odoo-shim version                   print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "odoo-shim:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}

	switch cmd {
	case "serve":
		return runServe(ctx, args, stderr)
	case "demo":
		return runDemo(ctx, args, stdout, stderr)
	case "outbox":
		return runOutbox(ctx, args, stdout, stderr)
	case "check-mail":
		return runCheckMail(ctx, args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "odoo-shim", buildVersion())
		return nil
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

const usage = `usage:
  odoo-shim [serve] [--config FILE]    serve the Odoo database in the configuration
  odoo-shim demo [--config FILE] [--data DIR] [--fixtures DIR] [--smtp ADDR]
                                       demo on a private PostgreSQL with a mail catcher
  odoo-shim outbox [--config FILE] [--state S] [--limit N] [--retry ID] [--drop ID]
                                       list queued, sent and failed mails; retry or drop one
  odoo-shim check-mail [--config FILE] [--from ADDR] [SERVER]
                                       Odoo's Test Connection for one server (id or name) or all
  odoo-shim version                    print the version
Configuration keys can be set in FILE (YAML) or as ODOO_SHIM_* environment variables;
see README.md.
`

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return "dev-" + s.Value[:12]
			}
		}
	}
	return "dev"
}
