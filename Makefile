# A thin wrapper over meson. Every target first installs missing Debian
# packages (scripts/deps.sh), then configures and builds as needed.
#
#   make run     build, then boot the guest kernel running its demo programs
#   make test    build, run every test, then again under ASan+UBSan
#   make bench   build optimised, run the benchmarks (`bench <name> <value> <unit>`)
#   make fuzz    build the libFuzzer targets with clang and run each for FUZZ_SECONDS

BUILD       ?= build
ASAN_BUILD  ?= build-asan
BENCH_BUILD ?= build-bench
FUZZ_BUILD  ?= build-fuzz
FUZZ_SECONDS ?= 60
MESON       ?= meson

.PHONY: all deps build run test test-fast test-asan bench fuzz clean

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
# debug-exit code 0, which mmulab (like QEMU) reports as status 1.
USER_DIR := $(BUILD)/guestos/user
RUN_MODULES := $(USER_DIR)/init,$(USER_DIR)/touch,$(USER_DIR)/cowfork,$(USER_DIR)/mprot,$(USER_DIR)/badptr,$(USER_DIR)/kstress
RUN_APPEND := run=touch,cowfork,mprot,badptr,kstress report
run: build
	./$(BUILD)/mmulab run -kernel $(BUILD)/guestos/mmulab-kernel -initrd $(RUN_MODULES) \
		-append "$(RUN_APPEND)" -stats || [ $$? -eq 1 ]

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
	$(MESON) compile -C $(BENCH_BUILD)
	./$(BENCH_BUILD)/bench/mmu_bench
	./$(BENCH_BUILD)/bench/cpu_bench
	./$(BENCH_BUILD)/bench/guest_bench

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

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(BENCH_BUILD) $(FUZZ_BUILD)
