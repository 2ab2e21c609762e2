#!/bin/sh
# check_no_fault_injection.sh LIB: the release libsheap.a holds no fault
# injection (a test backend in tests/harness, never in a library): nm finds
# no symbol, defined or referenced, that names it.  Prints a SUITE line.
lib=$1
nm_tool=${NM:-nm}
name="$(basename "$(dirname "$lib")")/no-fault-injection"
found=$($nm_tool "$lib" 2>/dev/null | awk 'NF >= 2 { print $NF }' | grep -E 'fault_inject|^(harness_)?fault_backend' | sort -u)
if ! $nm_tool "$lib" > /dev/null 2>&1; then
  echo "SUITE $name: 0 passed, 1 failed (nm could not read $lib)"
elif [ -n "$found" ]; then
  echo "SUITE $name: 0 passed, 1 failed (symbols: $(echo $found))"
  echo "FAIL $name: $(echo $found)" >&2
else
  echo "SUITE $name: 1 passed, 0 failed"
fi
