# board.mk for "qemu-virt-aarch64": toolchain, flags and the QEMU command, in one place.
# --specs=picolibc.specs is in ARCH_CFLAGS only: gcc refuses it twice, and
# every link line here passes both ARCH_CFLAGS and ARCH_LDFLAGS.
#   FLAVOR=native   the startup maps a 48-bit VA with 1 GB blocks (build/qemu-virt-aarch64)
#   FLAVOR=foreign  another bootloader's layout: 39-bit VA, 2 MB blocks, its
#                   own MAIR and a mapping of its own (-DBOARD_FOREIGN,
#                   build/qemu-virt-aarch64-foreign); see firmware.c
#   FLAVOR=hard3    hardening level 3 (guard pages; only
#                   sheap_guard_next picks them here) with hooks and owner
#                   tags, the native layout (build/qemu-virt-aarch64-hard3)
#   FLAVOR=hard0, hard2, hard3s: hardening levels 0, 2 and 3 (sampled
#                   guards, 1 in 64), hooks and owner tags compiled out;
#                   FLAVOR=hooks: level 1 with hooks and owner tags (these
#                   four for tools/bench_levels.sh, docs/BENCHMARKS.md; not
#                   in make test)
#   FLAVOR=smp      four CPUs (-smp 4), sheap built with
#                   -DSHEAP_SMP=1 (per-CPU caches, the shared lock a
#                   spinlock), the board with -DBOARD_SMP=1 (smp.c: CPUs 1..3
#                   started with PSCI CPU_ON, boards/common/smp.h).  Tests run
#                   WITHOUT -icount (multi-threaded TCG: the CPUs really run
#                   in parallel); bench-board counts with -icount shift=0
#                   (BENCH_RUN) into build/bench/smp (build/qemu-virt-aarch64-smp)
FLAVOR ?= native
# The flavours `make test` runs, in order.
TEST_FLAVORS := native foreign hard3 smp
PORT := aarch64
# Shared board code (boards/common): resuming after expected faults, the
# console, the startup's translation tables.
BOARD_COMMON := expected_fault console boot_mmu
ifeq ($(FLAVOR),foreign)
BOARD_MODE_FLAGS := -DBOARD_FOREIGN
else ifeq ($(FLAVOR),hard3)
BOARD_MODE_FLAGS := -DSHEAP_HARDENING=3 -DSHEAP_HOOKS=1 -DSHEAP_OWNER_TAGS=1 -DSHEAP_GUARD_SAMPLE=0x40000000
else ifeq ($(FLAVOR),hard3s)
BOARD_MODE_FLAGS := -DSHEAP_HARDENING=3
else ifeq ($(FLAVOR),hard2)
BOARD_MODE_FLAGS := -DSHEAP_HARDENING=2
else ifeq ($(FLAVOR),hard0)
BOARD_MODE_FLAGS := -DSHEAP_HARDENING=0
else ifeq ($(FLAVOR),smp)
BOARD_MODE_FLAGS := -DSHEAP_SMP=1 -DBOARD_SMP=1
else ifeq ($(FLAVOR),hooks)
BOARD_MODE_FLAGS := -DSHEAP_HOOKS=1 -DSHEAP_OWNER_TAGS=1
else
BOARD_MODE_FLAGS :=
endif
CROSS := aarch64-linux-gnu-
# -mno-outline-atomics: __atomic builtins inline (LDAXR/STXR on ARMv8.0),
# never libgcc's LSE helpers, which a freestanding image does not link.
ARCH_CFLAGS := --specs=picolibc.specs -mcpu=cortex-a57 -mno-outline-atomics $(BOARD_MODE_FLAGS) -O2 -g -fno-pie -ffunction-sections -fdata-sections
ARCH_LDFLAGS := --crt0=semihost --oslib=semihost -static -no-pie \
	-T$(CURDIR)/linker/qemu-virt-aarch64.ld -Wl,--gc-sections
# -icount shift=0: one instruction per virtual cycle, so PMCCNTR counts
# instructions exactly and repeatably.  -m 3G: BOARD_RAM_SIZE (board.h).
QEMU_ARGS := -M virt -cpu cortex-a57 -m 3G -nographic \
	-semihosting-config enable=on,target=native -monitor none -serial stdio -net none -kernel
ifeq ($(FLAVOR),smp)
# Four CPUs in parallel (multi-threaded TCG) for the tests; the counting run
# of bench-board uses -icount, which puts every CPU on one host thread (the
# CPUs other than 0 stay off there: smp.c starts them on first use).
QEMU := qemu-system-aarch64 -smp 4 $(QEMU_ARGS)
BENCH_RUN := timeout 600 qemu-system-aarch64 -smp 4 -icount shift=0 $(QEMU_ARGS)
BENCH_SUBDIR := smp
else
QEMU := qemu-system-aarch64 -icount shift=0 $(QEMU_ARGS)
endif
RUN := timeout 600 $(QEMU)
NEEDS := aarch64-linux-gnu-gcc qemu-system-aarch64 /usr/lib/picolibc/aarch64-linux-gnu/picolibc.specs
BOARD_TESTS := tests/mmu/test_mmu.c tests/mmu/test_backend.c
# The SMP flavour's own main: bring-up, the shared lock, concurrent
# allocation with cross-CPU frees, and tests/smp/smp_stress.c on 4 CPUs.
BOARD_TESTS += $(if $(filter smp,$(FLAVOR)),tests/smp/test_smp_board.c)
# test_smp_board also runs tests/smp/smp_stress.c on the four CPUs and
# sheap_check on one CPU while the others allocate (SMP_STRESS=no leaves
# them out; the host's board.mk has the same switch).
SMP_STRESS ?= yes
FAULT_TEST := yes
# make test checks the small workload's instructions per call against tests/bench/bounds.txt.
BENCH_CHECK := $(if $(filter native,$(FLAVOR)),yes)
# make test checks the longest interrupt-masked stretch of every call against
# mask_max in tests/bench/bounds.txt (tests/bench/mask_target.c).
MASK_CHECK := $(if $(filter native,$(FLAVOR)),yes)
