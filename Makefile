# odoo-shim: the two commands a fresh machine needs are `make run` and `make test`.
GO      ?= go
PKGS    := ./...
BIN     := bin/odoo-shim
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: run test bench build vet race fuzz clean browser screenshots clients

## run: the demo on a private PostgreSQL cluster (under .data/) with a mail catcher
run: build
	@exec ./$(BIN) demo

## test: vet, then every test; database, browser and client tests fail (not skip) without
## PostgreSQL, Chromium or the real Odoo clients (`clients` installs those first)
test: vet browser clients
	ODOO_SHIM_REQUIRE_PG=1 ODOO_SHIM_REQUIRE_BROWSER=1 $(GO) test -count=1 -timeout 20m $(PKGS)

## browser: Debian's chromium for the browser test, installed when missing (needs root
## and apt; ODOO_SHIM_CHROMIUM names another binary instead)
browser:
	@test -n "$$ODOO_SHIM_CHROMIUM" || command -v chromium >/dev/null 2>&1 || { \
		echo "installing chromium for the browser test"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -q && apt-get install -y -q chromium; }

## clients: the real Odoo clients the tests run: OdooRPC from apt for /usr/bin/python3, the
## npm packages of testdata/clients/node/package-lock.json with npm ci; quick when present
clients:
	@./.ci/clients

## screenshots: regenerate testdata/screenshots/ from the browser test
screenshots: browser
	ODOO_SHIM_REQUIRE_PG=1 ODOO_SHIM_REQUIRE_BROWSER=1 ODOO_SHIM_UPDATE_SCREENSHOTS=1 \
		$(GO) test -count=1 -run 'TestBrowser' ./rpc/

## bench: the benchmarks, with allocation counts
bench:
	ODOO_SHIM_REQUIRE_PG=1 $(GO) test -run '^$$' -bench . -benchmem -timeout 30m $(PKGS)

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/odoo-shim

vet:
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); \
		echo "gofmt would change the files above"; exit 1)

## race: the tests under the race detector (slower: PBKDF2 runs instrumented)
race:
	ODOO_SHIM_REQUIRE_PG=1 $(GO) test -race -count=1 -timeout 40m $(PKGS)

## fuzz: one minute of the XML-RPC decoder fuzzer, growing its corpus
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecodeCall -fuzztime 60s ./rpc/xmlrpc/

clean:
	rm -rf bin .data
