#!/bin/sh
# bench_pico_malloc.sh OUT.a CC [CFLAGS...]
# Builds a bench-only archive holding picolibc's own allocator (nano-malloc:
# malloc, free, realloc and the sbrk under them) from the libc.a that CC
# links with these CFLAGS (its multilib), with every global symbol renamed
# pico_<name>, so that one image can hold sheap and picolibc's allocator
# side by side.  The code is picolibc's, byte for byte: only names change.
set -e
out=$1; shift
cc=$1
triple=$(basename "$cc" | sed 's/-gcc$//')
multi=$("$@" -print-multi-directory)
libc=/usr/lib/picolibc/$triple/lib/$multi/libc.a
[ -f "$libc" ] || { echo "bench_pico_malloc.sh: no $libc" >&2; exit 1; }
objcopy=${cc%gcc}objcopy
ar=${cc%gcc}ar
nm=${cc%gcc}nm
members="nano-malloc-malloc.c.o nano-malloc-free.c.o nano-malloc-realloc.c.o libc_picolib_picosbrk.c.o"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && "$ar" x "$libc" $members)
# Every symbol these members define, local statics excepted.
syms=$(cd "$tmp" && "$nm" -g --defined-only $members | awk 'NF == 3 { print $3 }' | sort -u)
redef=
for s in $syms; do redef="$redef --redefine-sym $s=pico_$s"; done
rm -f "$out"
for m in $members; do
  "$objcopy" $redef "$tmp/$m" "$tmp/pico-$m"
  "$ar" rcs "$out" "$tmp/pico-$m"
done
# How Debian compiled it (DW_AT_producer), for the report: OUT.a.producer.
${cc%gcc}readelf --debug-dump=info "$tmp/nano-malloc-malloc.c.o" 2>/dev/null |
  sed -n 's/.*DW_AT_producer *: *\(([^)]*): *\)\{0,1\}//p' | head -n 1 > "$out.producer"
# Nothing may still be called malloc, free, realloc or sbrk.
if "$nm" "$out" | grep -Eq ' [TDBU] (malloc|free|realloc|sbrk|__malloc_[a-z_]*)$'; then
  echo "bench_pico_malloc.sh: unrenamed allocator symbols in $out" >&2; exit 1
fi
