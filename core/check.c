/*
 * check.c - the validator (sheap_check) and the heap walker (sheap_walk).
 *
 * The validator only reads.  It recomputes every counter from the structures
 * and compares: a walk over all spans (through the span map, arena group by
 * arena group), then the free lists and their bitmaps, then the partial
 * lists.  Every loop is bounded by the counts it has already established,
 * so a corrupted list cannot make it spin.  O(heap pages).
 */
#include "sheap_internal.h"

#define PAGE SHEAP_PAGE_SIZE

struct tally {
    struct sheap_heap *h;
    uintptr_t spans[3];
    uintptr_t free_pages, ready_pages, free_ready_pages;
    uintptr_t live_bytes, live_blocks;
    /* Per CPU cache (one without SHEAP_SMP): the owner's lists. */
    uintptr_t partial[SHEAP_MAX_CPUS][SHEAP_NUM_CLASSES];
    uintptr_t stashed[SHEAP_MAX_CPUS][SHEAP_NUM_CLASSES], stash_pages[SHEAP_MAX_CPUS];
    bool prev_free;      /* the span just before (same group) was FREE */
    uintptr_t prev_end;  /* end of that span */
};

static int check_small(const struct sheap_span *s, struct tally *t)
{
    SHEAP_ASSERT_LOCKED();
    unsigned cls = s->cls;
    if (cls == 0 || cls >= SHEAP_NUM_CLASSES || s->elem_size != sheap_class_size[cls] ||
        s->npages != sheap_class_npages[cls] ||
        s->nelems != (s->npages << SHEAP_PAGE_SHIFT) / s->elem_size || s->divmul != class_divmul(s->elem_size) ||
        s->obj_bytes != (uintptr_t)s->nelems * s->elem_size)
        return SHEAP_CHECK_SPAN;
    uintptr_t free = 0;
    for (unsigned w = 0; w < SPAN_BITMAP_WORDS; w++) {
        uintptr_t bits = s->freebits[w];
        /* no free bit at or above nelems */
        for (unsigned b = 0; b < WORD_BITS && bits; b++)
            if (((bits >> b) & 1u) && w * WORD_BITS + b >= s->nelems)
                return SHEAP_CHECK_BITMAP;
        free += popcount_word(bits);
    }
    if (free != s->nfree || s->nfree > s->nelems || s->hint >= SPAN_BITMAP_WORDS)
        return SHEAP_CHECK_BITMAP;
#if SHEAP_SMP
    /* Its owner is a CPU; a remote free pending (not reclaimed yet: one
     * may land while the validator runs, it takes no lock) is for a slot
     * that is allocated in freebits and below nelems. */
    unsigned cpu = s->owner_cpu;
    if (cpu >= SHEAP_MAX_CPUS)
        return SHEAP_CHECK_SPAN;
    for (unsigned w = 0; w < SPAN_BITMAP_WORDS; w++) {
        uintptr_t r = __atomic_load_n(&s->remote[w], __ATOMIC_RELAXED), first = (uintptr_t)w * WORD_BITS;
        uintptr_t valid = s->nelems >= first + WORD_BITS ? ~(uintptr_t)0
                          : s->nelems > first            ? ((uintptr_t)1 << (s->nelems - first)) - 1
                                                         : 0;
        if ((r & (s->freebits[w] | ~valid)) != 0)
            return SHEAP_CHECK_BITMAP;
    }
#else
    unsigned cpu = 0;
#endif
    if (s->class_list == CLASS_LIST_STASH) {
        if (s->nfree != s->nelems)
            return SHEAP_CHECK_PARTIAL;
        t->stashed[cpu][cls]++;
        t->stash_pages[cpu] += s->npages;
    } else if ((s->class_list == CLASS_LIST_PARTIAL) != (s->nfree > 0) || (s->class_list & ~CLASS_LIST_PARTIAL)) {
        return SHEAP_CHECK_PARTIAL;
    } else if (s->nfree > 0) {
        t->partial[cpu][cls]++;
    }
    /* Quarantined blocks (hardening level 2) are allocated but not live. */
    uintptr_t q = span_quarantined(s);
    t->live_bytes += (uintptr_t)(s->nelems - s->nfree - q) * s->elem_size;
    t->live_blocks += s->nelems - s->nfree - q;
    return 0;
}

/* check_span's test of one arena-local piece of span s (ph_each_piece):
 * its page bits, a word at a time, and for a SMALL span every span-map
 * entry.  The first failure is kept in err, and the pieces after it are
 * passed over. */
struct piece_check {
    struct tally *t;
    const struct sheap_span *s;
    uintptr_t ready; /* Ready pages of s in the pieces so far */
    int err;
};

static void check_piece(struct sheap_arena *a, uintptr_t first, uintptr_t n, void *ctx)
{
    struct piece_check *c = ctx;
    const struct sheap_span *s = c->s;
    if (c->err != 0)
        return;
    if (a == NULL || a->heap != c->t->h) {
        c->err = SHEAP_CHECK_SPAN_MAP;
        return;
    }
    uintptr_t addr = a->base + (first << SHEAP_PAGE_SHIFT);
    uintptr_t ready = bits_count_range(a->ready, first, n);
    uintptr_t starts = bits_count_range(a->starts, first, n);
    c->t->ready_pages += ready;
    c->ready += ready;
    if (s->state == SPAN_FREE) {
        if (starts != 0)
            c->err = SHEAP_CHECK_PAGE_STATE;
        c->t->free_ready_pages += ready;
        return;
    }
    /* One start bit, at the first page; every page Ready. */
    bool first_piece = addr == s->base;
    /* (Level 3: a guarded block's last page, its guard, is not Ready.) */
    uintptr_t guard = span_guarded(s) && addr + (n << SHEAP_PAGE_SHIFT) == s->base + (s->npages << SHEAP_PAGE_SHIFT);
    if (starts != (first_piece ? 1u : 0u) || (first_piece && !bit_get(a->starts, first)) || ready != n - guard ||
        (guard && bit_get(a->ready, first + n - 1))) {
        c->err = SHEAP_CHECK_PAGE_STATE;
        return;
    }
    for (uintptr_t i = 0; s->state == SPAN_SMALL && i < n; i++)
        if (a->spans[first + i] != s) {
            c->err = SHEAP_CHECK_SPAN_MAP;
            return;
        }
}

static int check_span(struct sheap_span *s, void *ctx)
{
    SHEAP_ASSERT_LOCKED();
    struct tally *t = ctx;
    if (s->state > SPAN_LARGE || (s->base & (PAGE - 1)) != 0)
        return SHEAP_CHECK_SPAN;
    /* Adjacent FREE spans in one group must have been merged. */
    bool adjacent = t->prev_end == s->base;
    if (s->state == SPAN_FREE && adjacent && t->prev_free)
        return SHEAP_CHECK_COALESCE;
    t->prev_free = s->state == SPAN_FREE;
    t->prev_end = s->base + (s->npages << SHEAP_PAGE_SHIFT);
    t->spans[s->state]++;

    /* Span map: boundaries always; every page for spans in use. */
    uintptr_t last = s->base + ((s->npages - 1) << SHEAP_PAGE_SHIFT);
    if (span_of(s->base) != s || span_of(last) != s)
        return SHEAP_CHECK_SPAN_MAP;
    /* Lazy arena records: an in-use span's entries and its neighbours' are Ready. */
    if (s->state != SPAN_FREE && !arena_map_ready(t->h, s->base, s->npages))
        return SHEAP_CHECK_SPAN_MAP;
    /* Page bits, one arena-local piece at a time, a word at a time. */
    struct piece_check pc = {t, s, 0, 0};
    ph_each_piece(s->base, s->npages, check_piece, &pc);
    if (pc.err != 0)
        return pc.err;
    uintptr_t span_ready = pc.ready;
    if (s->state == SPAN_FREE) {
        /* Its summary of the ready bits (READY_SOME: may be either). */
        if ((s->ready == READY_ALL && span_ready != s->npages) || (s->ready == READY_NONE && span_ready != 0) ||
            s->ready > READY_SOME)
            return SHEAP_CHECK_PAGE_STATE;
        if (s->obj_bytes != 0)
            return SHEAP_CHECK_SPAN;
        t->free_pages += s->npages;
    } else if (s->state == SPAN_LARGE) {
        if (s->obj_bytes != s->npages << SHEAP_PAGE_SHIFT)
            return SHEAP_CHECK_SPAN;
        t->live_bytes += s->npages << SHEAP_PAGE_SHIFT;
        t->live_blocks++;
    } else {
        return check_small(s, t);
    }
    return 0;
}

/* h's arenas against the shared index: each is indexed under its frame and
 * names h; the index names h exactly that often. */
static int check_index(const struct sheap_heap *h)
{
    SHEAP_ASSERT_LOCKED();
    uintptr_t n = 0;
    for (struct sheap_arena *a = h->arenas; a; a = a->next) {
        if (++n > h->c.arenas || (a->base & (SHEAP_ARENA_SIZE - 1)) != 0 || arena_of(a->base) != a ||
            arena_of(a->base + SHEAP_ARENA_SIZE - 1) != a || a->heap != h)
            return SHEAP_CHECK_INDEX;
    }
    if (n != h->c.arenas || n * SHEAP_ARENA_PAGES != h->c.arena_pages)
        return SHEAP_CHECK_INDEX;
    /* Every index entry names an arena of its own frame. */
    uintptr_t entries = 0;
#if INDEX_LEVELS == 1
    for (uintptr_t f = 0; f < INDEX_L2_ENTRIES; f++) {
        struct sheap_arena *a = sheap_shared.index[f];
        if (a == NULL || a->heap != h)
            continue;
        if (++entries, a->base != INDEX_BASE + (f << SHEAP_ARENA_SHIFT))
            return SHEAP_CHECK_INDEX;
    }
#else
    uintptr_t tables = 0;
    for (uintptr_t i = 0; i < INDEX_L1_ENTRIES; i++) {
        struct index_l2 *l2 = sheap_shared.index_l1[i];
        if (l2 == NULL)
            continue;
        tables++;
        for (uintptr_t j = 0; j < INDEX_L2_ENTRIES; j++) {
            struct sheap_arena *a = l2->arena[j];
            uintptr_t frame = (i << INDEX_L2_BITS) | j;
            if (a == NULL || a->heap != h)
                continue;
            if (++entries, a->base != (frame << SHEAP_ARENA_SHIFT))
                return SHEAP_CHECK_INDEX;
        }
    }
    if (tables != sheap_shared.index_l2_count)
        return SHEAP_CHECK_INDEX;
#endif
    return entries == n ? 0 : SHEAP_CHECK_INDEX;
}

static int check_free_lists(const struct sheap_heap *h, uintptr_t free_spans)
{
    SHEAP_ASSERT_LOCKED();
    uintptr_t seen = 0;
    for (unsigned fl = 0; fl < FL_COUNT; fl++) {
        bool fl_nonempty = false;
        for (unsigned sl = 0; sl < SL_COUNT; sl++) {
            struct sheap_span *prev = NULL;
            struct sheap_span *s = h->free_lists[fl][sl];
            bool bit = (h->sl_bitmap[fl] >> sl) & 1u;
            if ((s != NULL) != bit)
                return SHEAP_CHECK_FREE_LIST;
            fl_nonempty |= s != NULL;
            for (; s; prev = s, s = s->next) {
                unsigned f, l;
                if (++seen > free_spans || s->state != SPAN_FREE || s->prev != prev)
                    return SHEAP_CHECK_FREE_LIST;
                ph_mapping(s->npages, &f, &l);
                if (f != fl || l != sl || span_of(s->base) != s)
                    return SHEAP_CHECK_FREE_LIST;
            }
        }
        if (fl_nonempty != ((h->fl_bitmap >> fl) & 1u))
            return SHEAP_CHECK_FREE_LIST;
    }
    if (FL_COUNT < 64 && (h->fl_bitmap >> FL_COUNT) != 0)
        return SHEAP_CHECK_FREE_LIST;
    return seen == free_spans ? 0 : SHEAP_CHECK_FREE_LIST;
}

/* The cache of CPU k of h (the one cache without SHEAP_SMP). */
static const struct sheap_cpu *cpu_cache(const struct sheap_heap *h, unsigned k)
{
#if SHEAP_SMP
    return &h->cpu[k];
#else
    (void)k;
    return &h->cpu;
#endif
}

static int check_partial_lists(const struct sheap_heap *h, const struct tally *t)
{
    SHEAP_ASSERT_LOCKED();
    for (unsigned k = 0; k < SHEAP_MAX_CPUS; k++) {
        const struct sheap_cpu *cpu = cpu_cache(h, k);
        for (unsigned cls = 1; cls < SHEAP_NUM_CLASSES; cls++) {
            struct sheap_span *head = cpu->classes[cls].partial, *s = head;
            uintptr_t n = 0;
            if (head == NULL) {
                if (t->partial[k][cls] != 0)
                    return SHEAP_CHECK_PARTIAL;
                continue;
            }
            do {
                if (++n > t->partial[k][cls] || s->state != SPAN_SMALL || s->cls != cls || s->nfree == 0 ||
                    s->class_list == CLASS_LIST_NONE || s->next->prev != s)
                    return SHEAP_CHECK_PARTIAL;
                s = s->next;
            } while (s != head);
            if (n != t->partial[k][cls])
                return SHEAP_CHECK_PARTIAL;
            /* An empty (kept) head is known to small_release_empty. */
            if (head->nfree == head->nelems && !bit_get(cpu->head_map, cls))
                return SHEAP_CHECK_PARTIAL;
        }
    }
    return 0;
}

/* Each stash holds exactly the spans marked CLASS_LIST_STASH for its class,
 * at most SHEAP_STASH_SPANS of them, and the page count matches. */
static int check_stashes(const struct sheap_heap *h, const struct tally *t)
{
    SHEAP_ASSERT_LOCKED();
    for (unsigned k = 0; k < SHEAP_MAX_CPUS; k++) {
        const struct sheap_cpu *cpu = cpu_cache(h, k);
        if (t->stash_pages[k] != cpu->stash_pages)
            return SHEAP_CHECK_PARTIAL;
        for (unsigned cls = 1; cls < SHEAP_NUM_CLASSES; cls++) {
            uintptr_t n = 0;
            for (struct sheap_span *s = cpu->stash[cls]; s != NULL; s = s->next) {
                if (++n > t->stashed[k][cls] || s->state != SPAN_SMALL || s->cls != cls ||
                    s->class_list != CLASS_LIST_STASH)
                    return SHEAP_CHECK_PARTIAL;
            }
            if (n != t->stashed[k][cls] || n > SHEAP_STASH_SPANS || (n != 0) != bit_get(cpu->stash_map, cls))
                return SHEAP_CHECK_PARTIAL;
        }
    }
    return 0;
}

/* Every invariant of live heap h.  Lock held. */
static int heap_check(struct sheap_heap *h)
{
    SHEAP_ASSERT_LOCKED();
    struct tally t;
    mem_zero(&t, sizeof(t));
    t.h = h;
    int r = check_index(h);
    if (r == 0)
        r = ph_each_span(h, check_span, &t);
    if (r == 0)
        r = check_free_lists(h, t.spans[SPAN_FREE]);
    if (r == 0)
        r = check_partial_lists(h, &t);
    if (r == 0)
        r = check_stashes(h, &t);
    if (r == 0) {
        const struct sheap_counters *c = &h->c;
        if (t.spans[SPAN_FREE] != c->spans[SPAN_FREE] || t.spans[SPAN_SMALL] != c->spans[SPAN_SMALL] ||
            t.spans[SPAN_LARGE] != c->spans[SPAN_LARGE] || t.free_pages != c->free_pages ||
            t.ready_pages != c->ready_pages || t.free_ready_pages != h->free_ready_pages ||
            t.live_bytes != c->live_bytes || t.live_blocks != c->live_blocks ||
            c->peak_live_bytes < c->live_bytes)
            r = SHEAP_CHECK_STATS;
    }
    return r;
}

int sheap_heap_check(const struct sheap *heap)
{
    struct sheap_heap *h = (struct sheap_heap *)(uintptr_t)heap;
    if (heap_in_own_walk()) {
        walk_reentry(NULL);
        return SHEAP_CHECK_IN_WALK;
    }
    heap_lock_all();
    while (inflight_wait()) /* another thread's section or BUSY run: wait for it */
        ;
    heap_fold(); /* SMP: the CPUs' figures of the wait too */
    /* An uncreated default heap is empty, hence consistent.  While a growth
     * section runs or a run is in flight (BUSY spans), counters in motion
     * are expected: nothing is checked then. */
    int r = sheap_shared.growing || sheap_shared.busy_spans != 0 ? SHEAP_CHECK_BUSY
            : h->initialized     ? heap_check(h)
            : h == &sheap_heap   ? 0
                                 : SHEAP_CHECK_INDEX;
    heap_unlock();
    return r;
}

int sheap_check(void)
{
    return sheap_heap_check(heap_pub(&sheap_heap));
}

/* Expensive debug tier: the local invariants of one span (span map, page
 * bits, a small span's bitmap and list membership); no counters, which may
 * be mid-update.  Lock held. */
void debug_validate_span(struct sheap_heap *h, struct sheap_span *s)
{
    SHEAP_ASSERT_LOCKED();
    struct tally t;
    mem_zero(&t, sizeof(t));
    t.h = h;
    struct sheap_arena *a = arena_of(s->base);
    if (a == NULL || a->heap != h || check_span(s, &t) != 0)
        sheap_panic("sheap: span broken by a transition (SHEAP_DEBUG_EXPENSIVE)");
}

const char *sheap_check_message(int result)
{
    switch (result) {
    case SHEAP_CHECK_OK: return "heap is consistent";
    case SHEAP_CHECK_INDEX: return "arena index and arena list disagree";
    case SHEAP_CHECK_SPAN_MAP: return "span map does not match the spans";
    case SHEAP_CHECK_SPAN: return "malformed span record";
    case SHEAP_CHECK_COALESCE: return "adjacent free runs were not coalesced";
    case SHEAP_CHECK_FREE_LIST: return "free lists or their bitmaps are wrong";
    case SHEAP_CHECK_BITMAP: return "allocation bitmap disagrees with its free count";
    case SHEAP_CHECK_PARTIAL: return "size-class partial list is wrong";
    case SHEAP_CHECK_PAGE_STATE: return "in-use or Ready page bits are wrong";
    case SHEAP_CHECK_STATS: return "statistics do not add up";
    case SHEAP_CHECK_IN_WALK: return "called from a walker callback (refused)";
    case SHEAP_CHECK_BUSY: return "a growth section is running; nothing checked";
    default: return "unknown check result";
    }
}

/* ---- Walker ------------------------------------------------------------------- */

struct walk_ctx {
    sheap_walk_fn fn;
    void *ctx;
};

static int walk_span(struct sheap_span *s, void *arg)
{
    SHEAP_ASSERT_LOCKED();
    struct walk_ctx *w = arg;
    if (s->state != SPAN_SMALL)
        return w->fn((void *)s->base, s->npages << SHEAP_PAGE_SHIFT, s->state == SPAN_LARGE, w->ctx);
    for (uintptr_t i = 0; i < s->nelems; i++) {
        bool used = !((s->freebits[i / WORD_BITS] >> (i % WORD_BITS)) & 1u) && !slot_quarantined(s, i);
        int r = w->fn((void *)slot_addr(s, i), s->elem_size, used, w->ctx);
        if (r != 0)
            return r;
    }
    return 0;
}

/* Walk re-entry: the walking context's id is kept in sheap_shared.walker
 * while fn may run, so that a call from fn into any heap is refused instead
 * of spinning on the lock this walk holds (see in_own_walk in malloc.c).  A
 * nested walk is refused the same way, so the id is never overwritten.
 * walk_begin returns false (after the report) for such a nested walk. */
static bool walk_begin(void)
{
    if (heap_in_own_walk()) {
        walk_reentry(NULL);
        return false;
    }
    heap_lock_all();
    heap_walk_mark(sheap_port_context_id());
    return true;
}

static void walk_end(void)
{
    heap_walk_mark(0);
    heap_unlock();
}

int sheap_heap_walk(const struct sheap *heap, sheap_walk_fn fn, void *ctx)
{
    struct sheap_heap *h = (struct sheap_heap *)(uintptr_t)heap;
    struct walk_ctx w = {fn, ctx};
    if (!walk_begin())
        return -1;
    int r = h->initialized ? ph_each_span(h, walk_span, &w) : 0;
    walk_end();
    return r;
}

int sheap_walk(sheap_walk_fn fn, void *ctx)
{
    return sheap_heap_walk(heap_pub(&sheap_heap), fn, ctx);
}

int sheap_arena_walk(sheap_arena_fn fn, void *ctx)
{
    return sheap_heap_arena_walk(heap_pub(&sheap_heap), fn, ctx);
}

/* Pages of arena a inside SMALL or LARGE spans: from the start bits, plus a
 * run that started in an earlier arena.  O(spans + pages / word). */
static uintptr_t arena_inuse_pages(struct sheap_arena *a)
{
    SHEAP_ASSERT_LOCKED();
    uintptr_t pages = 0;
    struct sheap_span *s = span_covering(a->base);
    if (s != NULL && s->base < a->base) {
        uintptr_t left = s->npages - ((a->base - s->base) >> SHEAP_PAGE_SHIFT);
        pages += left < SHEAP_ARENA_PAGES ? left : SHEAP_ARENA_PAGES;
    }
    for (uintptr_t j = bits_next(a->starts, 0, SHEAP_ARENA_PAGES, true); j < SHEAP_ARENA_PAGES;
         j = bits_next(a->starts, j + 1, SHEAP_ARENA_PAGES, true)) {
        uintptr_t n = a->spans[j]->npages;
        pages += n < SHEAP_ARENA_PAGES - j ? n : SHEAP_ARENA_PAGES - j;
    }
    return pages;
}

int sheap_heap_arena_walk(const struct sheap *heap, sheap_arena_fn fn, void *ctx)
{
    const struct sheap_heap *h = (const struct sheap_heap *)(const void *)heap;
    int r = 0;
    if (!walk_begin())
        return -1;
    for (struct sheap_arena *a = h->initialized ? h->arenas : NULL; a && r == 0; a = a->next) {
        struct sheap_arena_info info = {
            .base = a->base,
            .size = SHEAP_ARENA_SIZE,
            .ready_bytes = bits_count_range(a->ready, 0, SHEAP_ARENA_PAGES) << SHEAP_PAGE_SHIFT,
            .inuse_bytes = arena_inuse_pages(a) << SHEAP_PAGE_SHIFT,
            .metadata_bytes = arena_meta_ready_bytes(a),
        };
        r = fn(&info, ctx);
    }
    walk_end();
    return r;
}
