#!/bin/sh
# check_freestanding.sh LIB: the core objects of a libsheap.a may reference
# no symbol outside sheap itself (no libc, no compiler-generated memset).
# Prints a SUITE line for the results file.
lib=$1
nm_tool=${NM:-nm}
undef=$(cd "$(dirname "$lib")/rel/core" 2>/dev/null && $nm_tool -u *.o | awk 'NF == 2 { print $2 }' | sort -u | grep -v -E '^(sheap_|_GLOBAL_OFFSET_TABLE_$|__stack_chk|__ubsan_|__asan_|__sanitizer_)' )
name="$(basename "$(dirname "$lib")")/core-freestanding"
if [ -n "$undef" ]; then
  echo "SUITE $name: 0 passed, 1 failed (core references: $(echo $undef))"
  echo "FAIL $name: $(echo $undef)" >&2
else
  echo "SUITE $name: 1 passed, 0 failed"
fi
