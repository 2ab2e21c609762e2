#!/bin/sh
# tools/mte_repro.sh - build and run tests/mte/mte_repro.c, which asks
# whether MTE allocation tags are per 16-byte granule on QEMU's virt board.
#   tools/mte_repro.sh [extra CFLAGS...]       runs -m 3G and -m 1G
set -e
cd "$(dirname "$0")/.."
B=build/mte-repro
mkdir -p $B
CC=aarch64-linux-gnu-gcc
FLAGS="--specs=picolibc.specs -mcpu=cortex-a57 -DBOARD_MTE -O2 -g -fno-pie -std=gnu11 \
  -Iinclude -Iboards/qemu-virt-aarch64 -Iboards/common -DSHEAP_BOARD_HEADER=\"board.h\""
LINK="--crt0=semihost --oslib=semihost -static -no-pie -Tlinker/qemu-virt-aarch64.ld"
SRC="tests/mte/mte_repro.c boards/qemu-virt-aarch64/board.c boards/qemu-virt-aarch64/firmware.c \
  boards/qemu-virt-aarch64/vectors.S boards/common/boot_mmu.c boards/common/expected_fault.c"
$CC $FLAGS "$@" $SRC $LINK -o $B/mte_repro_3g.elf
$CC $FLAGS "$@" -DREPRO_RAM_TOP=0x80000000ull $SRC $LINK -o $B/mte_repro_1g.elf
for m in 3G 1G; do
  elf=$B/mte_repro_3g.elf; [ $m = 1G ] && elf=$B/mte_repro_1g.elf
  echo "== qemu-system-aarch64 -M virt,mte=on -cpu max -m $m ($(qemu-system-aarch64 --version | head -1))"
  timeout 120 qemu-system-aarch64 -M virt,mte=on -cpu max -m $m -nographic \
    -semihosting-config enable=on,target=native -monitor none -serial stdio -net none \
    -kernel $elf && echo "exit 0" || echo "exit $?"
done
