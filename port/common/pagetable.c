/* pagetable.c - translation-table walk shared by the MMU ports; see pagetable.h. */
#include "pagetable.h"

#include "frames.h"

#define PT_ENTRIES 512u
#define LEVEL_SHIFT(l) (PT_TOP_SHIFT - 9u * (l))
#define INDEX(va, l) (((va) >> LEVEL_SHIFT(l)) & (PT_ENTRIES - 1))

uintptr_t pt_root;

static uintptr_t table_new(void)
{
    uintptr_t t = frame_alloc();
    if (t == 0)
        return 0;
    pte_t *p = (pte_t *)t;
    for (unsigned i = 0; i < PT_ENTRIES; i++)
        p[i] = 0;
    *frame_count(t) = 0;
    frames_table_pages++;
    return t;
}

uintptr_t pt_init_root(void)
{
    pt_root = table_new();
    return pt_root;
}

int pt_map(uintptr_t va, pte_t e, unsigned level)
{
    uintptr_t t = pt_root;
    for (unsigned l = 0; l < level; l++) {
        pte_t *slot = (pte_t *)t + INDEX(va, l);
        if (!pte_valid(*slot)) {
            uintptr_t n = table_new();
            if (n == 0)
                return -1;
            *slot = pte_table(n);
            (*frame_count(t))++;
        }
        t = pte_pa(*slot);
    }
    ((pte_t *)t)[INDEX(va, level)] = e;
    (*frame_count(t))++;
    return 0;
}

pte_t pt_lookup(uintptr_t va)
{
    uintptr_t t = pt_root;
    for (unsigned l = 0; l < PT_LEVELS; l++) {
        pte_t e = ((pte_t *)t)[INDEX(va, l)];
        if (!pte_valid(e) || l == PT_LEVELS - 1 || !pte_is_table(e, l))
            return pte_valid(e) ? e : 0;
        t = pte_pa(e);
    }
    return 0;
}

uintptr_t pt_unmap(uintptr_t va)
{
    uintptr_t path[PT_LEVELS];
    uintptr_t t = pt_root;
    unsigned l;
    for (l = 0; l < PT_LEVELS - 1; l++) {
        pte_t e = ((pte_t *)t)[INDEX(va, l)];
        if (!pte_valid(e) || !pte_is_table(e, l))
            return 0;
        path[l] = t;
        t = pte_pa(e);
    }
    pte_t *slot = (pte_t *)t + INDEX(va, l);
    if (!pte_valid(*slot))
        return 0;
    uintptr_t pa = pte_pa(*slot);
    *slot = 0;
    pt_arch_invalidate_page(va);
    /* Free tables that are now empty, bottom up; the root stays. */
    while (--(*frame_count(t)) == 0 && l > 0) {
        l--;
        ((pte_t *)path[l])[INDEX(va, l)] = 0;
        pt_arch_invalidate_walk(va);
        frame_free(t);
        frames_table_pages--;
        t = path[l];
    }
    return pa;
}

uintptr_t pt_next_mapped(uintptr_t va, uintptr_t end)
{
    while (va < end) {
        uintptr_t t = pt_root;
        unsigned l;
        for (l = 0; l < PT_LEVELS; l++) {
            pte_t e = ((pte_t *)t)[INDEX(va, l)];
            if (!pte_valid(e))
                break;
            if (l == PT_LEVELS - 1 || !pte_is_table(e, l))
                return va;
            t = pte_pa(e);
        }
        /* Nothing below this entry: skip to the next entry of level l. */
        uintptr_t step = (uintptr_t)1 << LEVEL_SHIFT(l);
        uintptr_t next = (va & ~(step - 1)) + step;
        if (next <= va)
            return end;
        va = next;
    }
    return end;
}
