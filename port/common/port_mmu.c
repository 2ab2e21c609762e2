/*
 * port_mmu.c - the port operations shared by the MMU ports.  The memory
 * states become translation-table states:
 *
 *   Reserved   a range in vaspace.c; no table entries, no frames
 *   Prepared   the same (map() checks the range and does nothing else)
 *   Ready      every page has a frame, zeroed, mapped by a valid leaf entry
 *
 * used() takes frames one by one and maps them; if the pool runs dry it
 * unmaps what it mapped in this call and fails, so no frame leaks.
 * unused() clears the entries, invalidates the TLB and returns the frames.
 * The architecture supplies pt_arch.h (descriptors, barriers) and
 * mmu_arch_enable() (identity map and translation on); the board's linker
 * script supplies the frame pool [__sheap_frames_start, __sheap_frames_end).
 */
#include "sheap.h"
#include "sheap_config.h"
#include "sheap_mmu.h"
#include "sheap_port.h"

#include "frames.h"
#include "pagetable.h"
#include "vaspace.h"

/* Provided by the architecture's port file. */
void mmu_arch_enable(void);

extern char __sheap_frames_start[], __sheap_frames_end[];

#define PAGE FRAME_SIZE

/* The end (exclusive) of the addresses translation can reach.  A board
 * whose tables cover less than SHEAP_VA_BITS sets it lower (RISC-V: only
 * the lower half of the canonical space, below 2^38 for Sv39). */
#ifndef SHEAP_MMU_VA_END
#define SHEAP_MMU_VA_END ((uintptr_t)1 << SHEAP_VA_BITS)
#endif

static bool mmu_on;

static void mmu_ensure(void)
{
    if (mmu_on)
        return;
    mmu_on = true;
    frames_init((uintptr_t)__sheap_frames_start, (uintptr_t)__sheap_frames_end);
    if (pt_init_root() == 0)
        sheap_port_fault("sheap: no frame for the root translation table", NULL, true);
    mmu_arch_enable();
}

uintptr_t sheap_port_page_size(void)
{
    return PAGE;
}

int sheap_port_reserve(uintptr_t hint, uintptr_t n, uintptr_t *out)
{
    mmu_ensure();
    if (hint != 0 && hint < SHEAP_MMU_VA_MIN)
        return SHEAP_PORT_EBUSY; /* the identity-mapped low part */
    if (hint != 0 && (hint > SHEAP_MMU_VA_END || n > SHEAP_MMU_VA_END - hint))
        return SHEAP_PORT_ENOMEM; /* out of reach, like a hint beyond user space */
    return vaspace_reserve(hint, n, SHEAP_MMU_ANY_BASE, SHEAP_MMU_ANY_END, out);
}

int sheap_port_map(uintptr_t v, uintptr_t n)
{
    if (!vaspace_contains(v, n))
        sheap_port_fault("sheap: map() of a range that was never reserved", (void *)v, true);
    return SHEAP_PORT_OK;
}

static void unmap_pages(uintptr_t v, uintptr_t end)
{
    for (v = pt_next_mapped(v, end); v < end; v = pt_next_mapped(v + PAGE, end)) {
        uintptr_t pa = pt_unmap(v);
        if (pa != 0) {
            frame_free(pa);
            frames_heap_pages--;
        }
    }
    pt_arch_sync();
}

int sheap_port_used(uintptr_t v, uintptr_t n, bool *zeroed)
{
    for (uintptr_t va = v; va < v + n; va += PAGE) {
        uintptr_t pa = frame_alloc();
        if (pa != 0) {
            uint64_t *w = (uint64_t *)pa;
            for (unsigned i = 0; i < PAGE / sizeof(uint64_t); i++)
                w[i] = 0;
            if (pt_map(va, pte_page(pa), PT_LEVELS - 1) == 0) {
                frames_heap_pages++;
                continue;
            }
            frame_free(pa);
        }
        /* Out of frames: undo this call, so the range stays Prepared. */
        unmap_pages(v, va);
        return SHEAP_PORT_ENOMEM;
    }
    pt_arch_publish();
    *zeroed = true;
    return SHEAP_PORT_OK;
}

void sheap_port_unused(uintptr_t v, uintptr_t n)
{
    unmap_pages(v, v + n);
}

void sheap_port_release(uintptr_t v, uintptr_t n)
{
    unmap_pages(v, v + n);
    vaspace_release(v, n);
}

void sheap_mmu_frame_stats(struct sheap_frame_stats *out)
{
    sheap_port_lock();
    mmu_ensure();
    frames_stats(out);
    sheap_port_unlock();
}

bool sheap_mmu_is_mapped(uintptr_t va)
{
    sheap_port_lock();
    mmu_ensure();
    bool mapped = pt_lookup(va) != 0;
    sheap_port_unlock();
    return mapped;
}
