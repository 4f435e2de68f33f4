# The two user commands, over CMake (like DuckDB's Makefile).
#   make demo   install what is missing, build, run the school-year demo
#   make test   install what is missing, build, run every test
BUILD      ?= build
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
FUZZ_SECONDS ?= 20

PREFIX     ?= /usr/local

.PHONY: all deps web-deps bench-deps build demo test fuzz bench install package clean

all: build

deps:
	@scripts/install-deps.sh

# The test oracles from npm (the OpenAPI validator, playwright-core, axe-core), exactly as locked.
web-deps: deps
	cd tests/web && npm ci --no-audit --no-fund --loglevel=error

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	./$(BUILD)/mentorflow demo

test: build fuzz-build web-deps
	scripts/with-postgres.sh scripts/run-tests.sh $(BUILD) $(JOBS)
	scripts/run-fuzz.sh $(FUZZ_BUILD)/fuzz_loader $(FUZZ_SECONDS)

# The loader+validator under libFuzzer with ASan/UBSan (clang).
fuzz-build: deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
	  -DMENTORFLOW_FUZZ=ON -DMENTORFLOW_TESTS=OFF -DMENTORFLOW_BENCH=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_loader

fuzz: fuzz-build
	scripts/run-fuzz.sh $(FUZZ_BUILD)/fuzz_loader $${FUZZ_SECONDS:-600}

# bench/tick's yardstick (graphile-worker), exactly as locked.
bench-deps: deps
	cd bench/queue && npm ci --no-audit --no-fund --loglevel=error

bench: build bench-deps
	./$(BUILD)/bench_dispatch
	MENTORFLOW_PG_FSYNC=on scripts/with-postgres.sh ./$(BUILD)/bench_persist 2000
	MENTORFLOW_PG_FSYNC=on scripts/with-postgres.sh ./$(BUILD)/bench_tick 100000
	MENTORFLOW_PG_FSYNC=on scripts/with-postgres.sh ./$(BUILD)/bench_tick queue 5000
	./$(BUILD)/bench_deliver 1000
	MENTORFLOW_PG_FSYNC=on scripts/with-postgres.sh ./$(BUILD)/bench_documents 2000
	scripts/with-postgres.sh ./$(BUILD)/bench_stats 500000
	MENTORFLOW_PG_FSYNC=on scripts/with-postgres.sh ./$(BUILD)/bench_serve 300
	MENTORFLOW_PG_FSYNC=on scripts/with-postgres.sh ./$(BUILD)/bench_region 1000 500 5000

# The binary in PREFIX/bin, workflows, templates, the calendar and the demo in
# PREFIX/share/mentorflow; the binary finds them relative to itself.
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# A Debian package (CPack), its Depends from the libraries the binary links.
package: build
	cd $(BUILD) && cpack -G DEB
	@ls $(BUILD)/*.deb

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD)
