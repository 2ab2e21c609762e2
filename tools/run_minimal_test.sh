#!/bin/sh
# run_minimal_test.sh BUILD_DIR RUNNER RESULTS: tests/minimal on
# mps2-an385.  Builds the two images (tests/minimal/Makefile), boots the one
# with the heap, and checks that
#   boot   it prints its line and exits 0;
#   libs   nothing of sheap's board library (libboard.a) or the C library
#          binding is in it: no sheap_board_*, __interrupt_vector,
#          libsheap_libc.a member;
#   stdio  no formatted output came with sheap: no vfprintf, printf,
#          puts, fputs or stdout reference in the image.
# Writes the sizes (text, data, bss of each image and the difference) to
# BUILD_DIR/minimal/size.txt and prints them; appends a SUITE line.
b=$1 runner=$2 results=$3
out="$b/minimal"
name="$(basename "$b")/minimal-firmware"
nm_tool=${NM:-nm}
size_tool=$(echo "$nm_tool" | sed 's/nm$/size/')
mkdir -p "$out"
rm -f "$out"/*.elf
pass=0 fail=0 why=
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); why="$why; $1"; }
if ! make --no-print-directory -f tests/minimal/Makefile SHEAP_MK="$b/sheap.mk" OUT="$out" > "$out/build.log" 2>&1; then
  echo "SUITE $name: 0 passed, 1 failed (build failed; see $out/build.log)" >> "$results"
  tail -n 20 "$out/build.log"; exit 0
fi
timeout 120 $runner "$out/fw-heap.elf" > "$out/run.log" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q 'minimal firmware: malloc, realloc, free from sheap' "$out/run.log"; then ok; else bad "boot: exit $rc (see $out/run.log)"; fi
syms=$($nm_tool "$out/fw-heap.elf" | awk '{ print $NF }')
board=$(echo "$syms" | grep -E '^(sheap_board_|__interrupt_vector$|board_fault$)')
if [ -z "$board" ] && ! grep -q 'libsheap_libc\.a\|libboard\.a' "$out/fw-heap.elf.map"; then ok; else bad "libs: $(echo $board)"; fi
stdio=$(echo "$syms" | grep -x -E '(__[a-z]_)?vfprintf|printf|puts|fputs|stdout')
if [ -z "$stdio" ]; then ok; else bad "stdio in the image: $(echo $stdio)"; fi
{
  echo "minimal Cortex-M3 firmware (tests/minimal), $(grep -o -- '-O[0-9s]' "$b/sheap.mk" | head -n 1)"
  $size_tool "$out/fw-noheap.elf" "$out/fw-heap.elf"
  $size_tool "$out/fw-noheap.elf" "$out/fw-heap.elf" | awk 'NR == 2 { t = $1; d = $2; s = $3 }
    NR == 3 { printf "sheap_malloc+realloc+free: text %+d, data %+d, bss %+d bytes\n", $1 - t, $2 - d, $3 - s }'
} > "$out/size.txt"
sed -n '$p' "$out/size.txt" | sed 's/^/  minimal firmware: /'
echo "SUITE $name: $pass passed, $fail failed${why:+ (${why#; })}" >> "$results"
