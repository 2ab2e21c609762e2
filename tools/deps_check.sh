#!/bin/sh
# deps_check.sh NEED...: checks the commands and files given (the NEEDS of
# the boards and flavours about to be built, collected by `make
# deps-check`) and installs, with apt-get, only the packages of those that
# are missing (tools/deps.txt maps each to its Debian package).  A need
# that deps.txt does not know is an error: add it there.
here=$(dirname "$0")
table="$here/deps.txt"
missing= pkgs=
for need in "$@"; do
  case $need in
    /*) # a file, possibly a shell pattern
      found=no
      for f in $need; do [ -e "$f" ] && found=yes && break; done ;;
    *) if command -v "$need" >/dev/null 2>&1; then found=yes; else found=no; fi ;;
  esac
  [ $found = yes ] && continue
  pkg=$(awk -v n="$need" '!/^#/ && $1 == n { print $2; exit }' "$table")
  if [ -z "$pkg" ]; then
    echo "deps_check.sh: '$need' is missing and $table names no package for it" >&2
    exit 1
  fi
  missing="$missing $need"
  case " $pkgs " in *" $pkg "*) ;; *) pkgs="$pkgs $pkg" ;; esac
done
[ -z "$pkgs" ] && exit 0
echo "missing:$missing; installing:$pkgs"
if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $pkgs
