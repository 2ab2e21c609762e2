#!/bin/sh
# check_freestanding.sh LIB: the core objects of a libsheap.a may reference
# nothing outside the core but the port (sheap_port_*) and the compiler's own
# runtime (libgcc helpers such as __popcountdi2): no libc, not even memset or
# memcpy calls that gcc synthesises from loops.  Prints a SUITE line.
lib=$1
nm_tool=${NM:-nm}
dir="$(dirname "$lib")/rel/core"
name="$(basename "$(dirname "$lib")")/core-freestanding"
defined=$(cd "$dir" && $nm_tool --defined-only *.o | awk 'NF == 3 { print $3 }' | sort -u)
undef=$(cd "$dir" && $nm_tool -u *.o | awk 'NF == 2 { print $2 }' | sort -u |
  grep -v -x -F "$defined" |
  grep -v -E '^(sheap_port_|_GLOBAL_OFFSET_TABLE_$|__stack_chk|__ubsan_|__asan_|__tsan_|__sanitizer_)' |
  grep -v -E '^__(popcount|ctz|clz|ffs|parity)[sd]i2$|^__(u?(div|mod)|mul|ashl|ashr|lshr)[dt]i3$')
if [ -n "$undef" ]; then
  echo "SUITE $name: 0 passed, 1 failed (core references: $(echo $undef))"
  echo "FAIL $name: $(echo $undef)" >&2
else
  echo "SUITE $name: 1 passed, 0 failed"
fi
