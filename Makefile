# SPDX-License-Identifier: MIT
# Thin wrapper over CMake. `make run` and `make test` set up everything they
# need (Debian packages) on a fresh machine.

BUILD      ?= build
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=
PREFIX     ?= /usr/local
DEB_PKGS   := cmake pkg-config liburcu-dev libcmocka-dev gcc make

.PHONY: all deps configure build run test asan tsan fuzz bench install clean docs

all: build

deps:
	@sh tools/install-deps.sh $(DEB_PKGS)

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) -DZD_WERROR=ON $(CMAKE_ARGS)

configure: $(BUILD)/CMakeCache.txt

# The inner make runs without our MAKEFLAGS, so its output stays quiet.
CMAKE_BUILD = env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL cmake --build

build: deps configure
	$(CMAKE_BUILD) $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/zonedev run -v --stats examples/tour.zds

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer.
asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DZD_SANITIZE=address -DZD_WERROR=ON $(CMAKE_ARGS)
	$(CMAKE_BUILD) build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS)

# The concurrency tests under ThreadSanitizer (clang when present).
tsan: deps
	cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZD_SANITIZE=thread -DZD_WERROR=ON \
		$$(command -v clang >/dev/null && echo -DCMAKE_C_COMPILER=clang) $(CMAKE_ARGS)
	$(CMAKE_BUILD) build-tsan -j $(JOBS)
	cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tools/tsan.supp" \
		ctest --output-on-failure -L concurrency

# The libFuzzer harness of the scenario parser and runner (clang, ASan+UBSan),
# seeded from examples/ and tests/scenarios/, for FUZZ_TIME seconds. New
# inputs go to build-fuzz/corpus, crashes to build-fuzz/crash-*.
# (clang and its runtime: the Debian bookworm packages clang, libclang-rt-14-dev.)
FUZZ_TIME ?= 600
FUZZ_PKGS := clang libclang-rt-14-dev
fuzz:
	@sh tools/install-deps.sh $(DEB_PKGS) $(FUZZ_PKGS)
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DZD_SANITIZE=fuzz -DZD_WERROR=ON \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo -DZD_BUILD_TESTS=OFF -DZD_BUILD_BENCH=OFF $(CMAKE_ARGS)
	$(CMAKE_BUILD) build-fuzz -j $(JOBS) --target fuzz_scenario
	mkdir -p build-fuzz/corpus
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		build-fuzz/tests/fuzz/fuzz_scenario -dict=tests/fuzz/scenario.dict \
		-max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=4096 -close_fd_mask=3 \
		-print_final_stats=1 -artifact_prefix=build-fuzz/ \
		build-fuzz/corpus examples tests/scenarios $$(cmake -DOUT=build-fuzz/seeds -P tests/scenarios/templates/variants.cmake && echo build-fuzz/seeds)

bench: build
	@for b in $(BUILD)/bench/bench_*; do $$b || exit 1; done

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz build-release-gcc build-release-clang

# Lifecycle figures (Graphviz).
docs:
	@sh tools/install-deps.sh graphviz
	for f in docs/figures/*.dot; do dot -Tsvg "$$f" -o "$${f%.dot}.svg"; done
