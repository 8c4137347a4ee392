# pensionbot: `make run` runs the bot locally, `make test` runs every check.
GO ?= go
BIN := bin/pensionbot

.PHONY: all build run test deps vet fmt-check bench fuzz cards

all: build

build:
	$(GO) build -o $(BIN) ./cmd/pensionbot

# Installs and starts a local redis-server if none answers at REDIS_URL,
# creates a private data key in .data/ on first use, and runs the bot with
# TELEGRAM_BOT_TOKEN from the environment; without a token, in the sandbox
# (a simulated Telegram with a web chat on SANDBOX_LISTEN, 127.0.0.1:8080).
run:
	bash scripts/run-local.sh

# Installs what the tests need when it is missing (Debian packages), then
# vets, checks formatting and runs every test with the race detector.
test: deps vet fmt-check
	$(GO) test -race -count=1 ./...

deps:
	@command -v redis-server >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server; }
	bash scripts/install-deps.sh
	$(GO) mod download

vet:
	$(GO) vet ./...

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Benchmarks: conversation throughput against real Redis and the fake Bot
# API, image intake, face detection, OCR and the offline answerer.
bench: deps
	$(GO) test -run '^$$' -bench . -benchmem ./...

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 30s ./idcard

# Regenerates the synthetic ID-card fixtures in testdata/cards.
cards:
	$(GO) run ./cmd/gencards
