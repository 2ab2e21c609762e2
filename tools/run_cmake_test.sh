#!/bin/sh
# run_cmake_test.sh BOARD BUILD_DIR RUNNER RESULTS: sheap taken by outside
# builds the way users take it, on one board, all written under
# BUILD_DIR/outside (nothing in the source tree):
#   make-oot     `make -C <sheap> BOARD=<b> B=<abs dir> lib` out of the
#                tree, then tests/link built through that sheap.mk and booted
#   cmake-subdir tests/cmake with add_subdirectory(<sheap>)
#   cmake-fetch  tests/cmake with FetchContent from a tarball of the tree
#   cmake-package sheap configured, built and installed on its own
#                (cmake --install), tests/cmake with find_package(sheap)
#   source-tree  no file of the source tree (outside build/ and .git) was
#                written meanwhile
# Each CMake case builds a C image (sheap::libc) and a C++ image
# (sheap::cxx) and boots both under RUNNER; boards other than the host use
# cmake/toolchains/<board>.cmake.  Appends one SUITE line per case.
board=$1 b=$2 runner=$3 results=$4
src=$(pwd)
out=$(cd "$b" && pwd)/outside
rm -rf "$out" && mkdir -p "$out"
stamp="$out/stamp" && : > "$stamp" && sleep 1
tc=
[ "$board" != host ] && tc="-DCMAKE_TOOLCHAIN_FILE=$src/cmake/toolchains/$board.cmake"
name="$(basename "$b")"
line() { # case log status
  if [ "$3" = 0 ]; then r="1 passed, 0 failed"; else r="0 passed, 1 failed (see $2)"; tail -n 15 "$2"; fi
  echo "SUITE $name/$1: $r" >> "$results"
  echo "  $name/$1: $r"
}
boot() { # image log: runs it, expects exit 0 and a "cmake consumer:" line
  timeout 300 $runner "$1" >> "$2" 2>&1 && grep -q '^cmake consumer: ' "$2"
}

# Make, out of the tree.
log="$out/make-oot.log"
if make --no-print-directory -C "$src" BOARD="$board" B="$out/make" lib > "$log" 2>&1 &&
   grep -q "^SHEAP_LIB_DIR := $out/make\$" "$out/make/sheap.mk" &&
   make --no-print-directory -f "$src/tests/link/Makefile" SHEAP_MK="$out/make/sheap.mk" OUT="$out/make/link" run >> "$log" 2>&1 &&
   grep -q 'outside build: sheap block at' "$log"; then st=0; else st=1; fi
line make-oot "$log" $st

consume() { # case, then cmake arguments
  c=$1; shift
  log="$out/cmake-$c.log"
  st=1
  if cmake -S "$src/tests/cmake" -B "$out/cmake-$c" $tc "$@" > "$log" 2>&1 &&
     cmake --build "$out/cmake-$c" -j 2 >> "$log" 2>&1 &&
     boot "$out/cmake-$c/fw" "$log" && boot "$out/cmake-$c/fwxx" "$log"; then st=0; fi
  line "cmake-$c" "$log" $st
}
consume subdir -DSHEAP_MODE=subdir -DSHEAP_SOURCE="$src"
tar -C "$src" --exclude=./build --exclude=./.git -czf "$out/sheap-src.tar.gz" .
consume fetch -DSHEAP_MODE=fetch -DSHEAP_URL="$out/sheap-src.tar.gz"
log="$out/cmake-install.log"
if cmake -S "$src" -B "$out/sheap-build" $tc -DSHEAP_BOARD="$board" > "$log" 2>&1 &&
   cmake --build "$out/sheap-build" -j 2 >> "$log" 2>&1 &&
   cmake --install "$out/sheap-build" --prefix "$out/prefix" >> "$log" 2>&1; then
  consume package -DSHEAP_MODE=package -DCMAKE_PREFIX_PATH="$out/prefix"
else
  line cmake-package "$log" 1
fi

written=$(find "$src" -path "$src/build" -prune -o -path "$src/.git" -prune -o -newer "$stamp" -print | head -n 5)
if [ -z "$written" ]; then st=0; else echo "written in the source tree: $written" > "$out/source-tree.log"; st=1; fi
line source-tree "$out/source-tree.log" $st
