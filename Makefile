# The two commands of the quick start:
#   make demo   installs what is missing, builds, and queries the shipped sample list
#   make test   installs what is missing, builds, checks formatting and runs every test
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps build demo test format format-check bench clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)/bin

test: build format-check
	@ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

format-check: deps
	@scripts/check-format.sh

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

bench: build
	@$(BUILD)/bin/lookup_benchmark

clean:
	rm -rf $(BUILD)
