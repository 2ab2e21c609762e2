/* vaspace.c - reserved virtual ranges of an MMU backend instance; see vaspace.h. */
#include "vaspace.h"

#include "sheap_backend.h"

static int insert(struct sheap_mmu *m, uintptr_t start, uintptr_t end)
{
    unsigned i = 0;
    while (i < m->nva && m->va[i].end < start)
        i++;
    /* Merge with a range that touches on either side. */
    if (i < m->nva && m->va[i].end == start) {
        m->va[i].end = end;
        if (i + 1 < m->nva && m->va[i + 1].start == end) {
            m->va[i].end = m->va[i + 1].end;
            for (unsigned j = i + 1; j + 1 < m->nva; j++)
                m->va[j] = m->va[j + 1];
            m->nva--;
        }
        return SHEAP_BACKEND_OK;
    }
    if (i < m->nva && m->va[i].start == end) {
        m->va[i].start = start;
        return SHEAP_BACKEND_OK;
    }
    if (m->nva == SHEAP_MMU_MAX_VA_RANGES)
        return SHEAP_BACKEND_ENOMEM;
    for (unsigned j = m->nva; j > i; j--)
        m->va[j] = m->va[j - 1];
    m->va[i].start = start;
    m->va[i].end = end;
    m->nva++;
    return SHEAP_BACKEND_OK;
}

static int overlaps(const struct sheap_mmu *m, uintptr_t start, uintptr_t end)
{
    for (unsigned i = 0; i < m->nva; i++)
        if (m->va[i].start < end && start < m->va[i].end)
            return 1;
    return 0;
}

int vaspace_reserve(struct sheap_mmu *m, uintptr_t hint, uintptr_t n, uintptr_t any_lo, uintptr_t any_hi, uintptr_t *out)
{
    if (hint != 0) {
        if (hint + n < hint)
            return SHEAP_BACKEND_ENOMEM;
        if (overlaps(m, hint, hint + n))
            return SHEAP_BACKEND_EBUSY;
        int r = insert(m, hint, hint + n);
        if (r == SHEAP_BACKEND_OK)
            *out = hint;
        return r;
    }
    /* First fit in the window, walking the gaps between sorted ranges. */
    uintptr_t cand = any_lo;
    for (unsigned i = 0; i <= m->nva; i++) {
        uintptr_t gap_end = i < m->nva ? m->va[i].start : any_hi;
        if (i < m->nva && m->va[i].end <= cand)
            continue;
        if (gap_end > any_hi)
            gap_end = any_hi;
        if (gap_end > cand && gap_end - cand >= n) {
            int r = insert(m, cand, cand + n);
            if (r == SHEAP_BACKEND_OK)
                *out = cand;
            return r;
        }
        if (i < m->nva && m->va[i].end > cand)
            cand = m->va[i].end;
        if (cand >= any_hi)
            break;
    }
    return SHEAP_BACKEND_ENOMEM;
}

void vaspace_release(struct sheap_mmu *m, uintptr_t v, uintptr_t n)
{
    uintptr_t end = v + n;
    for (unsigned i = 0; i < m->nva; i++) {
        struct sheap_mmu_range *r = &m->va[i];
        if (v < r->start || end > r->end)
            continue;
        if (v == r->start && end == r->end) {
            for (unsigned j = i; j + 1 < m->nva; j++)
                m->va[j] = m->va[j + 1];
            m->nva--;
        } else if (v == r->start) {
            r->start = end;
        } else if (end == r->end) {
            r->end = v;
        } else if (m->nva < SHEAP_MMU_MAX_VA_RANGES) {
            for (unsigned j = m->nva; j > i + 1; j--)
                m->va[j] = m->va[j - 1];
            m->va[i + 1].start = end;
            m->va[i + 1].end = r->end;
            r->end = v;
            m->nva++;
        }
        /* else: no room to split; the hole stays reserved (address space
         * only, never frames), which is safe. */
        return;
    }
}

int vaspace_contains(const struct sheap_mmu *m, uintptr_t v, uintptr_t n)
{
    for (unsigned i = 0; i < m->nva; i++)
        if (m->va[i].start <= v && v + n <= m->va[i].end)
            return 1;
    return 0;
}
