#!/bin/sh
# run_libc_test.sh BUILD_DIR LIBC RUNNER RESULTS: the C library binding's
# tests on one board.  Builds tests/libc/test_libc.c through the board's
# generated sheap.mk (tests/libc/Makefile), as an outside firmware build
# would, runs it under RUNNER with tools/run_test.sh, and for picolibc and
# newlib checks the linked image with tools/check_libc_link.sh.  Appends SUITE
# lines to RESULTS.
b=$1 libc=$2 runner=$3 results=$4
here=$(dirname "$0")
out="$b/tests/libc"
bin="$out/test_libc"
log="$out/build.log"
mkdir -p "$out"
rm -f "$bin" # relink: the outside Makefile does not track sheap's archives
if ! make --no-print-directory -f tests/libc/Makefile SHEAP_MK="$b/sheap.mk" OUT="$out" > "$log" 2>&1; then
  echo "SUITE $(basename "$b")/test_libc: 0 passed, 1 failed (build failed; see $log)" >> "$results"
  echo "FAIL  $(basename "$b")/test_libc (build)"; tail -n 20 "$log"
else
  "$here/run_test.sh" "$b" "$runner" "$bin" "$results"
fi
if [ "$libc" != glibc ]; then
  "$here/check_libc_link.sh" "$b" "$bin" "$libc" >> "$results"
  tail -n 1 "$results" | sed 's/^SUITE /  /'
fi
