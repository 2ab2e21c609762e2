#!/bin/sh
# run_fuzz.sh SECONDS "BUILDS" - the long fuzz run behind `make fuzz`.
# Runs tests/fuzz/fuzz_heap.c in each build for SECONDS, one after the other,
# at nice 19 (the machine is shared):
#   fuzz    libFuzzer + ASan + UBSan; new inputs go to $BUILD_DIR/host-fuzz/run-corpus,
#           then the run corpus and tests/fuzz/corpus are merged (libFuzzer
#           -merge=1 keeps a minimal set with the same coverage) and the
#           result replaces tests/fuzz/corpus;
#   native  the standalone driver, 64-bit gcc -O2, seed = the date;
#   i686    the standalone driver under qemu-i386.
# Appends one line per build to $BUILD_DIR/fuzz-report.txt:
#   <date> <build> <seconds> s: N executions, M operations, K port failures injected
# and exits non-zero when a build fails (its log: $BUILD_DIR/fuzz-<build>.log).
secs=$1 builds=$2
# The build tree (make passes BUILD_DIR=$(BUILD); default build).
BUILD_DIR=${BUILD_DIR:-build}
report=$BUILD_DIR/fuzz-report.txt
mkdir -p $BUILD_DIR/host-fuzz/crashes $BUILD_DIR/host-fuzz/run-corpus
seed=$(date +%s)
status=0
for b in $builds; do
  log=$BUILD_DIR/fuzz-$b.log
  case $b in
    fuzz) nice -n 19 $BUILD_DIR/host-fuzz/fuzz_heap -max_total_time="$secs" -rss_limit_mb=4096 \
            -artifact_prefix=$BUILD_DIR/host-fuzz/crashes/ $BUILD_DIR/host-fuzz/run-corpus tests/fuzz/corpus > "$log" 2>&1 ;;
    native) nice -n 19 $BUILD_DIR/host/fuzz_heap_sa -seconds "$secs" -seed "$seed" > "$log" 2>&1 ;;
    i686) nice -n 19 qemu-i386 $BUILD_DIR/host-i686/fuzz_heap_sa -seconds "$secs" -seed "$seed" > "$log" 2>&1 ;;
    *) echo "run_fuzz.sh: unknown build $b" >&2; exit 2 ;;
  esac
  rc=$?
  totals=$(grep -a '^fuzz_heap: [0-9]* executions' "$log" | tail -n 1 | sed 's/^fuzz_heap: //')
  if [ $rc -ne 0 ]; then
    status=1
    echo "$(date -u +%FT%TZ) $b $secs s: FAILED (exit $rc, see $log) $totals" | tee -a $report
  else
    echo "$(date -u +%FT%TZ) $b $secs s (seed $seed): $totals" | tee -a $report
  fi
done
case " $builds " in
  *" fuzz "*)
    rm -rf $BUILD_DIR/host-fuzz/merged && mkdir -p $BUILD_DIR/host-fuzz/merged
    if nice -n 19 $BUILD_DIR/host-fuzz/fuzz_heap -merge=1 -rss_limit_mb=4096 $BUILD_DIR/host-fuzz/merged \
         tests/fuzz/corpus $BUILD_DIR/host-fuzz/run-corpus > $BUILD_DIR/fuzz-merge.log 2>&1; then
      rm -f tests/fuzz/corpus/* && cp $BUILD_DIR/host-fuzz/merged/* tests/fuzz/corpus/
      echo "corpus merged: $(ls tests/fuzz/corpus | wc -l) inputs in tests/fuzz/corpus" | tee -a $report
    else
      status=1; echo "corpus merge failed ($BUILD_DIR/fuzz-merge.log)" | tee -a $report
    fi ;;
esac
exit $status
