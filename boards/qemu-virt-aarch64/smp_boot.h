/*
 * smp_boot.h for "qemu-virt-aarch64": what CPU 0 hands a secondary CPU for
 * its start (smp.c writes it, smp_entry.S reads it with the MMU still off),
 * as byte offsets usable from assembly.  FLAVOR=smp only (BOARD_SMP).
 */
#ifndef SHEAP_BOARD_SMP_BOOT_H
#define SHEAP_BOARD_SMP_BOOT_H

/* struct smp_boot in smp.c: the registers CPU 0 runs with. */
#define SMP_BOOT_MAIR 0
#define SMP_BOOT_TCR 8
#define SMP_BOOT_TTBR0 16
#define SMP_BOOT_SCTLR 24
#define SMP_BOOT_VBAR 32
#define SMP_BOOT_CPACR 40
#define SMP_BOOT_SIZE 48

/* Each secondary's stack: 64 KB, as CPU 0's (__stack_size in the linker
 * script), log2 for the entry's shift. */
#define SMP_STACK_SHIFT 16

#endif
