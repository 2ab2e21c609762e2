/*
 * mmu_backend.c - the MMU backend (sheap_mmu.h): a heap's memory states as
 * translation-table states in a window of the firmware's tables.
 *
 *   Reserved   a range in the instance's vaspace; no table entries, no frames
 *   Prepared   the same (map() checks the range and does nothing else)
 *   Ready      every page has a frame mapped by a valid leaf entry
 *
 * used() takes frames one by one and maps them; if the pool runs dry it
 * unmaps what it mapped in this call and fails, so no frame leaks.  A frame
 * is cleared only when the instance was made with clear_frames (then used()
 * reports the range zeroed); otherwise it keeps whatever it held and used()
 * says so, and the core clears what a caller needs zeroed (calloc, the
 * heap's metadata).  Table pages are always cleared: the walker reads them.
 * unused() clears the entries, invalidates them by VA and returns the
 * frames once the invalidation completed.  The architecture supplies
 * pt_arch.h (descriptors, barriers) and mmu_regime.c (reading the
 * firmware's root); which tables and entries an instance may touch is
 * described in sheap_mmu.h and pagetable.h.
 */
#include "sheap_mmu.h"

#include "backend_ops.h"
#include "frames.h"
#include "pagetable.h"
#include "vaspace.h"

#define PAGE FRAME_SIZE

/* Live instances (init adds, fini removes): windows and frame ranges must
 * not overlap between them.  Startup code only, see sheap_mmu.h. */
static struct sheap_mmu *registry;

/* ---- operations ---------------------------------------------------------------- */

static int mmu_reserve(void *ctx, uintptr_t hint, uintptr_t n, uintptr_t *out)
{
    struct sheap_mmu *m = ctx;
    if (hint != 0 && hint < m->win_lo)
        return SHEAP_BACKEND_EBUSY; /* below the window: someone else's */
    if (hint != 0 && (hint > m->win_hi || n > m->win_hi - hint))
        return SHEAP_BACKEND_ENOMEM; /* out of reach, like a hint beyond user space */
    return vaspace_reserve(m, hint, n, m->any_lo, m->any_hi, out);
}

static int mmu_map(void *ctx, uintptr_t v, uintptr_t n)
{
    struct sheap_mmu *m = ctx;
    /* A range never reserved is a core bug; refuse it, change nothing. */
    return vaspace_contains(m, v, n) ? SHEAP_BACKEND_OK : SHEAP_BACKEND_ENOMEM;
}

static void unmap_pages(struct sheap_mmu *m, uintptr_t v, uintptr_t end)
{
    struct pt_pending pend;
    pend.n = 0; /* only pa[0 .. n) is read; an initialiser would be a memset call */
    for (v = pt_next_mapped(m, v, end); v < end; v = pt_next_mapped(m, v + PAGE, end)) {
        uintptr_t pa = pt_unmap(m, v, &pend);
        if (pa != 0) {
            pt_defer_free(m, &pend, pa);
            m->heap_pages--;
        }
    }
    pt_flush(m, &pend);
}

static int mmu_used(void *ctx, uintptr_t v, uintptr_t n, bool *zeroed)
{
    struct sheap_mmu *m = ctx;
    if (!vaspace_contains(m, v, n))
        return SHEAP_BACKEND_ENOMEM; /* not ours: never touch the entries */
    pte_t leaf = pte_leaf_base(m->leaf);
    bool new_tables = false;
    for (uintptr_t va = v; va < v + n; va += PAGE) {
        uintptr_t pa = frames_alloc(m);
        if (pa != 0) {
            if (m->clear_frames)
                pt_arch_zero_page(pa);
            int r = pt_map(m, va, leaf | pte_from_pa(pa));
            if (r >= 0) {
                new_tables |= r > 0;
                m->heap_pages++;
                continue;
            }
            frames_free(m, pa);
        }
        /* Out of frames: undo this call, so the range stays Prepared. */
        unmap_pages(m, v, va);
        return SHEAP_BACKEND_ENOMEM;
    }
    pt_arch_publish(v, n, new_tables);
    *zeroed = m->clear_frames;
    return SHEAP_BACKEND_OK;
}

/* unused and release of a range the instance did not reserve (a caller's
 * bug) do nothing: the entries there are someone else's. */
static void mmu_unused(void *ctx, uintptr_t v, uintptr_t n)
{
    if (vaspace_contains(ctx, v, n))
        unmap_pages(ctx, v, v + n);
}

static void mmu_release(void *ctx, uintptr_t v, uintptr_t n)
{
    if (!vaspace_contains(ctx, v, n))
        return;
    unmap_pages(ctx, v, v + n);
    vaspace_release(ctx, v, n);
}

static const struct sheap_backend_ops mmu_ops = {
    SHEAP_BACKEND_OPS(mmu),
};

/* ---- creation ------------------------------------------------------------------- */

static bool page_aligned(uintptr_t x) { return (x & (PAGE - 1)) == 0; }
static bool overlap(uintptr_t a, uintptr_t an, uintptr_t b, uintptr_t bn) { return a < b + bn && b < a + an; }

/* The shape of the request alone: sizes, alignment, regime, attributes. */
static int check_config(const struct sheap_mmu_config *c)
{
    if (c->root == 0 || !page_aligned(c->root) || !pt_arch_va_bits_ok(c->va_bits) || c->pa_bits > PT_PA_BITS_MAX ||
        (c->pa_bits != 0 && c->pa_bits < 32))
        return SHEAP_MMU_EINVAL;
    /* Last physical address the regime reaches (pa_bits 0: the format's). */
    uintptr_t pa_last = ((uintptr_t)2 << ((c->pa_bits ? c->pa_bits : PT_PA_BITS_MAX) - 1)) - 1;
    if (c->root > pa_last)
        return SHEAP_MMU_EINVAL;
    unsigned levels = (c->va_bits - 12) / 9;
    uintptr_t slot = (uintptr_t)1 << (12 + 9 * (levels - 1)); /* VA one root entry covers */
    uintptr_t limit = pt_arch_va_limit(c->va_bits);
    if (c->window_size == 0 || (c->window_base & (slot - 1)) || (c->window_size & (slot - 1)) ||
        c->window_base >= limit || c->window_size > limit - c->window_base)
        return SHEAP_MMU_EINVAL;
    if (c->any_size != 0 && (!page_aligned(c->any_base) || !page_aligned(c->any_size) ||
                             c->any_base < c->window_base ||
                             c->any_base - c->window_base > c->window_size - c->any_size ||
                             c->any_size > c->window_size))
        return SHEAP_MMU_EINVAL;
    if (!pt_arch_attrs_ok(c->leaf_attrs))
        return SHEAP_MMU_EINVAL;
    if (c->frames == 0 || c->nframes == 0 || c->nframes > SHEAP_MMU_MAX_FRAME_RANGES)
        return SHEAP_MMU_EINVAL;
    for (unsigned i = 0; i < c->nframes; i++) {
        const struct sheap_mmu_frame_range *r = &c->frames[i];
        if (!page_aligned(r->base) || !page_aligned(r->size) || r->base == 0 || r->base + r->size < r->base ||
            r->size <= frames_counter_bytes(r->size) || r->base + r->size - 1 > pa_last ||
            overlap(r->base, r->size, c->root, PAGE))
            return SHEAP_MMU_EINVAL;
        for (unsigned j = 0; j < i; j++)
            if (overlap(r->base, r->size, c->frames[j].base, c->frames[j].size))
                return SHEAP_MMU_EINVAL;
    }
    return SHEAP_MMU_OK;
}

/* The request against the live state: the window's root entries are all
 * invalid (no firmware mapping), no other instance has the window or the
 * frames. */
static int check_free(const struct sheap_mmu_config *c, unsigned top_shift)
{
    const pte_t *root = (const pte_t *)c->root;
    for (uintptr_t i = c->window_base >> top_shift; i < (c->window_base + c->window_size) >> top_shift; i++)
        if (pte_valid(root[i]))
            return SHEAP_MMU_EBUSY;
    for (const struct sheap_mmu *o = registry; o; o = o->next) {
        if (o->root == c->root && overlap(c->window_base, c->window_size, o->win_lo, o->win_hi - o->win_lo))
            return SHEAP_MMU_EBUSY;
        for (unsigned i = 0; i < c->nframes; i++)
            if (frames_overlap(o, c->frames[i].base, c->frames[i].size))
                return SHEAP_MMU_EBUSY;
    }
    return SHEAP_MMU_OK;
}

int sheap_mmu_backend_init(struct sheap_mmu *m, const struct sheap_mmu_config *cfg, struct sheap_backend *out)
{
    if (m == 0 || cfg == 0 || out == 0)
        return SHEAP_MMU_EINVAL;
    int r = check_config(cfg);
    if (r != SHEAP_MMU_OK)
        return r;
    unsigned levels = (cfg->va_bits - 12) / 9;
    unsigned top_shift = 12 + 9 * (levels - 1);
    for (const struct sheap_mmu *o = registry; o; o = o->next)
        if (o == m)
            return SHEAP_MMU_EBUSY; /* already live */
    r = check_free(cfg, top_shift);
    if (r != SHEAP_MMU_OK)
        return r;

    m->root = cfg->root;
    m->levels = levels;
    m->top_shift = top_shift;
    m->win_lo = cfg->window_base;
    m->win_hi = cfg->window_base + cfg->window_size;
    m->any_lo = cfg->any_size ? cfg->any_base : m->win_lo;
    m->any_hi = cfg->any_size ? cfg->any_base + cfg->any_size : m->win_hi;
    m->leaf = cfg->leaf_attrs;
    m->clear_frames = cfg->clear_frames;
    frames_init(m, cfg->frames, cfg->nframes);
    m->heap_pages = 0;
    m->table_pages = 0;
    m->nva = 0;
    m->next = registry;
    registry = m;
    out->ops = &mmu_ops;
    out->ctx = m;
    out->page_size = PAGE;
    out->meta_apart = false; /* the core guards metadata reservations */
    return SHEAP_MMU_OK;
}

int sheap_mmu_backend_fini(struct sheap_mmu *m)
{
    struct sheap_mmu **p = &registry;
    while (*p && *p != m)
        p = &(*p)->next;
    if (*p == 0)
        return SHEAP_MMU_EINVAL; /* not live */
    if (m->nva != 0 || m->heap_pages != 0 || m->table_pages != 0)
        return SHEAP_MMU_EBUSY;
    *p = m->next;
    return SHEAP_MMU_OK;
}

void sheap_mmu_stats(const struct sheap_mmu *m, struct sheap_frame_stats *out)
{
    frames_stats(m, out);
}

uintptr_t sheap_mmu_translate(const struct sheap_mmu *m, uintptr_t va)
{
    if (va < m->win_lo || va >= m->win_hi)
        return 0;
    pte_t e = pt_lookup(m, va);
    return e ? pte_pa(e) | (va & (PAGE - 1)) : 0;
}
