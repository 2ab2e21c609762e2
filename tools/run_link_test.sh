#!/bin/sh
# run_link_test.sh BUILD_DIR: builds tests/link/main.c through the board's
# generated sheap.mk, as an outside project would, boots it, and prints a
# SUITE line for the results file.  Then the per-target opt-out: the same
# program built with SHEAP_LIBC := no for that target alone must link no
# member of libsheap_libc.a, while the default build links the binding
# exactly when sheap.mk says SHEAP_LIBC ?= yes (second SUITE line).  Then,
# on the firmware boards, a program that defines its own thread hooks
# (tests/link/main_rtos.c) must link and have them called (third line);
# the hosted port keeps its own (threads are its context ids).
b=$1
name="$(basename "$b")/outside-link"
log="$b/outside-link.log"
rm -f "$b/fw.elf" "$b/fw-nolibc.elf" # relink: the outside Makefile does not track sheap's archives
if timeout 300 make --no-print-directory -f tests/link/Makefile SHEAP_MK="$b/sheap.mk" OUT="$b" run > "$log" 2>&1 &&
   grep -q 'outside build: sheap block at' "$log"; then
  echo "SUITE $name: 1 passed, 0 failed"
else
  echo "SUITE $name: 0 passed, 1 failed (see $log)"
  tail -n 20 "$log" >&2
fi

name="$(basename "$b")/libc-opt-out"
binding='libsheap_libc\.a(sheap_libc\.o)'
if grep -q '^SHEAP_LIBC ?= yes$' "$b/sheap.mk"; then want=yes; else want=no; fi
if grep -q "$binding" "$b/fw.elf.map"; then got=yes; else got=no; fi
if make --no-print-directory -f tests/link/Makefile SHEAP_MK="$b/sheap.mk" OUT="$b" nolibc >> "$log" 2>&1 &&
   ! grep -q "$binding" "$b/fw-nolibc.elf.map" && [ $got = $want ]; then
  echo "SUITE $name: 1 passed, 0 failed"
else
  echo "SUITE $name: 0 passed, 1 failed (binding in fw.elf: $got, expected $want; see $log)"
fi

case "$(basename "$b")" in host*) exit 0 ;; esac
name="$(basename "$b")/own-thread-hooks"
rm -f "$b/fw-rtos.elf"
if timeout 300 make --no-print-directory -f tests/link/Makefile SHEAP_MK="$b/sheap.mk" OUT="$b" rtos >> "$log" 2>&1 &&
   grep -q 'outside build with its own thread hooks: task id asked [1-9]' "$log"; then
  echo "SUITE $name: 1 passed, 0 failed"
else
  echo "SUITE $name: 0 passed, 1 failed (see $log)"
  tail -n 20 "$log" >&2
fi
