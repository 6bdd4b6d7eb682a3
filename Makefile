# The two commands of the quick start:
#   make demo   installs what is missing, builds, queries the shipped sample list offline, then
#               starts shixind on it, queries it (binary protocol and HTTP) and stops it
#   make test   installs what is missing, builds, checks formatting, runs clang-tidy on the
#               files of the last commit (make tidy: on every file) and runs every test:
#               the Release suite, the whole suite again under AddressSanitizer and
#               UndefinedBehaviorSanitizer, the snapshot-swap tests under ThreadSanitizer, and
#               each fuzzer for a short bounded time
BUILD ?= build
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 15
# The tests that swap snapshots under concurrent readers, parse a delta in pieces or build its
# states alongside its application, those of the callers' shared state (buckets, failures,
# grants revalidated across I/O threads), the audit's writer and the daemon's Auditor, the
# metrics (recorded by every I/O thread, scraped by another), the HTTP listener and FileData's
# SIGBUS handler (a mapping truncated under another thread) run under ThreadSanitizer, and the
# targets they need.
TSAN_TESTS ?= AdaptiveMutex|SnapshotHolder|Reloader|Swap|StatesBuiltAlongside|LargeFileParsesInLineOrder|DeltaApplier|DaemonDelta|TokenBucket|AuthFailures|Access|DaemonCallers|Auditor|AuditLog|AuditFault|MetricsTest|LatencyHistogram|DaemonHttp|FileData
TSAN_TARGETS ?= shixind shixin snapshot_holder_test reloader_test daemon_reload_test delta_applier_test \
	daemon_delta_test overlay_replay_test delta_test rate_limiter_test auth_failures_test \
	access_test daemon_callers_test auditor_test audit_log_test audit_fault_test metrics_test \
	daemon_http_test adaptive_mutex_test file_data_test
# Sanitizer builds: clang (faster than g++ on the tests), -O1 without debug info (tests -O0)
# keeps CI within its time on two cores. The ASan tree also has libFuzzer's coverage, so that
# fuzz-smoke builds its fuzzers there instead of in a tree of their own.
SAN_FLAGS ?= -DCMAKE_BUILD_TYPE=Sanitize -DCMAKE_CXX_FLAGS="-O1 -g0" -DSHIXIN_BENCH=OFF
SAN_CMAKE = CC=clang CXX=clang++ cmake -S . $(SAN_FLAGS)
ASAN_CONFIGURE = $(SAN_CMAKE) -B build-asan -DSHIXIN_SANITIZE=ON -DSHIXIN_FUZZ=ON >/dev/null

.PHONY: all deps build demo run package test test-release test-asan test-tsan fuzz-smoke fuzz format \
	format-check tidy tidy-changed bench clean

all: build

deps:
	@scripts/install-deps.sh

# The prefix /usr is the default, and what make package needs: set here for older build trees.
build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)/bin

# shixind in the foreground on the sample list (Ctrl-C stops it): the binary protocol on
# 127.0.0.1:7411, HTTP on its default 127.0.0.1:7412, the audit in $(BUILD)/run-state.
run: build
	@echo "shixind on data/sample, audit in $(BUILD)/run-state; Ctrl-C stops it"
	@$(BUILD)/bin/shixind --data data/sample --listen 127.0.0.1:7411 \
		--state-dir $(BUILD)/run-state

# The Debian package (CPack, packaging/package.cmake) in $(BUILD)/package/, checked by lintian
# (errors fail; warnings are printed). The build tree is configured for /usr (the unit's paths).
package: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr >/dev/null
	@cmake --build $(BUILD) -j$(JOBS) --target shixind shixin
	@rm -f $(BUILD)/package/*.deb
	@cd $(BUILD) && cpack -G DEB -B package
	@lintian --fail-on error $(BUILD)/package/*.deb && echo "lintian: no errors"

test: format-check test-release tidy-changed test-asan test-tsan fuzz-smoke
	@echo "make test: all suites passed"

test-release: build
	@ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

test-asan: deps
	@$(ASAN_CONFIGURE)
	@cmake --build build-asan -j$(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir build-asan --output-on-failure -j$(JOBS)

test-tsan: deps
	@$(SAN_CMAKE) -B build-tsan -DSHIXIN_TSAN=ON >/dev/null
	@cmake --build build-tsan -j$(JOBS) --target $(TSAN_TARGETS)
	@TSAN_OPTIONS="halt_on_error=1 suppressions=$(CURDIR)/scripts/tsan.supp" \
		ctest --test-dir build-tsan --output-on-failure -j$(JOBS) -R '$(TSAN_TESTS)'

fuzz-smoke: deps
	@$(ASAN_CONFIGURE)
	@FUZZ_BUILD=build-asan scripts/fuzz.sh $(FUZZ_SECONDS)

# make fuzz FUZZ_SECONDS=3600
fuzz: deps
	@scripts/fuzz.sh $(FUZZ_SECONDS)

format-check: deps
	@scripts/check-format.sh

# clang-tidy with .clang-tidy's checks: the files the last commit and the work tree change
# (make test), or all of them (make tidy; too slow for CI on two cores).
tidy-changed: build
	@scripts/tidy.sh $(BUILD)

tidy: build
	@scripts/tidy.sh $(BUILD) --all

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

bench: build
	@$(BUILD)/bin/lookup_benchmark
	@$(BUILD)/bin/memory_benchmark

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz
