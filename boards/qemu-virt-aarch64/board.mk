# board.mk for "qemu-virt-aarch64": toolchain, flags and the QEMU command, in one place.
# --specs=picolibc.specs is in ARCH_CFLAGS only: gcc refuses it twice, and
# every link line here passes both ARCH_CFLAGS and ARCH_LDFLAGS.
PORT := aarch64
PORT_COMMON := frames pagetable vaspace port_mmu port_picolibc mmu_legacy_backend
# Shared board code (boards/common): resuming after expected faults.
BOARD_COMMON := expected_fault
CC := aarch64-linux-gnu-gcc
AR := aarch64-linux-gnu-ar
NM := aarch64-linux-gnu-nm
ARCH_CFLAGS := --specs=picolibc.specs -mcpu=cortex-a57 -O2 -g -fno-pie -ffunction-sections -fdata-sections
ARCH_LDFLAGS := --crt0=semihost --oslib=semihost -static -no-pie \
	-T$(CURDIR)/linker/qemu-virt-aarch64.ld -Wl,--gc-sections
PORT_CFLAGS := -std=gnu11
LDLIBS :=
# -icount shift=0: one instruction per virtual cycle, so PMCCNTR counts
# instructions exactly and repeatably.
QEMU := qemu-system-aarch64 -M virt -cpu cortex-a57 -m 128M -nographic -icount shift=0 \
	-semihosting-config enable=on,target=native -monitor none -serial stdio -net none -kernel
RUN := timeout 600 $(QEMU)
NEEDS := aarch64-linux-gnu-gcc qemu-system-aarch64
BOARD_TESTS := tests/mmu/test_mmu.c
FAULT_TEST := yes
# make test checks the small workload's instructions per call against tests/bench/bounds.txt.
BENCH_CHECK := yes
# The flavours `make test` runs (one: this board has no variants).
TEST_FLAVORS := native
# make test checks the longest interrupt-masked stretch of every call against
# mask_max in tests/bench/bounds.txt (tests/bench/mask_target.c).
MASK_CHECK := yes
