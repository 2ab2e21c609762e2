# sheap - top-level build: picks the board, then includes one file per
# concern from mk/.
#
#   make run                  build and run the default board's demo (examples/demo.c)
#   make test                 every suite on every board; ends "N passed, N failed"
#   make deps                 install the Debian packages the build needs
#   make bench                benchmarks and docs/BENCHMARKS.md (mk/bench.mk)
#   make BOARD=<b> lib        build/<b>/libsheap.a, libboard.a and sheap.mk
#   make BOARD=<b> test|run   one board only
#   FLAVOR=<f>                a variant of the board (host: native, i686, san,
#                             hard0, hard2, hard3, smp, tsan;
#                             qemu-virt-riscv64: native = Sv39, sv48); test
#                             runs the flavours board.mk lists in TEST_FLAVORS
#   LIBC=<c>                  the C library, where board.mk offers several
#                             (mps2-an385: picolibc, newlib-nano, newlib)
#   BUILD=/abs/dir            where build/ goes (default build, in the tree);
#   B=/abs/dir                or one board's directory itself.  Nothing is
#                             written in the source tree then.
#
#   mk/library.mk   flags, objects, the libraries, the bindings, `lib`
#   mk/export.mk    what outside builds read: sheap.mk, print-cmake
#   mk/tests.mk     suite, test, soak, fuzz
#   mk/bench.mk     every benchmark target
#   mk/examples.mk  run (the demo)
#   mk/deps.mk      deps, deps-check, print-needs
#
# Per-board toolchain and flags live in boards/<b>/board.mk (one place per
# target), the port's sources in port/<p>/port.mk.

BOARDS_ALL := host qemu-virt-aarch64 qemu-virt-riscv64
# Boards join the list below as they come up (one line each).
BOARDS_ALL += mps2-an385 mps2-an505
BOARDS_ALL += qemu-virt-riscv32
DEFAULT_BOARD := qemu-virt-aarch64
BOARD ?= $(DEFAULT_BOARD)
BOARD_DIR := boards/$(BOARD)

# What a board.mk may change; it sets the rest (see docs/PORTING.md).
PORT_CFLAGS := -std=gnu11
LDLIBS :=
include $(BOARD_DIR)/board.mk

.PHONY: all clean
all: lib

include mk/library.mk mk/export.mk mk/tests.mk mk/bench.mk mk/examples.mk mk/deps.mk

clean:
	rm -rf build
.SECONDARY:
