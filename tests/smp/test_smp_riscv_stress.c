/*
 * test_smp_riscv_stress.c - qemu-virt-riscv64 FLAVOR=smp with
 * SMP_STRESS=yes: test_smp_riscv_boot.c built with
 * SMP_RISCV_STRESS, where the concurrent allocation also takes large
 * blocks (4 to 64 KB: page-heap runs carved and backed while other harts
 * free their neighbours) and hart 0 trims the heap again and again while
 * the others allocate.  In make test unless SMP_STRESS=no (it found the
 * core's lock-drop races, now fixed; see test_smp_riscv_boot.c).
 */
#define SMP_RISCV_STRESS 1
#include "test_smp_riscv_boot.c"
