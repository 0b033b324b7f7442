# Short commands; CMake does the building. See README.md.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
DATA_DIR   ?= var
CTEST_ARGS ?=

.PHONY: all deps deps-test build build-asan run test test-normal test-asan bench \
        fuzz soak clean node-deps train-phish bench-phish

all: build

deps:
	@scripts/install-deps.sh run

deps-test:
	@scripts/install-deps.sh test

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: deps-test
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DAG_SANITIZE=ON -DAG_FAULT=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

# Build and start the service on its embedded store, seeded with demo data.
run: build
	@mkdir -p $(DATA_DIR)
	@$(BUILD)/accountguard serve --data-dir $(DATA_DIR) --demo

node-deps: deps-test
	@scripts/node-deps.sh

# Build normal and sanitized, run every test of both through ctest.
test: deps-test node-deps
	@$(MAKE) --no-print-directory build BUILD=$(BUILD)
	@$(MAKE) --no-print-directory build-asan
	@cd $(BUILD) && ctest --output-on-failure -j 2 $(CTEST_ARGS)
	@cd $(ASAN_BUILD) && ctest --output-on-failure -j 2 $(CTEST_ARGS)

bench: build deps-test
	@bench/run-all.sh $(BUILD)

fuzz: deps-test
	@tests/fuzz/run.sh long

soak: build deps-test
	@tests/soak/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz

# Phishing analyzer (docs/PHISHING.md): refit the weights from ../shared/corpora,
# and measure quality and speed on the held-out part beside SpamAssassin and
# Rspamd (bench/bench_phish.sh; takes minutes, not part of `make test`).
PHISH_BUILD ?= build-phish
CORPORA     ?= ../shared/corpora
PHISH_VERSION ?= phish-1.0

train-phish: deps
	@cmake -S . -B $(PHISH_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(PHISH_BUILD) -j $(JOBS) --target ag_phish_tool
	@$(PHISH_BUILD)/ag_phish_tool train $(CORPORA) src/phish/phish_weights.json \
	    src/phish/phish_weights.inc $(PHISH_VERSION)

bench-phish: deps
	@bench/bench_phish.sh $(PHISH_BUILD) $(CORPORA)
