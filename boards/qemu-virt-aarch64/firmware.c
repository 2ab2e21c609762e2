/*
 * firmware.c for "qemu-virt-aarch64": what a bootloader does before main.
 * From .preinit_array (before every constructor and before main) it
 * installs the exception vectors, builds translation tables and turns the
 * MMU on (boards/common/boot_mmu.c); sheap then attaches to the running
 * tables (port/common/mmu_default.c) with the window and attributes of
 * board.h.  Two layouts:
 *
 *   native   48-bit VA (T0SZ 16, L0 root), MAIR attr0 device, attr1 normal;
 *            1 GB blocks: [0, 1 GB) device, RAM [BOARD_RAM_BASE,
 *            +BOARD_RAM_SIZE) normal, read/write/execute.
 *   foreign  (-DBOARD_FOREIGN) a different bootloader: 39-bit VA (T0SZ 25,
 *            L1 root), MAIR attr0 normal write-back, attr1 Device-nGnRE,
 *            attr2 normal non-cacheable; 2 MB blocks only: the UART's
 *            2 MB device block, the image's first 2 MB (code, read-only
 *            data) read-only and executable, the rest of RAM read/write,
 *            never executable; and a mapping of its own that sheap must
 *            not disturb: at BOOT_ALIAS_VA (15 GB, the top-level entry just
 *            below sheap's window) a read-only 4 KB page aliasing the
 *            firmware's page.
 */
#include "board.h"
#include "boot_mmu.h"

#define GB (1ull << 30)
#define MB2 (1ull << 21)

#define D_ATTR(i) ((uint64_t)(i) << 2)
#define D_RO (2ull << 6) /* AP[2:1] = 10: EL1 read-only */
#define D_SH_INNER (3ull << 8)
#define D_AF (1ull << 10)
#define D_PXN (1ull << 53)
#define D_UXN (1ull << 54)

extern char board_vectors[];

#ifdef BOARD_FOREIGN
#define FW_VA_BITS 39
#define FW_MAIR 0x4404ffull /* attr0 normal WB, attr1 device-nGnRE, attr2 normal NC */
#define FW_NORMAL (D_ATTR(0) | D_SH_INNER | D_AF)
static const struct boot_map fw_maps[] = {
    {BOARD_UART_BASE & ~(MB2 - 1), BOARD_UART_BASE & ~(MB2 - 1), MB2, 21, D_ATTR(1) | D_AF | D_PXN | D_UXN},
    {BOARD_RAM_BASE, BOARD_RAM_BASE, MB2, 21, FW_NORMAL | D_RO},
    {BOARD_RAM_BASE + MB2, BOARD_RAM_BASE + MB2, BOARD_RAM_SIZE - MB2, 21, FW_NORMAL | D_PXN | D_UXN},
    {BOOT_ALIAS_VA, BOOT_FW_PAGE, 4096, 12, FW_NORMAL | D_RO | D_PXN | D_UXN},
};
#else
#define FW_VA_BITS 48
#ifdef BOARD_MTE
/* Flavour mte (QEMU -M virt,mte=on -cpu max): attr1 is Tagged
 * Normal write-back, so that sheap's blocks can carry allocation tags
 * (boot_mmu.c turns tag checks on). */
#define FW_MAIR 0xf000ull /* attr0 device-nGnRnE, attr1 tagged normal WB */
#else
#define FW_MAIR 0xff00ull /* attr0 device-nGnRnE, attr1 normal WB */
#endif
static const struct boot_map fw_maps[] = {
    {0, 0, GB, 30, D_ATTR(0) | D_AF | D_PXN | D_UXN},
    {BOARD_RAM_BASE, BOARD_RAM_BASE, BOARD_RAM_SIZE, 30, D_ATTR(1) | D_SH_INNER | D_AF},
};
#endif

void board_firmware_start(void)
{
    __asm__ volatile("msr vbar_el1, %0\n\tisb" ::"r"(board_vectors) : "memory");
    boot_mmu_start(FW_VA_BITS, FW_MAIR, fw_maps, sizeof fw_maps / sizeof fw_maps[0]);
}

__attribute__((section(".preinit_array"), used)) static void (*const board_preinit)(void) = board_firmware_start;
