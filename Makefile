# tiepdon: `make run` starts the agent in demo mode, `make test` runs every test.
# `make help` lists the targets.

SHELL       := bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := /usr/local/go/bin:$(PATH)
export LANG ?= en_US.UTF-8

GO       ?= go
BIN      := bin/tiepdon
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
PKG      := ./agent/cmd/tiepdon
DEPS     ?= build run test
# Keep the Go build cache between runs (the first Fyne build takes minutes).
export GOFLAGS ?= -buildvcs=false

.DEFAULT_GOAL := help
.PHONY: help deps build run test test-windows test-short bench bench-1m fuzz fuzz-long lint check-cross screenshots screenshots-windows shift-xvfb screenshot-demo \
        package package-windows package-linux package-test npm-package clean

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

deps: ## install the missing Debian/Ubuntu packages (and Go 1.26) the build and tests need
	@bash .ci/deps $(DEPS)

build: ## build bin/tiepdon (the first build compiles Fyne and SQLite: minutes)
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) $(PKG)

run: DEPS = build run
run: deps build ## start the agent in demo mode (simulated gateway, virtual scanner, window)
	bash .ci/demo $(BIN)

test: DEPS = build run test
test: deps ## run every test (unit, fuzz seeds, pty, pcscd+vpcd, SQLite, WebSocket, Chromium)
	@bash .ci/test

test-windows: ## run the Windows test binaries under Wine (part of make test; prefix cached in ~/.cache/tiepdon-wine)
	@bash .ci/deps build test
	bash packaging/windows/winetest/test.sh

test-short: ## run the unit tests only (no rigs, no browser)
	$(GO) test -short ./...

bench: ## run the benchmarks one package at a time (results in bench.txt; BENCHCOUNT=5 for benchstat)
	$(GO) test -p 1 -run '^$$' -bench . -benchmem -count $${BENCHCOUNT:-1} ./... | tee bench.txt

bench-1m: ## cache benchmarks on 1,000,000 people: lookup p99 and purge reader stall (fills a DB: ~5 min once)
	$(GO) test -run '^$$' -bench Lookup -benchtime 20000x ./sync/cache -args -cache.people=1000000 | tee -a bench.txt
	$(GO) test -run '^$$' -bench PurgeStall -benchtime 1x ./sync/cache -args -cache.people=1000000 \
	  -cache.template=$${TMPDIR:-/tmp}/tiepdon-purge1m.db | tee -a bench.txt

fuzz: ## fuzz each parser of outside bytes for FUZZTIME (default 20s) each
	@bash .ci/fuzz $${FUZZTIME:-20s} $(FUZZPKG)

fuzz-long: ## fuzz each target for 10 minutes (hours in all; not in CI; FUZZPKG=./drivers/... to narrow)
	@bash .ci/fuzz $${FUZZTIME:-10m} $(FUZZPKG)

lint: ## check formatting (gofmt) and run go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

check-cross: ## check that linux/amd64 and windows/amd64 (mingw cgo) compile
	@bash .ci/deps build cross
	GOOS=linux GOARCH=amd64 CGO_ENABLED=1 $(GO) build -o /dev/null $(PKG)
	GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc PKG_CONFIG_LIBDIR=$$(bash packaging/windows/openjp2.sh) \
	  $(GO) build -tags openjp2 -ldflags '-H=windowsgui' -o /dev/null $(PKG)

screenshots: ## real-window screenshots of every scene under Xvfb into docs/screens/ at 1366x768 (the working screen also at 1280x720 and 1920x1080), 40 px taskbar
	@bash .ci/deps build test
	SCREENS_SIZE=1366x768 bash ui/screenshots.sh
	SCREENS_SIZE=1280x720 bash ui/screenshots.sh docs/screens eligible
	SCREENS_SIZE=1920x1080 bash ui/screenshots.sh docs/screens eligible

shift-xvfb: ## a keyboard-only shift in the real window under Xvfb (sign-in, 20 patients, two mismatches); prints keys per patient (50-80 s, so not in make test)
	@bash .ci/deps build test
	bash ui/shift-xvfb.sh

screenshots-windows: ## the installed tiepdon.exe's window under Wine and Xvfb after a demo scan into docs/screens/windows-demo.png
	@bash .ci/deps build cross package
	bash packaging/package.sh windows
	SCREENSHOT=docs/screens/windows-demo.png bash packaging/windows/winetest/msi.sh "$$(ls -t dist/tiepdon_*_windows_amd64.msi | head -1)"

screenshot-demo: build ## screenshot of the demo after one simulated scan into docs/screenshot-demo.png
	@bash .ci/deps build test
	bash .ci/screenshot-demo $(BIN) docs/screenshot-demo.png

package: ## build every installer into dist/ with SHA256SUMS
	@bash .ci/deps build cross package
	bash packaging/package.sh all

package-windows: ## build and sign the Windows MSI into dist/
	@bash .ci/deps build cross package
	bash packaging/package.sh windows

package-linux: ## build the .deb and .rpm into dist/
	@bash .ci/deps build package
	bash packaging/package.sh linux

package-test: ## build the installers and test them (MSI tables and signatures, dpkg -i)
	@bash .ci/deps build cross package
	bash packaging/test.sh

npm-package: ## pack the HIS client (client.js, its types, schema.json, CHANGELOG.md) as an npm tarball into dist/
	@mkdir -p dist
	cd agent/hisapi/web && npm pack --pack-destination ../../../dist

clean: ## remove build outputs
	rm -rf bin dist bench.txt
