#!/bin/sh
# bench_threads.sh DIR OUT REPS OPS (issue 15, make bench-threads)
# Multi-threaded host throughput: tests/bench/bench_threads.c for sheap,
# glibc, mimalloc and jemalloc (LD_PRELOAD, as in bench_host.sh), modes
# churn (1, 2, 4 threads) and xfree (2, 4 threads), REPS rounds with the
# allocators taking turns inside a round; then the shared-lock count of the
# 4-thread stress (bench_threads_lc).  Writes the raw lines to OUT.
set -e
dir=$1 out=$2 reps=$3 ops=$4
: > "$out"
echo "THREADINFO cpu=\"$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')\" cores=$(nproc) reps=$reps ops=$ops" >> "$out"
r=0
while [ $r -lt "$reps" ]; do
  for m in "churn 1" "churn 2" "churn 4" "xfree 2" "xfree 4"; do
    set -- $m
    for a in sheap glibc mimalloc jemalloc; do
      if [ $a = jemalloc ]; then
        LD_PRELOAD=libjemalloc.so.2 "$dir/bench_threads" $a $1 $2 "$ops" >> "$out"
      else
        "$dir/bench_threads" $a $1 $2 "$ops" >> "$out"
      fi
    done
  done
  r=$((r + 1))
done
# The stress may hit the core's threading bug (see boards/host/board.mk):
# a failed run is recorded, not fatal.
for n in 1 4; do
  "$dir/bench_threads_lc" sheap stress $n 3000 >> "$out" 2>/dev/null || echo "LOCKS stress threads=$n failed" >> "$out"
done
