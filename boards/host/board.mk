# board.mk for "host": toolchain and flags of every host flavour, in one place.
#   FLAVOR=native  the build machine's gcc, 64-bit
#   FLAVOR=i686    32-bit: i686-linux-gnu-gcc -static, run under qemu-i386
#                  (gcc -m32 cannot coexist with the aarch64 cross gcc here);
#                  UBSan traps (its static runtime does not link on i686)
#   FLAVOR=san     64-bit with AddressSanitizer and UBSan
#   FLAVOR=hard0   hardening level 0
#   FLAVOR=hard2   hardening level 2, hooks and owner tags, ASan and UBSan
#   FLAVOR=hard3   hardening level 3 (guard pages) and owner tags
#   FLAVOR=tsan    64-bit with ThreadSanitizer: the threaded suites only
#   FLAVOR=fuzz    clang with libFuzzer, ASan and UBSan (make fuzz)
#   FLAVOR=smp     SHEAP_SMP=1 (per-CPU caches, remote frees),
#                  64-bit -O2; every suite runs (single-threaded ones play
#                  one CPU, or several through sheap_hosted_set_cpu)
FLAVOR ?= native
PORT := hosted
# What `make test` runs here (see mk/tests.mk): the suites of each flavour,
# then the fuzzer's short pass in the fuzz flavour.
TEST_FLAVORS := native i686 san hard0 hard2 hard3 smp tsan
TEST_TARGETS := fuzz:fuzz-ci
# The build machine's gcc, 64-bit, run directly: every flavour but i686 and
# fuzz, which set their own.
CC := gcc
ARCH_LDFLAGS :=
RUN :=
NEEDS := gcc
ifeq ($(FLAVOR),i686)
CC := i686-linux-gnu-gcc
ARCH_CFLAGS := -O2 -g -fsanitize=undefined -fsanitize-undefined-trap-on-error
ARCH_LDFLAGS := -static
RUN := qemu-i386
NEEDS := i686-linux-gnu-gcc qemu-i386 /usr/i686-linux-gnu/lib/libc.a
else ifeq ($(FLAVOR),fuzz)
CC := clang
CORE_NOLIBCALLS := # a gcc flag; this build runs with libc anyway
ARCH_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
ARCH_LDFLAGS := -fsanitize=fuzzer,address,undefined
NEEDS := clang /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a
else ifeq ($(FLAVOR),hard2)
# Hardening level 2 with the hooks and owner tags compiled in, under ASan
# and UBSan like the san flavour.
ARCH_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer \
	-DSHEAP_HARDENING=2 -DSHEAP_HOOKS=1 -DSHEAP_OWNER_TAGS=1
ARCH_LDFLAGS := -fsanitize=address,undefined
else ifeq ($(FLAVOR),hard3)
# Hardening level 3 (guard pages for sampled mallocs) with owner tags,
# 64-bit -O2 (no ASan: the guard pages' faults are the test).
# Only sheap_guard_next picks guarded blocks here (a sample of 2^30): the
# other suites check exact sizes that a sampled guard would change.
ARCH_CFLAGS := -O2 -g -DSHEAP_HARDENING=3 -DSHEAP_OWNER_TAGS=1 -DSHEAP_GUARD_SAMPLE=0x40000000
else ifeq ($(FLAVOR),smp)
# The SMP core with the hosted SMP port (a CPU per thread slot).
ARCH_CFLAGS := -O2 -g -DSHEAP_SMP=1
else ifeq ($(FLAVOR),hard0)
# Hardening level 0 (no misuse diagnosis), 64-bit -O2.
ARCH_CFLAGS := -O2 -g -DSHEAP_HARDENING=0
else ifeq ($(FLAVOR),tsan)
# ThreadSanitizer over the threaded host suites only (UNIT_TESTS empty,
# BOARD_TESTS below), on the SMP core (per-CPU caches, remote frees: the
# code whose memory ordering matters); a report makes the program exit 66,
# which tools/run_test.sh counts as a failure.
# Arena hints inside TSan's low application range (below 512 GB): gcc 12's
# libtsan turns a hint outside it (the default 0xc000000000) into NULL but
# keeps MAP_FIXED_NOREPLACE, and the kernel then maps at address 0.
ARCH_CFLAGS := -O1 -g -fsanitize=thread -fno-omit-frame-pointer -DSHEAP_SMP=1 \
	-DSHEAP_ARENA_HINTS="{0x004000000000u,0x005000000000u,0x006000000000u,0x007000000000u}"
ARCH_LDFLAGS := -fsanitize=thread
RUN := env TSAN_OPTIONS=halt_on_error=0:exitcode=66:second_deadlock_stack=1
UNIT_TESTS :=
# The core without SHEAP_DEBUG: its debug aid sheap_shared.locked is a plain
# global that SHEAP_ASSERT_GROWTH reads in growth sections (lock dropped)
# while another thread may write it (core/sheap_internal.h:126, a race by
# the letter, in debug builds only).  TSan checks the code that ships.
TEST_DEFS :=
else ifeq ($(FLAVOR),san)
ARCH_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
ARCH_LDFLAGS := -fsanitize=address,undefined
else
ARCH_CFLAGS := -O2 -g
# The native flavour also builds the C++ and CMake consumer tests.
NEEDS := gcc g++ cmake
# The C library binding's tests replace glibc's malloc in this flavour only:
# ASan needs its own malloc, and the static i686 glibc is not tried.
LIBC_TEST := glibc
# C++ (libsheap_cxx.a and tests/cxx) and the CMake consumer builds, native
# flavour.
CXX_TEST := yes
CMAKE_TEST := yes
endif
QEMU := $(RUN)
# Host-only suites: the hosted port's backing budget and threads; the SMP
# core's remote frees, white box (test_smp: one thread
# playing several CPUs) and four threads freeing each other's blocks
# (test_smp_threads); both run in every flavour (one lock without SMP).
BOARD_TESTS := tests/host/test_backing.c tests/host/test_walk_threads.c \
               tests/host/test_growth_threads.c tests/host/test_smp.c tests/host/test_smp_threads.c
# The multi-CPU stress (tests/smp) with 2, 4 and 8 threads, in every host
# flavour.  It found two lock-drop bugs in the core (stale span-map
# boundaries of a run being backed; a half-built SMALL span seen by a
# concurrent sheap_check), fixed in pageheap.c finish_run and malloc.c
# small_refill.  SMP_STRESS=no leaves it out (to bisect older cores).
SMP_STRESS ?= yes
ifeq ($(SMP_STRESS),yes)
BOARD_TESTS += tests/host/test_smp_stress.c
endif
ifeq ($(FLAVOR),tsan)
BOARD_TESTS := tests/host/test_walk_threads.c tests/host/test_growth_threads.c tests/host/test_smp_threads.c tests/host/test_tsan_canary.c \
               $(if $(filter yes,$(SMP_STRESS)),tests/host/test_smp_stress.c)
endif
