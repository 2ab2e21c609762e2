#!/bin/sh
# summarize.sh RESULTS: adds up the suite lines and prints "N passed, N failed"
# as its last line (after a line with the skipped cases, if any: cases that a
# configuration rules out, counted neither as passed nor as failed); exits
# non-zero when anything failed or nothing ran.
results=$1
[ -s "$results" ] || { echo "0 passed, 1 failed (no results)"; exit 1; }
awk '/^SUITE/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed,?$/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1); if ($i ~ /^skipped/) s += $(i-1) } }
     END { if (s > 0) printf "%d skipped (ruled out by the configuration)\n", s; printf "%d passed, %d failed\n", p, f; exit (f > 0 || p == 0) }' "$results"
