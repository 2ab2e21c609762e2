# board.mk for "qemu-virt-riscv64": toolchain, flags and the QEMU command, in one place.
#   FLAVOR=native  Sv39 (the default), build/qemu-virt-riscv64
#   FLAVOR=sv48    Sv48, build/qemu-virt-riscv64-sv48 (-DBOARD_SV48, see board.h)
#   FLAVOR=foreign another bootloader's Sv39 layout (-DBOARD_FOREIGN, see
#                  firmware.c), build/qemu-virt-riscv64-foreign
#   FLAVOR=hard3   hardening level 3 (guard pages; only
#                  sheap_guard_next picks them) with owner tags, Sv39
#   FLAVOR=smp     four harts (-DSHEAP_SMP=1 -DBOARD_SMP), Sv39,
#                  build/qemu-virt-riscv64-smp: its own linker script (every
#                  hart starts in smp_entry.S), run with -smp 4 and no
#                  -icount (multi-threaded TCG: the harts really run in
#                  parallel; QEMU 7.2 accepts -accel tcg,thread=multi for
#                  riscv64 and refuses it with -icount).  QEMU_COUNT is
#                  the counting run: -smp 1 -icount shift=0.
# `make test` runs the suites in all five.
#
# rv64imac/lp64: picolibc's integer multilib (no FPU state to save in the
# trap handler).  gcc 12 follows ISA spec 20191213, where the CSR
# instructions need "_zicsr" in -march; but -march=rv64imac_zicsr no longer
# matches the rv64imac multilib.  -misa-spec=2.2 keeps the plain name and
# the CSR instructions (zicsr is part of I there).  medany: the image lives
# at 0x80000000, outside medlow's +-2 GB of zero.
# --specs=picolibc.specs is in ARCH_CFLAGS only: gcc refuses it twice, and
# every link line here passes both ARCH_CFLAGS and ARCH_LDFLAGS.
FLAVOR ?= native
# The flavours `make test` runs, in order.
TEST_FLAVORS := native sv48 foreign hard3 smp
PORT := riscv
# Shared board code (boards/common): resuming after expected faults, the
# console, the UART, exit and the trap handler of the virt machines, the
# startup's translation tables.
BOARD_COMMON := expected_fault console qemu_virt_riscv riscv_trap boot_mmu
CROSS := riscv64-unknown-elf-
ifeq ($(FLAVOR),sv48)
BOARD_MODE_FLAGS := -DBOARD_SV48
else ifeq ($(FLAVOR),foreign)
BOARD_MODE_FLAGS := -DBOARD_FOREIGN
else ifeq ($(FLAVOR),smp)
BOARD_MODE_FLAGS := -DSHEAP_SMP=1 -DBOARD_SMP
else ifeq ($(FLAVOR),hard3)
BOARD_MODE_FLAGS := -DSHEAP_HARDENING=3 -DSHEAP_OWNER_TAGS=1 -DSHEAP_GUARD_SAMPLE=0x40000000
else
BOARD_MODE_FLAGS :=
endif
ARCH_CFLAGS := --specs=picolibc.specs -march=rv64imac -mabi=lp64 -misa-spec=2.2 -mcmodel=medany \
	$(BOARD_MODE_FLAGS) -O2 -g -ffunction-sections -fdata-sections
ARCH_LDFLAGS := --crt0=semihost --oslib=semihost \
	-T$(CURDIR)/linker/qemu-virt-riscv64$(if $(filter smp,$(FLAVOR)),-smp).ld -Wl,--gc-sections
# -bios none: QEMU starts the image itself, in M-mode at 0x80000000.
# -icount shift=0: one instruction per virtual cycle, so rdinstret counts
# instructions exactly and repeatably.  -m 256M: BOARD_RAM_SIZE (board.h).
QEMU_COMMON := -bios none -m 256M -nographic -semihosting-config enable=on,target=native -monitor none \
	-serial stdio -net none -kernel
QEMU_COUNT := qemu-system-riscv64 -M virt -smp 1 -icount shift=0 $(QEMU_COMMON)
ifeq ($(FLAVOR),smp)
QEMU := qemu-system-riscv64 -M virt -smp 4 -accel tcg,thread=multi $(QEMU_COMMON)
else
QEMU := qemu-system-riscv64 -M virt -icount shift=0 $(QEMU_COMMON)
endif
RUN := timeout 600 $(QEMU)
NEEDS := riscv64-unknown-elf-gcc qemu-system-riscv64 /usr/lib/picolibc/riscv64-unknown-elf/picolibc.specs
BOARD_TESTS := tests/mmu/test_mmu.c tests/mmu/test_backend.c
ifeq ($(FLAVOR),smp)
# The board-neutral SMP test main (tests/smp/test_smp_board.c), and this
# board's own: bring-up, shared lock, cross-hart frees, TLB shootdown.
BOARD_TESTS += tests/smp/test_smp_board.c tests/smp/test_smp_riscv_boot.c
# test_smp_board also runs tests/smp/smp_stress.c and sheap_check while
# the other harts allocate, and test_smp_riscv_stress adds large blocks
# and trims while they allocate (SMP_STRESS=no leaves them out; the host
# and qemu-virt-aarch64 have the same switch).
SMP_STRESS ?= yes
BOARD_TESTS += $(if $(filter yes,$(SMP_STRESS)),tests/smp/test_smp_riscv_stress.c)
endif
# tests/fault: an unexpected page fault is reported (scause, stval, sepc) and
# exits non-zero (tools/run_fault_test.sh).
FAULT_TEST := yes
# make test checks the longest interrupt-masked stretch of every call against
# mask_max in tests/bench/bounds.txt (tests/bench/mask_target.c).
MASK_CHECK := $(if $(filter native,$(FLAVOR)),yes)
ifeq ($(FLAVOR),smp)
# Counting (make FLAVOR=smp bench-board / mask-board): one hart under
# -icount shift=0, where rdinstret is exact (board.c's has_icount is true
# only with one hart running); bench-board's figures go to build/bench/smp.
BENCH_RUN := timeout 600 $(QEMU_COUNT)
BENCH_SUBDIR := smp
mask-board: RUN := timeout 600 $(QEMU_COUNT)
endif
