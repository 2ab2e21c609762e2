/*
 * observe.c - what a firmware asks of its heap in the field (the contract
 * is in sheap.h, "Observability"): the heap report (largest free
 * block, free and used bytes by size class, resettable peak and
 * minimum-ever-free, fragmentation), owner tags and the leak report by
 * owner, the trace and out-of-memory hooks' registry, the record behind
 * sheap_last_fault, and sheap_dump with a formatter of its own (the core
 * has no printf).
 *
 * Nothing here is on a fast path.  The reports walk the heap with the lock
 * held (O(heap size), exempt from the latency bound like sheap_check); the
 * owner walk marks the walk like sheap_walk, so that a callback calling
 * back into sheap is refused, not deadlocked.
 *
 * Minimum-ever-free without a fast-path cost: free = heap bytes (arena
 * pages) - live bytes.  While the arena size is constant, free is lowest
 * when live is highest; and a period that never reaches the running peak
 * cannot hold the minimum (the arena only grew since that peak).  So the
 * minimum is the lowest of (arena bytes - peak) taken at the end of every
 * period of constant arena size: observe_before_grow records it before
 * each growth, and the report takes the current period's value itself.
 */
#include "sheap_internal.h"

sheap_owner_t sheap_current_owner;

/* A relaxed load and store, not an exchange: an atomic exchange of a byte
 * is a libgcc call on some targets (AArch64's outline atomics), which the
 * freestanding core must not make.  Setters do not race in practice (one
 * context switch at a time). */
sheap_owner_t sheap_set_owner(sheap_owner_t owner)
{
    sheap_owner_t old = __atomic_load_n(&sheap_current_owner, __ATOMIC_RELAXED);
    __atomic_store_n(&sheap_current_owner, owner, __ATOMIC_RELAXED);
    return old;
}

sheap_owner_t sheap_get_owner(void) { return __atomic_load_n(&sheap_current_owner, __ATOMIC_RELAXED); }

/* ---- Hooks --------------------------------------------------------------------- */

#if SHEAP_HOOKS
struct sheap_hooks sheap_hooks_now;
#endif

int sheap_set_hooks(const struct sheap_hooks *hooks)
{
#if SHEAP_HOOKS
    heap_lock();
    if (hooks != NULL)
        sheap_hooks_now = *hooks;
    else
        mem_zero(&sheap_hooks_now, sizeof(sheap_hooks_now));
    heap_unlock();
    return 0;
#else
    (void)hooks;
    return SHEAP_EINVAL;
#endif
}

/* ---- Minimum-ever-free --------------------------------------------------------- */

static uintptr_t heap_bytes(const struct sheap_heap *h) { return h->c.arena_pages << SHEAP_PAGE_SHIFT; }

void observe_before_grow(struct sheap_heap *h)
{
    SHEAP_ASSERT_LOCKED();
    if (h->c.arena_pages == 0)
        return; /* the first arena: no period before it worth recording */
    uintptr_t inv = ~(heap_bytes(h) - h->c.peak_live_bytes);
    if (inv > h->min_free_inv)
        h->min_free_inv = inv;
}

static uintptr_t min_free(const struct sheap_heap *h)
{
    uintptr_t now = heap_bytes(h) - h->c.peak_live_bytes;
    return h->min_free_inv != 0 && ~h->min_free_inv < now ? ~h->min_free_inv : now;
}

void sheap_heap_reset_peak(struct sheap *heap)
{
    struct sheap_heap *h = heap != NULL ? heap_rec(heap) : &sheap_heap;
    if (heap_in_own_walk()) {
        walk_reentry(heap);
        return;
    }
    heap_lock_all();
    if (h->initialized) {
        h->c.peak_live_bytes = h->c.live_bytes;
        h->min_free_inv = ~(heap_bytes(h) - h->c.live_bytes);
    }
    heap_unlock();
}

/* ---- The last fault ------------------------------------------------------------ */

#if SHEAP_FAULT_RECORD
static struct sheap_fault_info last_fault; /* heap lock */
#endif

void observe_note_fault(int kind, const void *block, const struct sheap_span *s, uintptr_t slot, uintptr_t offset)
{
    SHEAP_ASSERT_LOCKED();
#if SHEAP_FAULT_RECORD
    mem_zero(&last_fault, sizeof(last_fault));
    last_fault.kind = kind;
    last_fault.block = block;
    last_fault.offset = offset;
    if (s != NULL && s->state == SPAN_SMALL) {
        last_fault.size = s->elem_size;
        last_fault.size_class = s->cls;
#if SHEAP_OWNER_TAGS
        last_fault.owner = s->owner[slot];
#endif
    }
#else
    (void)kind;
    (void)block;
    (void)s;
    (void)offset;
#endif
    (void)slot;
}

bool sheap_last_fault(struct sheap_fault_info *out)
{
    if (heap_in_own_walk()) {
        walk_reentry(out);
        return false;
    }
#if SHEAP_FAULT_RECORD
    heap_lock();
    *out = last_fault;
    mem_zero(&last_fault, sizeof(last_fault));
    heap_unlock();
#else
    mem_zero(out, sizeof(*out)); /* nothing recorded: SHEAP_FAULT_RECORD is 0 */
#endif
    return out->kind != SHEAP_FAULT_NONE;
}

/* ---- Owner of a block ---------------------------------------------------------- */

#if SHEAP_OWNER_TAGS
/* The owner of a live block at slot (SMALL) of s, or 0 when it is not live
 * (free, quarantined). */
static bool slot_live(const struct sheap_span *s, uintptr_t i)
{
    return !bit_get(s->freebits, i) && !slot_quarantined(s, i);
}
#endif

sheap_owner_t sheap_owner_of(const void *p)
{
#if SHEAP_OWNER_TAGS
    if (heap_in_own_walk()) {
        walk_reentry(p);
        return 0;
    }
    sheap_owner_t o = 0;
    uintptr_t a = (uintptr_t)p;
    heap_lock();
    struct sheap_span *s = span_of(a);
    if (s != NULL && a - s->base < s->obj_bytes) {
        if (s->state == SPAN_LARGE && a == s->base + large_off(s)) {
            o = s->owner[0];
        } else if (s->state == SPAN_SMALL) {
            uintptr_t off = a - s->base, i = span_slot(s, off);
            if (slot_offset(s, i) == off && slot_live(s, i))
                o = s->owner[i];
        }
    }
    heap_unlock();
    return o;
#else
    (void)p;
    return 0;
#endif
}

/* ---- Walks ------------------------------------------------------------------------ */

/* The heap a report is about: heap, or the default one for NULL; NULL when
 * it is not a live heap.  Lock held. */
static struct sheap_heap *live_heap(const struct sheap *heap)
{
    SHEAP_ASSERT_LOCKED();
    struct sheap_heap *h = heap != NULL ? (struct sheap_heap *)(uintptr_t)heap : &sheap_heap;
    return h->initialized ? h : NULL;
}

struct tally {
    struct sheap_report *rep;
    unsigned first, n;
    struct sheap_class_report *cls;
    struct sheap_owner_usage *own;
};

static int tally_span(struct sheap_span *s, void *arg)
{
    SHEAP_ASSERT_LOCKED();
    struct tally *t = arg;
    if (s->state == SPAN_FREE && t->rep != NULL) {
        uintptr_t bytes = s->npages << SHEAP_PAGE_SHIFT;
        if (bytes > t->rep->largest_free_bytes)
            t->rep->largest_free_bytes = bytes;
    } else if (s->state == SPAN_SMALL && s->nelems != 0) {
        if (t->rep != NULL)
            t->rep->slot_free_bytes += (uintptr_t)s->nfree * s->elem_size;
        if (t->cls != NULL && s->cls >= t->first && s->cls - t->first < t->n) {
            struct sheap_class_report *c = &t->cls[s->cls - t->first];
            c->used_bytes += (uintptr_t)(s->nelems - s->nfree - span_quarantined(s)) * s->elem_size;
            c->free_bytes += (uintptr_t)s->nfree * s->elem_size;
            c->spans++;
        }
#if SHEAP_OWNER_TAGS
        if (t->own != NULL)
            for (uintptr_t i = 0; i < s->nelems; i++)
                if (s->owner[i] >= t->first && s->owner[i] - t->first < t->n && slot_live(s, i)) {
                    t->own[s->owner[i] - t->first].blocks++;
                    t->own[s->owner[i] - t->first].bytes += s->elem_size;
                }
#endif
    } else if (s->state == SPAN_LARGE) {
#if SHEAP_OWNER_TAGS
        if (t->own != NULL && s->owner[0] >= t->first && s->owner[0] - t->first < t->n) {
            t->own[s->owner[0] - t->first].blocks++;
            t->own[s->owner[0] - t->first].bytes += large_usable(s);
        }
#endif
    }
    return 0;
}

/* Walk heap (NULL: the default one) with tally_span into *t.  Returns the
 * heap with the lock held, or NULL with it not held (refused from a walker
 * callback, or not a live heap). */
static struct sheap_heap *tally_heap(const struct sheap *heap, struct tally *t)
{
    if (heap_in_own_walk()) {
        walk_reentry(heap);
        return NULL;
    }
    heap_lock_all(); /* SMP: exact figures (CPU counters folded in) */
    struct sheap_heap *h = live_heap(heap);
    if (h == NULL) {
        heap_unlock();
        return NULL;
    }
    if (t->rep != NULL || t->n != 0)
        (void)ph_each_span(h, tally_span, t);
    return h;
}

/* Class or owner figures of first .. first + n - 1 into cls or own (the
 * other NULL), in one walk.  false: refused or not a live heap. */
static bool tally_range(const struct sheap *heap, unsigned first, unsigned n, struct sheap_class_report *cls,
                        struct sheap_owner_usage *own)
{
    struct tally t;
    mem_zero(&t, sizeof(t));
    t.first = first;
    t.n = n;
    t.cls = cls;
    t.own = own;
    if (tally_heap(heap, &t) == NULL)
        return false;
    heap_unlock();
    return true;
}

int sheap_heap_report(const struct sheap *heap, struct sheap_report *out)
{
    mem_zero(out, sizeof(*out));
    struct tally t;
    mem_zero(&t, sizeof(t));
    t.rep = out;
    struct sheap_heap *h = tally_heap(heap, &t);
    if (h == NULL)
        return SHEAP_EINVAL;
    out->heap_bytes = heap_bytes(h);
    out->live_bytes = h->c.live_bytes;
    out->live_blocks = h->c.live_blocks;
    out->peak_live_bytes = h->c.peak_live_bytes;
    out->free_bytes = out->heap_bytes - out->live_bytes;
    out->min_free_bytes = min_free(h);
    out->free_run_bytes = h->c.free_pages << SHEAP_PAGE_SHIFT;
#if SHEAP_HARDENING >= 2
    out->quarantine_blocks = quarantine_count(h);
#endif
    out->nclasses = SHEAP_NUM_CLASSES;
    heap_unlock();
    /* Free pages in BUSY runs are counted by free_pages but are in no
     * FREE span; the largest run cannot exceed the total. */
    /* In pages (both are whole pages), in uintptr_t: no 64-bit division
     * on 32-bit targets (a libgcc call), and pages * 1000 fits a word. */
    uintptr_t largest = out->largest_free_bytes >> SHEAP_PAGE_SHIFT, total = out->free_run_bytes >> SHEAP_PAGE_SHIFT;
    if (total != 0 && largest <= total)
        out->fragmentation = (unsigned)(1000u - largest * 1000u / total);
    return 0;
}

int sheap_heap_class_report(const struct sheap *heap, unsigned first, struct sheap_class_report *out, unsigned n)
{
    if (first >= SHEAP_NUM_CLASSES)
        n = 0;
    else if (n > SHEAP_NUM_CLASSES - first)
        n = SHEAP_NUM_CLASSES - first;
    mem_zero(out, n * sizeof(*out));
    for (unsigned i = 0; i < n; i++)
        out[i].block_size = sheap_class_size[first + i];
    return tally_range(heap, first, n, out, NULL) ? (int)n : -SHEAP_EINVAL;
}

int sheap_heap_owner_usage(const struct sheap *heap, unsigned first, struct sheap_owner_usage *out, unsigned n)
{
#if SHEAP_OWNER_TAGS
    if (first >= SHEAP_OWNERS || n > SHEAP_OWNERS - first)
        return SHEAP_EINVAL;
    mem_zero(out, n * sizeof(*out));
    return tally_range(heap, first, n, NULL, out) ? 0 : SHEAP_EINVAL;
#else
    (void)heap, (void)first, (void)out, (void)n;
    return SHEAP_EINVAL;
#endif
}

#if SHEAP_OWNER_TAGS
struct owner_walk {
    sheap_owner_t owner;
    sheap_walk_fn fn;
    void *ctx;
};

static int owner_span(struct sheap_span *s, void *arg)
{
    SHEAP_ASSERT_LOCKED();
    struct owner_walk *w = arg;
    if (s->state == SPAN_LARGE && s->owner[0] == w->owner)
        return w->fn((void *)(s->base + large_off(s)), large_usable(s), true, w->ctx);
    if (s->state != SPAN_SMALL)
        return 0;
    for (uintptr_t i = 0; i < s->nelems; i++)
        if (s->owner[i] == w->owner && slot_live(s, i)) {
            int r = w->fn((void *)slot_addr(s, i), s->elem_size, true, w->ctx);
            if (r != 0)
                return r;
        }
    return 0;
}
#endif

int sheap_heap_owner_walk(const struct sheap *heap, sheap_owner_t owner, sheap_walk_fn fn, void *ctx)
{
#if SHEAP_OWNER_TAGS
    if (heap_in_own_walk()) {
        walk_reentry(NULL);
        return -1;
    }
    heap_lock_all(); /* SMP: exact figures (CPU counters folded in) */
    struct sheap_heap *h = live_heap(heap);
    if (h == NULL || fn == NULL) {
        heap_unlock();
        return -1;
    }
    struct owner_walk w = {owner, fn, ctx};
    heap_walk_mark(sheap_port_context_id());
    int r = ph_each_span(h, owner_span, &w);
    heap_walk_mark(0);
    heap_unlock();
    return r;
#else
    (void)heap, (void)owner, (void)fn, (void)ctx;
    return -1;
#endif
}

/* ---- Poison scan (level 2) ---------------------------------------------------------- */

#if SHEAP_HARDENING >= 2
#define VERIFY_REPORTS 8
struct verify {
    uintptr_t damaged;
    unsigned nrep;
    const char *msg[VERIFY_REPORTS];
    const void *who[VERIFY_REPORTS];
};

static int verify_span(struct sheap_span *s, void *arg)
{
    SHEAP_ASSERT_LOCKED();
    struct verify *v = arg;
    if (s->state != SPAN_SMALL || s->nelems == 0)
        return 0;
    for (uintptr_t i = 0; i < s->nelems; i++) {
        if (!bit_get(s->freebits, i) && !slot_quarantined(s, i))
            continue;
        void *p = (void *)slot_addr(s, i);
        uintptr_t len = poison_len(s->elem_size);
        uintptr_t off = harden_find_write(p, len);
        if (off == len)
            continue;
        const void *who;
        const char *msg = harden_note_damage(s, i, off, &who);
        if (v->nrep < VERIFY_REPORTS) {
            v->msg[v->nrep] = msg;
            v->who[v->nrep++] = who;
        }
        v->damaged++;
        harden_poison(p, len); /* reported once */
    }
    return 0;
}
#endif

size_t sheap_heap_verify(const struct sheap *heap)
{
#if SHEAP_HARDENING >= 2
    if (heap_in_own_walk()) {
        walk_reentry(heap);
        return 0;
    }
    struct verify v;
    mem_zero(&v, sizeof(v));
    heap_lock_all(); /* SMP: exact figures (CPU counters folded in) */
    struct sheap_heap *h = live_heap(heap);
    if (h != NULL)
        (void)ph_each_span(h, verify_span, &v);
    heap_unlock();
    for (unsigned i = 0; i < v.nrep; i++)
        misuse_report(v.msg[i], v.who[i]);
    return v.damaged;
#else
    (void)heap;
    return 0;
#endif
}

/* ---- sheap_dump ------------------------------------------------------------------- */

/* A line being formatted: text goes to buf and out at each newline. */
struct line {
    sheap_console_fn out;
    char buf[120];
    unsigned n;
};

static void put_char(struct line *l, char c)
{
    if (l->n < sizeof(l->buf))
        l->buf[l->n++] = c;
    if (c == '\n' || l->n == sizeof(l->buf)) {
        l->out(l->buf, l->n);
        l->n = 0;
    }
}

static void put_str(struct line *l, const char *s)
{
    while (*s)
        put_char(l, *s++);
}

/* Unsigned decimal, right-aligned in width characters.  64-bit values are
 * divided by repeated subtraction of powers of ten (no 64-bit division:
 * 32-bit targets would call libgcc's __udivdi3). */
static void put_dec(struct line *l, uint64_t v, unsigned width)
{
    static const uint64_t pow10[] = {
        10000000000000000000u, 1000000000000000000u, 100000000000000000u, 10000000000000000u,
        1000000000000000u,     100000000000000u,     10000000000000u,     1000000000000u,
        100000000000u,         10000000000u,         1000000000u,         100000000u,
        10000000u,             1000000u,             100000u,             10000u,
        1000u,                 100u,                 10u,                 1u,
    };
    char digits[20];
    unsigned nd = 0;
    for (unsigned i = 0; i < 20; i++) {
        char d = '0';
        while (v >= pow10[i]) {
            v -= pow10[i];
            d++;
        }
        if (d != '0' || nd != 0 || i == 19)
            digits[nd++] = d;
    }
    while (width > nd) {
        put_char(l, ' ');
        width--;
    }
    for (unsigned i = 0; i < nd; i++)
        put_char(l, digits[i]);
}

static void put_hex(struct line *l, uintptr_t v)
{
    put_str(l, "0x");
    for (int shift = (int)(8 * sizeof(v)) - 4; shift >= 0; shift -= 4)
        put_char(l, "0123456789abcdef"[(v >> shift) & 15u]);
}

/* "label value" pairs, the usual line of the report. */
static void put_field(struct line *l, const char *label, uint64_t v)
{
    put_str(l, label);
    put_dec(l, v, 0);
}

void sheap_dump(const struct sheap *heap, sheap_console_fn out)
{
    if (out == NULL)
        return;
    struct line l;
    l.out = out;
    l.n = 0;
    struct sheap_report r;
    if (sheap_heap_report(heap, &r) != 0) {
        put_str(&l, "sheap: no heap\n");
        return;
    }
    const struct sheap_heap *h = heap != NULL ? (const struct sheap_heap *)(const void *)heap : &sheap_heap;
    const char *name = sheap_heap_name(heap_pub((struct sheap_heap *)(uintptr_t)h));
    put_str(&l, "sheap heap \"");
    put_str(&l, name != NULL ? name : "?");
    put_str(&l, "\" at ");
    put_hex(&l, (uintptr_t)h);
    put_field(&l, ": heap ", r.heap_bytes);
    put_field(&l, " B, live ", r.live_bytes);
    put_field(&l, " B in ", r.live_blocks);
    put_field(&l, " blocks, peak ", r.peak_live_bytes);
    put_str(&l, " B\n");
    put_field(&l, "  free ", r.free_bytes);
    put_field(&l, " B (min ever ", r.min_free_bytes);
    put_field(&l, " B), in free runs ", r.free_run_bytes);
    put_field(&l, " B, largest free block ", r.largest_free_bytes);
    put_str(&l, " B\n");
    put_field(&l, "  fragmentation ", r.fragmentation);
    put_field(&l, "/1000, free slots ", r.slot_free_bytes);
    put_field(&l, " B, in quarantine ", r.quarantine_blocks);
    put_str(&l, " blocks\n");
    put_str(&l, "  class  block B   used B   free B  spans\n");
    struct sheap_class_report c[8];
    for (unsigned first = 0; first < r.nclasses; first += 8) {
        int n = sheap_heap_class_report(heap, first, c, 8);
        for (int i = 0; i < n; i++) {
            if (c[i].spans == 0)
                continue;
            put_dec(&l, first + (unsigned)i, 7);
            put_dec(&l, c[i].block_size, 9);
            put_dec(&l, c[i].used_bytes, 9);
            put_dec(&l, c[i].free_bytes, 9);
            put_dec(&l, c[i].spans, 7);
            put_char(&l, '\n');
        }
    }
#if SHEAP_OWNER_TAGS
    put_str(&l, "  owner   blocks    bytes\n");
    struct sheap_owner_usage u[16];
    for (unsigned first = 0; first < SHEAP_OWNERS; first += 16) {
        if (sheap_heap_owner_usage(heap, first, u, 16) != 0)
            break;
        for (unsigned i = 0; i < 16; i++) {
            if (u[i].blocks == 0)
                continue;
            put_dec(&l, first + i, 7);
            put_dec(&l, u[i].blocks, 9);
            put_dec(&l, u[i].bytes, 9);
            put_char(&l, '\n');
        }
    }
#endif
    put_str(&l, "  check: ");
    put_str(&l, sheap_check_message(sheap_heap_check(heap_pub((struct sheap_heap *)(uintptr_t)h))));
    put_char(&l, '\n');
}
