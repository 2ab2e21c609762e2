#!/bin/sh
# bench_size.sh OUT
# Cortex-M3 code size and static RAM (make bench, and the size check of make
# test: tools/check_code_size.sh): sheap against picolibc's allocator, both
# for arm-none-eabi -mcpu=cortex-m3 -mthumb -Os.
#   objects  every core object (core/*.c, the whole API: validator and
#            walkers included), and picolibc's nano-malloc members as Debian
#            ships them (thumb/v7-m/nofp multilib)
#   linked   a program that calls malloc, realloc and free once
#            (tests/bench/size_main.c) less the same program without them:
#            what an image really pays, --gc-sections.  sheap is linked with
#            an empty port (tests/bench/size_port_stub.c) whose bytes are
#            taken off again; the real port's objects are listed apart.
#   port     the same program calling malloc, calloc, realloc and free, linked
#            from the core, the static port (port/static/port_static.c) and
#            its ARMv7-M guard: the figure the code-size bounds apply to.
#            Only the port's two hooks into the C library (sheap_port_fault
#            and sheap_port_set_errno, port/common/port_picolibc.c in a real
#            image) come from the stub, and their bytes are taken off.  bss
#            is the allocator's whole static RAM.  Once for each flavour of
#            mps2-an385: native (16 MB heap, 4 KB pages) and small (a 256 KB
#            part, -DBOARD_SMALL_RAM: 192 KB heap, 1 KB pages).
# Geometry: boards/mps2-an385/board.h when it exists, else the 32-bit
# defaults of include/sheap_config.h.  Writes SIZE lines to OUT.
set -e
out=$1
cc=arm-none-eabi-gcc
mcu="-mcpu=cortex-m3 -mthumb"
d=build/bench/size
rm -rf "$d" && mkdir -p "$d"
if [ -f boards/mps2-an385/board.h ]; then
  board="-Iboards/mps2-an385 -DSHEAP_BOARD_HEADER=\"board.h\""; geometry=mps2-an385
else
  board=; geometry=default-32bit
fi
lock=; [ -f port/static/sheap_port_lock.h ] && lock=-Iport/static
cflags="--specs=picolibc.specs $mcu -Os -ffunction-sections -fdata-sections"
# The program is built without builtins, so that gcc does not drop a calloc
# and free of memory it can see is unused.
main_cflags=-fno-builtin
core_cflags="-std=c11 -ffreestanding -fno-builtin -fno-tree-loop-distribute-patterns"
ld="--crt0=minimal -Wl,--gc-sections -Wl,--defsym=__flash=0 -Wl,--defsym=__flash_size=0x400000 \
  -Wl,--defsym=__ram=0x20000000 -Wl,--defsym=__ram_size=0x400000 -Wl,--defsym=__stack_size=0x1000"
sz() { arm-none-eabi-size "$1" | awk 'NR == 2 { print $1, $2, $3 }'; }

# build_core DIR FLAGS: the core's objects for one geometry into DIR; sets objs.
build_core() {
  bd=$1; shift
  mkdir -p "$bd/gen"
  cpp="-Iinclude -I$bd/gen $board $*"
  printf '#include "sheap_config.h"\nSHEAP_PAGE_SHIFT SHEAP_MAX_SMALL_SIZE\n' |
    $cc $cpp $mcu -E -P -x c - | tail -n 1 > "$bd/gen/geometry.txt"
  python3 tools/gen_size_classes.py --cpp "$(cat "$bd/gen/geometry.txt")" "$bd/gen/sheap_size_classes.h" > /dev/null
  objs=
  for c in core/*.c; do
    o=$bd/$(basename "$c" .c).o
    $cc $cpp $lock $cflags $core_cflags -c "$c" -o "$o"
    objs="$objs $o"
  done
}

build_core "$d"
core_objs=$objs
cpp="-Iinclude -I$d/gen $board"
: > "$out"
echo "SIZEINFO geometry=$geometry cc=\"$($cc --version | head -n 1)\" flags=\"$mcu -Os\"" >> "$out"
arm-none-eabi-size $core_objs | awk 'NR > 1 { t += $1; dt += $2; b += $3; n = $6; sub(".*/", "", n);
  printf "SIZE sheap object %s text=%d data=%d bss=%d\n", n, $1, $2, $3 }
  END { printf "SIZE sheap objects total text=%d data=%d bss=%d\n", t, dt, b }' >> "$out"
if [ -f port/static/port_static.c ]; then
  for p in port/static/port_static.c port/static/guard_armv7m.c; do
    [ -f "$p" ] || continue
    o=$d/port-$(basename "$p" .c).o
    if $cc $cpp -Iport/static -Iport/common $cflags -std=gnu11 -c "$p" -o "$o" 2> /dev/null; then
      arm-none-eabi-size "$o" | awk -v n="$(basename "$p")" 'NR > 1 { printf "SIZE port object %s text=%d data=%d bss=%d\n", n, $1, $2, $3 }' >> "$out"
    fi
  done
fi
multi=$($cc --specs=picolibc.specs $mcu -print-multi-directory)
libc=/usr/lib/picolibc/arm-none-eabi/lib/$multi/libc.a
members="nano-malloc-malloc.c.o nano-malloc-free.c.o nano-malloc-realloc.c.o libc_picolib_picosbrk.c.o"
mkdir -p "$d/pico"
(cd "$d/pico" && arm-none-eabi-ar x "$libc" $members)
(cd "$d/pico" && arm-none-eabi-size $members) | awk 'NR > 1 { t += $1; dt += $2; b += $3;
  printf "SIZE picolibc object %s text=%d data=%d bss=%d\n", $6, $1, $2, $3 }
  END { printf "SIZE picolibc objects total text=%d data=%d bss=%d\n", t, dt, b }' >> "$out"
# Linked images: core only (stub port).
$cc $cflags $main_cflags -DNONE -DALLOC= tests/bench/size_main.c $ld -o "$d/none.elf"
$cc $cflags $main_cflags -DALLOC= tests/bench/size_main.c $ld -o "$d/picolibc.elf"
$cc $cpp $cflags $main_cflags -DALLOC=sheap_ tests/bench/size_main.c tests/bench/size_port_stub.c $core_objs $ld -o "$d/sheap.elf"
stub=$(arm-none-eabi-nm -S --radix=d "$d/sheap.elf" | awk '$4 ~ /^sheap_port_/ && $3 ~ /[TtRr]/ { s += $2 } END { print s + 0 }')
stubb=$(arm-none-eabi-nm -S --radix=d "$d/sheap.elf" | awk '$4 ~ /^sheap_port_/ && $3 ~ /[Bb]/ { s += $2 } END { print s + 0 }')
set -- $(sz "$d/none.elf"); t0=$1 d0=$2 b0=$3
set -- $(sz "$d/picolibc.elf")
echo "SIZE picolibc linked text=$(($1 - t0)) data=$(($2 - d0)) bss=$(($3 - b0))" >> "$out"
set -- $(sz "$d/sheap.elf")
echo "SIZE sheap linked text=$(($1 - t0 - stub)) data=$(($2 - d0)) bss=$(($3 - b0 - stubb)) stub=$stub" >> "$out"

# malloc, calloc, realloc and free: picolibc, and sheap with the static port
# and its guard, per flavour.  The linker-script symbols of the port are
# given as constants (the image never runs).
$cc $cflags $main_cflags -DNONE -DALLOC= -DCALLOC tests/bench/size_main.c $ld -o "$d/none4.elf"
$cc $cflags $main_cflags -DALLOC= -DCALLOC tests/bench/size_main.c $ld -o "$d/picolibc4.elf"
set -- $(sz "$d/none4.elf"); t0=$1 d0=$2 b0=$3
set -- $(sz "$d/picolibc4.elf")
echo "SIZE picolibc port text=$(($1 - t0)) data=$(($2 - d0)) bss=$(($3 - b0))" >> "$out"
if [ -n "$board" ] && [ -f port/static/port_static.c ]; then
  syms="-Wl,--defsym=__sheap_region_start=0x21000000 -Wl,--defsym=__sheap_region_end=0x22000000 \
    -Wl,--defsym=__sheap_meta_start=0x300000 -Wl,--defsym=__sheap_meta_end=0x400000"
  for flavour in native small; do
    fd=$d/$flavour
    ff=; [ $flavour = small ] && ff=-DBOARD_SMALL_RAM
    build_core "$fd" $ff
    fcpp="-Iinclude -I$fd/gen $board $ff"
    $cc $fcpp -Iport/static -Iport/common $cflags -std=gnu11 -c port/static/port_static.c -o "$fd/port_static.o"
    $cc $fcpp -Iport/static -Iport/common $cflags -std=gnu11 -c port/static/guard_armv7m.c -o "$fd/guard.o"
    $cc $fcpp $cflags -DSIZE_STUB_LIBC_HOOKS -c tests/bench/size_port_stub.c -o "$fd/stub.o"
    $cc $fcpp $cflags $main_cflags -DALLOC=sheap_ -DCALLOC tests/bench/size_main.c "$fd/stub.o" $objs "$fd/port_static.o" \
      "$fd/guard.o" $ld $syms -o "$fd/sheap.elf"
    # The stub's two hooks, by name (the real port defines other sheap_port_*).
    hooks=$(arm-none-eabi-nm -S --radix=d "$fd/sheap.elf" |
      awk '($4 == "sheap_port_fault" || $4 == "sheap_port_set_errno") && $3 ~ /[TtRr]/ { s += $2 } END { print s + 0 }')
    set -- $(sz "$fd/sheap.elf")
    echo "SIZE sheap port-$flavour text=$(($1 - t0 - hooks)) data=$(($2 - d0)) bss=$(($3 - b0)) stub=$hooks" >> "$out"
  done
fi
cat "$out"
