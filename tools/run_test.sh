#!/bin/sh
# run_test.sh BUILD_DIR RUNNER BINARY RESULTS
# Runs one test program (under RUNNER, e.g. qemu-i386, when set) and appends
# its "SUITE name: N passed, M failed" line to RESULTS.  A program that dies
# before printing that line counts as one failed test.
b=$1 runner=$2 bin=$3 results=$4
name="$(basename "$b")/$(basename "$bin")"
log="$bin.log"
timeout 600 $runner "$bin" > "$log" 2>&1
rc=$?
line=$(grep -E '^SUITE .*: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
if [ -z "$line" ]; then
  echo "SUITE $name: 0 passed, 1 failed (exit $rc, no summary; see $log)" >> "$results"
  echo "FAIL  $name (exit $rc)"; tail -n 20 "$log"
elif [ $rc -ne 0 ] && ! echo "$line" | grep -q ' [1-9][0-9]* failed'; then
  echo "SUITE $name: 0 passed, 1 failed (exit $rc after summary)" >> "$results"
  echo "FAIL  $name (exit $rc)"; tail -n 20 "$log"
else
  echo "$line" | sed "s|^SUITE [^:]*:|SUITE $name:|" >> "$results"
  echo "$line" | sed "s|^SUITE [^:]*:|  $name:|"
  echo "$line" | grep -q ' 0 failed' || grep -E '^FAIL' "$log"
fi
