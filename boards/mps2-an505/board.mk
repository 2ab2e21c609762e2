# board.mk for "mps2-an505": toolchain, flags and the QEMU command, in one place.
# Cortex-M33 (ARMv8-M Mainline, Secure), single-precision FPU, hard-float
# ABI: picolibc's thumb/v8-m.main+fp/hard multilib (its crt0 turns the FPU
# on).  --specs=picolibc.specs is in ARCH_CFLAGS only: gcc refuses it twice,
# and every link line here passes both ARCH_CFLAGS and ARCH_LDFLAGS.
#   FLAVOR=hard3   hardening level 3 with hooks and owner tags; a
#                  sampled block's guard page under an MPU region of its own
#                  (stores fault, loads do not: see guard_armv8m.c)
#                  (build/mps2-an505-hard3)
FLAVOR ?= native
# The flavours `make test` runs, in order.
TEST_FLAVORS := native hard3
PORT := static
# Shared board code (boards/common): resuming after expected faults, the
# console, the Cortex-M vector table and fault handler.
BOARD_COMMON := expected_fault console cortex_m
CROSS := arm-none-eabi-
OPT ?= -O2
BOARD_MODE_FLAGS := $(if $(filter hard3,$(FLAVOR)),-DSHEAP_HARDENING=3 -DSHEAP_HOOKS=1 -DSHEAP_OWNER_TAGS=1 -DSHEAP_GUARD_SAMPLE=0x40000000)
ARCH_CFLAGS := --specs=picolibc.specs -mcpu=cortex-m33 -mthumb -mfloat-abi=hard -mfpu=fpv5-sp-d16 $(BOARD_MODE_FLAGS) $(OPT) -g \
	-ffunction-sections -fdata-sections
ARCH_LDFLAGS := --crt0=semihost --oslib=semihost -T$(CURDIR)/linker/mps2-an505.ld -Wl,--gc-sections
QEMU := qemu-system-arm -M mps2-an505 -nographic -semihosting-config enable=on,target=native \
	-monitor none -serial stdio -net none -kernel
RUN := timeout 300 $(QEMU)
NEEDS := arm-none-eabi-gcc qemu-system-arm /usr/lib/picolibc/arm-none-eabi/picolibc.specs
BOARD_TESTS := tests/static/test_static.c
# tests/fault stores to a page handed back to the port (the ARMv8-M guard
# stops stores only: there is no privileged no-access permission).
FAULT_TEST := yes
# The ARMv8-M guard also compiles for ARMv8.1-M (Cortex-M55), with gcc and clang.
GUARD_ARCH_CHECK := yes
# make test checks the longest interrupt-masked stretch of every call against
# mask_max in tests/bench/bounds.txt (tests/bench/mask_target.c, counted by
# the QEMU plugin tests/bench/icount_plugin.c: no counter on M-profile).
MASK_CHECK := $(if $(filter native,$(FLAVOR)),$(if $(filter newlib%,$(LIBC)),,yes))
