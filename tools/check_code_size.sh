#!/bin/sh
# check_code_size.sh B: the code-size and static-RAM bounds for small parts on
# Cortex-M3 -Os (make test, board mps2-an385).  tools/bench_size.sh links
# malloc, calloc, realloc and free from the core, the static port and its
# ARMv7-M guard, for the native and the small (256 KB part) flavour; the
# bounds are in tests/bench/bounds.txt:
#   code_max        text + data of the native image
#   small_code_max  the same for the small flavour
#   small_ram_max   static RAM (bss + data) of the small flavour
#   native_ram_max  static RAM of the native flavour
# Prints one SUITE line; the raw figures stay in B/size.txt.
b=$1
name="$(basename "$b")/code-size"
bound() { sed -n "s/^$1 *= *\([0-9]*\).*/\1/p" tests/bench/bounds.txt; }
if ! tools/bench_size.sh "$b/size.txt" > "$b/size.log" 2>&1; then
  echo "SUITE $name: 0 passed, 1 failed (tools/bench_size.sh failed, see $b/size.log)"
  exit 0
fi
get() { # flavour field
  awk -v f="port-$1" -v k="$2" '$1 == "SIZE" && $2 == "sheap" && $3 == f {
    for (i = 4; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' "$b/size.txt"
}
pass=0 fail=0 why=
check() { # label value bound
  if [ -n "$2" ] && [ -n "$3" ] && [ "$2" -le "$3" ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1)); why="$why $1 ${2:-?} > ${3:-?};"
  fi
}
check "native code" $(( $(get native text) + $(get native data) )) "$(bound code_max)"
check "small code" $(( $(get small text) + $(get small data) )) "$(bound small_code_max)"
check "small static RAM" $(( $(get small bss) + $(get small data) )) "$(bound small_ram_max)"
check "native static RAM" $(( $(get native bss) + $(get native data) )) "$(bound native_ram_max)"
echo "SUITE $name: $pass passed, $fail failed${why:+ (${why% })}"
