/*
 * malloc.c - the public allocation API: size classes, small-object spans,
 * large runs, realloc and aligned allocation.  See docs/DESIGN.md for the
 * alloc and free paths step by step.
 *
 * Small blocks (<= SHEAP_CLASS_MAX_SIZE) come from spans of one size class.
 * A span's free slots are the 1 bits of span->freebits, a bitmap inside the
 * span record (never inside user memory).  Spans with free slots are on the
 * class's circular partial list; its head serves every malloc of the class.
 * A span that becomes full leaves the list; one that was full and gets a
 * free slot back joins it at the tail.  A span that becomes empty stays
 * where it is if it is the head, so a malloc/free pair at the boundary
 * cannot take and return a span each time (hysteresis); otherwise it leaves
 * the list for the class's stash of empty spans (struct sheap_cpu), or for
 * the page heap when the stash is full.  A class without a partial span
 * takes a stashed span before it asks the page heap for a new one.
 * sheap_trim returns kept empty heads and stashes too.
 *
 * Large blocks are whole page runs (SPAN_LARGE).
 *
 * Locking: each entry point takes the heap lock once; misuse reports and
 * errno are delivered after it is dropped.
 */
#define SHEAP_SIZE_CLASSES_DEFINE
#include "sheap_internal.h"

static struct sheap_heap *const h = &sheap_heap;

/* Largest request considered at all: half the address space the index
 * covers.  Anything bigger fails with ENOMEM before any arithmetic. */
#define MAX_REQUEST ((uintptr_t)1 << (SHEAP_VA_BITS - 1))

static inline unsigned size_to_class(uintptr_t n)
{
    if (n <= SHEAP_CLASS8_LIMIT)
        return sheap_size_to_class8[(n + 7) >> 3];
    return sheap_size_to_class128[(n - SHEAP_CLASS8_LIMIT + 127) >> 7];
}

static inline void lock(void)
{
    sheap_port_lock_inline();
#ifdef SHEAP_DEBUG
    h->locked = true;
#endif
}

static inline void unlock(void)
{
#ifdef SHEAP_DEBUG
    h->locked = false;
#endif
    sheap_port_unlock_inline();
}

static inline void count_alloc(uintptr_t bytes)
{
    h->c.live_bytes += bytes;
    h->c.live_blocks++;
    if (h->c.live_bytes > h->c.peak_live_bytes)
        h->c.peak_live_bytes = h->c.live_bytes;
}

static inline void count_free(uintptr_t bytes)
{
    h->c.live_bytes -= bytes;
    h->c.live_blocks--;
}

/* Called without the lock: count and report a misuse. */
static void report_misuse(const char *msg, const void *p)
{
    lock();
    h->c.misuse++;
    sheap_fault_hook hook = h->fault_hook;
    unlock();
    if (hook)
        hook(msg, p);
    else
        sheap_port_fault(msg, p, false);
}

/*
 * Issue 20, fix 5: a call into the heap from inside a walker callback.
 * sheap_walk and sheap_arena_walk hold the heap lock while fn runs and set
 * h->walker to the walking context's id (sheap_port_context_id, see
 * sheap_internal.h); the lock is not recursive, so a call from fn would spin
 * for ever.  Every entry point tests in_own_walk() before it takes the lock
 * and refuses the call instead: reported to the fault hook, counted as
 * misuse, and failed (allocations return NULL with EINVAL).  Another thread
 * that calls during the walk has another id and waits for the lock as
 * usual.  The load is relaxed and unlocked: only the walking context ever
 * sees its own id there; any other context sees 0 or a foreign id.
 */
static inline bool in_own_walk(void)
{
    uintptr_t w = __atomic_load_n(&h->walker, __ATOMIC_RELAXED);
    return __builtin_expect(w != 0, 0) && w == sheap_port_context_id();
}

/* Report a call made from a walker callback.  The calling context holds the
 * heap lock (through the walk), so it may update the counter directly; the
 * hook runs with that lock still held, as the callback itself does. */
__attribute__((noinline, cold)) void walk_reentry(const void *p)
{
    h->c.misuse++;
    sheap_fault_hook hook = h->fault_hook;
    const char *msg = "sheap: call into the heap from a walker callback (the walk holds the heap lock)";
    if (hook)
        hook(msg, p);
    else
        sheap_port_fault(msg, p, false);
}

bool heap_in_own_walk(void) { return in_own_walk(); }

/* A refused allocation: reported, NULL with EINVAL. */
__attribute__((noinline, cold)) static void *walk_refuse_alloc(void)
{
    walk_reentry(NULL);
    sheap_port_set_errno(SHEAP_EINVAL);
    return NULL;
}

static void *fail_oom(void)
{
    lock();
    h->c.oom++;
    unlock();
    sheap_port_set_errno(SHEAP_ENOMEM);
    return NULL;
}

/* ---- Partial lists (circular, doubly linked) ---------------------------------- */

static inline void partial_remove(struct sheap_class *c, struct sheap_span *s)
{
    if (s->next == s) {
        c->partial = NULL;
    } else {
        s->prev->next = s->next;
        s->next->prev = s->prev;
        if (c->partial == s)
            c->partial = s->next;
    }
    s->on_partial = 0;
}

static inline void partial_append(struct sheap_class *c, struct sheap_span *s)
{
    struct sheap_span *head = c->partial;
    if (head == NULL) {
        s->next = s->prev = s;
        c->partial = s;
    } else {
        s->next = head;
        s->prev = head->prev;
        head->prev->next = s;
        head->prev = s;
    }
    s->on_partial = ON_PARTIAL;
}

/* ---- Stashes of empty spans ------------------------------------------------------ */

static inline void stash_push(unsigned cls, struct sheap_span *s)
{
    s->next = h->cpu.stash[cls];
    s->prev = NULL;
    s->on_partial = ON_STASH;
    h->cpu.stash[cls] = s;
    bit_set(h->cpu.stash_map, cls);
    h->cpu.nstash[cls]++;
    h->cpu.stash_pages += s->npages;
}

static inline struct sheap_span *stash_pop(unsigned cls)
{
    struct sheap_span *s = h->cpu.stash[cls];
    if (s != NULL) {
        h->cpu.stash[cls] = s->next;
        if (s->next == NULL)
            bit_clear(h->cpu.stash_map, cls);
        h->cpu.nstash[cls]--;
        h->cpu.stash_pages -= s->npages;
        s->on_partial = 0;
    }
    return s;
}

/* The empty head of class cls, or NULL; clears a stale head_map bit. */
static struct sheap_span *empty_head(uintptr_t cls)
{
    struct sheap_span *s = h->cpu.classes[cls].partial;
    if (s && s->nfree == s->nelems)
        return s;
    bit_clear(h->cpu.head_map, cls);
    return NULL;
}

/* Give class cls's kept empty spans back, stash first, then its empty head,
 * until *budget spans have gone.  Returns the pages given back. */
static uintptr_t release_class(uintptr_t cls, uintptr_t *budget)
{
    uintptr_t pages = 0;
    struct sheap_span *s;
    while (*budget != 0 && (s = stash_pop((unsigned)cls)) != NULL) {
        pages += s->npages;
        ph_free(s);
        --*budget;
    }
    if (*budget != 0 && (s = empty_head(cls)) != NULL) {
        pages += s->npages;
        partial_remove(&h->cpu.classes[cls], s);
        ph_free(s);
        bit_clear(h->cpu.head_map, cls);
        --*budget;
    }
    return pages;
}

uintptr_t small_release_empty(uintptr_t need, uintptr_t max_spans)
{
    SHEAP_ASSERT_LOCKED();
    struct sheap_span *s;
    if (need != 0) {
        uintptr_t pages = h->cpu.stash_pages;
        for (uintptr_t cls = bits_next(h->cpu.head_map, 0, SHEAP_NUM_CLASSES, true); cls < SHEAP_NUM_CLASSES;
             cls = bits_next(h->cpu.head_map, cls + 1, SHEAP_NUM_CLASSES, true))
            if ((s = empty_head(cls)) != NULL)
                pages += s->npages;
        if (pages + h->c.free_pages < need)
            return 0; /* giving them back could not make room for need pages */
    }
    /* Classes with a stash or a (maybe) empty head.  A bounded batch goes
     * round robin from the class after the last one visited, so that no
     * class always goes first; giving back all of them goes in class order,
     * so that the free runs it leaves do not depend on earlier batches. */
    uintptr_t released = 0, budget = max_spans;
    uintptr_t start = max_spans == UINTPTR_MAX ? 0 : h->cpu.release_cursor;
    for (unsigned n = 0; n < 2 && budget != 0; n++) {
        uintptr_t from = n == 0 ? start : 0, to = n == 0 ? SHEAP_NUM_CLASSES : start;
        for (uintptr_t cls = from; cls < to && budget != 0; cls++) {
            uintptr_t a = bits_next(h->cpu.stash_map, cls, to, true), b = bits_next(h->cpu.head_map, cls, to, true);
            cls = a < b ? a : b;
            if (cls >= to)
                break;
            released += release_class(cls, &budget);
            h->cpu.release_cursor = (unsigned)cls + 1 < SHEAP_NUM_CLASSES ? (unsigned)cls + 1 : 0;
        }
    }
    return released;
}

/* ---- Small blocks -------------------------------------------------------------- */

/* Take a free slot of s (nfree > 0).  The scan starts at the word where the
 * last one found a slot and wraps around: free does not move the hint (that
 * would cost it a load, a compare and a store), so free slots may lie below
 * it.  nfree > 0 ends the scan within one round of the bitmap's words. */
static inline void *small_take(struct sheap_class *c, struct sheap_span *s)
{
    unsigned w = s->hint;
    uintptr_t bits;
    while ((bits = s->freebits[w]) == 0)
        w = (w + 1) & (SPAN_BITMAP_WORDS - 1);
    s->freebits[w] = bits & (bits - 1);
    s->hint = w;
    uintptr_t slot = (uintptr_t)w * WORD_BITS + ctz_word(bits);
    if (__builtin_expect(--s->nfree == 0, 0))
        partial_remove(c, s);
    count_alloc(s->elem_size);
    return (void *)(s->base + slot * s->elem_size);
}

/* The class has no partial span: take a stashed empty one, or start a new
 * one.  Lock held. */
static struct sheap_span *small_refill(unsigned cls)
{
    struct sheap_span *s = stash_pop(cls);
    if (s != NULL) {
        partial_append(&h->cpu.classes[cls], s);
        return s;
    }
    if (!h->initialized)
        heap_init();
    s = ph_alloc(sheap_class_npages[cls], 1, SPAN_SMALL);
    if (s == NULL)
        return NULL;
    unsigned nelems = sheap_class_nelems[cls];
    s->cls = (uint8_t)cls;
    s->elem_size = sheap_class_size[cls];
    s->divmul = sheap_class_divmul[cls];
    s->nelems = nelems;
    s->nfree = nelems;
    s->obj_bytes = (uintptr_t)nelems * s->elem_size;
    s->hint = 0;
    for (unsigned i = 0; i < SPAN_BITMAP_WORDS; i++) {
        unsigned lo = i * WORD_BITS;
        s->freebits[i] = nelems >= lo + WORD_BITS ? ~(uintptr_t)0
                         : nelems > lo           ? ((uintptr_t)1 << (nelems - lo)) - 1
                                                 : 0;
    }
    partial_append(&h->cpu.classes[cls], s);
    return s;
}

/* Lock held.  Returns NULL when the page heap cannot supply a span. */
static void *small_alloc(unsigned cls, bool zero)
{
    struct sheap_class *c = &h->cpu.classes[cls];
    struct sheap_span *s = c->partial;
    if (s == NULL && (s = small_refill(cls)) == NULL)
        return NULL;
    void *p = small_take(c, s);
    /* Freed slots are not tracked as dirty (that would cost the free fast
     * path a store), so calloc clears every small block. */
    if (zero)
        mem_zero(p, s->elem_size);
    return p;
}

/* A slot of s was freed and s is now empty.  Lock held. */
static void small_span_empty(struct sheap_class *c, struct sheap_span *s)
{
    if (c->partial == s) {
        /* The head is kept: hysteresis.  Noted for small_release_empty. */
        bit_set(h->cpu.head_map, s->cls);
        return;
    }
    partial_remove(c, s);
    if (s->npages == 1 && h->cpu.nstash[s->cls] + 1u <= (unsigned)SHEAP_STASH_SPANS) /* see SHEAP_STASH_SPANS */
        stash_push(s->cls, s);
    else
        ph_free(s);
}

/* ---- Large blocks ------------------------------------------------------------------ */

static inline uintptr_t pages_for(uintptr_t n)
{
    return (n + SHEAP_PAGE_SIZE - 1) >> SHEAP_PAGE_SHIFT;
}

/* Lock held. */
static void *large_alloc(uintptr_t n, uintptr_t align_pages, bool zero)
{
    if (!h->initialized)
        heap_init();
    uintptr_t npages = pages_for(n ? n : 1);
    struct sheap_span *s = ph_alloc(npages, align_pages, SPAN_LARGE);
    if (s == NULL)
        return NULL;
    count_alloc(npages << SHEAP_PAGE_SHIFT);
    if (zero && s->needzero)
        mem_zero((void *)s->base, npages << SHEAP_PAGE_SHIFT);
    return (void *)s->base;
}

/* ---- Pointer validation ---------------------------------------------------------- */

/*
 * The span of the live block that starts at p, or NULL when p is not the
 * start of a live block.  For a SMALL span *slot receives the slot number.
 * Reads only the index, the span map and the span record: O(1), and cheap
 * enough for the free fast path.  misuse_cause() explains a NULL.
 */
static inline struct sheap_span *block_of(uintptr_t p, uintptr_t *slot)
{
    struct sheap_arena *a = arena_of_cached(p);
    if (a == NULL)
        return NULL;
    struct sheap_span *s = a->spans[arena_page_index(a, p)];
    if (s == NULL)
        return NULL;
    uintptr_t off = p - s->base; /* wraps to huge when p < base */
    if (off >= s->obj_bytes)     /* also rejects FREE and DEAD records */
        return NULL;
    if (s->state == SPAN_SMALL) {
        uintptr_t i = (uintptr_t)(((uint64_t)off * s->divmul) >> 32);
        if (i * s->elem_size != off || ((s->freebits[i / WORD_BITS] >> (i % WORD_BITS)) & 1u))
            return NULL;
        *slot = i;
    } else if (off != 0) {
        return NULL;
    }
    return s;
}

/* Why block_of refused p: the probable misuse, for the fault hook.  Lock held. */
static const char *misuse_cause(uintptr_t p)
{
    struct sheap_arena *a = arena_of(p);
    if (a == NULL)
        return "sheap: pointer not from this heap (foreign or stack pointer?)";
    struct sheap_span *s = a->spans[arena_page_index(a, p)];
    if (s == NULL || p < s->base || p - s->base >= (s->npages << SHEAP_PAGE_SHIFT) ||
        (s->state != SPAN_SMALL && s->state != SPAN_LARGE))
        return "sheap: pointer into free heap memory (double free or use after free?)";
    uintptr_t off = p - s->base;
    if (s->state == SPAN_LARGE)
        return "sheap: interior pointer into a large block (not its start)";
    if (off >= s->obj_bytes)
        return "sheap: pointer past the last block of a span (not from malloc?)";
    uintptr_t i = (uintptr_t)(((uint64_t)off * s->divmul) >> 32);
    if (i * s->elem_size != off)
        return "sheap: interior pointer into a small block (not its start)";
    return "sheap: double free (block is already free)";
}

/* Report a pointer that block_of refused.  Called with the lock held; drops it. */
static void reject_pointer(const void *p)
{
    const char *why = misuse_cause((uintptr_t)p);
    unlock();
    report_misuse(why, p);
}

/* The span's free count crossed a boundary: it was full (join the partial
 * list) or is now empty (maybe return it).  Lock held; off the fast path. */
static void small_transition(struct sheap_span *s)
{
    struct sheap_class *c = &h->cpu.classes[s->cls];
    if (s->nfree == 1)
        partial_append(c, s);
    if (s->nfree == s->nelems)
        small_span_empty(c, s);
}

/* small_transition, then drop the lock: a tail call keeps the free fast
 * path free of calls (no stack frame). */
__attribute__((noinline)) static void small_transition_unlock(struct sheap_span *s)
{
    small_transition(s);
    unlock();
}

/* After a free raised s->nfree to nfree: true when the span was full (nfree
 * is 1) or is now empty (nfree is nelems).  One unsigned compare covers
 * both: nfree - 2 wraps to the top for 1, and nelems - 2 is the largest
 * value below that the test accepts (also when nelems is 1). */
static inline bool span_crossed(const struct sheap_span *s, uint32_t nfree)
{
    return __builtin_expect(nfree - 2u >= s->nelems - 2u, 0);
}

/* Free slot `slot` of SMALL span s.  Lock held.  Returns true when the span
 * crossed a boundary and small_transition must run. */
static inline bool small_free(struct sheap_span *s, uintptr_t slot)
{
    unsigned w = (unsigned)(slot / WORD_BITS);
    s->freebits[w] |= (uintptr_t)1 << (slot % WORD_BITS);
    count_free(s->elem_size);
    return span_crossed(s, ++s->nfree);
}

/* Free the live block of span s (slot for SMALL spans).  Lock held. */
static void free_block(struct sheap_span *s, uintptr_t slot)
{
    if (s->state == SPAN_LARGE) {
        count_free(s->npages << SHEAP_PAGE_SHIFT);
        ph_free(s);
        return;
    }
    if (small_free(s, slot))
        small_transition(s);
}

/* ---- Public API ------------------------------------------------------------------- */

/* Everything sheap_malloc does not finish on its fast path: refilling a
 * class, large blocks, failure. */
__attribute__((noinline)) static void *malloc_slow(size_t n)
{
    void *p;
    if (n <= SHEAP_CLASS_MAX_SIZE) {
        lock();
        p = small_alloc(size_to_class(n), false);
        unlock();
    } else {
        if (n > MAX_REQUEST)
            return fail_oom();
        lock();
        p = large_alloc(n, 1, false);
        unlock();
    }
    return p ? p : fail_oom();
}

void *sheap_malloc(size_t n)
{
    if (in_own_walk())
        return walk_refuse_alloc();
    /* Fast path: a small size whose class has a partial span.  It makes no
     * calls, so it needs no stack frame.  Sizes up to SHEAP_CLASS8_LIMIT
     * (the most common) are tested first: one compare before the lookup. */
    if (__builtin_expect(n <= SHEAP_CLASS_MAX_SIZE, 1)) {
        unsigned cls = __builtin_expect(n <= SHEAP_CLASS8_LIMIT, 1) ? sheap_size_to_class8[(n + 7) >> 3]
                                                                    : size_to_class(n);
        lock();
        struct sheap_class *c = &h->cpu.classes[cls];
        struct sheap_span *s = c->partial;
        if (__builtin_expect(s != NULL, 1)) {
            void *p = small_take(c, s);
            unlock();
            return p;
        }
        unlock();
    }
    return malloc_slow(n);
}

/* Large blocks and pointers the fast path refused (reported as misuse). */
__attribute__((noinline)) static void free_slow(void *ptr)
{
    uintptr_t slot = 0;
    lock();
    struct sheap_span *s = block_of((uintptr_t)ptr, &slot);
    if (s == NULL) {
        reject_pointer(ptr);
        return;
    }
    free_block(s, slot);
    unlock();
}

void sheap_free(void *ptr)
{
    if (ptr == NULL)
        return;
    if (in_own_walk()) {
        walk_reentry(ptr);
        return;
    }
    /* Fast path: a live block of a SMALL span.  The checks of block_of,
     * written out so that the bitmap word is loaded once for the double-free
     * test and the update.  Anything else (large blocks, misuse) takes
     * free_slow, which checks again. */
    uintptr_t p = (uintptr_t)ptr;
    lock();
    struct sheap_arena *a = arena_of_cached(p);
    if (__builtin_expect(a != NULL, 1)) {
        struct sheap_span *s = a->spans[arena_page_index(a, p)];
        uintptr_t off;
        if (__builtin_expect(s != NULL, 1) && (off = p - s->base) < s->obj_bytes && s->state == SPAN_SMALL) {
            uintptr_t i = (uintptr_t)(((uint64_t)off * s->divmul) >> 32);
            uintptr_t *word = &s->freebits[i / WORD_BITS];
            uintptr_t bit = (uintptr_t)1 << (i % WORD_BITS), bits = *word;
            if (__builtin_expect(i * s->elem_size == off && (bits & bit) == 0, 1)) {
                *word = bits | bit;
                count_free(s->elem_size);
                if (span_crossed(s, ++s->nfree)) {
                    small_transition_unlock(s);
                    return;
                }
                unlock();
                return;
            }
        }
    }
    unlock();
    free_slow(ptr);
}

void *sheap_calloc(size_t count, size_t size)
{
    if (in_own_walk())
        return walk_refuse_alloc();
    size_t n;
    if (__builtin_mul_overflow(count, size, &n) || n > MAX_REQUEST)
        return fail_oom();
    void *p;
    lock();
    if (n <= SHEAP_CLASS_MAX_SIZE)
        p = small_alloc(size_to_class(n), true);
    else
        p = large_alloc(n, 1, true);
    unlock();
    return p ? p : fail_oom();
}

size_t sheap_usable_size(const void *ptr)
{
    if (ptr == NULL)
        return 0;
    if (in_own_walk()) {
        walk_reentry(ptr);
        return 0;
    }
    uintptr_t slot;
    lock();
    struct sheap_span *s = block_of((uintptr_t)ptr, &slot);
    if (s == NULL) {
        reject_pointer(ptr);
        return 0;
    }
    size_t n = s->state == SPAN_LARGE ? s->obj_bytes : s->elem_size;
    unlock();
    return n;
}

void *sheap_realloc(void *ptr, size_t n)
{
    if (ptr == NULL)
        return sheap_malloc(n);
    if (in_own_walk()) {
        walk_reentry(ptr);
        sheap_port_set_errno(SHEAP_EINVAL);
        return NULL;
    }
    if (n == 0) {
        sheap_free(ptr);
        return NULL;
    }
    uintptr_t slot;
    size_t old;
    lock();
    /* Issue 20, fix 1: the pointer is validated before the size, so an
     * invalid p with a huge n is reported (not taken for an OOM). */
    struct sheap_span *s = block_of((uintptr_t)ptr, &slot);
    if (s == NULL) {
        reject_pointer(ptr);
        return NULL;
    }
    if (n > MAX_REQUEST) {
        unlock();
        return fail_oom();
    }
    if (s->state == SPAN_SMALL) {
        old = s->elem_size;
        if (n <= old && size_to_class(n) == s->cls) {
            unlock();
            return ptr;
        }
    } else {
        old = s->npages << SHEAP_PAGE_SHIFT;
        uintptr_t want = pages_for(n);
        if (n > SHEAP_CLASS_MAX_SIZE) {
            /* Shrink gives the tail back; growth takes the free run after
             * the block.  Either may decline (no span record, neighbour in
             * use), which the size test below sorts out. */
            if (want < s->npages)
                ph_shrink(s, want);
            else if (want > s->npages)
                ph_grow_in_place(s, want);
            if (s->npages >= want) {
                h->c.live_bytes = h->c.live_bytes - old + (s->npages << SHEAP_PAGE_SHIFT);
                if (h->c.live_bytes > h->c.peak_live_bytes)
                    h->c.peak_live_bytes = h->c.live_bytes;
                unlock();
                return ptr;
            }
        }
    }
    unlock();
    /* Move: allocate, copy, free.  On failure the old block stays. */
    void *q = sheap_malloc(n);
    if (q == NULL)
        return NULL;
    mem_copy(q, ptr, n < old ? n : old);
    sheap_free(ptr);
    return q;
}

static int is_pow2(size_t x) { return x != 0 && (x & (x - 1)) == 0; }

void *sheap_aligned_alloc(size_t align, size_t n)
{
    if (in_own_walk())
        return walk_refuse_alloc();
    if (!is_pow2(align) || align > SHEAP_ARENA_SIZE) {
        sheap_port_set_errno(SHEAP_EINVAL);
        return NULL;
    }
    if (n > MAX_REQUEST)
        return fail_oom();
    if (n < align && align <= 16)
        n = align; /* class 8 is only 8-aligned; 16 and up are 16-aligned */
    void *p = NULL;
    lock();
    if (n <= SHEAP_CLASS_MAX_SIZE && align <= SHEAP_PAGE_SIZE) {
        /* A class whose size is a multiple of align has every slot aligned,
         * since spans start on page boundaries. */
        unsigned cls = size_to_class(n);
        while (cls < SHEAP_NUM_CLASSES && (sheap_class_size[cls] & (align - 1)) != 0)
            cls++;
        if (cls < SHEAP_NUM_CLASSES)
            p = small_alloc(cls, false);
        else
            p = large_alloc(n, 1, false);
    } else {
        uintptr_t align_pages = align > SHEAP_PAGE_SIZE ? align >> SHEAP_PAGE_SHIFT : 1;
        p = large_alloc(n, align_pages, false);
    }
    unlock();
    return p ? p : fail_oom();
}

int sheap_posix_memalign(void **out, size_t align, size_t n)
{
    if (in_own_walk()) {
        walk_refuse_alloc();
        return SHEAP_EINVAL;
    }
    /* Issue 20, fix 4: errno is set on EINVAL too (the Failure rule). */
    if (!is_pow2(align) || align % sizeof(void *) != 0 || align > SHEAP_ARENA_SIZE) {
        sheap_port_set_errno(SHEAP_EINVAL);
        return SHEAP_EINVAL;
    }
    void *p = sheap_aligned_alloc(align, n);
    if (p == NULL)
        return SHEAP_ENOMEM;
    *out = p;
    return 0;
}

size_t sheap_trim(void)
{
    if (in_own_walk()) {
        walk_reentry(NULL);
        return 0;
    }
    lock();
    /* Kept empty spans first, so their pages join the free runs. */
    small_release_empty(0, UINTPTR_MAX);
    size_t released = ph_trim();
    unlock();
    return released;
}

sheap_fault_hook sheap_set_fault_hook(sheap_fault_hook hook)
{
    if (in_own_walk()) {
        (void)hook;
        walk_reentry(NULL);
        return h->fault_hook; /* unchanged; the walk holds the lock */
    }
    lock();
    sheap_fault_hook old = h->fault_hook;
    h->fault_hook = hook;
    unlock();
    return old;
}

void sheap_stats(struct sheap_stats *out)
{
    if (in_own_walk()) {
        walk_reentry(out);
        return; /* *out untouched */
    }
    lock();
    out->live_bytes = h->c.live_bytes;
    out->peak_live_bytes = h->c.peak_live_bytes;
    out->live_blocks = h->c.live_blocks;
    out->ready_bytes = h->c.ready_pages << SHEAP_PAGE_SHIFT;
    out->prepared_bytes = (h->c.arena_pages - h->c.ready_pages) << SHEAP_PAGE_SHIFT;
    out->free_bytes = h->c.free_pages << SHEAP_PAGE_SHIFT;
    /* Ready metadata from the metadata allocator (L2 index tables included)
     * plus the index's static first level. */
    out->metadata_bytes = h->c.meta_bytes + index_static_bytes();
    out->reserved_bytes = h->c.reserved_bytes;
    out->arenas = h->c.arenas;
    out->spans_free = h->c.spans[SPAN_FREE];
    out->spans_small = h->c.spans[SPAN_SMALL];
    out->spans_large = h->c.spans[SPAN_LARGE];
    out->oom_count = h->c.oom;
    out->misuse_count = h->c.misuse;
    out->grow_count = h->c.grows;
    unlock();
}

/* Internal lock access for check.c (same file-local discipline). */
void heap_lock(void) { lock(); }
void heap_unlock(void) { unlock(); }
