# board.mk for "qemu-virt-riscv32": toolchain, flags and the QEMU command, in one place.
#
# rv32imac/ilp32: picolibc's integer multilib for rv32 (no FPU state to save
# in the trap handler).  -misa-spec=2.2 keeps the plain multilib name and
# the CSR instructions (zicsr is part of I there); see the riscv64 board.
# medany: the image lives at 0x80000000, outside medlow's +-2 GB of zero.
# --specs=picolibc.specs is in ARCH_CFLAGS only: gcc refuses it twice, and
# every link line here passes both ARCH_CFLAGS and ARCH_LDFLAGS.
#   FLAVOR=hard2   hardening level 2 with hooks and owner tags,
#                  a 32-bit static port (build/qemu-virt-riscv32-hard2)
#   FLAVOR=hard3   level 3 with hooks and owner tags; a sampled
#                  block's guard page under a PMP entry of its own
#                  (build/qemu-virt-riscv32-hard3)
FLAVOR ?= native
# The flavours `make test` runs, in order.
TEST_FLAVORS := native hard2 hard3
PORT := static
# Shared board code (boards/common): resuming after expected faults, the
# console, the UART, exit and the trap handler of the virt machines.
BOARD_COMMON := expected_fault console qemu_virt_riscv riscv_trap
CROSS := riscv64-unknown-elf-
BOARD_MODE_FLAGS := $(if $(filter hard2,$(FLAVOR)),-DSHEAP_HARDENING=2 -DSHEAP_HOOKS=1 -DSHEAP_OWNER_TAGS=1) \
	$(if $(filter hard3,$(FLAVOR)),-DSHEAP_HARDENING=3 -DSHEAP_HOOKS=1 -DSHEAP_OWNER_TAGS=1 -DSHEAP_GUARD_SAMPLE=0x40000000)
ARCH_CFLAGS := --specs=picolibc.specs -march=rv32imac -mabi=ilp32 -misa-spec=2.2 -mcmodel=medany \
	$(BOARD_MODE_FLAGS) -O2 -g -ffunction-sections -fdata-sections
ARCH_LDFLAGS := --crt0=semihost --oslib=semihost \
	-T$(CURDIR)/linker/qemu-virt-riscv32.ld -Wl,--gc-sections
# -bios none: QEMU starts the image itself, in M-mode at 0x80000000.
# mmu=false: no satp, PMP only, as on an MCU-class RISC-V part.
# -icount shift=0: one instruction per virtual cycle, so rdinstret counts
# instructions exactly and repeatably.
QEMU := qemu-system-riscv32 -M virt -bios none -cpu rv32,mmu=false -m 32M -nographic -icount shift=0 \
	-semihosting-config enable=on,target=native -monitor none -serial stdio -net none -kernel
RUN := timeout 600 $(QEMU)
NEEDS := riscv64-unknown-elf-gcc qemu-system-riscv32 /usr/lib/picolibc/riscv64-unknown-elf/picolibc.specs
BOARD_TESTS := tests/static/test_static.c
# tests/fault: an unexpected access fault is reported (mcause, mtval, mepc)
# and exits non-zero (tools/run_fault_test.sh).
FAULT_TEST := yes
# make test checks the longest interrupt-masked stretch of every call against
# mask_max in tests/bench/bounds.txt (tests/bench/mask_target.c).
MASK_CHECK := yes
