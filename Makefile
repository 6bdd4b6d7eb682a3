# The two commands of the quick start:
#   make demo   installs what is missing, builds, and queries the shipped sample list
#   make test   installs what is missing, builds, checks formatting and runs every test:
#               the Release suite, the whole suite again under AddressSanitizer and
#               UndefinedBehaviorSanitizer, the snapshot-swap tests under ThreadSanitizer, and
#               each fuzzer for a short bounded time
BUILD ?= build
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 15
# The tests that swap snapshots under concurrent readers (run under ThreadSanitizer).
TSAN_TESTS ?= SnapshotHolder|Reloader|Swap

.PHONY: all deps build demo test test-release test-asan test-tsan fuzz-smoke fuzz format \
	format-check bench clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)/bin

test: format-check test-release test-asan test-tsan fuzz-smoke
	@echo "make test: all suites passed"

test-release: build
	@ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

test-asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHIXIN_SANITIZE=ON \
		-DSHIXIN_BENCH=OFF >/dev/null
	@cmake --build build-asan -j$(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir build-asan --output-on-failure -j$(JOBS)

test-tsan: deps
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSHIXIN_TSAN=ON \
		-DSHIXIN_BENCH=OFF >/dev/null
	@cmake --build build-tsan -j$(JOBS)
	@TSAN_OPTIONS="halt_on_error=1 suppressions=$(CURDIR)/scripts/tsan.supp" \
		ctest --test-dir build-tsan --output-on-failure -R '$(TSAN_TESTS)'

fuzz-smoke: deps
	@scripts/fuzz.sh $(FUZZ_SECONDS)

# make fuzz FUZZ_SECONDS=3600
fuzz: deps
	@scripts/fuzz.sh $(FUZZ_SECONDS)

format-check: deps
	@scripts/check-format.sh

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

bench: build
	@$(BUILD)/bin/lookup_benchmark

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz
