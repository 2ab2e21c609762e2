#!/bin/sh
# run_cxx_test.sh BUILD_DIR RUNNER RESULTS: the C++ operators' test on one
# board.  Builds tests/cxx/test_cxx.cc through the board's sheap.mk with
# SHEAP_CXX=yes (tests/cxx/Makefile), runs it under RUNNER with
# tools/run_test.sh, and checks the link map: libsheap_cxx.a(sheap_new.o)
# was linked and no operator new/delete object of the C++ library
# (libsupc++'s new_op*.o, del_op*.o) was.  Appends SUITE lines to RESULTS.
b=$1 runner=$2 results=$3
here=$(dirname "$0")
out="$b/tests/cxx"
bin="$out/test_cxx"
log="$out/build.log"
name="$(basename "$b")/cxx-link"
mkdir -p "$out"
rm -f "$bin"
if ! make --no-print-directory -f tests/cxx/Makefile SHEAP_MK="$b/sheap.mk" OUT="$out" > "$log" 2>&1; then
  echo "SUITE $(basename "$b")/test_cxx: 0 passed, 1 failed (build failed; see $log)" >> "$results"
  echo "FAIL  $(basename "$b")/test_cxx (build)"; tail -n 20 "$log"
  exit 0
fi
"$here/run_test.sh" "$b" "$runner" "$bin" "$results"
loaded=$(sed -n '/^Archive member included/,/^Discarded input sections/p' "$bin.map" | grep -E '^[^ ].*\.a\(')
theirs=$(echo "$loaded" | grep -E '\((new_op|del_op)[a-z]*\.o\)' | sed 's/.*\/\([^/]*\.a(.*)\)$/\1/')
if [ -n "$theirs" ]; then
  line="SUITE $name: 0 passed, 1 failed (the C++ library's operators linked: $(echo $theirs))"
elif ! echo "$loaded" | grep -q 'libsheap_cxx\.a(sheap_new\.o)'; then
  line="SUITE $name: 0 passed, 1 failed (libsheap_cxx.a(sheap_new.o) not linked)"
else
  line="SUITE $name: 1 passed, 0 failed"
fi
echo "$line" >> "$results"
echo "$line" | sed 's/^SUITE /  /'
