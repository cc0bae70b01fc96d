# Pixshare — `make run` serves the API at http://127.0.0.1:8080; `make test`
# runs every test. Both build what they need first (including daprd and
# Mailpit).

SHELL := /usr/bin/env bash
.DEFAULT_GOAL := help

GO       ?= go
BIN      := $(CURDIR)/bin
# Every module of the workspace, in go.work order.
MODULES  := $(shell $(GO) list -m -f '{{.Dir}}' 2>/dev/null)
# The apps of dapr.yaml as app:module (the command is <module>/cmd/<app>).
APPS     := user:user post:post comment:comment thumbnailer:workers mailer:workers indexer:search search:search gateway:gateway
BUF_VERSION          := v1.61.0
PROTOC_GEN_GO        := v1.36.10
PROTOC_GEN_GO_GRPC   := v1.5.1
TEST_FLAGS ?= -race -count=1 -timeout 20m

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# PROFILE=redis|rabbitmq|nats|mqtt runs on that broker instead of the
# embedded one (see deploy/README.md). The launcher picks components/$(PROFILE)
# itself: dapr.yaml names the redis profile, for `dapr run -f .`.
PROFILE ?= local

.PHONY: run
run: build daprd mailpit ## Run the whole stack at http://127.0.0.1:8080 (PROFILE=local by default: SQLite + embedded broker), mail in Mailpit at http://127.0.0.1:8025
	@exec $(BIN)/stack -f dapr.yaml -profile $(PROFILE)

.PHONY: build
build: ## Build every app and the launcher into bin/
	@# SQLite (gorm.io/driver/sqlite) is the C library through cgo.
	@cc=$$($(GO) env CC); command -v "$${cc%% *}" >/dev/null || { \
		echo "Pixshare needs a C compiler to build (SQLite is compiled in through cgo), and '$$cc' is not on PATH."; \
		echo "Install one, e.g. 'sudo apt-get install gcc' (Debian/Ubuntu), 'sudo dnf install gcc', 'xcode-select --install' (macOS)."; \
		exit 1; }
	@mkdir -p $(BIN)
	@for pair in $(APPS); do app=$${pair%%:*}; mod=$${pair##*:}; \
		$(GO) build -trimpath -o $(BIN)/$$app ./$$mod/cmd/$$app || exit 1; done
	@$(GO) build -trimpath -o $(BIN)/stack ./tools/stack
	@echo "built: $(foreach p,$(APPS),$(firstword $(subst :, ,$(p)))) stack"

.PHONY: daprd
daprd: ## Build (or find) the pinned daprd 1.14.0 into bin/daprd
	@tools/daprd/ensure.sh

.PHONY: mailpit
mailpit: ## Build (or find) the pinned Mailpit into bin/mailpit (the local SMTP server and inbox)
	@tools/mailpit/ensure.sh

.PHONY: test
test: daprd mailpit build ## Run every test of every module (infrastructure tests skip unless their address is set)
	@failed=""; for dir in $(MODULES); do \
		echo "== $${dir#$(CURDIR)/}"; \
		(cd $$dir && $(GO) test $(TEST_FLAGS) ./...) || failed="$$failed $${dir#$(CURDIR)/}"; \
	done; \
	if [ -n "$$failed" ]; then echo "FAILED:$$failed"; exit 1; fi

.PHONY: test-short
test-short: ## Unit tests only (-short: no sidecars, no long concurrency runs)
	@for dir in $(MODULES); do (cd $$dir && $(GO) test -short -count=1 ./...) || exit 1; done

.PHONY: tools
tools: ## Install the pinned code generators into bin/
	@mkdir -p $(BIN)
	@test -x $(BIN)/buf || GOBIN=$(BIN) $(GO) install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
	@test -x $(BIN)/protoc-gen-go || GOBIN=$(BIN) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO)
	@test -x $(BIN)/protoc-gen-go-grpc || GOBIN=$(BIN) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC)

.PHONY: proto
proto: tools ## Regenerate the gRPC code from proto/
	@cd proto && $(BIN)/buf lint && $(BIN)/buf generate

.PHONY: proto-check
proto-check: proto ## Fail if the committed generated code is not what proto/ generates
	@git diff --exit-code -- proto/ || { echo "proto/: generated code is stale; run make proto and commit"; exit 1; }

.PHONY: web
web: ## Rebuild the web client (web/) into gateway/internal/webui/dist, which the gateway embeds (needs Node 20.19+ and npm)
	@cd web && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build

.PHONY: web-check
web-check: web ## Fail if the committed web bundle is not what web/ builds
	@git diff --exit-code -- gateway/internal/webui/dist || { echo "gateway/internal/webui/dist: the bundle is stale; run make web and commit"; exit 1; }
	@extra=$$(git status --porcelain --untracked-files=all -- gateway/internal/webui/dist); \
		if [ -n "$$extra" ]; then echo "gateway/internal/webui/dist: files not committed:"; echo "$$extra"; exit 1; fi

.PHONY: lint
lint: ## gofmt, go vet, go mod tidy (must succeed and change nothing) and a standalone build of every module
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "not gofmt-ed:"; echo "$$out"; exit 1; fi
	@for dir in $(MODULES); do (cd $$dir && $(GO) vet ./...) || exit 1; done
	@scripts/tidycheck.sh $(MODULES)
	@# Every module builds on its own, without go.work: a missing require
	@# or replace fails here, not on a user's machine.
	@for dir in $(MODULES); do \
		(cd $$dir && GOWORK=off $(GO) build ./... && GOWORK=off $(GO) vet ./...) || { echo "$${dir#$(CURDIR)/}: does not build on its own (GOWORK=off)"; exit 1; }; \
	done
	@echo "lint: ok"

.PHONY: fuzz
fuzz: ## Run every fuzz target briefly (FUZZTIME executions each, default 20000x; a duration such as 1m also works)
	@./scripts/fuzz.sh $${FUZZTIME:-20000x}

LOAD_FLAGS ?= -ceiling

.PHONY: load
load: ## Load-test a running stack (start it with RATE_LIMIT_ENABLED=false make run); results in docs/benchmarks/<time>/; -ceiling compares with nginx (installed with apt-get when missing; LOAD_FLAGS='-ceiling -nginx=off' to skip)
	@$(GO) run ./tools/load $(LOAD_FLAGS)

.PHONY: bench
bench: ## Benchmark the image pipeline and search into docs/benchmarks/bench-<time>/
	@./scripts/bench.sh

.PHONY: reindex
reindex: ## Rebuild the search read model from the post service (the stack must be running)
	@set -a; [ -f .data/tokens/indexer.env ] && . .data/tokens/indexer.env; set +a; \
	DAPR_GRPC_PORT=50016 DAPR_HTTP_PORT=3506 DATABASE_URL=sqlite://.data/search.db $(BIN)/indexer reindex

.PHONY: suspend unsuspend
suspend unsuspend: ## Suspend or reinstate an account: make suspend NAME=alice (the stack must be running)
	@test -n "$(NAME)" || { echo "usage: make $@ NAME=<username>"; exit 2; }
	@set -a; [ -f .data/tokens/user.env ] && . .data/tokens/user.env; set +a; \
	DAPR_GRPC_PORT=50011 DAPR_HTTP_PORT=3501 DATABASE_URL=sqlite://.data/user.db HTTP_ADDR=127.0.0.1:0 $(BIN)/user $@ $(NAME)

.PHONY: secrets
secrets: ## Write .data/secrets.json with a random JWT key if missing (for `dapr run -f .`)
	@mkdir -p .data
	@test -f .data/secrets.json || { umask 077; printf '{"jwt-signing-key": "%s"}\n' "$$(head -c 48 /dev/urandom | base64 -w0)" > .data/secrets.json; echo "wrote .data/secrets.json"; }

.PHONY: clean
clean: ## Remove built binaries (keeps bin/daprd) and local data
	@find $(BIN) -mindepth 1 -maxdepth 1 ! -name daprd -exec rm -rf {} + 2>/dev/null || true
	@rm -rf .data
