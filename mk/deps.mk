# mk/deps.mk - what the build needs from the machine: `deps` installs every
# Debian package at once; `deps-check` (run, test, suite and the benchmarks
# call it) installs only what the boards about to be built miss, from the
# NEEDS their board.mk files list (tools/deps.txt names the packages).
.PHONY: deps deps-check print-needs bench-deps-check

# ---- packages ------------------------------------------------------------------------
# Everything the build and the tests use, from Debian 12's archive.
DEB_PACKAGES := make gcc libc6-dev python3 binutils \
	gcc-i686-linux-gnu libc6-dev-i386-cross qemu-user \
	qemu-system-arm gcc-aarch64-linux-gnu picolibc-aarch64-linux-gnu \
	qemu-system-misc gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf \
	gcc-arm-none-eabi picolibc-arm-none-eabi \
	clang libclang-rt-14-dev valgrind
# What make bench adds: the allocators it compares with, and the plots.
DEB_PACKAGES_BENCH := libmimalloc-dev libjemalloc-dev python3-matplotlib gcc-arm-none-eabi picolibc-arm-none-eabi
DEB_PACKAGES += $(DEB_PACKAGES_BENCH)
# newlib (nano and full) and C++ on the Arm boards, CMake and the host C++
# compiler for the consumer builds.
DEB_PACKAGES += libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib libstdc++-arm-none-eabi-picolibc \
	cmake g++

deps:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	 $$SUDO apt-get update && \
	 DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends $(DEB_PACKAGES)

# ---- deps-check ----------------------------------------------------------------------
# The boards about to be built: BOARD=<b> on the command line, that board
# only; else every board.  For each, the NEEDS of every run `make test`
# makes there (TEST_FLAVORS, the flavours of TEST_TARGETS, TEST_LIBCS: see
# mk/tests.mk), each flavour with the board's default C library.  The
# print targets write with $(info), so that they answer under make -n too.
.PHONY: print-test-runs
NEEDS_COMMON := make python3
DEPS_BOARDS := $(if $(filter command,$(origin BOARD)),$(BOARD),$(BOARDS_ALL))
deps_comma := ,
TEST_RUN_ARGS := $(foreach f,$(TEST_FLAVORS) $(foreach t,$(TEST_TARGETS),$(firstword $(subst :, ,$(t)))), \
	FLAVOR=$(f)$(if $(LIBCS),$(deps_comma)LIBC=$(LIBC_DEFAULT))) $(foreach c,$(TEST_LIBCS),FLAVOR=native$(deps_comma)LIBC=$(c))
print-needs:
	$(info $(NEEDS))
print-test-runs:
	$(info $(TEST_RUN_ARGS))
deps-check:
	@needs="$(NEEDS_COMMON)"; for b in $(DEPS_BOARDS); do \
	  for r in $$($(MAKE) -s --no-print-directory BOARD=$$b print-test-runs); do \
	    needs="$$needs $$($(MAKE) -s --no-print-directory BOARD=$$b $$(echo $$r | tr , ' ') print-needs)"; \
	  done; \
	done; tools/deps_check.sh $$needs

# The benchmarks' own packages (not in any board's NEEDS).
bench-deps-check: deps-check
	@missing=; [ -f /usr/include/mimalloc.h ] || missing="$$missing libmimalloc-dev"; \
	 [ -f /usr/include/jemalloc/jemalloc.h ] || missing="$$missing libjemalloc-dev"; \
	 $(BENCH_PYTHON) -c 'import matplotlib' 2>/dev/null || missing="$$missing python3-matplotlib"; \
	 command -v arm-none-eabi-gcc >/dev/null || missing="$$missing gcc-arm-none-eabi"; \
	 [ -f /usr/lib/picolibc/arm-none-eabi/picolibc.specs ] || missing="$$missing picolibc-arm-none-eabi"; \
	 if [ -n "$$missing" ]; then echo "missing:$$missing; running make deps"; $(MAKE) --no-print-directory deps; fi
