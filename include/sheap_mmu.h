/*
 * sheap_mmu.h - the MMU backend: a heap's memory in a window of translation
 * tables that the firmware owns (AArch64 EL1&0 TTBR0 regime, 4 KB granule,
 * 39- or 48-bit VA; RISC-V Sv39 / Sv48 in S-mode).
 *
 * The firmware sets up translation and turns it on before the first heap
 * call; sheap never enables translation, never builds an identity map and
 * never writes TCR, MAIR, SCTLR or SATP.  The firmware hands over
 * (struct sheap_mmu_config):
 *   - the live top-level table (its physical address, from TTBR0_EL1 or
 *     satp: sheap_mmu_read_regime reads both) and the regime's VA and PA
 *     bits;
 *   - a VA window for the heap: whole top-level entries (512 GB each with
 *     four levels, 1 GB with three) that are invalid when the backend is
 *     created;
 *   - one or more physical frame ranges for heap pages and for the tables
 *     below the window;
 *   - the memory attributes of the heap's leaf entries.
 *
 * Rules (checked by sheap_mmu_backend_init, which changes nothing when it
 * refuses):
 *   - the backend edits only the top-level entries of its window and the
 *     tables it allocated below them, so no table page is ever shared with
 *     the firmware or with another instance, and it frees only tables it
 *     allocated;
 *   - two instances on one root must have disjoint windows and disjoint
 *     frame ranges (instances register at init; fini unregisters);
 *   - frames and table pages are reached at VA == PA: the firmware maps
 *     every frame range and its own tables identically, as Normal
 *     write-back memory, before the first heap call, and uses none of the
 *     frame ranges itself;
 *   - while an instance exists the firmware leaves its window alone (no
 *     mappings of its own there).
 * Edits follow break-before-make: a leaf goes invalid -> valid (used) or
 * valid -> invalid (unused, release), never valid -> valid; every cleared
 * entry is invalidated by address (AArch64 TLBI VAAE1IS, RISC-V
 * sfence.vma va) and the frames go back to the pool only after the
 * invalidation completed.  Unlinking an emptied table on RISC-V needs
 * sfence.vma with rs1 = zero (the spec's rule for non-leaf entries).
 *
 * Locking: the operations run under the lock of the heap that uses the
 * instance; two instances share nothing but the root table (distinct
 * entries) and the registry, which only init and fini touch: call those
 * from startup code, not concurrently.
 */
#ifndef SHEAP_MMU_H
#define SHEAP_MMU_H

#include <stdbool.h>
#include <stdint.h>

#include "sheap_backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Results of sheap_mmu_backend_init / _fini / sheap_mmu_read_regime. */
enum {
    SHEAP_MMU_OK = 0,
    SHEAP_MMU_EINVAL = 1, /* malformed: zero or misaligned sizes, a window
                             outside the regime, overlapping frame ranges,
                             unsupported regime or attributes */
    SHEAP_MMU_EBUSY = 2,  /* the window overlaps live firmware mappings or
                             another instance's window, the frames another
                             instance's frames; fini: still in use */
    SHEAP_MMU_EOFF = 3,   /* read_regime: translation is off */
};

#define SHEAP_MMU_MAX_FRAME_RANGES 4
#define SHEAP_MMU_MAX_VA_RANGES 64

/* Leaf attributes (sheap_mmu_config.leaf_attrs).  The backend adds the
 * rest: valid, page type, access flag / A and D, kernel read-write, never
 * executable.
 *   AArch64: AttrIndx (the firmware's MAIR index, 0-7) and SH (0 non-,
 *            2 outer, 3 inner shareable), optionally nG.
 *   RISC-V:  optionally G and Svpbmt's PBMT (0 PMA, 1 NC, 2 IO). */
#define SHEAP_MMU_AARCH64_ATTRS(mair_index, sh) (((uint64_t)(mair_index) << 2) | ((uint64_t)(sh) << 8))
#define SHEAP_MMU_AARCH64_NG (1ull << 11)
#define SHEAP_MMU_RISCV_G (1ull << 5)
#define SHEAP_MMU_RISCV_PBMT(t) ((uint64_t)(t) << 61)

struct sheap_mmu_frame_range {
    uintptr_t base, size; /* physical, page aligned; the first
                             2 bytes per frame hold the backend's counters */
};

struct sheap_mmu_config {
    uintptr_t root;        /* physical address of the live top-level table */
    unsigned va_bits;      /* the regime: 39 or 48 */
    unsigned pa_bits;      /* physical addresses the regime outputs (AArch64
                              TCR_EL1.IPS); 0: the descriptor format's
                              limit (48 AArch64, 56 RISC-V) */
    uintptr_t window_base; /* the heap's VA: whole top-level entries */
    uintptr_t window_size;
    uintptr_t any_base;    /* reservations without a hint go here; */
    uintptr_t any_size;    /* any_size 0: the whole window */
    const struct sheap_mmu_frame_range *frames;
    unsigned nframes; /* 1 .. SHEAP_MMU_MAX_FRAME_RANGES */
    uint64_t leaf_attrs;
    bool clear_frames;     /* true: used() clears every frame before it maps
                              it (nothing an earlier owner wrote is ever
                              visible; a store per word of every page)
                              and reports the memory zeroed.
                              false (default): frames are mapped as they
                              are and used() reports them not zeroed, so
                              the core clears only what must read as zero
                              (calloc, its metadata) */
};

struct sheap_frame_stats {
    uintptr_t total;       /* frames in the pool */
    uintptr_t free;        /* frames not in use */
    uintptr_t heap_pages;  /* frames backing Ready pages (heap and metadata) */
    uintptr_t table_pages; /* frames holding this backend's tables */
};

/* An instance.  Storage is the caller's (static or in a structure of its
 * own, never freed while registered); the fields are private. */
struct sheap_mmu {
    struct sheap_mmu *next; /* registry of live instances */
    uintptr_t root;
    unsigned levels, top_shift;
    uintptr_t win_lo, win_hi, any_lo, any_hi;
    uint64_t leaf;
    bool clear_frames;
    /* Frames: per range a bump pointer over never-used frames and one
     * 16-bit counter per frame (valid entries of a table page) at its
     * start; returned frames on one free list threaded through them. */
    struct sheap_mmu_pool {
        uintptr_t start, end, bump;
        uint16_t *counts; /* counts[(pa - (uintptr_t)counts) >> 12] */
    } pools[SHEAP_MMU_MAX_FRAME_RANGES];
    unsigned npools;
    uintptr_t free_list, free_count;
    uintptr_t heap_pages, table_pages;
    /* Reserved VA: sorted, disjoint, touching ranges merged. */
    struct sheap_mmu_range {
        uintptr_t start, end;
    } va[SHEAP_MMU_MAX_VA_RANGES];
    unsigned nva;
};

/*
 * Check cfg against the live tables and the other instances, then set up
 * m and fill *out (ops, ctx = m, page_size 4096) for a heap.  Returns
 * SHEAP_MMU_OK, or EINVAL / EBUSY with m, *out and every table unchanged.
 * Writes no table entry: the window's tables appear on the first used().
 * O(window's top-level entries + frames in the ranges).
 */
int sheap_mmu_backend_init(struct sheap_mmu *m, const struct sheap_mmu_config *cfg, struct sheap_backend *out);
/* Unregister m; EBUSY (nothing changed) while any VA is still reserved. */
int sheap_mmu_backend_fini(struct sheap_mmu *m);

/* The running regime: the root table's physical address, the VA bits and
 * the PA bits (AArch64: TTBR0_EL1, 64 - TCR_EL1.T0SZ, TCR_EL1.IPS; RISC-V:
 * satp, and 56).  EOFF when translation is off, EINVAL for a regime the
 * backend does not support (AArch64 granule other than 4 KB, TTBR0 walks
 * disabled); the outputs are then unchanged. */
int sheap_mmu_read_regime(uintptr_t *root, unsigned *va_bits, unsigned *pa_bits);

/* Frame counts of an instance; the physical address backing va (0 when va
 * is not Ready).  The caller holds the heap's lock. */
void sheap_mmu_stats(const struct sheap_mmu *m, struct sheap_frame_stats *out);
uintptr_t sheap_mmu_translate(const struct sheap_mmu *m, uintptr_t va);

/* The default heap's instance (built from board.h and the linker script,
 * port/common/mmu_default.c): frame counts right now, and whether va is
 * mapped (Ready).  Both take the heap lock. */
void sheap_mmu_frame_stats(struct sheap_frame_stats *out);
bool sheap_mmu_is_mapped(uintptr_t va);
struct sheap_mmu *sheap_mmu_default(void);

#ifdef __cplusplus
}
#endif

#endif
