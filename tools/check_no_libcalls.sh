#!/bin/sh
# check_no_libcalls.sh BUILD_DIR: no object of the board's libraries
# (libsheap.a: core and port; libboard.a; libsheap_libc.a) calls memset,
# memcpy or memmove, which gcc synthesises from plain loops and struct
# initialisers (a frame clear once became picolibc's byte-loop memset).
# Every source is built with -fno-tree-loop-distribute-patterns and clears
# or copies with its own loops; this checks the archives with nm.  Bare-metal
# boards only (the hosted port runs on a C library).  Prints a SUITE line.
b=$1
nm_tool=${NM:-nm}
name="$(basename "$b")/no-hidden-libcalls"
libs=""
for l in libsheap.a libboard.a libsheap_libc.a; do [ -f "$b/$l" ] && libs="$libs $b/$l"; done
if [ -z "$libs" ]; then
  echo "SUITE $name: 0 passed, 1 failed (no libraries in $b)"
  exit 0
fi
bad=$(for l in $libs; do
  $nm_tool -u -A "$l" 2>/dev/null | awk '{ print $1 $NF }' |
    grep -E ':(memset|memcpy|memmove|__aeabi_mem(set|cpy|move|clr)[0-9]*)$' | sed 's|^.*/||'
done)
n=$(for l in $libs; do ar t "$l"; done | wc -l)
if [ -n "$bad" ]; then
  echo "SUITE $name: 0 passed, 1 failed ($(echo $bad))"
  echo "FAIL $name: $(echo $bad)" >&2
else
  echo "SUITE $name: 1 passed, 0 failed ($n objects)"
fi
