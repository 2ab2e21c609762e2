#!/bin/sh
# bench_threads.sh SMPDIR ONELOCKDIR OUT REPS OPS (make bench-threads)
# Multi-threaded host throughput: tests/bench/bench_threads.c for sheap
# twice (SMPDIR: the host smp flavour's SHEAP_SMP=1 build, per-CPU caches;
# ONELOCKDIR: the native SHEAP_SMP=0 build, one lock), glibc, mimalloc and
# jemalloc (LD_PRELOAD, as in bench_host.sh), modes churn (1, 2, 4
# threads) and xfree (2, 4 threads), REPS rounds with the allocators taking
# turns inside a round; then the shared-lock count of the multi-CPU stress
# (sizes up to 96 KB, and small blocks only) with 1 and 4 threads in both
# builds, and of the churn and xfree modes with 4 threads (bench_threads_lc).  Writes the raw
# lines to OUT.
set -e
smp=$1 one=$2 out=$3 reps=$4 ops=$5
: > "$out"
echo "THREADINFO cpu=\"$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')\" cores=$(nproc) load=$(cut -d' ' -f1 /proc/loadavg) reps=$reps ops=$ops" >> "$out"
r=0
while [ $r -lt "$reps" ]; do
  for m in "churn 1" "churn 2" "churn 4" "xfree 2" "xfree 4"; do
    set -- $m
    "$smp/bench_threads" sheap-smp $1 $2 "$ops" >> "$out"
    "$one/bench_threads" sheap-1lock $1 $2 "$ops" >> "$out"
    for a in glibc mimalloc jemalloc; do
      if [ $a = jemalloc ]; then
        LD_PRELOAD=libjemalloc.so.2 "$smp/bench_threads" $a $1 $2 "$ops" >> "$out"
      else
        "$smp/bench_threads" $a $1 $2 "$ops" >> "$out"
      fi
    done
  done
  r=$((r + 1))
done
# A failed stress run is recorded (the stress's own errors are in the line),
# not fatal: the throughput figures stand without it.
for b in "sheap-smp $smp" "sheap-1lock $one"; do
  set -- $b
  for m in stress stress-small; do
    for n in 1 4; do
      "$2/bench_threads_lc" $1 $m $n 3000 >> "$out" 2>/dev/null || echo "LOCKS $1 $m threads=$n failed" >> "$out"
    done
  done
  for m in "churn 4" "xfree 4"; do
    set -- $1 $2 $m
    "$2/bench_threads_lc" $1 $3 $4 200000 >> "$out" 2>/dev/null || echo "LOCKS $1 $3 threads=$4 failed" >> "$out"
    set -- $1 $2
  done
done
