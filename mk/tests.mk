# mk/tests.mk - the test programs and how they run: `suite` (one board and
# flavour), `test` (every board, as each board.mk lists its runs), `soak`
# and the fuzzer (`fuzz`, and `fuzz-ci`, the short pass `test` runs).
.PHONY: suite test test-board soak soak-run fuzz fuzz-ci

# ---- test programs ------------------------------------------------------------------
# Every test program prints one line "SUITE <name>: N passed, M failed".
# Suites every board runs, plus those its board.mk lists in BOARD_TESTS.
# A board.mk may set UNIT_TESTS (the host's tsan flavour: empty, threaded suites only).
UNIT_TESTS ?= $(wildcard tests/unit/*.c)
UNIT_SRC := $(UNIT_TESTS) $(BOARD_TESTS)
HARNESS_SRC := $(wildcard tests/harness/*.c)
UNIT_BIN := $(patsubst %.c,$(B)/tests/%,$(notdir $(UNIT_SRC)))
HARNESS_OBJ := $(patsubst %.c,$(B)/tests/%.o,$(HARNESS_SRC))
TEST_HDR := $(wildcard tests/harness/*.h core/*.h include/*.h) $(BOARD_DIR)/board_test.h
# A test program links the harness and the test build of the library.
TEST_LINK := $(HARNESS_OBJ) $(LIB_TEST) $(LIB_BOARD) $(GEN) $(TEST_HDR)
link_test = $(call link_program,$(TEST_DEFS) $(1) $(2) $(HARNESS_OBJ),$(ARCH_LDFLAGS),-lsheap_test)

$(B)/tests/tests/harness/%.o: tests/harness/%.c $(GEN) $(TEST_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) $(TEST_DEFS) $(TEST_CFLAGS) $(ARCH_CFLAGS) -c $< -o $@
# Each suite's source, found in the directories of this board's suites.
vpath %.c $(sort $(dir $(UNIT_SRC)))
$(B)/tests/%: %.c $(TEST_LINK)
	$(call link_test,,$<)

# The multi-CPU stress engine (tests/smp/smp_stress.c) linked into its host
# driver, one pthread per CPU.
$(B)/tests/test_smp_stress: tests/host/test_smp_stress.c tests/smp/smp_stress.c tests/smp/smp_stress.h $(TEST_LINK)
	$(call link_test,-Itests/smp,$< tests/smp/smp_stress.c)

# The SMP boards' test main (tests/smp/test_smp_board.c, listed in
# BOARD_TESTS by the smp flavours), linked with the shared stress engine.
# SMP_STRESS=yes (the board.mk default) also runs the engine and
# sheap_check while the other CPUs allocate (-DSMP_BOARD_STRESS).
# The setting is kept in a file rewritten only when it changes, so that a
# change rebuilds the program (a missing stamp would not: .SECONDARY).
SMP_STRESS_STAMP := $(B)/gen/smp-stress.txt
ifneq ($(filter tests/smp/test_smp_board.c,$(BOARD_TESTS)),)
SMP_STRESS_NOW := $(if $(filter yes,$(SMP_STRESS)),yes,no)
$(shell mkdir -p $(B)/gen && { [ "$$(cat $(SMP_STRESS_STAMP) 2>/dev/null)" = $(SMP_STRESS_NOW) ] || \
	echo $(SMP_STRESS_NOW) > $(SMP_STRESS_STAMP); })
endif
$(B)/tests/test_smp_board: tests/smp/test_smp_board.c tests/smp/smp_stress.c $(wildcard tests/smp/*.h boards/common/smp.h) \
		$(TEST_LINK) $(SMP_STRESS_STAMP)
	$(call link_test,-Itests/smp $(if $(filter yes,$(SMP_STRESS)),-DSMP_BOARD_STRESS),$< tests/smp/smp_stress.c)

# ---- suite: one board and flavour ------------------------------------------------------
RESULTS ?= $(abspath $(BUILD))/results.txt

# Build and run the suites of this board/flavour, appending to $(RESULTS).
suite: deps-check $(UNIT_BIN) lib $(if $(BENCH_CHECK),$(B)/tests/bench-bound) $(if $(MASK_CHECK),$(B)/tests/mask-bound)
	@for t in $(UNIT_BIN); do \
	  tools/run_test.sh "$(B)" "$(RUN)" "$$t" "$(RESULTS)"; \
	done
	@NM=$(NM) tools/check_freestanding.sh $(B)/libsheap.a >> $(RESULTS)
	@if [ "$(BOARD)" != host ]; then NM=$(NM) tools/check_no_libcalls.sh $(B) >> $(RESULTS); fi
	@NM=$(NM) tools/check_no_fault_injection.sh $(B)/libsheap.a >> $(RESULTS)
	@tools/run_link_test.sh $(B) >> $(RESULTS)
	@if [ -n "$(FAULT_TEST)" ]; then tools/run_fault_test.sh $(B) >> $(RESULTS); fi
	@if [ -n "$(BENCH_CHECK)" ]; then tools/run_test.sh "$(B)" "$(RUN)" $(B)/tests/bench-bound "$(RESULTS)"; fi
	@if [ -n "$(MASK_CHECK)" ] && [ -z "$(BENCH_PROBES)" ]; then \
	  tools/run_test.sh "$(B)" "$(RUN)" $(B)/tests/mask-bound "$(RESULTS)"; fi
	@if [ -n "$(MASK_CHECK)" ] && [ -n "$(BENCH_PROBES)" ]; then \
	  $(MAKE) --no-print-directory $(BENCH_PLUGIN) > /dev/null && \
	  tools/run_mask_probes.sh "$(B)" "$(call plugin_run,$(B)/tests/mask-bound.events)" \
	    $(B)/tests/mask-bound "$(RESULTS)" $(call BENCH_BOUND,mask_max); fi
ifneq ($(LIBC_TEST),)
	@NM=$(NM) tools/run_libc_test.sh $(B) $(LIBC_TEST) "$(RUN)" $(RESULTS)
endif
	@# C++ operators (CXX_TEST), the minimal firmware of its own
	@# (MINIMAL_TEST), the CMake consumer builds (CMAKE_TEST); board.mk says which.
	@if [ -n "$(CXX_TEST)" ]; then tools/run_cxx_test.sh $(B) "$(RUN)" $(RESULTS); fi
	@if [ -n "$(MINIMAL_TEST)" ]; then NM=$(NM) tools/run_minimal_test.sh $(B) "$(RUN)" $(RESULTS); fi
	@if [ -n "$(CMAKE_TEST)" ]; then tools/run_cmake_test.sh $(BOARD) $(B) "$(RUN)" $(RESULTS); fi
	@# The ARMv8-M guard compiles to a real guard for v8-M and v8.1-M, gcc and clang.
	@if [ -n "$(GUARD_ARCH_CHECK)" ]; then tools/check_guard_arch.sh $(B) >> $(RESULTS); fi
	@# Cortex-M3 code size and static RAM against tests/bench/bounds.txt.
	@if [ -n "$(SIZE_CHECK)" ]; then tools/check_code_size.sh $(B) >> $(RESULTS); fi

# ---- test: every board ---------------------------------------------------------------
# Every board.mk says what `make test` runs there, the same way:
#   TEST_FLAVORS  the flavours whose suites run, in order
#   TEST_LIBCS    further C libraries, each with the native flavour
#   TEST_TARGETS  <flavour>:<target> pairs run after them (host: fuzz:fuzz-ci)
# BOARD=<b> on the command line: that board only; LIBC=<c> as well: that C
# library only, native flavour.
TEST_BOARDS := $(if $(filter command,$(origin BOARD)),$(BOARD),$(BOARDS_ALL))
TEST_ONE_LIBC := $(if $(filter command,$(origin LIBC)),$(LIBC))
test_run = $(MAKE) --no-print-directory BOARD=$(BOARD) $(1) RESULTS=$(RESULTS);
TEST_RUNS = $(if $(TEST_ONE_LIBC),$(call test_run,FLAVOR=native LIBC=$(TEST_ONE_LIBC) suite), \
	$(foreach f,$(TEST_FLAVORS),$(call test_run,FLAVOR=$(f) suite)) \
	$(foreach c,$(TEST_LIBCS),$(call test_run,FLAVOR=native LIBC=$(c) suite)) \
	$(foreach t,$(TEST_TARGETS),$(call test_run,FLAVOR=$(subst :, ,$(t)))))

test: deps-check
	@mkdir -p $(BUILD) && rm -f $(RESULTS)
	@set -e; for b in $(TEST_BOARDS); do $(MAKE) --no-print-directory BOARD=$$b test-board RESULTS=$(RESULTS); done
	@tools/summarize.sh $(RESULTS)

# One board's runs (make test calls it per board).
test-board:
	+@set -e; $(TEST_RUNS)

# ---- soak ----------------------------------------------------------------------------
# make soak: the stress suite at SOAK_OPS operations (default 2*10^7, the heap
# validated every 10^5) on the host; make BOARD=<b> soak on a board.
SOAK_OPS ?= 20000000
SOAK_BOARD := $(if $(filter command,$(origin BOARD)),$(BOARD),host)

$(B)/soak: tests/unit/test_stress.c $(TEST_LINK)
	$(call link_test,-DSTRESS_OPS=$(SOAK_OPS) -DCHECK_EVERY=100000,$<)

soak: deps-check
	@$(MAKE) --no-print-directory BOARD=$(SOAK_BOARD) soak-run

soak-run: $(B)/soak
	$(RUN) $(B)/soak

# ---- fuzzing -------------------------------------------------------------------------
# tests/fuzz/fuzz_heap.c, a differential fuzzer, in three host builds:
#   fuzz    libFuzzer with ASan and UBSan (clang): build/host-fuzz/fuzz_heap
#   native  64-bit gcc -O2, the file's own driver:  build/host/fuzz_heap_sa
#   i686    32-bit, under qemu-i386, same driver:   build/host-i686/fuzz_heap_sa
# make fuzz [FUZZ_SECONDS=n] [FUZZ_BUILDS="fuzz native i686"]: each build in
# turn for FUZZ_SECONDS (nice -n 19); libFuzzer's finds go to a scratch
# corpus that is then merged (minimised) with tests/fuzz/corpus, which it
# replaces; the totals (executions, operations, injected port failures) go
# to build/fuzz-report.txt (tools/run_fuzz.sh).
# make test runs fuzz-ci: every build replays the committed corpus, and
# libFuzzer adds FUZZ_CI_RUNS new inputs from a fixed seed.
FUZZ_SECONDS ?= 300
FUZZ_BUILDS ?= fuzz native i686
FUZZ_CI_RUNS ?= 8000
FUZZ_BIN := $(BUILD)/host-fuzz/fuzz_heap
FUZZ_DEPS := tests/fuzz/fuzz_heap.c tests/harness/fault_backend.c $(LIB_TEST) $(GEN) $(wildcard core/*.h include/*.h)
fuzz_link = $(CC) $(CPPFLAGS_COMMON) -Iport/$(PORT) $(TEST_DEFS) $(1) $(TEST_CFLAGS) $(ARCH_CFLAGS) $< \
	tests/harness/fault_backend.c $(ARCH_LDFLAGS) -L$(B) -lsheap_test -o $@

$(B)/fuzz_heap: $(FUZZ_DEPS)
	$(call fuzz_link)
$(B)/fuzz_heap_sa: $(FUZZ_DEPS)
	$(call fuzz_link,-DFUZZ_STANDALONE)

fuzz: deps-check
	@for f in $(FUZZ_BUILDS); do \
	  if [ $$f = fuzz ]; then t=$(BUILD)/host-fuzz/fuzz_heap; else t=$$(echo $(BUILD)/host-$$f | sed 's|-native$$||')/fuzz_heap_sa; fi; \
	  $(MAKE) --no-print-directory BOARD=host FLAVOR=$$f $$t || exit 1; done
	BUILD_DIR=$(BUILD) tools/run_fuzz.sh "$(FUZZ_SECONDS)" "$(FUZZ_BUILDS)"

# The short pass make test runs (see above).
fuzz-ci:
	@$(MAKE) --no-print-directory BOARD=host FLAVOR=fuzz $(FUZZ_BIN) > $(BUILD)/fuzz-build.log 2>&1 && \
	 $(MAKE) --no-print-directory BOARD=host FLAVOR=native $(BUILD)/host/fuzz_heap_sa >> $(BUILD)/fuzz-build.log 2>&1 && \
	 $(MAKE) --no-print-directory BOARD=host FLAVOR=i686 $(BUILD)/host-i686/fuzz_heap_sa >> $(BUILD)/fuzz-build.log 2>&1 || \
	  { echo "SUITE host-fuzz/fuzz_heap: 0 passed, 1 failed (build; see $(BUILD)/fuzz-build.log)" >> $(RESULTS); exit 0; }
	@rm -rf $(BUILD)/host-fuzz/ci-corpus && mkdir -p $(BUILD)/host-fuzz/ci-corpus $(BUILD)/host-fuzz/crashes
	@pass=0; fail=0; \
	 for r in "$(BUILD)/host/fuzz_heap_sa" "qemu-i386 $(BUILD)/host-i686/fuzz_heap_sa"; do \
	   if timeout 600 $$r tests/fuzz/corpus > $(BUILD)/host-fuzz/ci-replay.log 2>&1; then pass=$$((pass+1)); \
	   else fail=$$((fail+1)); echo "FAIL corpus replay: $$r"; tail -n 5 $(BUILD)/host-fuzz/ci-replay.log; fi; \
	 done; \
	 if timeout 600 $(FUZZ_BIN) -seed=1 -runs=$(FUZZ_CI_RUNS) -rss_limit_mb=4096 \
	     -artifact_prefix=$(BUILD)/host-fuzz/crashes/ $(BUILD)/host-fuzz/ci-corpus tests/fuzz/corpus \
	     > $(BUILD)/host-fuzz/ci.log 2>&1; then pass=$$((pass+1)); \
	 else fail=$$((fail+1)); tail -n 30 $(BUILD)/host-fuzz/ci.log; fi; \
	 line="$$pass passed, $$fail failed ($$(grep -a '^fuzz_heap:' $(BUILD)/host-fuzz/ci.log | tail -n 1))"; \
	 echo "SUITE host-fuzz/fuzz_heap: $$line" >> $(RESULTS); echo "  host-fuzz/fuzz_heap: $$line"
