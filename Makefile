# The two commands of README.md: `make demo` (the main job) and `make test`.
GO ?= go
STATICCHECK := $(GO) tool staticcheck
SITE := asterisk-conf/examples/site.yaml
DEMO_PACKAGES := baresip-core
DEBIAN_PACKAGES := $(DEMO_PACKAGES) sip-tester linphone-cli ansible ansible-lint debootstrap zstd alsa-utils

# install-debs installs the Debian packages named in $(1) that are missing.
define install-debs
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing"; \
		sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

.PHONY: demo demo-deps test deps lint unit fuzz bench

# demo renders and checks the example site with demo secrets made up now
# (never committed), asks the router about a few numbers, then runs a
# simulated black phone behind a real pi-gateway calling baresip and
# being called by it, with the gateway's status server read.
demo: demo-deps
	@./scripts/demo.sh

demo-deps:
	$(call install-debs,$(DEMO_PACKAGES))

# deps installs what the tests run against: real SIP user agents, and
# ansible with debootstrap for the playbook's real run in chroots.
deps:
	$(call install-debs,$(DEBIAN_PACKAGES))

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

unit:
	$(GO) test -race -count=1 -timeout 25m ./...

test: deps lint unit

# fuzz runs every fuzz target for FUZZTIME each.
FUZZTIME ?= 30s
fuzz:
	@./scripts/fuzz.sh $(FUZZTIME)

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...
