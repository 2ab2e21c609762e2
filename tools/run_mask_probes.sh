#!/bin/sh
# run_mask_probes.sh BUILD_DIR RUNNER BINARY RESULTS BOUND: the masked-stretch
# check on a board without a counter (Cortex-M).  RUNNER is the board's QEMU
# command with the counting plugin (tests/bench/icount_plugin.c) writing
# BINARY.events; tools/mask_probes.py turns that log into MASK lines and
# checks the longest stretch against BOUND.  Appends one SUITE line.
b=$1 runner=$2 bin=$3 results=$4 bound=$5
name="$(basename "$b")/$(basename "$bin")"
log="$bin.log"
timeout 600 $runner "$bin" > "$log" 2>&1
rc=$?
if [ $rc -ne 0 ] || ! grep -q '^DONE' "$log"; then
  echo "SUITE $name: 0 passed, 1 failed (exit $rc; see $log)" >> "$results"
  echo "FAIL  $name (exit $rc)"; tail -n 20 "$log"
  exit 0
fi
out=$(python3 tools/mask_probes.py "$bin.events" "$log" --bound "$bound")
echo "$out" > "$bin.mask.txt"
line=$(echo "$out" | grep -E '^SUITE ' | tail -n 1)
if [ -z "$line" ]; then
  echo "SUITE $name: 0 passed, 1 failed (no summary from mask_probes.py; see $bin.mask.txt)" >> "$results"
else
  echo "$line" | sed "s|^SUITE [^:]*:|SUITE $name:|" >> "$results"
  echo "$line" | sed "s|^SUITE [^:]*:|  $name:|"
  echo "$line" | grep -q ' 0 failed' || grep -E '^FAIL' "$bin.mask.txt"
fi
