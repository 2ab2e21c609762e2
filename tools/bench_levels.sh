#!/bin/sh
# bench_levels.sh OUT - the figures per hardening level
# (docs/BENCHMARKS.md, "Hardening levels and hooks"): instructions per call
# and footprint on the small and loguni workloads (qemu-virt-aarch64, the
# bench images of make bench, counted with PMCCNTR under -icount shift=0),
# and Cortex-M3 code size (-Os) of the core for each level.  Builds:
#   native  level 1, hooks and owner tags compiled out (today's default)
#   hooks   level 1 with SHEAP_HOOKS and SHEAP_OWNER_TAGS (no hook set)
#   hard0   level 0
#   hard2   level 2, no hooks or tags
#   hard3s  level 3 (every 64th malloc guarded), no hooks or tags
# Writes the raw BENCH and FOOT lines of sheap and a SIZE line per build to OUT.
set -e
out=$1
mkdir -p "$(dirname "$out")" && : > "$out"
for f in native hooks hard0 hard2 hard3s; do
  d=$(pwd)/build/bench/levels-$f
  make --no-print-directory BOARD=qemu-virt-aarch64 FLAVOR=$f BENCH_WL_IDX="0 1" BENCH_OUT=$d bench-board > /dev/null
  grep -E '^(BENCH|FOOT) [^ ]+ sheap ' $d/qemu-virt-aarch64.txt | sed "s/^/$f /" >> "$out"
done
# Code size: the core for Cortex-M3 -Os, as tools/bench_size.sh, per level.
cc=arm-none-eabi-gcc
sd=build/bench/levels-size
rm -rf $sd && mkdir -p $sd/gen
board="-Iboards/mps2-an385 -DSHEAP_BOARD_HEADER=\"board.h\""
cpp="-Iinclude -I$sd/gen $board -Iport/static"
mcu="-mcpu=cortex-m3 -mthumb"
printf '#include "sheap_config.h"\nSHEAP_PAGE_SHIFT SHEAP_MAX_SMALL_SIZE\n' | $cc $cpp $mcu -E -P -x c - | tail -n 1 > $sd/gen/geometry.txt
python3 tools/gen_size_classes.py --cpp "$(cat $sd/gen/geometry.txt)" $sd/gen/sheap_size_classes.h > /dev/null
for f in "native:" "hooks:-DSHEAP_HOOKS=1 -DSHEAP_OWNER_TAGS=1" "hard0:-DSHEAP_HARDENING=0" \
         "hard2:-DSHEAP_HARDENING=2" "hard3s:-DSHEAP_HARDENING=3"; do
  name=${f%%:*}; defs=${f#*:}
  objs=
  for c in core/*.c; do
    o=$sd/$name-$(basename $c .c).o
    $cc $cpp $defs --specs=picolibc.specs $mcu -Os -ffunction-sections -fdata-sections -std=c11 -ffreestanding \
      -fno-builtin -fno-tree-loop-distribute-patterns -c $c -o $o
    objs="$objs $o"
  done
  # Linked: a program calling malloc, realloc and free (tests/bench/size_main.c), --gc-sections.
  ld="--crt0=minimal -Wl,--gc-sections -Wl,--defsym=__flash=0 -Wl,--defsym=__flash_size=0x400000 \
    -Wl,--defsym=__ram=0x20000000 -Wl,--defsym=__ram_size=0x400000 -Wl,--defsym=__stack_size=0x1000"
  $cc $cpp $defs --specs=picolibc.specs $mcu -Os -ffunction-sections -fdata-sections -DALLOC=sheap_ \
    tests/bench/size_main.c tests/bench/size_port_stub.c $objs $ld -o $sd/$name.elf
  total=$(arm-none-eabi-size $objs | awk 'NR > 1 { t += $1 } END { print t }')
  linked=$(arm-none-eabi-size $sd/$name.elf | awk 'NR == 2 { print $1 }')
  echo "SIZE $name objects_text=$total linked_text=$linked" >> "$out"
done
cat "$out"
