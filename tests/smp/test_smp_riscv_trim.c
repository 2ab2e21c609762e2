/*
 * test_smp_riscv_trim.c - qemu-virt-riscv64 FLAVOR=smp with SMP_STRESS=yes
 * (issue 15): the trim-while-the-others-allocate test of
 * test_smp_riscv_boot.c alone, kept out of make test (SMP_STRESS=no) until
 * the core's lock-drop races are fixed; see that file.
 */
#define SMP_RISCV_TRIM_ONLY 1
#include "test_smp_riscv_boot.c"
