# board.mk for "mps2-an385": toolchain, flags and the QEMU command, in one place.
#   FLAVOR=native  16 MB heap in PSRAM, 4 MB arenas (build/mps2-an385)
#   FLAVOR=small   a 256 KB part: 192 KB heap, 64 KB arenas, 1 KB pages
#                  (build/mps2-an385-small, -DBOARD_SMALL_RAM, see board.h)
# `make test` runs both.
#
# Cortex-M3 (ARMv7-M), Thumb-2, no FPU: picolibc's thumb/v7-m/nofp multilib.
# --specs=picolibc.specs is in ARCH_CFLAGS only: gcc refuses it twice, and
# every link line here passes both ARCH_CFLAGS and ARCH_LDFLAGS.
# -O2 for the tests; the size figures in the report are taken at -Os
# (OPT=-Os builds the same tree that way).
FLAVOR ?= native
TEST_FLAVORS := native small
PORT := static
PORT_COMMON := port_picolibc
# Shared board code (boards/common): resuming after expected faults.
BOARD_COMMON := expected_fault
CC := arm-none-eabi-gcc
AR := arm-none-eabi-ar
NM := arm-none-eabi-nm
OPT ?= -O2
ifeq ($(FLAVOR),small)
BOARD_MODE_FLAGS := -DBOARD_SMALL_RAM
BOARD_LD := mps2-an385-small.ld
else
BOARD_MODE_FLAGS :=
BOARD_LD := mps2-an385.ld
endif
ARCH_CFLAGS := --specs=picolibc.specs -mcpu=cortex-m3 -mthumb $(BOARD_MODE_FLAGS) $(OPT) -g \
	-ffunction-sections -fdata-sections
ARCH_LDFLAGS := --crt0=semihost --oslib=semihost -T$(CURDIR)/linker/$(BOARD_LD) -Wl,--gc-sections
PORT_CFLAGS := -std=gnu11
LDLIBS :=
QEMU := qemu-system-arm -M mps2-an385 -nographic -semihosting-config enable=on,target=native \
	-monitor none -serial stdio -net none -kernel
RUN := timeout 300 $(QEMU)
NEEDS := arm-none-eabi-gcc qemu-system-arm
BOARD_TESTS := tests/static/test_static.c
# The Makefile finds test sources through vpath; add the static suite's directory.
vpath %.c tests/static
# tests/fault: an unexpected MemManage fault (a load from a page handed back
# to the port, under the MPU guard) is reported and exits non-zero.
FAULT_TEST := yes
