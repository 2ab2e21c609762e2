# mk/bench.mk - every benchmark target: `bench` (the report in
# docs/BENCHMARKS.md), bench-board, bench-host, bench-probe-check,
# bench-smp, bench-threads, bench-levels, mask-board and mask-bench, and the
# two bound checks `suite` runs (bench-bound, mask-bound).
.PHONY: bench bench-board bench-host bench-probe-check bench-smp bench-threads bench-levels mask-board mask-bench

# make bench: instructions per call on the QEMU boards (sheap and picolibc's
# allocator in one image, one image per workload), host throughput against
# glibc, mimalloc and jemalloc, Cortex-M code size; raw lines in build/bench/,
# the report in docs/BENCHMARKS.md and docs/bench/*.png (tools/bench_report.py).
BENCH_BOARDS := qemu-virt-aarch64 qemu-virt-riscv64 qemu-virt-riscv32
BENCH_WORKLOADS := small loguni uniform fifo realloc frag
# A board.mk may put a flavour's figures in a directory of their own
# (BENCH_SUBDIR; qemu-virt-aarch64 FLAVOR=smp: build/bench/smp).
BENCH_OUT := $(CURDIR)/build/bench$(if $(BENCH_SUBDIR),/$(BENCH_SUBDIR))
BENCH_HOST_REPS ?= 5
BENCH_HOST_SCALE ?= 20
# Debian's python3 (python3-matplotlib is installed for it), not whatever
# python3 comes first in PATH.
BENCH_PYTHON ?= /usr/bin/python3
BENCH_SRC := tests/bench/workloads.c
BENCH_HDR := tests/bench/workloads.h
# Boards without an instruction counter, counted by a QEMU plugin
# (tests/bench/icount_plugin.c) around probe calls; the small workload only.
BENCH_PROBE_BOARDS := mps2-an385 mps2-an505
BENCH_PROBES := $(filter $(BOARD),$(BENCH_PROBE_BOARDS))
BENCH_WL_IDX := $(if $(BENCH_PROBES),0,0 1 2 3 4 5)
BENCH_IMAGES := $(foreach i,$(BENCH_WL_IDX),$(B)/bench/bench-$(i))
# The bench image swaps the board's linker script for one with a larger
# picolibc heap (tests/bench/bench-<board>.ld) where there is one.
BENCH_LD := $(wildcard tests/bench/bench-$(BOARD).ld)
BENCH_LDFLAGS := $(if $(BENCH_LD),$(filter-out -T%,$(ARCH_LDFLAGS)) -T$(CURDIR)/$(BENCH_LD),$(ARCH_LDFLAGS))
BENCH_PLUGIN := $(BENCH_OUT)/libicount.so
bench_comma := ,
# plugin_run(events file): the board's RUN with the counting plugin loaded.
plugin_run = $(subst -kernel,-plugin $(BENCH_PLUGIN)$(bench_comma)out=$(1) -kernel,$(RUN))
# The bounds of tests/bench/bounds.txt, by name.
BENCH_BOUND = $(shell sed -n 's/^$(1) *= *\([0-9]*\).*/\1/p' tests/bench/bounds.txt)

# ---- images ----------------------------------------------------------------------------
# bench-<i>: workload i, sheap and picolibc's allocator; probe-<i>: the same
# counted by the plugin (the cross-check on a board that has a counter);
# bench-bound: the CI check of the small workload's steady-state maxima on a
# board whose board.mk sets BENCH_CHECK, against tests/bench/bounds.txt.
BENCH_PROGRAM := tests/bench/bench_target.c $(BENCH_SRC)
BENCH_IMAGE_DEPS := $(BENCH_PROGRAM) $(BENCH_HDR) $(LIB) $(LIB_BOARD) $(GEN) $(B)/bench/libpico_malloc.a $(BENCH_LD)
bench_image = $(call link_program,-DBENCH_WORKLOAD=$* $(1) $(BENCH_PROGRAM),$(BENCH_LDFLAGS),-L$(B)/bench -lsheap -lpico_malloc)

$(B)/bench/libpico_malloc.a: tools/bench_pico_malloc.sh
	@mkdir -p $(dir $@)
	tools/bench_pico_malloc.sh $@ $(CC) $(ARCH_CFLAGS)
$(B)/bench/bench-%: $(BENCH_IMAGE_DEPS)
	$(call bench_image,$(if $(BENCH_PROBES),-DBENCH_PROBES))
$(B)/bench/probe-%: $(BENCH_IMAGE_DEPS)
	$(call bench_image,-DBENCH_PROBES)
$(B)/tests/bench-bound: $(BENCH_PROGRAM) $(BENCH_HDR) tests/bench/bounds.txt $(LIB) $(LIB_BOARD) $(GEN)
	$(call link_program,-DBENCH_CHECK -DBENCH_BOUND_MALLOC_MAX=$(call BENCH_BOUND,malloc_max) \
	  -DBENCH_BOUND_FREE_MAX=$(call BENCH_BOUND,free_max) -DBENCH_BOUND_RUN_MALLOC_MAX=$(call BENCH_BOUND,run_malloc_max) \
	  -DBENCH_BOUND_RUN_FREE_MAX=$(call BENCH_BOUND,run_free_max) $(BENCH_PROGRAM),$(ARCH_LDFLAGS),-lsheap)
$(B)/bench/bench_host: tests/bench/bench_host.c $(BENCH_SRC) $(BENCH_HDR) $(LIB) $(GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) $(TEST_CFLAGS) $(ARCH_CFLAGS) tests/bench/bench_host.c $(BENCH_SRC) \
	  $(ARCH_LDFLAGS) -L$(B) -lsheap -ldl -o $@

$(BENCH_PLUGIN): tests/bench/icount_plugin.c
	@mkdir -p $(dir $@)
	gcc -shared -fPIC -O2 -std=gnu11 $(WARN) $< -o $@

# ---- bench: every board ------------------------------------------------------------------
bench-probe-check: $(B)/bench/probe-0 $(BENCH_PLUGIN)
	@echo "  bench $(BOARD): plugin cross-check"
	@$(call plugin_run,$(BENCH_OUT)/$(BOARD)-probe.events) $(B)/bench/probe-0 > $(BENCH_OUT)/$(BOARD)-probe.log 2>&1
	@$(BENCH_PYTHON) tools/bench_probes.py $(BENCH_OUT)/$(BOARD)-probe.events $(BENCH_OUT)/$(BOARD)-probe.log \
	  > $(BENCH_OUT)/$(BOARD).probecheck

# One board's images, run one after the other into build/bench/<board>.txt,
# under BENCH_RUN where board.mk sets one (a flavour whose tests run without
# an exact counter), else RUN.
BENCH_RUN ?= $(RUN)
bench-board: $(BENCH_IMAGES) $(if $(BENCH_PROBES),$(BENCH_PLUGIN))
	@mkdir -p $(BENCH_OUT) && : > $(BENCH_OUT)/$(BOARD).txt
	@for i in $(BENCH_WL_IDX); do \
	  echo "  bench $(BOARD) workload $$i"; \
	  log=$(BENCH_OUT)/$(BOARD)-$$i.log; ev=$(BENCH_OUT)/$(BOARD)-$$i.events; \
	  $(if $(BENCH_PROBES),$(call plugin_run,$$ev),$(BENCH_RUN)) \
	    $(B)/bench/bench-$$i > $$log 2>&1 || \
	    { echo "bench image $$i failed on $(BOARD):"; tail -n 20 $$log; exit 1; }; \
	  $(if $(BENCH_PROBES),$(BENCH_PYTHON) tools/bench_probes.py $$ev $$log, \
	    grep -E '^(META|BENCH|QUANT|FOOT|SERIES|DONE) ' $$log) >> $(BENCH_OUT)/$(BOARD).txt || exit 1; \
	done
	@echo "PICO $(BOARD) $$(cat $(B)/bench/libpico_malloc.a.producer)" >> $(BENCH_OUT)/$(BOARD).txt
	@echo "SHEAPFLAGS $(BOARD) $(CC) $(filter -O% -m%,$(ARCH_CFLAGS))" >> $(BENCH_OUT)/$(BOARD).txt

bench-host: $(B)/bench/bench_host
	@mkdir -p $(BENCH_OUT)
	@echo "  bench host: $(BENCH_HOST_REPS) rounds, scale $(BENCH_HOST_SCALE)"
	@tools/bench_host.sh $(B)/bench/bench_host $(BENCH_OUT)/host.txt $(BENCH_HOST_REPS) $(BENCH_HOST_SCALE) $(BENCH_WORKLOADS)

bench: bench-deps-check
	@for b in $(BENCH_BOARDS) $(BENCH_PROBE_BOARDS); do $(MAKE) --no-print-directory BOARD=$$b bench-board || exit 1; done
	@$(MAKE) --no-print-directory BOARD=qemu-virt-aarch64 bench-probe-check
	@$(MAKE) --no-print-directory BOARD=host bench-host
	@tools/bench_size.sh $(BENCH_OUT)/size.txt
	$(BENCH_PYTHON) tools/bench_report.py $(BENCH_OUT) docs
	@$(MAKE) --no-print-directory mask-bench
	@$(MAKE) --no-print-directory bench-levels
	@$(MAKE) --no-print-directory bench-threads
	@$(MAKE) --no-print-directory bench-smp BENCH_SMP_NATIVE=no

# ---- bench-smp ---------------------------------------------------------------------------
# The SMP build's instructions per call counted on one CPU (-icount
# shift=0), every workload, against the default build, on the boards with
# an smp flavour: bench-board FLAVOR=smp (figures in build/bench/smp), then
# tools/bench_smp.py writes the section "SMP build on one CPU" of
# docs/BENCHMARKS.md between markers, with its bound on the small workload.
# The default build's figures come from bench-board too: make bench has
# just made them (BENCH_SMP_NATIVE=no), make bench-smp alone makes them again.
BENCH_SMP_BOARDS := qemu-virt-aarch64 qemu-virt-riscv64
BENCH_SMP_NATIVE ?= yes
bench-smp: bench-deps-check
	@for b in $(BENCH_SMP_BOARDS); do \
	  $(if $(filter yes,$(BENCH_SMP_NATIVE)),$(MAKE) --no-print-directory BOARD=$$b bench-board || exit 1;) \
	  $(MAKE) --no-print-directory BOARD=$$b FLAVOR=smp bench-board || exit 1; \
	done
	$(BENCH_PYTHON) tools/bench_smp.py $(BENCH_OUT) docs $(BENCH_SMP_BOARDS)

# ---- bench-threads ------------------------------------------------------------------------
# Multi-threaded host throughput (tests/bench/bench_threads.c): 1, 2 and 4
# threads, small-object churn and producer/consumer cross-thread frees,
# sheap twice (the host smp flavour's SHEAP_SMP=1 build with per-CPU
# caches, build/host-smp, and the single-lock SHEAP_SMP=0 build of the
# native flavour, build/host) against glibc, mimalloc and jemalloc
# (wall-clock time, a figure only), and the shared lock taken per 1,000
# operations of the 4-thread stress (tests/smp) in both builds, counted by
# a copy of the core built with tests/bench/lockcount/sheap_port_lock.h.
# Written into docs/BENCHMARKS.md between markers (tools/bench_threads.py).
# Host only.
BENCH_THREADS_REPS ?= 5
BENCH_THREADS_OPS ?= 2000000
BENCH_THREADS_FLAVORS := native smp
# The lockcount header comes before the port's own sheap_port_lock.h.
$(B)/lockcount/core/%.o: core/%.c $(CORE_DEPS) tests/bench/lockcount/sheap_port_lock.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) -Itests/bench/lockcount -Iport/$(PORT) $(CORE_CFLAGS) $(ARCH_CFLAGS) -c $< -o $@
$(B)/bench/bench_threads: tests/bench/bench_threads.c $(LIB) $(GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) $(TEST_CFLAGS) $(ARCH_CFLAGS) $< $(ARCH_LDFLAGS) -L$(B) -lsheap -ldl -lpthread -o $@
$(B)/bench/bench_threads_lc: tests/bench/bench_threads.c tests/smp/smp_stress.c tests/smp/smp_stress.h \
		$(call obj,lockcount,$(CORE_SRC)) $(call obj,rel,$(PORT_SRC)) $(GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) $(TEST_CFLAGS) -Itests/smp $(ARCH_CFLAGS) -DBENCH_LOCKCOUNT $< tests/smp/smp_stress.c \
	  $(call obj,lockcount,$(CORE_SRC)) $(call obj,rel,$(PORT_SRC)) $(ARCH_LDFLAGS) -ldl -lpthread -o $@
bench-threads: bench-deps-check
	@for f in $(BENCH_THREADS_FLAVORS); do \
	  d=$(BUILD)/host$$([ $$f = native ] || echo -$$f); \
	  $(MAKE) --no-print-directory BOARD=host FLAVOR=$$f $$d/bench/bench_threads $$d/bench/bench_threads_lc || exit 1; \
	done
	@mkdir -p $(BENCH_OUT)
	tools/bench_threads.sh $(BUILD)/host-smp/bench $(BUILD)/host/bench $(BENCH_OUT)/threads.txt \
	  $(BENCH_THREADS_REPS) $(BENCH_THREADS_OPS)
	$(BENCH_PYTHON) tools/bench_threads.py $(BENCH_OUT)/threads.txt docs

# ---- bench-levels --------------------------------------------------------------------------
# Instructions, footprint and code size per hardening level
# (qemu-virt-aarch64 flavours native hooks hard0 hard2 hard3s), written into
# docs/BENCHMARKS.md between markers.
bench-levels: bench-deps-check
	tools/bench_levels.sh $(BENCH_OUT)/levels.txt
	$(BENCH_PYTHON) tools/bench_levels.py $(BENCH_OUT)/levels.txt docs

# ---- masked stretches ----------------------------------------------------------------------
# The masked-stretch measurement (tests/bench/mask_target.c): every workload,
# then sheap_trim, on the core built with -DSHEAP_MASK_TRACE.  make test
# checks the longest stretch against mask_max in tests/bench/bounds.txt on
# every board whose board.mk sets MASK_CHECK (those with a counter);
# make mask-bench prints the MASK lines of every counter board into
# build/bench/<board>-mask.txt.
MASK_SRC := tests/bench/mask_target.c $(BENCH_SRC)
# Cortex-M (no counter in QEMU): the plugin counts (-DBENCH_PROBES), and
# only the workloads that fit the board's RAM run (MASK_WORKLOADS: a bit per
# index of bench_workloads; small, fifo and frag).
MASK_DEFS := $(if $(BENCH_PROBES),-DBENCH_PROBES -DMASK_WORKLOADS=0x29)
MASK_IMAGE_DEPS := $(MASK_SRC) $(BENCH_HDR) $(B)/libsheap_mask.a $(LIB_BOARD) $(GEN)
$(B)/bench/mask: $(MASK_IMAGE_DEPS)
	$(call link_program,$(MASK_DEFS) $(MASK_DIAG) $(MASK_SRC),$(BENCH_LDFLAGS),-lsheap_mask)
$(B)/tests/mask-bound: $(MASK_IMAGE_DEPS) tests/bench/bounds.txt
	$(call link_program,$(MASK_DEFS) -DMASK_BOUND=$(call BENCH_BOUND,mask_max) $(MASK_SRC),$(BENCH_LDFLAGS),-lsheap_mask)
mask-board: $(B)/bench/mask $(if $(BENCH_PROBES),$(BENCH_PLUGIN))
	@mkdir -p $(BENCH_OUT)
	@echo "  mask $(BOARD)"
ifeq ($(BENCH_PROBES),)
	@$(RUN) $(B)/bench/mask > $(BENCH_OUT)/$(BOARD)-mask.txt 2>&1 || \
	  { echo "mask image failed on $(BOARD):"; tail -n 20 $(BENCH_OUT)/$(BOARD)-mask.txt; exit 1; }
else
	@$(call plugin_run,$(BENCH_OUT)/$(BOARD)-mask.events) $(B)/bench/mask > $(BENCH_OUT)/$(BOARD)-mask.log 2>&1 || \
	  { echo "mask image failed on $(BOARD):"; tail -n 20 $(BENCH_OUT)/$(BOARD)-mask.log; exit 1; }
	@$(BENCH_PYTHON) tools/mask_probes.py $(BENCH_OUT)/$(BOARD)-mask.events $(BENCH_OUT)/$(BOARD)-mask.log \
	  > $(BENCH_OUT)/$(BOARD)-mask.txt
endif
mask-bench: deps-check
	@for b in $(BENCH_BOARDS) $(BENCH_PROBE_BOARDS); do $(MAKE) --no-print-directory BOARD=$$b mask-board || exit 1; done
	$(BENCH_PYTHON) tools/mask_report.py $(BENCH_OUT) docs
