/*
 * mmu_default.c - the default heap's MMU backend instance, built from the
 * board's configuration on first use:
 *   root, VA and PA bits   the running regime (sheap_mmu_read_regime:
 *                          TTBR0_EL1 + TCR_EL1.T0SZ/IPS, or satp), set up by
 *                          the firmware before the first heap call
 *   window                 SHEAP_MMU_WINDOW_BASE .. SHEAP_MMU_WINDOW_END
 *   reservations anywhere  SHEAP_MMU_ANY_BASE .. SHEAP_MMU_ANY_END
 *                          (optional; default the whole window)
 *   leaf attributes        SHEAP_MMU_LEAF_ATTRS (the firmware's MAIR index
 *                          and shareability, or RISC-V G/PBMT bits)
 *   frames                 [__sheap_frames_start, __sheap_frames_end) from
 *                          the linker script, then SHEAP_MMU_EXTRA_FRAMES
 *                          (optional brace list of {base, size})
 *   clearing frames        SHEAP_MMU_CLEAR_FRAMES 1: every frame is cleared
 *                          when it is mapped (security: no earlier
 *                          owner's data is ever readable through the heap);
 *                          default 0: cleared only when zeroed memory is
 *                          needed (calloc, metadata), by the core
 * A configuration the backend refuses (translation off, a window over the
 * firmware's mappings, ...) stops the program through sheap_port_fault
 * with the reason: the default heap cannot exist without it.
 */
#include "sheap.h"
#include "sheap_config.h"
#include "sheap_mmu.h"
#include "sheap_port.h"


#if !defined(SHEAP_MMU_WINDOW_BASE) || !defined(SHEAP_MMU_WINDOW_END) || !defined(SHEAP_MMU_LEAF_ATTRS)
#error "board.h of an MMU board sets SHEAP_MMU_WINDOW_BASE, SHEAP_MMU_WINDOW_END and SHEAP_MMU_LEAF_ATTRS"
#endif
#ifndef SHEAP_MMU_ANY_BASE
#define SHEAP_MMU_ANY_BASE 0
#define SHEAP_MMU_ANY_END 0
#endif
#ifndef SHEAP_MMU_CLEAR_FRAMES
#define SHEAP_MMU_CLEAR_FRAMES 0
#endif

extern char __sheap_frames_start[], __sheap_frames_end[];

static struct sheap_mmu default_mmu;
static struct sheap_backend default_backend;
static bool default_ready;

static const char *const reasons[] = {
    [SHEAP_MMU_EINVAL] = "sheap: the board's MMU configuration is invalid (window, frames or attributes)",
    [SHEAP_MMU_EBUSY] = "sheap: the MMU window overlaps live mappings or another heap's window or frames",
    [SHEAP_MMU_EOFF] = "sheap: translation is off; the firmware turns the MMU on before the first heap call",
};

const struct sheap_backend *sheap_port_default_backend(void)
{
    if (default_ready)
        return &default_backend;
#ifdef SHEAP_MMU_EXTRA_FRAMES
    static const struct sheap_mmu_frame_range extra[] = SHEAP_MMU_EXTRA_FRAMES;
#else
    static const struct sheap_mmu_frame_range extra[1];
#endif
    struct sheap_mmu_frame_range frames[SHEAP_MMU_MAX_FRAME_RANGES];
    unsigned n = 0;
    frames[n].base = (uintptr_t)__sheap_frames_start;
    frames[n++].size = (uintptr_t)__sheap_frames_end - (uintptr_t)__sheap_frames_start;
    for (unsigned i = 0; i < sizeof extra / sizeof extra[0] && n < SHEAP_MMU_MAX_FRAME_RANGES; i++)
        if (extra[i].size != 0)
            frames[n++] = extra[i];
    struct sheap_mmu_config cfg = {
        .window_base = SHEAP_MMU_WINDOW_BASE,
        .window_size = SHEAP_MMU_WINDOW_END - SHEAP_MMU_WINDOW_BASE,
        .any_base = SHEAP_MMU_ANY_BASE,
        .any_size = SHEAP_MMU_ANY_END - SHEAP_MMU_ANY_BASE,
        .frames = frames,
        .nframes = n,
        .leaf_attrs = SHEAP_MMU_LEAF_ATTRS,
        .clear_frames = SHEAP_MMU_CLEAR_FRAMES != 0,
    };
    int r = sheap_mmu_read_regime(&cfg.root, &cfg.va_bits, &cfg.pa_bits);
    if (r == SHEAP_MMU_OK)
        r = sheap_mmu_backend_init(&default_mmu, &cfg, &default_backend);
    if (r != SHEAP_MMU_OK)
        sheap_port_fault(reasons[r], NULL, true);
    default_ready = true;
    return &default_backend;
}

struct sheap_mmu *sheap_mmu_default(void)
{
    sheap_port_default_backend();
    return &default_mmu;
}

void sheap_mmu_frame_stats(struct sheap_frame_stats *out)
{
    sheap_port_lock();
    sheap_mmu_stats(sheap_mmu_default(), out);
    sheap_port_unlock();
}

bool sheap_mmu_is_mapped(uintptr_t va)
{
    sheap_port_lock();
    bool mapped = sheap_mmu_translate(sheap_mmu_default(), va) != 0;
    sheap_port_unlock();
    return mapped;
}
