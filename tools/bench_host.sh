#!/bin/sh
# bench_host.sh BIN OUT REPS SCALE WORKLOAD...
# Host throughput (make bench): every workload on every allocator, each run
# in a fresh process, REPS rounds; the allocators take turns inside a round
# so that drift in the machine's speed touches all of them alike.  Appends
# the HOST lines of tests/bench/bench_host.c to OUT; the report takes the
# median of the rounds.
set -e
bin=$1 out=$2 reps=$3 scale=$4; shift 4
: > "$out"
echo "HOSTINFO cpu=\"$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')\" reps=$reps scale=$scale" >> "$out"
r=0
while [ $r -lt "$reps" ]; do
  for w in "$@"; do
    for a in sheap glibc mimalloc jemalloc; do
      if [ $a = jemalloc ]; then
        LD_PRELOAD=libjemalloc.so.2 "$bin" $a $w "$scale" >> "$out"
      else
        "$bin" $a $w "$scale" >> "$out"
      fi
    done
  done
  r=$((r + 1))
done
