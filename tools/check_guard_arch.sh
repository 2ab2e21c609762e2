#!/bin/sh
# check_guard_arch.sh B: the ARMv8-M guard (port/static/guard_armv8m.c) must
# compile to a real guard for every ARMv8-M Mainline profile, with gcc and
# clang: Cortex-M33 (v8-M) and Cortex-M55 (v8.1-M, where clang defines only
# __ARM_ARCH_8_1M_MAIN__).  A guard that preprocesses to nothing would leave
# the heap's unbacked pages unprotected without a link error on boards that
# also link another guard.  Prints one SUITE line.
b=$1
name="$(basename "$b")/guard-arch"
out="$b/guard-arch"
mkdir -p "$out"
inc="-Iinclude -Iport/static -Iport/common -Iboards/mps2-an505 -DSHEAP_BOARD_HEADER=\"board.h\""
pass=0 fail=0 why=
check() { # label compiler-and-flags...
  label=$1; shift
  if "$@" $inc -std=gnu11 -ffreestanding -O2 -c port/static/guard_armv8m.c -o "$out/$label.o" 2>"$out/$label.log" &&
     arm-none-eabi-nm --defined-only "$out/$label.o" | grep -q ' T static_guard_set$'; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1)); why="$why $label"
  fi
}
check gcc-m33 arm-none-eabi-gcc -mcpu=cortex-m33 -mthumb
check gcc-m55 arm-none-eabi-gcc -mcpu=cortex-m55 -mthumb
if command -v clang >/dev/null 2>&1; then
  check clang-m33 clang --target=thumbv8m.main-none-eabi -mcpu=cortex-m33
  check clang-m55 clang --target=thumbv8.1m.main-none-eabi -mcpu=cortex-m55
fi
echo "SUITE $name: $pass passed, $fail failed${why:+ (no guard from:$why; see $out)}"
