# sheap - top-level build.
#
#   make run                  build and run the default board's demo
#   make test                 every suite on every board; ends "N passed, N failed"
#   make deps                 install the Debian packages the build needs
#   make BOARD=<b> lib        build/<b>/libsheap.a, libboard.a and sheap.mk
#   make BOARD=<b> test|run   one board only
#   FLAVOR=<f>                a variant of the board (host: native, i686, san,
#                             hard0, hard2, hard3 (issue 17: hardening levels);
#                             qemu-virt-riscv64: native = Sv39, sv48); test
#                             runs the flavours board.mk lists in TEST_FLAVORS
#   LIBC=<c>                  the C library, where board.mk offers several
#                             (mps2-an385: picolibc, newlib-nano, newlib)
#   BUILD=/abs/dir            where build/ goes (default build, in the tree);
#   B=/abs/dir                or one board's directory itself.  Nothing is
#                             written in the source tree then.
#
# Per-board toolchain and flags live in boards/<b>/board.mk (one place per
# target); the flags every target shares are below.

BOARDS_ALL := host qemu-virt-aarch64 qemu-virt-riscv64
# Boards join the list below as they come up (one line each).
BOARDS_ALL += mps2-an385 mps2-an505
BOARDS_ALL += qemu-virt-riscv32
DEFAULT_BOARD := qemu-virt-aarch64
BOARD ?= $(DEFAULT_BOARD)
BOARD_DIR := boards/$(BOARD)
include $(BOARD_DIR)/board.mk
NM ?= nm

# ---- build directories (issue 16) ----------------------------------------------
# Build directory per board, flavour and C library (the board's first in
# LIBCS is the default and adds nothing to the name).  BUILD moves the
# whole tree; B, given on the command line, is one board's directory.
BUILD ?= build
LIBC_DEFAULT := $(firstword $(LIBCS))
LIBC_SUFFIX := $(if $(filter-out $(LIBC_DEFAULT),$(LIBC)),-$(LIBC))
ifeq ($(FLAVOR),native)
B := $(BUILD)/$(BOARD)$(LIBC_SUFFIX)
else ifneq ($(FLAVOR),)
B := $(BUILD)/$(BOARD)-$(FLAVOR)$(LIBC_SUFFIX)
else
B := $(BUILD)/$(BOARD)$(LIBC_SUFFIX)
endif
# Absolute forms, for what is written into files read from elsewhere.
ABS_B = $(abspath $(B))
SRC := $(CURDIR)

# ---- flags shared by every target -------------------------------------------
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CPPFLAGS_COMMON := -Iinclude -I$(BOARD_DIR) -I$(B)/gen -DSHEAP_BOARD_HEADER='"board.h"'
PORT_CPPFLAGS := -Iport/$(PORT) -Iport/common
# The core is freestanding C11 and must not call libc, not even through
# memset/memcpy calls that gcc synthesises from loops.
CORE_NOLIBCALLS ?= -fno-tree-loop-distribute-patterns
CORE_CFLAGS := -std=c11 -ffreestanding -fno-builtin $(CORE_NOLIBCALLS) $(WARN)
PORT_CFLAGS ?= -std=c11
TEST_CFLAGS := -std=gnu11 $(WARN) -Wno-missing-prototypes -Icore -Itests/harness -Iboards/common
# Test builds add debug asserts and the expensive tier (each span a
# transition touched is validated); the release library (libsheap.a) has
# neither.  Fault injection is a test backend in tests/harness, never in a
# library (make test checks libsheap.a with nm).
TEST_DEFS ?= -DSHEAP_DEBUG -DSHEAP_DEBUG_EXPENSIVE

CORE_SRC := $(wildcard core/*.c)
PORT_SRC := $(wildcard port/$(PORT)/*.c) $(patsubst %,port/common/%.c,$(PORT_COMMON))
BOARD_SRC := $(wildcard $(BOARD_DIR)/*.c $(BOARD_DIR)/*.S $(foreach c,$(BOARD_COMMON),boards/common/$(c).c boards/common/$(c).S))
GEN := $(B)/gen/sheap_size_classes.h

obj = $(patsubst %.S,$(B)/$(1)/%.o,$(patsubst %.c,$(B)/$(1)/%.o,$(2)))

.PHONY: all lib run test deps deps-check print-needs print-cmake clean suite fuzz fuzz-ci soak soak-run \
	bench bench-board bench-host bench-deps-check bench-probe-check
all: lib

# ---- generated size classes ---------------------------------------------------
$(GEN): tools/gen_size_classes.py include/sheap_config.h $(BOARD_DIR)/board.h
	@mkdir -p $(dir $@)
	@printf '#include "sheap_config.h"\nSHEAP_PAGE_SHIFT SHEAP_MAX_SMALL_SIZE\n' | \
	  $(CC) $(CPPFLAGS_COMMON) $(ARCH_CFLAGS) -E -P -x c - | tail -n 1 > $(B)/gen/geometry.txt
	python3 tools/gen_size_classes.py --cpp "$$(cat $(B)/gen/geometry.txt)" $@

# ---- objects -------------------------------------------------------------------
# The core sees its port's directory only for the optional inline lock.
CORE_DEPS := $(GEN) $(wildcard core/*.h include/*.h port/$(PORT)/sheap_port_lock.h) $(BOARD_DIR)/board.h
$(B)/rel/core/%.o: core/%.c $(CORE_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) -Iport/$(PORT) $(CORE_CFLAGS) $(ARCH_CFLAGS) -c $< -o $@
$(B)/dbg/core/%.o: core/%.c $(CORE_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) -Iport/$(PORT) $(TEST_DEFS) $(CORE_CFLAGS) $(ARCH_CFLAGS) -c $< -o $@
# The core for masked-stretch measurement (tests/bench/mask_target.c).
$(B)/mask/core/%.o: core/%.c $(CORE_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) -Iport/$(PORT) -DSHEAP_MASK_TRACE $(CORE_CFLAGS) $(ARCH_CFLAGS) $(MASK_DIAG) -c $< -o $@
PORT_DEPS := $(wildcard include/*.h port/common/*.h port/$(PORT)/*.h) $(BOARD_DIR)/board.h
# Ports and boards, too, never get loops turned into memset/memcpy/memmove
# calls (a frame clear became picolibc's byte-loop memset: issue 14); make
# test checks their objects with nm (tools/check_no_libcalls.sh).
$(B)/rel/port/%.o: port/%.c $(PORT_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) $(PORT_CPPFLAGS) $(PORT_CFLAGS) $(CORE_NOLIBCALLS) $(WARN) $(ARCH_CFLAGS) -c $< -o $@
$(B)/dbg/port/%.o: port/%.c $(PORT_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) $(PORT_CPPFLAGS) $(TEST_DEFS) $(PORT_CFLAGS) $(CORE_NOLIBCALLS) $(WARN) $(ARCH_CFLAGS) -c $< -o $@
$(B)/rel/boards/%.o: boards/%.c $(PORT_DEPS) $(wildcard boards/common/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) -Iboards/common $(PORT_CFLAGS) $(CORE_NOLIBCALLS) $(WARN) $(ARCH_CFLAGS) -c $< -o $@
$(B)/rel/boards/%.o: boards/%.S
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) $(ARCH_CFLAGS) -c $< -o $@

# ---- libraries ------------------------------------------------------------------
LIB := $(B)/libsheap.a
LIB_TEST := $(B)/libsheap_test.a
LIB_BOARD := $(B)/libboard.a
# The board library is linked whole: its startup (exception vectors,
# counters, console) must be in every image, also when the program itself
# names none of its symbols.
BOARD_LIB := -Wl,--whole-archive -lboard -Wl,--no-whole-archive

$(LIB): $(call obj,rel,$(CORE_SRC) $(PORT_SRC))
	@rm -f $@
	$(AR) rcs $@ $^
$(B)/libsheap_mask.a: $(call obj,mask,$(CORE_SRC)) $(call obj,rel,$(PORT_SRC))
	@rm -f $@
	$(AR) rcs $@ $^
$(LIB_TEST): $(call obj,dbg,$(CORE_SRC) $(PORT_SRC))
	@rm -f $@
	$(AR) rcs $@ $^
$(LIB_BOARD): $(call obj,rel,$(BOARD_SRC))
	@rm -f $@
	$(AR) rcs $@ $^

# The C library binding (port/libc, rules in include/sheap_libc.h): malloc,
# free, ... over sheap's API, in an archive of its own so that libsheap.a and
# the host test programs keep the C library's malloc.  Built per C library
# (picolibc, newlib nano, full newlib, glibc: each build directory has its
# own).  sheap.mk links it by default where the board's libc is picolibc or
# newlib, before -lsheap, with malloc forced undefined so that the linker
# takes the binding before it searches libc.a (see include/sheap_libc.h);
# a firmware target opts out with SHEAP_LIBC := no.  On the host it is
# opt-in (SHEAP_LIBC=yes).
LIB_LIBC := $(B)/libsheap_libc.a
# Which C library the binding replaces and tests: picolibc on every board
# that links with picolibc.specs, newlib where board.mk's LIBC says so; a
# board.mk may set it (the host's native flavour sets glibc).
LIBC_TEST ?= $(if $(findstring picolibc.specs,$(ARCH_CFLAGS) $(ARCH_LDFLAGS)),picolibc,$(filter newlib%,$(LIBC)))
SHEAP_LIBC_DEFAULT := $(if $(filter picolibc newlib%,$(LIBC_TEST)),yes,no)
$(LIB_LIBC): $(call obj,rel,$(wildcard port/libc/*.c))
	@rm -f $@
	$(AR) rcs $@ $^

# ---- C++ operator new/delete (issue 16) -----------------------------------------
# port/libc/sheap_new.cc: every standard form of operator new and delete
# over sheap, opt-in (libsheap_cxx.a, SHEAP_CXX=yes in sheap.mk), built on
# the boards whose board.mk sets CXX_TEST.  CXX is the C compiler's g++
# unless board.mk sets it.
CXX := $(patsubst %gcc,%g++,$(CC))
CXX_STD ?= -std=gnu++17
# -Wshadow is left out: C++ sees sheap.h's sheap_stats() and struct
# sheap_stats as a function hiding a constructor.
CXX_WARN := -Wall -Wextra -Werror
LIB_CXX := $(B)/libsheap_cxx.a
$(B)/rel/port/%.o: port/%.cc $(PORT_DEPS)
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS_COMMON) $(CXX_STD) $(CXX_WARN) $(ARCH_CFLAGS) -c $< -o $@
$(LIB_CXX): $(call obj,rel,$(patsubst %.cc,%.c,$(wildcard port/libc/*.cc)))
	@rm -f $@
	$(AR) rcs $@ $^

# ---- sheap.mk (issue 16) ---------------------------------------------------------
# What an outside firmware Makefile includes.  Only the heap library is
# linked unconditionally; the C library binding, the C++ operators and the
# board support are separate pieces, each its own variable.  LDFLAGS and
# LDLIBS are recursive (=), so that a target-specific SHEAP_LIBC := no (or
# SHEAP_CXX := yes) changes the link of that target alone.  Every path in
# it is absolute: the build directory (B=/abs) may be anywhere.
SHEAP_MK_LDLIBS := $(LDLIBS)
$(B)/sheap.mk: $(BOARD_DIR)/board.mk Makefile
	@mkdir -p $(B)
	@{ echo "# sheap.mk for board $(BOARD)$(if $(FLAVOR), flavour $(FLAVOR))$(if $(LIBC), with $(LIBC)) (generated by 'make BOARD=$(BOARD) lib')"; \
	   echo "# Include it from a firmware Makefile and link a main() of your own:"; \
	   echo "#   \$$(CC) \$$(CFLAGS) main.c \$$(LDFLAGS) \$$(LDLIBS) -o fw.elf && \$$(QEMU) fw.elf"; \
	   echo "# Per target:  fw.elf: SHEAP_LIBC := no   (keep the C library's malloc)"; \
	   echo "#              fw.elf: SHEAP_CXX := yes   (C++ operator new/delete over sheap)"; \
	   echo "SHEAP_DIR := $(SRC)"; \
	   echo "SHEAP_BOARD := $(BOARD)"; \
	   echo "SHEAP_LIB_DIR := $(ABS_B)"; \
	   echo "SHEAP_LIBC_NAME := $(or $(LIBC_TEST),none)"; \
	   echo "CC := $(CC)"; \
	   echo "CXX := $(CXX)"; \
	   echo "# The board's compile and link flags (boards/$(BOARD)/board.mk), and sheap's headers."; \
	   echo "SHEAP_ARCH_CFLAGS := $(ARCH_CFLAGS)"; \
	   echo "SHEAP_ARCH_LDFLAGS := $(ARCH_LDFLAGS)"; \
	   echo "SHEAP_CPPFLAGS := -I$(SRC)/include -I$(SRC)/$(BOARD_DIR) -DSHEAP_BOARD_HEADER='\"board.h\"'"; \
	   echo "CFLAGS := \$$(SHEAP_ARCH_CFLAGS) \$$(SHEAP_CPPFLAGS)"; \
	   echo "CXXFLAGS := \$$(SHEAP_ARCH_CFLAGS) \$$(SHEAP_CPPFLAGS)"; \
	   echo "# The C library binding (include/sheap_libc.h): yes or no, per target."; \
	   echo "SHEAP_LIBC ?= $(SHEAP_LIBC_DEFAULT)"; \
	   echo "SHEAP_LIBC_LDFLAGS = \$$(if \$$(filter yes,\$$(SHEAP_LIBC)),-Xlinker --undefined=malloc)"; \
	   echo "SHEAP_LIBC_LDLIBS = \$$(if \$$(filter yes,\$$(SHEAP_LIBC)),-lsheap_libc)"; \
	   echo "# C++ operator new/delete over sheap (port/libc/sheap_new.cc): yes or no."; \
	   echo "SHEAP_CXX ?= no"; \
	   echo "SHEAP_CXX_LDFLAGS = \$$(if \$$(filter yes,\$$(SHEAP_CXX)),-Xlinker --undefined=sheap_cxx_operators)"; \
	   echo "SHEAP_CXX_LDLIBS = \$$(if \$$(filter yes,\$$(SHEAP_CXX)),-lsheap_cxx)"; \
	   echo "# sheap's board support (console, exit, fault trapping): the demo and tests"; \
	   echo "# link it; a firmware with its own startup and console does not."; \
	   echo "SHEAP_BOARD_LDLIBS := -Wl,--whole-archive -lboard -Wl,--no-whole-archive"; \
	   echo "LDFLAGS = \$$(SHEAP_ARCH_LDFLAGS) -L\$$(SHEAP_LIB_DIR) \$$(SHEAP_LIBC_LDFLAGS) \$$(SHEAP_CXX_LDFLAGS)"; \
	   echo "LDLIBS = \$$(SHEAP_CXX_LDLIBS) \$$(SHEAP_LIBC_LDLIBS) -lsheap $(SHEAP_MK_LDLIBS)"; \
	   echo "QEMU := $(QEMU)"; } > $@

# ---- CMake (issue 16) --------------------------------------------------------------
# CMakeLists.txt and cmake/sheap-toolchain.cmake take a board's compiler,
# flags and source lists from here (one place: board.mk and this Makefile),
# by running `make -s BOARD=<b> [FLAVOR=] [LIBC=] print-cmake`, which prints
# them as CMake set() commands.  Paths are relative to this directory.
cmake_set = @printf 'set(%s [==[%s]==])\n' '$(1)' '$(strip $(2))';
print-cmake:
	$(call cmake_set,SHEAP_MK_BOARD,$(BOARD))
	$(call cmake_set,SHEAP_MK_FLAVOR,$(FLAVOR))
	$(call cmake_set,SHEAP_MK_LIBC,$(LIBC))
	$(call cmake_set,SHEAP_MK_LIBC_NAME,$(LIBC_TEST))
	$(call cmake_set,SHEAP_MK_LIBC_DEFAULT,$(SHEAP_LIBC_DEFAULT))
	$(call cmake_set,SHEAP_MK_CC,$(CC))
	$(call cmake_set,SHEAP_MK_CXX,$(CXX))
	$(call cmake_set,SHEAP_MK_ARCH_CFLAGS,$(ARCH_CFLAGS))
	$(call cmake_set,SHEAP_MK_ARCH_LDFLAGS,$(ARCH_LDFLAGS))
	$(call cmake_set,SHEAP_MK_LDLIBS,$(LDLIBS))
	$(call cmake_set,SHEAP_MK_CORE_CFLAGS,-std=c11 -ffreestanding -fno-builtin $(CORE_NOLIBCALLS))
	$(call cmake_set,SHEAP_MK_PORT_CFLAGS,$(PORT_CFLAGS))
	$(call cmake_set,SHEAP_MK_WARN,$(WARN))
	$(call cmake_set,SHEAP_MK_PORT,$(PORT))
	$(call cmake_set,SHEAP_MK_CORE_SRC,$(CORE_SRC))
	$(call cmake_set,SHEAP_MK_PORT_SRC,$(PORT_SRC))
	$(call cmake_set,SHEAP_MK_BOARD_SRC,$(BOARD_SRC))
	$(call cmake_set,SHEAP_MK_LIBC_SRC,$(wildcard port/libc/*.c))
	$(call cmake_set,SHEAP_MK_CXX_SRC,$(wildcard port/libc/*.cc))
	$(call cmake_set,SHEAP_MK_QEMU,$(QEMU))

# libsheap_cxx.a where board.mk says the board has a C++ toolchain
# (CXX_TEST): not every cross gcc here has a g++ and a C++ library.
lib: $(LIB) $(LIB_BOARD) $(LIB_LIBC) $(if $(CXX_TEST),$(LIB_CXX)) $(B)/sheap.mk

# ---- tests ------------------------------------------------------------------------
# Every test program prints one line "SUITE <name>: N passed, M failed".
# Suites every board runs, plus those its board.mk lists in BOARD_TESTS.
# A board.mk may set UNIT_TESTS (the host's tsan flavour: empty, threaded suites only).
UNIT_TESTS ?= $(wildcard tests/unit/*.c)
UNIT_SRC := $(UNIT_TESTS) $(BOARD_TESTS)
HARNESS_SRC := $(wildcard tests/harness/*.c)
UNIT_BIN := $(patsubst %.c,$(B)/tests/%,$(notdir $(UNIT_SRC)))
HARNESS_OBJ := $(patsubst %.c,$(B)/tests/%.o,$(HARNESS_SRC))

$(B)/tests/tests/harness/%.o: tests/harness/%.c $(GEN) $(wildcard tests/harness/*.h include/*.h core/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) $(TEST_DEFS) $(TEST_CFLAGS) $(ARCH_CFLAGS) -c $< -o $@
vpath %.c tests/unit tests/mmu
vpath %.c tests/static tests/host
vpath %.c tests/smp
$(B)/tests/%: %.c $(HARNESS_OBJ) $(LIB_TEST) $(LIB_BOARD) $(GEN) $(wildcard tests/harness/*.h core/*.h include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) $(TEST_DEFS) $(TEST_CFLAGS) $(ARCH_CFLAGS) $< $(HARNESS_OBJ) \
	  $(ARCH_LDFLAGS) -L$(B) -lsheap_test $(BOARD_LIB) $(LDLIBS) -o $@

# The multi-CPU stress engine (issue 15, tests/smp/smp_stress.c) linked
# into its host driver, one pthread per CPU.
$(B)/tests/test_smp_stress: tests/host/test_smp_stress.c tests/smp/smp_stress.c tests/smp/smp_stress.h \
		$(HARNESS_OBJ) $(LIB_TEST) $(LIB_BOARD) $(GEN) $(wildcard tests/harness/*.h core/*.h include/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) $(TEST_DEFS) $(TEST_CFLAGS) -Itests/smp $(ARCH_CFLAGS) $< tests/smp/smp_stress.c \
	  $(HARNESS_OBJ) $(ARCH_LDFLAGS) -L$(B) -lsheap_test $(BOARD_LIB) $(LDLIBS) -o $@

# Issue 15: the SMP boards' test main (tests/smp/test_smp_board.c, listed
# in BOARD_TESTS by the smp flavours), linked with the shared stress
# engine.  SMP_STRESS=yes (the board.mk default) also runs the engine and
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
		$(HARNESS_OBJ) $(LIB_TEST) $(LIB_BOARD) $(GEN) $(SMP_STRESS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) $(TEST_DEFS) $(TEST_CFLAGS) -Itests/smp $(if $(filter yes,$(SMP_STRESS)),-DSMP_BOARD_STRESS) \
	  $(ARCH_CFLAGS) $< tests/smp/smp_stress.c $(HARNESS_OBJ) $(ARCH_LDFLAGS) -L$(B) -lsheap_test $(BOARD_LIB) $(LDLIBS) -o $@

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
	  tools/run_mask_probes.sh "$(B)" "$(subst -kernel,-plugin $(BENCH_PLUGIN)$(bench_comma)out=$(B)/tests/mask-bound.events -kernel,$(RUN))" \
	    $(B)/tests/mask-bound "$(RESULTS)" $(call BENCH_BOUND,mask_max); fi
ifneq ($(LIBC_TEST),)
	@NM=$(NM) tools/run_libc_test.sh $(B) $(LIBC_TEST) "$(RUN)" $(RESULTS)
endif
	@# issue 16: C++ operators (CXX_TEST), the minimal firmware of its own
	@# (MINIMAL_TEST), the CMake consumer builds (CMAKE_TEST); board.mk says which.
	@if [ -n "$(CXX_TEST)" ]; then tools/run_cxx_test.sh $(B) "$(RUN)" $(RESULTS); fi
	@if [ -n "$(MINIMAL_TEST)" ]; then NM=$(NM) tools/run_minimal_test.sh $(B) "$(RUN)" $(RESULTS); fi
	@if [ -n "$(CMAKE_TEST)" ]; then tools/run_cmake_test.sh $(BOARD) $(B) "$(RUN)" $(RESULTS); fi
	@# The ARMv8-M guard compiles to a real guard for v8-M and v8.1-M, gcc and clang.
	@if [ -n "$(GUARD_ARCH_CHECK)" ]; then tools/check_guard_arch.sh $(B) >> $(RESULTS); fi
	@# issue 18: Cortex-M3 code size and static RAM against tests/bench/bounds.txt.
	@if [ -n "$(SIZE_CHECK)" ]; then tools/check_code_size.sh $(B) >> $(RESULTS); fi

ifeq ($(origin BOARD),command line)
TEST_BOARDS := $(BOARD)
else
TEST_BOARDS := $(BOARDS_ALL)
endif
# make BOARD=<b> LIBC=<c> test: that C library only, native flavour.
TEST_ONE_LIBC := $(if $(filter command,$(origin LIBC)),$(LIBC))

test: deps-check
	@mkdir -p $(BUILD) && rm -f $(RESULTS)
	@set -e; for b in $(TEST_BOARDS); do \
	  if [ "$$b" = host ]; then \
	    for f in $$(sed -n 's/^TEST_FLAVORS *:*= *//p' boards/host/board.mk); do \
	      $(MAKE) --no-print-directory BOARD=host FLAVOR=$$f suite RESULTS=$(RESULTS); done; \
	    $(MAKE) --no-print-directory BOARD=host FLAVOR=fuzz fuzz-ci RESULTS=$(RESULTS); \
	  elif [ -n "$(TEST_ONE_LIBC)" ]; then \
	    $(MAKE) --no-print-directory BOARD=$$b FLAVOR=native LIBC=$(TEST_ONE_LIBC) suite RESULTS=$(RESULTS); \
	  else \
	    for f in $$(sed -n 's/^TEST_FLAVORS *:*= *//p' boards/$$b/board.mk); do \
	      $(MAKE) --no-print-directory BOARD=$$b FLAVOR=$$f suite RESULTS=$(RESULTS); done; \
	    for c in $$(sed -n 's/^TEST_LIBCS *:*= *//p' boards/$$b/board.mk); do \
	      $(MAKE) --no-print-directory BOARD=$$b FLAVOR=native LIBC=$$c suite RESULTS=$(RESULTS); done; \
	  fi; \
	done
	@tools/summarize.sh $(RESULTS)

# ---- soak ----------------------------------------------------------------------------
# make soak: the stress suite at SOAK_OPS operations (default 2*10^7, the heap
# validated every 10^5) on the host; make BOARD=<b> soak on a board.
SOAK_OPS ?= 20000000
ifeq ($(origin BOARD),command line)
SOAK_BOARD := $(BOARD)
else
SOAK_BOARD := host
endif

$(B)/soak: tests/unit/test_stress.c $(HARNESS_OBJ) $(LIB_TEST) $(LIB_BOARD) $(GEN)
	$(CC) $(CPPFLAGS_COMMON) $(TEST_DEFS) -DSTRESS_OPS=$(SOAK_OPS) -DCHECK_EVERY=100000 $(TEST_CFLAGS) \
	  $(ARCH_CFLAGS) $< $(HARNESS_OBJ) $(ARCH_LDFLAGS) -L$(B) -lsheap_test $(BOARD_LIB) $(LDLIBS) -o $@

soak: deps-check
	@$(MAKE) --no-print-directory BOARD=$(SOAK_BOARD) soak-run

soak-run: $(B)/soak
	$(RUN) $(B)/soak

# ---- fuzzing (issues: reliability, 20) -------------------------------------------------
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

$(B)/fuzz_heap: tests/fuzz/fuzz_heap.c tests/harness/fault_backend.c $(LIB_TEST) $(GEN) $(wildcard core/*.h include/*.h)
	$(CC) $(CPPFLAGS_COMMON) -Iport/$(PORT) $(TEST_DEFS) $(TEST_CFLAGS) $(ARCH_CFLAGS) $< tests/harness/fault_backend.c \
	  $(ARCH_LDFLAGS) \
	  -L$(B) -lsheap_test -o $@

$(B)/fuzz_heap_sa: tests/fuzz/fuzz_heap.c tests/harness/fault_backend.c $(LIB_TEST) $(GEN) $(wildcard core/*.h include/*.h)
	$(CC) $(CPPFLAGS_COMMON) -Iport/$(PORT) $(TEST_DEFS) -DFUZZ_STANDALONE $(TEST_CFLAGS) $(ARCH_CFLAGS) $< \
	  tests/harness/fault_backend.c $(ARCH_LDFLAGS) -L$(B) -lsheap_test -o $@

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

# ---- run ---------------------------------------------------------------------------
run: deps-check
	@$(MAKE) --no-print-directory BOARD=$(BOARD) FLAVOR=$(or $(FLAVOR),native) $(B)/demo
	$(RUN) $(B)/demo

$(B)/demo: tests/demo/demo.c $(LIB) $(LIB_BOARD) $(GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) $(TEST_CFLAGS) $(ARCH_CFLAGS) $< $(ARCH_LDFLAGS) -L$(B) -lsheap $(BOARD_LIB) $(LDLIBS) -o $@

# ---- benchmarks (issue #8) ----------------------------------------------------------
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

$(B)/bench/libpico_malloc.a: tools/bench_pico_malloc.sh
	@mkdir -p $(dir $@)
	tools/bench_pico_malloc.sh $@ $(CC) $(ARCH_CFLAGS)
$(B)/bench/bench-%: tests/bench/bench_target.c $(BENCH_SRC) $(BENCH_HDR) $(LIB) $(LIB_BOARD) $(GEN) \
		$(B)/bench/libpico_malloc.a $(BENCH_LD)
	$(CC) $(CPPFLAGS_COMMON) $(TEST_CFLAGS) $(ARCH_CFLAGS) -DBENCH_WORKLOAD=$* $(if $(BENCH_PROBES),-DBENCH_PROBES) \
	  tests/bench/bench_target.c \
	  $(BENCH_SRC) $(BENCH_LDFLAGS) -L$(B) -L$(B)/bench -lsheap -lpico_malloc $(BOARD_LIB) $(LDLIBS) -o $@
$(B)/bench/bench_host: tests/bench/bench_host.c $(BENCH_SRC) $(BENCH_HDR) $(LIB) $(GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) $(TEST_CFLAGS) $(ARCH_CFLAGS) tests/bench/bench_host.c $(BENCH_SRC) \
	  $(ARCH_LDFLAGS) -L$(B) -lsheap -ldl -o $@

# The same small-workload image counted by the plugin on a board that has a
# counter: the report checks that both ways give the same statistics.
$(B)/bench/probe-%: tests/bench/bench_target.c $(BENCH_SRC) $(BENCH_HDR) $(LIB) $(LIB_BOARD) $(GEN) \
		$(B)/bench/libpico_malloc.a $(BENCH_LD)
	$(CC) $(CPPFLAGS_COMMON) $(TEST_CFLAGS) $(ARCH_CFLAGS) -DBENCH_WORKLOAD=$* -DBENCH_PROBES tests/bench/bench_target.c \
	  $(BENCH_SRC) $(BENCH_LDFLAGS) -L$(B) -L$(B)/bench -lsheap -lpico_malloc $(BOARD_LIB) $(LDLIBS) -o $@
bench-probe-check: $(B)/bench/probe-0 $(BENCH_PLUGIN)
	@echo "  bench $(BOARD): plugin cross-check"
	@$(subst -kernel,-plugin $(BENCH_PLUGIN)$(bench_comma)out=$(BENCH_OUT)/$(BOARD)-probe.events -kernel,$(RUN)) \
	  $(B)/bench/probe-0 > $(BENCH_OUT)/$(BOARD)-probe.log 2>&1
	@$(BENCH_PYTHON) tools/bench_probes.py $(BENCH_OUT)/$(BOARD)-probe.events $(BENCH_OUT)/$(BOARD)-probe.log \
	  > $(BENCH_OUT)/$(BOARD).probecheck

$(BENCH_PLUGIN): tests/bench/icount_plugin.c
	@mkdir -p $(dir $@)
	gcc -shared -fPIC -O2 -std=gnu11 $(WARN) $< -o $@

# One board's images, run one after the other into build/bench/<board>.txt,
# under BENCH_RUN where board.mk sets one (a flavour whose tests run without
# an exact counter), else RUN.
BENCH_RUN ?= $(RUN)
bench-board: $(BENCH_IMAGES) $(if $(BENCH_PROBES),$(BENCH_PLUGIN))
	@mkdir -p $(BENCH_OUT) && : > $(BENCH_OUT)/$(BOARD).txt
	@for i in $(BENCH_WL_IDX); do \
	  echo "  bench $(BOARD) workload $$i"; \
	  log=$(BENCH_OUT)/$(BOARD)-$$i.log; ev=$(BENCH_OUT)/$(BOARD)-$$i.events; \
	  $(if $(BENCH_PROBES),$(subst -kernel,-plugin $(BENCH_PLUGIN)$(bench_comma)out=$$ev -kernel,$(RUN)),$(BENCH_RUN)) \
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

# Issue 15: the SMP build's instructions per call counted on one CPU
# (-icount shift=0), every workload, against the default build, on the
# boards with an smp flavour: bench-board FLAVOR=smp (figures in
# build/bench/smp), then tools/bench_smp.py writes the section "SMP build on
# one CPU" of docs/BENCHMARKS.md between markers, with the issue's 20 %
# bound on the small workload.  The default build's figures come from
# bench-board too: make bench has just made them (BENCH_SMP_NATIVE=no),
# make bench-smp alone makes them again.
.PHONY: bench-smp
BENCH_SMP_BOARDS := qemu-virt-aarch64 qemu-virt-riscv64
BENCH_SMP_NATIVE ?= yes
bench-smp: bench-deps-check
	@for b in $(BENCH_SMP_BOARDS); do \
	  $(if $(filter yes,$(BENCH_SMP_NATIVE)),$(MAKE) --no-print-directory BOARD=$$b bench-board || exit 1;) \
	  $(MAKE) --no-print-directory BOARD=$$b FLAVOR=smp bench-board || exit 1; \
	done
	$(BENCH_PYTHON) tools/bench_smp.py $(BENCH_OUT) docs $(BENCH_SMP_BOARDS)

# Issue 15: multi-threaded host throughput (tests/bench/bench_threads.c):
# 1, 2 and 4 threads, small-object churn and producer/consumer cross-thread
# frees, sheap twice (the host smp flavour's SHEAP_SMP=1 build with per-CPU
# caches, build/host-smp, and the single-lock SHEAP_SMP=0 build of the
# native flavour, build/host) against glibc, mimalloc and jemalloc
# (wall-clock time, a figure only), and the shared lock taken per 1,000
# operations of the 4-thread stress (tests/smp) in both builds, counted by
# a copy of the core built with tests/bench/lockcount/sheap_port_lock.h.
# Written into docs/BENCHMARKS.md between markers (tools/bench_threads.py).
# Host only.
.PHONY: bench-threads
BENCH_THREADS_REPS ?= 5
BENCH_THREADS_OPS ?= 2000000
BENCH_THREADS_FLAVORS := native smp
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

# Issue 17: instructions, footprint and code size per hardening level
# (qemu-virt-aarch64 flavours native hooks hard0 hard2 hard3s), written into
# docs/BENCHMARKS.md between markers.
.PHONY: bench-levels
bench-levels: bench-deps-check
	tools/bench_levels.sh $(BENCH_OUT)/levels.txt
	$(BENCH_PYTHON) tools/bench_levels.py $(BENCH_OUT)/levels.txt docs

# The CI check (make test): the small workload's steady-state maxima on a
# board whose board.mk sets BENCH_CHECK, against tests/bench/bounds.txt.
BENCH_BOUND = $(shell sed -n 's/^$(1) *= *\([0-9]*\).*/\1/p' tests/bench/bounds.txt)
$(B)/tests/bench-bound: tests/bench/bench_target.c $(BENCH_SRC) $(BENCH_HDR) tests/bench/bounds.txt $(LIB) $(LIB_BOARD) $(GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) $(TEST_CFLAGS) $(ARCH_CFLAGS) -DBENCH_CHECK \
	  -DBENCH_BOUND_MALLOC_MAX=$(call BENCH_BOUND,malloc_max) -DBENCH_BOUND_FREE_MAX=$(call BENCH_BOUND,free_max) \
	  -DBENCH_BOUND_RUN_MALLOC_MAX=$(call BENCH_BOUND,run_malloc_max) \
	  -DBENCH_BOUND_RUN_FREE_MAX=$(call BENCH_BOUND,run_free_max) \
	  tests/bench/bench_target.c $(BENCH_SRC) $(ARCH_LDFLAGS) -L$(B) -lsheap $(BOARD_LIB) $(LDLIBS) -o $@

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
$(B)/bench/mask: $(MASK_SRC) $(BENCH_HDR) $(B)/libsheap_mask.a $(LIB_BOARD) $(GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) $(TEST_CFLAGS) $(ARCH_CFLAGS) $(MASK_DEFS) $(MASK_DIAG) $(MASK_SRC) $(BENCH_LDFLAGS) \
	  -L$(B) -lsheap_mask $(BOARD_LIB) $(LDLIBS) -o $@
$(B)/tests/mask-bound: $(MASK_SRC) $(BENCH_HDR) tests/bench/bounds.txt $(B)/libsheap_mask.a $(LIB_BOARD) $(GEN)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) $(TEST_CFLAGS) $(ARCH_CFLAGS) $(MASK_DEFS) -DMASK_BOUND=$(call BENCH_BOUND,mask_max) \
	  $(MASK_SRC) $(BENCH_LDFLAGS) -L$(B) -lsheap_mask $(BOARD_LIB) $(LDLIBS) -o $@
.PHONY: mask-board mask-bench
mask-board: $(B)/bench/mask $(if $(BENCH_PROBES),$(BENCH_PLUGIN))
	@mkdir -p $(BENCH_OUT)
	@echo "  mask $(BOARD)"
ifeq ($(BENCH_PROBES),)
	@$(RUN) $(B)/bench/mask > $(BENCH_OUT)/$(BOARD)-mask.txt 2>&1 || \
	  { echo "mask image failed on $(BOARD):"; tail -n 20 $(BENCH_OUT)/$(BOARD)-mask.txt; exit 1; }
else
	@$(subst -kernel,-plugin $(BENCH_PLUGIN)$(bench_comma)out=$(BENCH_OUT)/$(BOARD)-mask.events -kernel,$(RUN)) \
	  $(B)/bench/mask > $(BENCH_OUT)/$(BOARD)-mask.log 2>&1 || \
	  { echo "mask image failed on $(BOARD):"; tail -n 20 $(BENCH_OUT)/$(BOARD)-mask.log; exit 1; }
	@$(BENCH_PYTHON) tools/mask_probes.py $(BENCH_OUT)/$(BOARD)-mask.events $(BENCH_OUT)/$(BOARD)-mask.log \
	  > $(BENCH_OUT)/$(BOARD)-mask.txt
endif
mask-bench: deps-check
	@for b in $(BENCH_BOARDS) $(BENCH_PROBE_BOARDS); do $(MAKE) --no-print-directory BOARD=$$b mask-board || exit 1; done
	$(BENCH_PYTHON) tools/mask_report.py $(BENCH_OUT) docs

DEB_PACKAGES_BENCH := libmimalloc-dev libjemalloc-dev python3-matplotlib gcc-arm-none-eabi picolibc-arm-none-eabi
bench-deps-check: deps-check
	@missing=; [ -f /usr/include/mimalloc.h ] || missing="$$missing libmimalloc-dev"; \
	 [ -f /usr/include/jemalloc/jemalloc.h ] || missing="$$missing libjemalloc-dev"; \
	 $(BENCH_PYTHON) -c 'import matplotlib' 2>/dev/null || missing="$$missing python3-matplotlib"; \
	 command -v arm-none-eabi-gcc >/dev/null || missing="$$missing gcc-arm-none-eabi"; \
	 [ -f /usr/lib/picolibc/arm-none-eabi/picolibc.specs ] || missing="$$missing picolibc-arm-none-eabi"; \
	 if [ -n "$$missing" ]; then echo "missing:$$missing; running make deps"; $(MAKE) --no-print-directory deps; fi

# ---- dependencies --------------------------------------------------------------------
# Everything the build and the tests use, from Debian 12's archive.
DEB_PACKAGES := make gcc libc6-dev python3 binutils \
	gcc-i686-linux-gnu libc6-dev-i386-cross qemu-user \
	qemu-system-arm gcc-aarch64-linux-gnu picolibc-aarch64-linux-gnu \
	qemu-system-misc gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf \
	gcc-arm-none-eabi picolibc-arm-none-eabi \
	clang libclang-rt-14-dev valgrind
DEB_PACKAGES += $(DEB_PACKAGES_BENCH)
# issue 16: newlib (nano and full) and C++ on the Arm boards, CMake and the
# host C++ compiler for the consumer builds.
DEB_PACKAGES += libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib libstdc++-arm-none-eabi-picolibc \
	cmake g++

deps:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	 $$SUDO apt-get update && \
	 DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends $(DEB_PACKAGES)

# ---- deps-check (issue 16) ---------------------------------------------------------
# Install packages only when something the boards about to be built need is
# missing (run and test call this): the NEEDS of every flavour and C library
# of those boards (BOARD=<b> on the command line: that board only), mapped
# to packages by tools/deps.txt.  make deps installs everything at once.
NEEDS_COMMON := make python3
print-needs:
	@echo $(NEEDS)
DEPS_BOARDS := $(if $(filter command,$(origin BOARD)),$(BOARD),$(BOARDS_ALL))
deps-check:
	@needs="$(NEEDS_COMMON)"; for b in $(DEPS_BOARDS); do \
	  if [ "$$b" = host ]; then fl="native i686 san fuzz"; else \
	    fl="$$(sed -n 's/^TEST_FLAVORS *:*= *//p' boards/$$b/board.mk)"; fi; \
	  for f in $${fl:-native}; do needs="$$needs $$($(MAKE) -s --no-print-directory BOARD=$$b FLAVOR=$$f print-needs)"; done; \
	  for c in $$(sed -n 's/^TEST_LIBCS *:*= *//p' boards/$$b/board.mk); do \
	    needs="$$needs $$($(MAKE) -s --no-print-directory BOARD=$$b LIBC=$$c print-needs)"; done; \
	done; tools/deps_check.sh $$needs

clean:
	rm -rf build
.SECONDARY:
