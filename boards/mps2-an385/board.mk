# board.mk for "mps2-an385": toolchain, flags and the QEMU command, in one place.
#   FLAVOR=native  16 MB heap in PSRAM, 4 MB arenas (build/mps2-an385)
#   FLAVOR=small   a 256 KB part: 192 KB heap, 64 KB arenas, 1 KB pages
#                  (build/mps2-an385-small, -DBOARD_SMALL_RAM, see board.h)
#   FLAVOR=hard3   hardening level 3 with hooks and owner tags,
#                  the native layout; a sampled block's guard page under an
#                  MPU region of its own (build/mps2-an385-hard3)
# `make test` runs all three (TEST_FLAVORS), then the newlib variants
# (TEST_LIBCS, below).
#
# Cortex-M3 (ARMv7-M), Thumb-2, no FPU: picolibc's thumb/v7-m/nofp multilib.
# --specs=picolibc.specs is in ARCH_CFLAGS only: gcc refuses it twice, and
# every link line here passes both ARCH_CFLAGS and ARCH_LDFLAGS.
# -O2 for the tests; the size figures in the report are taken at -Os
# (OPT=-Os builds the same tree that way).
FLAVOR ?= native
TEST_FLAVORS := native small hard3
PORT := static
# Shared board code (boards/common): resuming after expected faults, the
# console, the Cortex-M vector table and fault handler.
BOARD_COMMON := expected_fault console cortex_m
CROSS := arm-none-eabi-
OPT ?= -O2
ifeq ($(FLAVOR),small)
BOARD_MODE_FLAGS := -DBOARD_SMALL_RAM
BOARD_LD := mps2-an385-small.ld
else ifeq ($(FLAVOR),hard3)
BOARD_MODE_FLAGS := -DSHEAP_HARDENING=3 -DSHEAP_HOOKS=1 -DSHEAP_OWNER_TAGS=1 -DSHEAP_GUARD_SAMPLE=0x40000000
BOARD_LD := mps2-an385.ld
else
BOARD_MODE_FLAGS :=
BOARD_LD := mps2-an385.ld
endif
# LIBC: the C library images link, each in its own build
# directory (build/mps2-an385-<libc> unless picolibc):
#   picolibc     the default (picolibc.specs, semihosting crt0 and oslib)
#   newlib-nano  newlib's nano variant (nano.specs) with newlib's plain
#                crt0 and libnosys (nosys.specs); the board library's
#                boards/common/newlib_semihost.c gives the system calls
#                over semihosting (not librdimon: see that file); native
#                flavour only (linker/mps2-an385-newlib.ld)
#   newlib       full newlib, the same way
LIBCS := picolibc newlib-nano newlib
TEST_LIBCS := newlib-nano newlib
LIBC ?= picolibc
ifeq ($(LIBC),picolibc)
LIBC_CFLAGS := --specs=picolibc.specs
LIBC_LDFLAGS := --crt0=semihost --oslib=semihost -T$(CURDIR)/linker/$(BOARD_LD)
else ifeq ($(LIBC),newlib-nano)
LIBC_CFLAGS := --specs=nano.specs
LIBC_LDFLAGS := --specs=nosys.specs -T$(CURDIR)/linker/mps2-an385-newlib.ld
BOARD_COMMON += newlib_semihost
else ifeq ($(LIBC),newlib)
LIBC_CFLAGS :=
LIBC_LDFLAGS := --specs=nosys.specs -T$(CURDIR)/linker/mps2-an385-newlib.ld
BOARD_COMMON += newlib_semihost
else
$(error LIBC=$(LIBC): mps2-an385 links one of $(LIBCS))
endif
ifneq ($(filter newlib%,$(LIBC)),)
ifeq ($(FLAVOR),small)
$(error LIBC=$(LIBC): newlib is built for the native flavour only (linker/mps2-an385-newlib.ld))
endif
endif
ARCH_CFLAGS := $(LIBC_CFLAGS) -mcpu=cortex-m3 -mthumb $(BOARD_MODE_FLAGS) $(OPT) -g \
	-ffunction-sections -fdata-sections
ARCH_LDFLAGS := $(LIBC_LDFLAGS) -Wl,--gc-sections
QEMU := qemu-system-arm -M mps2-an385 -nographic -semihosting-config enable=on,target=native \
	-monitor none -serial stdio -net none -kernel
RUN := timeout 300 $(QEMU)
# Commands and files (tools/deps.txt names their packages): the picolibc
# and newlib builds, C++ on both (tests/cxx) and the CMake consumer build.
NEEDS := arm-none-eabi-gcc arm-none-eabi-g++ qemu-system-arm cmake \
	/usr/lib/picolibc/arm-none-eabi/picolibc.specs \
	/usr/lib/picolibc/arm-none-eabi/lib/thumb/v7-m/nofp/libstdc++.a \
	/usr/lib/arm-none-eabi/newlib/thumb/v7-m/nofp/libc_nano.a \
	/usr/lib/arm-none-eabi/newlib/thumb/v7-m/nofp/libstdc++.a
BOARD_TESTS := tests/static/test_static.c
# tests/fault: an unexpected MemManage fault (a load from a page handed back
# to the port, under the MPU guard) is reported and exits non-zero.
FAULT_TEST := yes
# C++ (libsheap_cxx.a and tests/cxx) on every C library; the minimal
# firmware of its own and the CMake consumer builds with picolibc, native flavour.
CXX_TEST := yes
MINIMAL_TEST := $(if $(filter picolibc,$(LIBC)),$(if $(filter native,$(FLAVOR)),yes))
CMAKE_TEST := $(MINIMAL_TEST)
# Code size and static RAM of malloc, calloc, realloc and free on
# Cortex-M3 -Os (tools/check_code_size.sh; both flavours' figures, once).
SIZE_CHECK := $(MINIMAL_TEST)
# make test checks the longest interrupt-masked stretch of every call against
# mask_max in tests/bench/bounds.txt (tests/bench/mask_target.c, counted by
# the QEMU plugin tests/bench/icount_plugin.c: no counter on M-profile).
MASK_CHECK := $(if $(filter native,$(FLAVOR)),$(if $(filter newlib%,$(LIBC)),,yes))
