/* pagetable.c - translation-table walk of the MMU backend; see pagetable.h. */
#include "pagetable.h"

#include "frames.h"

static uintptr_t table_new(struct sheap_mmu *m)
{
    uintptr_t t = frames_alloc(m);
    if (t == 0)
        return 0;
    pt_arch_zero_page(t);
    *frames_counter(m, t) = 0;
    m->table_pages++;
    return t;
}

/* pt_map failed below path[0..l]: unlink the tables it left empty (made in
 * this call, or emptied earlier) up to the root entry, then free them once
 * the walk-cache invalidation completed. */
static void unlink_empty(struct sheap_mmu *m, uintptr_t va, const uintptr_t *path, unsigned l)
{
    struct pt_pending pend;
    pend.n = 0; /* only pa[0 .. n) is read; an initialiser would be a memset call */
    while (l > 0 && *frames_counter(m, path[l]) == 0) {
        ((pte_t *)path[l - 1])[pt_index(m, va, l - 1)] = 0;
        pt_arch_invalidate_walk(va);
        pend.pa[pend.n++] = path[l];
        m->table_pages--;
        l--;
        if (l > 0)
            (*frames_counter(m, path[l]))--;
    }
    pt_flush(m, &pend);
}

int pt_map(struct sheap_mmu *m, uintptr_t va, pte_t e)
{
    uintptr_t path[4];
    unsigned last = m->levels - 1;
    int linked = 0;
    uintptr_t t = m->root;
    for (unsigned l = 0; l < last; l++) {
        path[l] = t;
        pte_t *slot = (pte_t *)t + pt_index(m, va, l);
        if (!pte_valid(*slot)) {
            uintptr_t n = table_new(m);
            if (n == 0) {
                unlink_empty(m, va, path, l);
                return -1;
            }
            *slot = pte_table(n);
            if (l > 0) /* the root is the firmware's: no counter */
                (*frames_counter(m, t))++;
            linked = 1;
        } else if (!pte_is_table(*slot, false)) {
            return -1; /* a block in the window: not ours, never touched */
        }
        t = pte_pa(*slot);
    }
    ((pte_t *)t)[pt_index(m, va, last)] = e;
    (*frames_counter(m, t))++;
    return linked;
}

pte_t pt_lookup(const struct sheap_mmu *m, uintptr_t va)
{
    unsigned last = m->levels - 1;
    uintptr_t t = m->root;
    for (unsigned l = 0;; l++) {
        pte_t e = ((const pte_t *)t)[pt_index(m, va, l)];
        if (!pte_valid(e))
            return 0;
        if (l == last)
            return e;
        if (!pte_is_table(e, false))
            return 0; /* a firmware block: not a heap page */
        t = pte_pa(e);
    }
}

void pt_defer_free(struct sheap_mmu *m, struct pt_pending *pend, uintptr_t pa)
{
    if (pend->n == sizeof pend->pa / sizeof pend->pa[0])
        pt_flush(m, pend);
    pend->pa[pend->n++] = pa;
}

void pt_flush(struct sheap_mmu *m, struct pt_pending *pend)
{
    pt_arch_sync();
    for (unsigned i = 0; i < pend->n; i++)
        frames_free(m, pend->pa[i]);
    pend->n = 0;
}

uintptr_t pt_unmap(struct sheap_mmu *m, uintptr_t va, struct pt_pending *pend)
{
    uintptr_t path[4];
    unsigned l, last = m->levels - 1;
    uintptr_t t = m->root;
    for (l = 0; l < last; l++) {
        pte_t e = ((pte_t *)t)[pt_index(m, va, l)];
        if (!pte_valid(e) || !pte_is_table(e, false))
            return 0;
        path[l] = t;
        t = pte_pa(e);
    }
    pte_t *slot = (pte_t *)t + pt_index(m, va, l);
    if (!pte_valid(*slot))
        return 0;
    uintptr_t pa = pte_pa(*slot);
    *slot = 0;
    pt_arch_invalidate_page(va);
    /* Unlink tables that are now empty, bottom up, up to the root entry
     * (the root itself is the firmware's). */
    while (--(*frames_counter(m, t)) == 0) {
        l--;
        ((pte_t *)path[l])[pt_index(m, va, l)] = 0;
        pt_arch_invalidate_walk(va);
        pt_defer_free(m, pend, t);
        m->table_pages--;
        if (l == 0)
            break;
        t = path[l];
    }
    return pa;
}

uintptr_t pt_next_mapped(const struct sheap_mmu *m, uintptr_t va, uintptr_t end)
{
    unsigned last = m->levels - 1;
    while (va < end) {
        uintptr_t t = m->root;
        unsigned l;
        for (l = 0; l <= last; l++) {
            pte_t e = ((const pte_t *)t)[pt_index(m, va, l)];
            if (!pte_valid(e))
                break;
            if (l == last || !pte_is_table(e, false))
                return va;
            t = pte_pa(e);
        }
        /* Nothing below this entry: skip to the next entry of level l. */
        uintptr_t step = (uintptr_t)1 << pt_shift(m, l);
        uintptr_t next = (va & ~(step - 1)) + step;
        if (next <= va)
            return end;
        va = next;
    }
    return end;
}
