#!/bin/sh
# check_no_libcalls.sh BUILD_DIR: no port or board object of the release
# build calls memset, memcpy or memmove, which gcc synthesises from plain
# loops (a frame clear became picolibc's byte-loop memset: issue 14).  Port
# and board sources are built with -fno-tree-loop-distribute-patterns, and
# clear or copy with their own loops; this checks the objects with nm.
# Prints a SUITE line.
b=$1
nm_tool=${NM:-nm}
name="$(basename "$b")/no-hidden-libcalls"
objs=$(find "$b/rel/port" "$b/rel/boards" -name '*.o' 2>/dev/null | sort)
if [ -z "$objs" ]; then
  echo "SUITE $name: 0 passed, 1 failed (no port or board objects in $b/rel)"
  exit 0
fi
bad=$(for o in $objs; do
  $nm_tool -u "$o" | awk 'NF == 2 { print $2 }' | grep -x -E 'memset|memcpy|memmove|__aeabi_mem(set|cpy|move|clr)[0-9]*' |
    sed "s|^|$(basename "$o"):|"
done)
if [ -n "$bad" ]; then
  echo "SUITE $name: 0 passed, 1 failed ($(echo $bad))"
  echo "FAIL $name: $(echo $bad)" >&2
else
  echo "SUITE $name: 1 passed, 0 failed ($(echo $objs | wc -w) objects)"
fi
