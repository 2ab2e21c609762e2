# mk/library.mk - the libraries of one board: the build directory, the flags
# every target shares, the sources (core, the port's port.mk, the board),
# the objects, libsheap.a and its test and measurement variants, libboard.a,
# the C library and C++ bindings (bindings/), and `make lib`.  Also the one
# recipe that links a program of this board (link_program).

# ---- toolchain -----------------------------------------------------------------
# A cross board names its toolchain by prefix (CROSS); the host's flavours
# set CC themselves and use the build machine's ar and nm.
ifneq ($(CROSS),)
CC := $(CROSS)gcc
AR := $(CROSS)ar
NM := $(CROSS)nm
endif
NM ?= nm

# ---- build directories -----------------------------------------------------------
# Build directory per board, flavour and C library (the board's first in
# LIBCS is the default and adds nothing to the name).  BUILD moves the
# whole tree; B, given on the command line, is one board's directory.
BUILD ?= build
LIBC_DEFAULT := $(firstword $(LIBCS))
LIBC_SUFFIX := $(if $(filter-out $(LIBC_DEFAULT),$(LIBC)),-$(LIBC))
B := $(BUILD)/$(BOARD)$(if $(filter-out native,$(FLAVOR)),-$(FLAVOR))$(LIBC_SUFFIX)
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
TEST_CFLAGS := -std=gnu11 $(WARN) -Wno-missing-prototypes -Icore -Itests/harness -Iboards/common
# Test builds add debug asserts and the expensive tier (each span a
# transition touched is validated); the release library (libsheap.a) has
# neither.  Fault injection is a test backend in tests/harness, never in a
# library (make test checks libsheap.a with nm).
TEST_DEFS ?= -DSHEAP_DEBUG -DSHEAP_DEBUG_EXPENSIVE

# ---- sources ---------------------------------------------------------------------
# The port names its own sources (PORT_SRC) in port/<port>/port.mk: its
# directory's files and the parts of port/common it builds on.
include port/$(PORT)/port.mk
CORE_SRC := $(wildcard core/*.c)
# A shared board piece is a .c or a .S file in boards/common.
BOARD_SRC := $(wildcard $(BOARD_DIR)/*.c $(BOARD_DIR)/*.S $(foreach c,$(BOARD_COMMON),boards/common/$(c).c boards/common/$(c).S))
LIBC_SRC := $(wildcard bindings/libc/*.c)
CXX_SRC := $(wildcard bindings/cxx/*.cc)
GEN := $(B)/gen/sheap_size_classes.h

obj = $(patsubst %.cc,$(B)/$(1)/%.o,$(patsubst %.S,$(B)/$(1)/%.o,$(patsubst %.c,$(B)/$(1)/%.o,$(2))))

# ---- generated size classes ---------------------------------------------------
$(GEN): tools/gen_size_classes.py include/sheap_config.h $(BOARD_DIR)/board.h
	@mkdir -p $(dir $@)
	@printf '#include "sheap_config.h"\nSHEAP_PAGE_SHIFT SHEAP_MAX_SMALL_SIZE\n' | \
	  $(CC) $(CPPFLAGS_COMMON) $(ARCH_CFLAGS) -E -P -x c - | tail -n 1 > $(B)/gen/geometry.txt
	python3 tools/gen_size_classes.py --cpp "$$(cat $(B)/gen/geometry.txt)" $@

# ---- objects -------------------------------------------------------------------
# rel: the release build; dbg: the test build (TEST_DEFS); mask: the core
# for masked-stretch measurement (tests/bench/mask_target.c).  The core
# sees its port's directory only for the optional inline lock.
# board.h only: the test sizing (board_test.h) does not rebuild the core.
CORE_DEPS := $(GEN) $(wildcard core/*.h include/*.h port/$(PORT)/sheap_port_lock.h port/common/sheap_*_lock.h port/common/sheap_*_irq.h) $(BOARD_DIR)/board.h
core_cc = $(CC) $(CPPFLAGS_COMMON) -Iport/$(PORT) $(1) $(CORE_CFLAGS) $(ARCH_CFLAGS) $(2) -c $< -o $@
$(B)/rel/core/%.o: core/%.c $(CORE_DEPS)
	@mkdir -p $(dir $@)
	$(call core_cc)
$(B)/dbg/core/%.o: core/%.c $(CORE_DEPS)
	@mkdir -p $(dir $@)
	$(call core_cc,$(TEST_DEFS))
$(B)/mask/core/%.o: core/%.c $(CORE_DEPS)
	@mkdir -p $(dir $@)
	$(call core_cc,-DSHEAP_MASK_TRACE,$(MASK_DIAG))
PORT_DEPS := $(wildcard include/*.h port/common/*.h port/$(PORT)/*.h) $(BOARD_DIR)/board.h
# Ports, boards and bindings, too, never get loops turned into
# memset/memcpy/memmove calls; make test checks their objects with nm
# (tools/check_no_libcalls.sh).
port_cc = $(CC) $(CPPFLAGS_COMMON) $(1) $(PORT_CFLAGS) $(CORE_NOLIBCALLS) $(WARN) $(ARCH_CFLAGS) -c $< -o $@
$(B)/rel/port/%.o: port/%.c $(PORT_DEPS)
	@mkdir -p $(dir $@)
	$(call port_cc,$(PORT_CPPFLAGS))
$(B)/dbg/port/%.o: port/%.c $(PORT_DEPS)
	@mkdir -p $(dir $@)
	$(call port_cc,$(PORT_CPPFLAGS) $(TEST_DEFS))
$(B)/rel/boards/%.o: boards/%.c $(PORT_DEPS) $(wildcard boards/common/*.h) $(BOARD_DIR)/board_test.h
	@mkdir -p $(dir $@)
	$(call port_cc,-Iboards/common)
$(B)/rel/boards/%.o: boards/%.S
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS_COMMON) $(ARCH_CFLAGS) -c $< -o $@
# The bindings see the public headers only.
$(B)/rel/bindings/%.o: bindings/%.c $(wildcard include/*.h) $(BOARD_DIR)/board.h
	@mkdir -p $(dir $@)
	$(call port_cc)

# ---- libraries ------------------------------------------------------------------
LIB := $(B)/libsheap.a
LIB_TEST := $(B)/libsheap_test.a
LIB_BOARD := $(B)/libboard.a
LIB_LIBC := $(B)/libsheap_libc.a
LIB_CXX := $(B)/libsheap_cxx.a
# The board library is linked whole: its startup (exception vectors,
# counters, console) must be in every image, also when the program itself
# names none of its symbols.
BOARD_LIB := -Wl,--whole-archive -lboard -Wl,--no-whole-archive

$(LIB): $(call obj,rel,$(CORE_SRC) $(PORT_SRC))
$(B)/libsheap_mask.a: $(call obj,mask,$(CORE_SRC)) $(call obj,rel,$(PORT_SRC))
$(LIB_TEST): $(call obj,dbg,$(CORE_SRC) $(PORT_SRC))
$(LIB_BOARD): $(call obj,rel,$(BOARD_SRC))
$(LIB_LIBC): $(call obj,rel,$(LIBC_SRC))
$(LIB_CXX): $(call obj,rel,$(CXX_SRC))
$(B)/%.a:
	@rm -f $@
	$(AR) rcs $@ $^

# The C library binding (bindings/libc, rules in include/sheap_libc.h):
# malloc, free, ... over sheap's API, in an archive of its own so that
# libsheap.a and the host test programs keep the C library's malloc.  Built
# per C library (picolibc, newlib nano, full newlib, glibc: each build
# directory has its own).  sheap.mk links it by default where the board's
# libc is picolibc or newlib, before -lsheap, with malloc forced undefined
# so that the linker takes the binding before it searches libc.a (see
# include/sheap_libc.h); a firmware target opts out with SHEAP_LIBC := no.
# On the host it is opt-in (SHEAP_LIBC=yes).
# Which C library the binding replaces and tests: picolibc on every board
# that links with picolibc.specs, newlib where board.mk's LIBC says so; a
# board.mk may set it (the host's native flavour sets glibc).
LIBC_TEST ?= $(if $(findstring picolibc.specs,$(ARCH_CFLAGS) $(ARCH_LDFLAGS)),picolibc,$(filter newlib%,$(LIBC)))
SHEAP_LIBC_DEFAULT := $(if $(filter picolibc newlib%,$(LIBC_TEST)),yes,no)

# The C++ binding (bindings/cxx/sheap_new.cc): every standard form of
# operator new and delete over sheap, opt-in (libsheap_cxx.a, SHEAP_CXX=yes
# in sheap.mk), built on the boards whose board.mk sets CXX_TEST.  CXX is
# the C compiler's g++ unless board.mk sets it.
CXX := $(patsubst %gcc,%g++,$(CC))
CXX_STD ?= -std=gnu++17
# -Wshadow is left out: C++ sees sheap.h's sheap_stats() and struct
# sheap_stats as a function hiding a constructor.
CXX_WARN := -Wall -Wextra -Werror
$(B)/rel/bindings/%.o: bindings/%.cc $(wildcard include/*.h) $(BOARD_DIR)/board.h
	@mkdir -p $(dir $@)
	$(CXX) $(CPPFLAGS_COMMON) $(CXX_STD) $(CXX_WARN) $(ARCH_CFLAGS) -c $< -o $@

# libsheap_cxx.a where board.mk says the board has a C++ toolchain
# (CXX_TEST): not every cross gcc here has a g++ and a C++ library.
.PHONY: lib
lib: $(LIB) $(LIB_BOARD) $(LIB_LIBC) $(if $(CXX_TEST),$(LIB_CXX)) $(B)/sheap.mk

# ---- linking a program of this board ------------------------------------------------
# link_program(flags and sources, link flags, libraries): the demo, a test
# or a benchmark image; the libraries come from $(B), then the whole board
# library and the board's LDLIBS.
define link_program
@mkdir -p $(dir $@)
$(CC) $(CPPFLAGS_COMMON) $(TEST_CFLAGS) $(ARCH_CFLAGS) $(1) $(2) -L$(B) $(3) $(BOARD_LIB) $(LDLIBS) -o $@
endef
