#!/bin/sh
# check_libc_link.sh BUILD_DIR IMAGE [LIBC]: a firmware image linked with
# sheap's C library binding (BUILD_DIR/libsheap_libc.a) must hold none of
# the C library's allocator.  LIBC is picolibc (the default), newlib-nano or
# newlib.  Reads IMAGE and its link map IMAGE.map.  Four checks:
#   map    no member of the C library's allocator was linked (picolibc: the
#          libc.a members named *malloc* except getpagesize, and sbrk's;
#          newlib: lib_a-[nano-]mallocr.o, freer.o, callocr.o, ... and
#          sbrkr.o, syssbrk.o), and the binding's object was;
#   nm     no symbol those members define appears in the image, apart from
#          the standard names the binding defines itself (malloc, free, ...);
#   nm     each of those standard names in the image sits at the address
#          the link map gives it in libsheap_libc.a(sheap_libc.o), and
#          malloc is among them.
#   nm     no sbrk in the image (sbrk, _sbrk, _sbrk_r): nothing grows a
#          heap of the C library's;
# Prints one SUITE line; the evidence goes to IMAGE.nm.log.
b=$1 img=$2 libc=${3:-picolibc}
nm_tool=${NM:-nm}
name="$(basename "$b")/libc-link"
map="$img.map"
log="$img.nm.log"
binding="$b/libsheap_libc.a"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1" >> "$log"; }
bad() { fail=$((fail + 1)); echo "FAIL $1" >> "$log"; echo "FAIL $name: $1" >&2; }

: > "$log"
libc_a=$(sed -n 's/^LOAD \(.*\/libc\(_nano\)\{0,1\}\.a\)$/\1/p' "$map" 2>/dev/null | head -n 1)
if [ ! -f "$img" ] || [ -z "$libc_a" ] || [ ! -f "$binding" ]; then
  echo "SUITE $name: 0 passed, 1 failed (no image, link map with libc.a, or $binding)"
  exit 0
fi
echo "image $img; C library $libc_a" >> "$log"

# The C library's allocator: its members and the global symbols they define.
case $libc in
  newlib*) members=$(ar t "$libc_a" | grep -E '^lib_a-(nano-)?(m(alloc|allocr|align|alignr|allinfor|alloptr|allstatsr|sizer?|stats|trim|lock)|freer|callocr?|reallocr?|reallocf|reallocarray|p?vallocr?|aligned_alloc|sbrkr|syssbrk)\.o$') ;;
  *) members=$(ar t "$libc_a" | grep -E 'malloc|sbrk' | grep -v getpagesize) ;;
esac
alloc_syms=$($nm_tool -A -g --defined-only "$libc_a" 2>/dev/null |
  awk -v m="$(echo $members)" 'BEGIN { n = split(m, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 }
       { split($1, f, ":"); if (f[2] in want) print $NF }' | sort -u)
ours=$($nm_tool -g --defined-only "$binding" | awk 'NF == 3 { print $3 }' | sort -u)
private=$(echo "$alloc_syms" | grep -v -x -F "$ours")
echo "allocator members: $(echo $members)" >> "$log"
if [ -z "$members" ] || [ -z "$private" ]; then
  echo "SUITE $name: 0 passed, 1 failed (no allocator members found in $libc_a)"
  exit 0
fi
echo "their symbols the binding does not define: $(echo $private)" >> "$log"

# map: which archive members the linker took.
loaded=$(sed -n '/^Archive member included/,/^Discarded input sections/p' "$map" | grep -E '^[^ ].*\.a\(')
hits=$(echo "$loaded" | grep -F "$libc_a(" | sed 's/.*(\(.*\))$/\1/' | grep -x -F "$members")
if [ -n "$hits" ]; then
  bad "map: $libc allocator members linked: $(echo $hits)"
elif ! echo "$loaded" | grep -q 'libsheap_libc\.a(sheap_libc\.o)'; then
  bad "map: the binding (libsheap_libc.a(sheap_libc.o)) was not linked"
else
  ok "map: no $libc allocator member linked; libsheap_libc.a(sheap_libc.o) was"
fi

# nm: none of the allocator's own symbols.
image_syms=$($nm_tool "$img" | awk '{ print $NF }' | sort -u)
found=$(echo "$image_syms" | grep -x -F "$private")
if [ -n "$found" ]; then
  bad "nm: $libc allocator symbols in the image: $(echo $found)"
else
  ok "nm: none of the $(echo "$private" | wc -w) symbols private to $libc's allocator"
fi
sbrk=$(echo "$image_syms" | grep -x -E '_?sbrk|_sbrk_r')
if [ -n "$sbrk" ]; then
  bad "nm: sbrk in the image: $(echo $sbrk)"
else
  ok "nm: no sbrk, _sbrk or _sbrk_r in the image"
fi

# nm + map: the standard names come from the binding.  The map names the
# input file of every symbol; nm's address must be that one.
defs=$(awk '/^ [^ ]+ +0x[0-9a-f]+ +0x[0-9a-f]+ +[^ ]/ || /^ +0x[0-9a-f]+ +0x[0-9a-f]+ +[^ ]/ { file = $NF; next }
            /^ +0x[0-9a-f]+ +[A-Za-z_][A-Za-z0-9_]*$/ { sub(/^0x0*/, "", $1); print $2, $1, file }' "$map")
wrong= seen=
for s in $(echo "$image_syms" | grep -x -F "$ours"); do
  addr=$($nm_tool --defined-only "$img" | awk -v s="$s" '$3 == s { sub(/^0*/, "", $1); print $1; exit }')
  from=$(echo "$defs" | awk -v s="$s" -v a="$addr" '$1 == s && $2 == a { print $3; exit }')
  echo "  $s  0x$addr  ${from:-?}" >> "$log"
  case $from in
    *libsheap_libc.a\(sheap_libc.o\)) seen="$seen $s" ;;
    *) wrong="$wrong $s(${from:-not in the map})" ;;
  esac
done
if [ -n "$wrong" ]; then
  bad "nm: not defined by libsheap_libc.a(sheap_libc.o):$wrong"
elif ! echo " $seen " | grep -q ' malloc '; then
  bad "nm: malloc is not in the image"
else
  ok "nm: defined by libsheap_libc.a(sheap_libc.o):$seen"
fi

echo "SUITE $name: $pass passed, $fail failed"
