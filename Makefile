# pensionbot: `make run` runs the bot locally, `make test` runs every check.
GO ?= go
BIN := bin/pensionbot

.PHONY: all build run test deps vet fmt-check bench bench-peer peer fuzz cards

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
	@# The card-reading goal (at least 90 % of names exact on 44 phone
	@# shots, none wrong) is measured at full speed, without the race
	@# detector, which reads only a sample of them.
	$(GO) test -count=1 -run TestTesseractShots ./cardread

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
# API, image intake, face detection, OCR and the offline answerer, Redis
# time per update, and pensionbot side by side with the grammY peer
# (bench-peer alone; BENCH_PEOPLE sets the crowd, default 1000; BENCH_ROUNDS
# the rounds, whose medians it prints; BENCH_RATE paces the crowd to that many
# updates/s offered, for latency below saturation).
GRAMMY_PEER ?= ../shared/peers/grammy
bench: deps peer
	GRAMMY_PEER=$(abspath $(GRAMMY_PEER)) $(GO) test -run '^$$' -bench . -benchtime 1x -benchmem ./cmd/pensionbot
	$(GO) test -run '^$$' -bench . -benchmem $$($(GO) list ./... | grep -v /cmd/pensionbot$$)

BENCH_ROUNDS ?= 1
bench-peer: deps peer
	GRAMMY_PEER=$(abspath $(GRAMMY_PEER)) $(GO) test -run '^$$' -bench SideBySide -benchtime $(BENCH_ROUNDS)x -timeout 30m ./cmd/pensionbot

peer:
	@command -v node >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm; }
	cd $(GRAMMY_PEER) && npm ci --no-audit --no-fund

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 30s ./idcard

# Regenerates the synthetic ID-card fixtures in testdata/cards.
cards:
	$(GO) run ./cmd/gencards
