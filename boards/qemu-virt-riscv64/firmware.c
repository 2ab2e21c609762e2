/*
 * firmware.c for "qemu-virt-riscv64": what a bootloader does before main,
 * once board.c has switched to S-mode: build Sv39 (or Sv48) tables and
 * write satp (boards/common/boot_mmu.c).  sheap then attaches to the
 * running tables (port/common/mmu_default.c) with the window of board.h.
 * Three layouts:
 *
 *   native   Sv39, gigapages: devices [0, 1 GB) read/write, RAM
 *            [2 GB, 3 GB) read/write/execute.
 *   sv48     the same under Sv48 (gigapages at level 1).
 *   foreign  (-DBOARD_FOREIGN) another bootloader: Sv39 with 4 KB device
 *            pages for the finisher and the UART only, 2 MB megapages for
 *            RAM (the image's first 2 MB read/execute, the rest
 *            read/write), and a mapping of its own that sheap must not
 *            disturb: at BOOT_ALIAS_VA (15 GB, the root entry just below
 *            sheap's window) a read-only page aliasing the firmware's
 *            page.
 * Leaves carry A and D already, so the hardware never updates them.
 */
#include "board.h"
#include "boot_mmu.h"

#define GB (1ull << 30)
#define MB2 (1ull << 21)

#define V_R (1ull << 1)
#define V_W (1ull << 2)
#define V_X (1ull << 3)
#define V_A (1ull << 6)
#define V_D (1ull << 7)

#ifdef BOARD_FOREIGN
static const struct boot_map fw_maps[] = {
    {BOARD_TEST_FINISHER, BOARD_TEST_FINISHER, 4096, 12, V_R | V_W | V_A | V_D},
    {BOARD_UART_BASE, BOARD_UART_BASE, 4096, 12, V_R | V_W | V_A | V_D},
    {BOARD_RAM_BASE, BOARD_RAM_BASE, MB2, 21, V_R | V_X | V_A},
    {BOARD_RAM_BASE + MB2, BOARD_RAM_BASE + MB2, BOARD_RAM_SIZE - MB2, 21, V_R | V_W | V_A | V_D},
    {BOOT_ALIAS_VA, BOOT_FW_PAGE, 4096, 12, V_R | V_A},
};
#else
static const struct boot_map fw_maps[] = {
    {BOARD_MMIO_BASE, BOARD_MMIO_BASE, BOARD_MMIO_SIZE, 30, V_R | V_W | V_A | V_D},
    {BOARD_RAM_BASE, BOARD_RAM_BASE, GB, 30, V_R | V_W | V_X | V_A | V_D},
};
#endif

void board_firmware_start(void)
{
    boot_mmu_start(SHEAP_RISCV_SV, 0, fw_maps, sizeof fw_maps / sizeof fw_maps[0]);
}
