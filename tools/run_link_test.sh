#!/bin/sh
# run_link_test.sh BUILD_DIR: builds tests/link/main.c through the board's
# generated sheap.mk, as an outside project would, boots it, and prints a
# SUITE line for the results file.
b=$1
name="$(basename "$b")/outside-link"
log="$b/outside-link.log"
rm -f "$b/fw.elf" # relink: the outside Makefile does not track sheap's archives
if timeout 300 make --no-print-directory -f tests/link/Makefile SHEAP_MK="$b/sheap.mk" OUT="$b" run > "$log" 2>&1 &&
   grep -q 'outside build: sheap block at' "$log"; then
  echo "SUITE $name: 1 passed, 0 failed"
else
  echo "SUITE $name: 0 passed, 1 failed (see $log)"
  tail -n 20 "$log" >&2
fi
