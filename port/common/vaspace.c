/* vaspace.c - reserved virtual ranges of the MMU ports; see vaspace.h. */
#include "vaspace.h"

#include "sheap_port.h"

struct range {
    uintptr_t start, end;
};
static struct range ranges[VASPACE_MAX_RANGES];
static unsigned nranges;

static int insert(uintptr_t start, uintptr_t end)
{
    unsigned i = 0;
    while (i < nranges && ranges[i].end < start)
        i++;
    /* Merge with a range that touches on either side. */
    if (i < nranges && ranges[i].end == start) {
        ranges[i].end = end;
        if (i + 1 < nranges && ranges[i + 1].start == end) {
            ranges[i].end = ranges[i + 1].end;
            for (unsigned j = i + 1; j + 1 < nranges; j++)
                ranges[j] = ranges[j + 1];
            nranges--;
        }
        return SHEAP_PORT_OK;
    }
    if (i < nranges && ranges[i].start == end) {
        ranges[i].start = start;
        return SHEAP_PORT_OK;
    }
    if (nranges == VASPACE_MAX_RANGES)
        return SHEAP_PORT_ENOMEM;
    for (unsigned j = nranges; j > i; j--)
        ranges[j] = ranges[j - 1];
    ranges[i].start = start;
    ranges[i].end = end;
    nranges++;
    return SHEAP_PORT_OK;
}

static int overlaps(uintptr_t start, uintptr_t end)
{
    for (unsigned i = 0; i < nranges; i++)
        if (ranges[i].start < end && start < ranges[i].end)
            return 1;
    return 0;
}

int vaspace_reserve(uintptr_t hint, uintptr_t n, uintptr_t any_lo, uintptr_t any_hi, uintptr_t *out)
{
    if (hint != 0) {
        if (hint + n < hint)
            return SHEAP_PORT_ENOMEM;
        if (overlaps(hint, hint + n))
            return SHEAP_PORT_EBUSY;
        int r = insert(hint, hint + n);
        if (r == SHEAP_PORT_OK)
            *out = hint;
        return r;
    }
    /* First fit in the window, walking the gaps between sorted ranges. */
    uintptr_t cand = any_lo;
    for (unsigned i = 0; i <= nranges; i++) {
        uintptr_t gap_end = i < nranges ? ranges[i].start : any_hi;
        if (i < nranges && ranges[i].end <= cand)
            continue;
        if (gap_end > any_hi)
            gap_end = any_hi;
        if (gap_end > cand && gap_end - cand >= n) {
            int r = insert(cand, cand + n);
            if (r == SHEAP_PORT_OK)
                *out = cand;
            return r;
        }
        if (i < nranges && ranges[i].end > cand)
            cand = ranges[i].end;
        if (cand >= any_hi)
            break;
    }
    return SHEAP_PORT_ENOMEM;
}

void vaspace_release(uintptr_t v, uintptr_t n)
{
    uintptr_t end = v + n;
    for (unsigned i = 0; i < nranges; i++) {
        struct range *r = &ranges[i];
        if (v < r->start || end > r->end)
            continue;
        if (v == r->start && end == r->end) {
            for (unsigned j = i; j + 1 < nranges; j++)
                ranges[j] = ranges[j + 1];
            nranges--;
        } else if (v == r->start) {
            r->start = end;
        } else if (end == r->end) {
            r->end = v;
        } else if (nranges < VASPACE_MAX_RANGES) {
            for (unsigned j = nranges; j > i + 1; j--)
                ranges[j] = ranges[j - 1];
            ranges[i + 1].start = end;
            ranges[i + 1].end = r->end;
            r->end = v;
            nranges++;
        }
        /* else: no room to split; the hole stays reserved (address space
         * only, never frames), which is safe. */
        return;
    }
}

int vaspace_contains(uintptr_t v, uintptr_t n)
{
    for (unsigned i = 0; i < nranges; i++)
        if (ranges[i].start <= v && v + n <= ranges[i].end)
            return 1;
    return 0;
}
