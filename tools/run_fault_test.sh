#!/bin/sh
# run_fault_test.sh BUILD_DIR: builds tests/fault/main.c through the board's
# sheap.mk, boots it, and expects the board's exception handler to report
# the unexpected fault (ESR/FAR/ELR or scause/stval/sepc) and exit non-zero.
# Prints a SUITE line for the results file.
b=$1
name="$(basename "$b")/unexpected-fault"
log="$b/unexpected-fault.log"
rm -f "$b/fault/fw.elf" # relink: the outside Makefile does not track sheap's archives
timeout 120 make --no-print-directory -f tests/link/Makefile SHEAP_MK="$b/sheap.mk" OUT="$b/fault" \
  HERE=tests/fault/ run > "$log" 2>&1
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q 'unexpected exception' "$log"; then
  echo "SUITE $name: 1 passed, 0 failed"
else
  echo "SUITE $name: 0 passed, 1 failed (exit $rc; see $log)"
  tail -n 20 "$log" >&2
fi
