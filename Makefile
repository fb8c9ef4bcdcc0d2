# A thin wrapper over meson. Every target first installs missing Debian
# packages (scripts/deps.sh), then configures and builds as needed.
#
#   make run     build, then boot the guest kernel running its demo programs
#   make gui     build, then boot the bundled kernel under the visualizer
#   make test    build, run every test, then again under ASan+UBSan
#   make bench   build optimised, run the benchmarks (`bench <name> <value> <unit>`)
#   make fuzz    build the libFuzzer targets with clang and run each for FUZZ_SECONDS

BUILD       ?= build
ASAN_BUILD  ?= build-asan
BENCH_BUILD ?= build-bench
FUZZ_BUILD  ?= build-fuzz
FUZZ_SECONDS ?= 60
MESON       ?= meson

.PHONY: all deps build run gui test test-fast test-asan bench fuzz clean

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja: | deps
	$(MESON) setup $(BUILD)

build: deps $(BUILD)/build.ninja
	$(MESON) compile -C $(BUILD)

# The main job: boot the bundled guest kernel with its user programs as
# modules; init runs the demo programs, the kernel prints its reports and
# mmulab its statistics. The kernel's clean exit (init exited with 0) is
# debug-exit code 0, which mmulab (like QEMU) reports as status 1. With a
# display (DISPLAY or WAYLAND_DISPLAY set) the same run opens in the
# visualizer; HEADLESS=1 keeps it on the terminal.
USER_DIR := $(BUILD)/guestos/user
RUN_MODULES := $(USER_DIR)/init,$(USER_DIR)/touch,$(USER_DIR)/cowfork,$(USER_DIR)/mprot,$(USER_DIR)/badptr,$(USER_DIR)/kstress
RUN_APPEND := run=touch,cowfork,mprot,badptr,kstress,kstress:vmalloc report
RUN_ARGS = -kernel $(BUILD)/guestos/mmulab-kernel -initrd $(RUN_MODULES) -append "$(RUN_APPEND)"
HEADLESS ?=
run: build
	@if [ -z "$(HEADLESS)" ] && [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
		echo ./$(BUILD)/mmulab gui $(RUN_ARGS) --run; \
		./$(BUILD)/mmulab gui $(RUN_ARGS) --run; \
	else \
		echo ./$(BUILD)/mmulab run $(RUN_ARGS) -stats; \
		./$(BUILD)/mmulab run $(RUN_ARGS) -stats || [ $$? -eq 1 ]; \
	fi

# The visualizer over the same run (needs a display; see docs/gui.md).
gui: build
	./$(BUILD)/mmulab gui $(RUN_ARGS) --run

test-fast: build
	$(MESON) test -C $(BUILD) --print-errorlogs

$(ASAN_BUILD)/build.ninja: | deps
	$(MESON) setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false

test-asan: deps $(ASAN_BUILD)/build.ninja
	$(MESON) compile -C $(ASAN_BUILD)
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
		$(MESON) test -C $(ASAN_BUILD) --print-errorlogs

test: test-fast test-asan

$(BENCH_BUILD)/build.ninja: | deps
	$(MESON) setup $(BENCH_BUILD) --buildtype=release -Dtests=false

bench: deps $(BENCH_BUILD)/build.ninja
	scripts/deps.sh bench
	$(MESON) compile -C $(BENCH_BUILD)
	./$(BENCH_BUILD)/bench/mmu_bench
	./$(BENCH_BUILD)/bench/cpu_bench
	./$(BENCH_BUILD)/bench/guest_bench
	./$(BENCH_BUILD)/bench/ui_bench
	if [ -x $(BENCH_BUILD)/bench/trace_bench ]; then ./$(BENCH_BUILD)/bench/trace_bench; fi

$(FUZZ_BUILD)/build.ninja:
	scripts/deps.sh fuzz
	CC=clang $(MESON) setup $(FUZZ_BUILD) -Dfuzz=true -Dtests=false \
		-Db_sanitize=address,undefined -Db_lundef=false

fuzz: $(FUZZ_BUILD)/build.ninja
	$(MESON) compile -C $(FUZZ_BUILD)
	mkdir -p $(FUZZ_BUILD)/corpus-walk
	UBSAN_OPTIONS=halt_on_error=1 ./$(FUZZ_BUILD)/tests/fuzz/fuzz_walk \
		-max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		$(FUZZ_BUILD)/corpus-walk tests/fuzz/corpus_walk
	mkdir -p $(FUZZ_BUILD)/corpus-multiboot
	UBSAN_OPTIONS=halt_on_error=1 ./$(FUZZ_BUILD)/tests/fuzz/fuzz_multiboot \
		-max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		$(FUZZ_BUILD)/corpus-multiboot tests/fuzz/corpus_multiboot
	mkdir -p $(FUZZ_BUILD)/corpus-trace
	UBSAN_OPTIONS=halt_on_error=1 ./$(FUZZ_BUILD)/tests/fuzz/fuzz_trace \
		-max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -rss_limit_mb=4096 \
		$(FUZZ_BUILD)/corpus-trace tests/fuzz/corpus_trace

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(BENCH_BUILD) $(FUZZ_BUILD)
