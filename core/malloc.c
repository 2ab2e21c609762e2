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
 * Heaps: every function works on one heap record h.  The plain calls pass
 * the default heap (sheap_heap, at a fixed address, so their fast paths
 * are the per-heap ones with a constant); sheap_free and friends take h
 * from the arena record of the pointer (a->heap), found through the shared
 * index.  The default heap is made on first use, off the fast path: an
 * uncreated heap has no partial spans, so its first malloc goes slow.
 *
 * Locking: each entry point takes the heap lock (one for all heaps) once;
 * misuse reports and errno are delivered after it is dropped.
 */
#define SHEAP_SIZE_CLASSES_DEFINE
#include "sheap_internal.h"

/* Largest request considered at all: half the address space the index
 * covers.  Anything bigger fails with ENOMEM before any arithmetic. */
#define MAX_REQUEST ((uintptr_t)1 << (SHEAP_VA_BITS - 1))

static inline unsigned size_to_class(uintptr_t n)
{
    if (n <= SHEAP_CLASS8_LIMIT)
        return sheap_size_to_class8[(n + 7) >> 3];
    return sheap_size_to_class128[(n - SHEAP_CLASS8_LIMIT + 127) >> 7];
}

/* Measurement builds only (libsheap_mask.a, -DSHEAP_MASK_TRACE): the
 * program linked with the library defines these and reads its instruction
 * counter in them, right after the lock masks interrupts and right before
 * the unlock restores them (tests/bench/mask_target.c).  Release and test
 * libraries do not have the calls. */
#ifdef SHEAP_MASK_TRACE
void sheap_mask_trace_enter(void);
void sheap_mask_trace_exit(void);
#define MASK_TRACE_ENTER() sheap_mask_trace_enter()
#define MASK_TRACE_EXIT() sheap_mask_trace_exit()
#else
#define MASK_TRACE_ENTER() ((void)0)
#define MASK_TRACE_EXIT() ((void)0)
#endif

/* Bookkeeping right after the lock is taken and right before it is
 * released: the masked-stretch trace (measurement builds) and the debug
 * flag of SHEAP_ASSERT_LOCKED. */
static inline void lock_note_taken(void)
{
    MASK_TRACE_ENTER();
#ifdef SHEAP_DEBUG
    SHEAP_DEBUG_LOCKED(true);
#endif
}

static inline void lock_note_leaving(void)
{
#ifdef SHEAP_DEBUG
    SHEAP_DEBUG_LOCKED(false);
#endif
    MASK_TRACE_EXIT();
}

/* Raise h's peak of live bytes to live when it is above.  Lock held. */
static inline void note_peak(struct sheap_heap *h, uintptr_t live)
{
    if (live > h->c.peak_live_bytes)
        h->c.peak_live_bytes = live;
}

#if SHEAP_SMP
/* ---- SMP locks (docs/DESIGN.md "Concurrency") ------------------------------------
 *
 * A CPU's lock (sheap_cpu_locks[i], sheap_internal.h) covers its cache in
 * every heap; the port's lock is the shared lock.  Order: CPU locks in
 * ascending index, then the shared lock; nobody takes a CPU lock while
 * holding the shared lock, or a lower CPU lock while holding a higher one,
 * so no cycle can form.  Each lock masks the CPU's interrupts first, so a
 * handler never spins on a lock its own CPU holds. */
struct sheap_cpu_lock sheap_cpu_locks[SHEAP_MAX_CPUS];

#ifndef SHEAP_PORT_CPU_RELAX
#define SHEAP_PORT_CPU_RELAX() ((void)0)
#endif

/* The calling CPU's index for the fast paths, word-wide.  The port
 * promises 0..SHEAP_MAX_CPUS-1; telling gcc so spares the zero-extension
 * of the 32-bit id before it indexes (two shifts on RV64). */
static inline uintptr_t fast_cpu_id(void)
{
    unsigned id = sheap_port_cpu_id();
    if (id >= SHEAP_MAX_CPUS)
        __builtin_unreachable();
    return id;
}

/* Take CPU lock id (interrupts already masked by the caller). */
static inline void cpu_acquire(unsigned id)
{
    uintptr_t *w = &sheap_cpu_locks[id].word;
    while (__builtin_expect(__atomic_exchange_n(w, (uintptr_t)w, __ATOMIC_ACQUIRE) != 0, 0))
        while (__atomic_load_n(w, __ATOMIC_RELAXED) != 0)
            SHEAP_PORT_CPU_RELAX();
}

/* The fast paths' CPU lock: taken (true), or refused (false, nothing
 * taken) when it is busy.  Interrupts are masked, so a busy lock is held
 * by another CPU: one that holds every CPU lock (a walk, the validator,
 * trim, destroy: heap_lock_all).  The caller then takes its slow path,
 * which refuses a call from the walker callback (in_own_walk) and lets
 * any other context wait in lock(); the fast path itself neither spins
 * nor reads the walker word (fewer instructions). */
static inline bool cpu_acquire_fast(struct sheap_cpu_lock *l)
{
#ifdef SHEAP_PORT_WORD_TAKE
    return __builtin_expect(SHEAP_PORT_WORD_TAKE(&l->word) == 0, 1);
#else
    return __builtin_expect(__atomic_exchange_n(&l->word, (uintptr_t)&l->word, __ATOMIC_ACQUIRE) == 0, 1);
#endif
}

/* Release a CPU lock's word (a release store, or the port's equivalent:
 * SHEAP_PORT_WORD_GIVE, see port/riscv/sheap_port_lock.h). */
static inline void cpu_word_release(uintptr_t *w)
{
#ifdef SHEAP_PORT_WORD_GIVE
    SHEAP_PORT_WORD_GIVE(w);
#else
    __atomic_store_n(w, (uintptr_t)0, __ATOMIC_RELEASE);
#endif
}

static inline void cpu_release(unsigned id) { cpu_word_release(&sheap_cpu_locks[id].word); }

/* Take the locks of mode (a CPU index, LOCK_MODE_ALL or LOCK_MODE_SHARED)
 * and record it for the unlock. */
static void lock_mode_take(unsigned mode)
{
    if (mode == LOCK_MODE_ALL) {
        for (unsigned i = 0; i < SHEAP_MAX_CPUS; i++) {
            unsigned long irq = sheap_port_irq_save();
            cpu_acquire(i);
            sheap_cpu_locks[i].irq = irq;
        }
    } else if (mode < SHEAP_MAX_CPUS) {
        unsigned long irq = sheap_port_irq_save();
        cpu_acquire(mode);
        sheap_cpu_locks[mode].irq = irq;
    }
    sheap_port_lock_inline();
    sheap_shared.lock_mode = mode;
}

/* Release what lock_mode_take took: the shared lock first (reverse order). */
static void lock_mode_release(void)
{
    unsigned mode = sheap_shared.lock_mode;
    sheap_port_unlock_inline();
    if (mode == LOCK_MODE_ALL) {
        for (unsigned i = SHEAP_MAX_CPUS; i-- > 0;) {
            unsigned long irq = sheap_cpu_locks[i].irq;
            cpu_release(i);
            sheap_port_irq_restore(irq);
        }
    } else if (mode < SHEAP_MAX_CPUS) {
        unsigned long irq = sheap_cpu_locks[mode].irq;
        cpu_release(mode);
        sheap_port_irq_restore(irq);
    }
}

static void report_misuse(const char *msg, const void *p);

/* The heap lock of an entry point: this CPU's lock and the shared lock. */
static inline void lock(void)
{
    unsigned long irq = sheap_port_irq_save(); /* the id cannot change from here to the lock */
    unsigned id = sheap_port_cpu_id();
    cpu_acquire(id);
    sheap_cpu_locks[id].irq = irq;
    sheap_port_lock_inline();
    sheap_shared.lock_mode = id;
    sheap_shared.cur_cpu = id;
    lock_note_taken();
}

/* Ends an entry point: releases the locks of the mode taken, then reports
 * the double frees a reclaim of remote frees found meanwhile. */
static inline void unlock(void)
{
    lock_note_leaving();
    uintptr_t df = sheap_shared.df_count;
    const void *dp = sheap_shared.df_ptr;
    sheap_shared.df_count = 0;
    lock_mode_release();
    if (__builtin_expect(df != 0, 0))
        report_misuse("sheap: double free (a block freed on another CPU was freed again)", dp);
}

unsigned heap_drop(void)
{
    unsigned m = sheap_shared.lock_mode | sheap_shared.cur_cpu << 16;
    lock_note_leaving();
    lock_mode_release();
    return m;
}

void heap_retake(unsigned m)
{
    lock_mode_take(m & 0xffffu);
    sheap_shared.cur_cpu = m >> 16;
    lock_note_taken();
}

/* The live bytes of h as far as the lock holder sees them: its counters
 * plus the difference of every CPU whose lock it holds (its own, or all).
 * Other CPUs' small blocks count when heap_lock_all folds them in. */
static uintptr_t smp_live_bytes(const struct sheap_heap *h)
{
    uintptr_t n = h->c.live_bytes;
    if (sheap_shared.lock_mode == LOCK_MODE_ALL) {
        for (unsigned i = 0; i < SHEAP_MAX_CPUS; i++)
            n += h->cpu[i].live_bytes;
    } else if (sheap_shared.lock_mode < SHEAP_MAX_CPUS) {
        n += h->cpu[sheap_shared.lock_mode].live_bytes;
    }
    return n;
}

/* The peak of h from the snapshot (shared lock held). */
static void smp_note_peak(struct sheap_heap *h) { note_peak(h, smp_live_bytes(h)); }

/* Large blocks and realloc: h's own counters, under the shared lock.  The
 * peak is kept here and when heap_lock_all folds the CPUs' figures in, so
 * in SMP builds it can miss a peak reached by small mallocs alone between
 * two such points (docs/DESIGN.md "Concurrency"). */
static inline void count_alloc(struct sheap_heap *h, uintptr_t bytes)
{
    h->c.live_bytes += bytes;
    h->c.live_blocks++;
    smp_note_peak(h);
}

static inline void count_free(struct sheap_heap *h, uintptr_t bytes)
{
    h->c.live_bytes -= bytes;
    h->c.live_blocks--;
}

/* Small blocks: the owning CPU's differences, under its lock. */
static inline void count_small_alloc(struct sheap_heap *h, struct sheap_cpu *cpu, uintptr_t bytes)
{
    (void)h;
    cpu->live_bytes += bytes;
    cpu->live_blocks++;
}

static inline void count_small_free(struct sheap_heap *h, struct sheap_cpu *cpu, uintptr_t bytes, uintptr_t n)
{
    (void)h;
    cpu->live_bytes -= bytes;
    cpu->live_blocks -= n;
}
#else
static inline void lock(void)
{
    sheap_port_lock_inline();
    lock_note_taken();
}

static inline void unlock(void)
{
    lock_note_leaving();
    sheap_port_unlock_inline();
}

static inline void count_alloc(struct sheap_heap *h, uintptr_t bytes)
{
    h->c.live_bytes += bytes;
    h->c.live_blocks++;
    note_peak(h, h->c.live_bytes);
}

static inline void count_free(struct sheap_heap *h, uintptr_t bytes)
{
    h->c.live_bytes -= bytes;
    h->c.live_blocks--;
}

static inline void count_small_alloc(struct sheap_heap *h, struct sheap_cpu *cpu, uintptr_t bytes)
{
    (void)cpu;
    count_alloc(h, bytes);
}

static inline void count_small_free(struct sheap_heap *h, struct sheap_cpu *cpu, uintptr_t bytes, uintptr_t n)
{
    (void)cpu;
    (void)n;
    count_free(h, bytes);
}
#endif

/* Called without the lock: count and report a misuse. */
static void report_misuse(const char *msg, const void *p)
{
    lock();
    sheap_shared.misuse++;
    sheap_fault_hook hook = sheap_shared.fault_hook;
    unlock();
    if (hook)
        hook(msg, p);
    else
        sheap_port_fault(msg, p, false);
}

#if SHEAP_HARDENING >= 2
void misuse_report(const char *msg, const void *p) { report_misuse(msg, p); }
#endif

/* Called without the lock: count (h may be NULL) and set errno. */
static void *fail_oom(struct sheap_heap *h)
{
    lock();
    if (h != NULL)
        h->c.oom++;
    unlock();
    sheap_port_set_errno(SHEAP_ENOMEM);
    return NULL;
}

/*
 * Walk re-entry: a call into sheap from inside a walker callback.  The
 * walks (check.c) hold the heap lock while fn runs and set
 * sheap_shared.walker to the walking context's id (sheap_port_context_id,
 * see sheap_internal.h).  The lock is one for all heaps and not recursive,
 * so a call from fn into any heap would spin for ever.  Every entry point
 * that takes the lock tests in_own_walk() first (the small malloc/free fast
 * paths only when lock_fast refuses, below) and refuses the call instead: reported to the fault hook, counted as misuse, and failed
 * (allocations return NULL with EINVAL).  Another thread that calls during
 * the walk has another id and waits for the lock as usual.  The load is
 * relaxed and unlocked: only the walking context ever sees its own id
 * there; any other context sees 0 or a foreign id.
 */
static inline bool in_own_walk(void)
{
    uintptr_t w = __atomic_load_n(&sheap_shared.walker, __ATOMIC_RELAXED);
    return __builtin_expect(w != 0, 0) && w == sheap_port_context_id();
}

/* Report a call made from a walker callback.  The calling context holds the
 * heap lock (through the walk), so it updates the counter directly; the
 * hook runs with that lock still held, as the callback itself does. */
__attribute__((noinline, cold)) void walk_reentry(const void *p)
{
    sheap_shared.misuse++;
    sheap_fault_hook hook = sheap_shared.fault_hook;
    const char *msg = "sheap: call into the heap from a walker callback (the walk holds the heap lock)";
    if (hook)
        hook(msg, p);
    else
        sheap_port_fault(msg, p, false);
}

bool heap_in_own_walk(void) { return in_own_walk(); }

/* The lock for the small malloc/free fast paths: taken (true), or refused
 * with nothing changed (false) while *walker (a copy of the walker id) is
 * set, and then the caller takes its slow path, whose in_own_walk() test
 * refuses a call from a walker callback and lets other contexts wait.  A
 * port with sheap_port_lock_fast (see sheap_port.h) tests *walker between
 * masking interrupts and saving their state, where the fast path already
 * holds the base address (one ldr and one branch on AArch64); otherwise
 * the core tests it before taking the lock. */
static inline bool lock_fast(const uintptr_t *walker, unsigned long *state)
{
#ifdef SHEAP_PORT_HAS_LOCK_FAST
    if (!sheap_port_lock_fast(walker, state))
        return false;
#else
    if (__atomic_load_n(walker, __ATOMIC_RELAXED) != 0)
        return false;
    sheap_port_lock_inline();
    *state = 0;
#endif
    lock_note_taken();
    return true;
}

/* Releases a lock taken by lock_fast.  The interrupt state stays in a
 * register from lock to unlock (two instructions fewer than the shared
 * global on AArch64: no address formed, no store). */
static inline void unlock_fast(unsigned long state)
{
    lock_note_leaving();
#ifdef SHEAP_PORT_HAS_LOCK_FAST
    sheap_port_unlock_fast(state);
#else
    (void)state;
    sheap_port_unlock_inline();
#endif
}

/* Hands a lock taken by lock_fast to code that releases it with unlock(). */
static inline void lock_adopt(unsigned long state)
{
#ifdef SHEAP_PORT_HAS_LOCK_FAST
    sheap_port_lock_adopt(state);
#else
    (void)state;
#endif
}

/* Mark every heap record (and the default one, live or not) as walked by
 * context id, or not (id 0).  Lock held; no heap is created or destroyed
 * while a walk runs (both are refused). */
void heap_walk_mark(uintptr_t id)
{
    SHEAP_ASSERT_LOCKED();
    __atomic_store_n(&sheap_shared.walker, id, __ATOMIC_RELAXED);
    __atomic_store_n(&sheap_heap.walker, id, __ATOMIC_RELAXED);
    for (struct sheap_heap *h = sheap_shared.heaps; h != NULL; h = h->next_heap)
        __atomic_store_n(&h->walker, id, __ATOMIC_RELAXED);
}

/* A refused allocation: reported, NULL with EINVAL. */
__attribute__((noinline, cold)) static void *walk_refuse_alloc(void)
{
    walk_reentry(NULL);
    sheap_port_set_errno(SHEAP_EINVAL);
    return NULL;
}

#if SHEAP_SMP
/* Spans whose remote frees the malloc slow path reclaims per call before
 * it takes a new span: each is O(bitmap words) plus at most one run free,
 * so the masked stretch stays bounded. */
#define SMP_RECLAIM_BATCH 4u
uintptr_t smp_reclaim(struct sheap_heap *h, struct sheap_cpu *cpu, uintptr_t max);
#endif

/* The calling CPU's cache is locked: by the slow paths' lock (own CPU lock
 * and the shared lock), or (SMP) by the fast paths' CPU lock alone, which
 * is all that this check reads (the shared lock's debug flag is for its
 * holder only). */
#if SHEAP_SMP && defined(SHEAP_DEBUG)
#define SHEAP_ASSERT_CACHE_LOCKED() \
    SHEAP_ASSERT(__atomic_load_n(&sheap_cpu_locks[sheap_port_cpu_id()].word, __ATOMIC_RELAXED) != 0)
#else
#define SHEAP_ASSERT_CACHE_LOCKED() SHEAP_ASSERT_LOCKED()
#endif

/* ---- Partial lists (circular, doubly linked) ---------------------------------- */

static inline void partial_remove(struct sheap_class *c, struct sheap_span *s)
{
    SHEAP_ASSERT_CACHE_LOCKED();
    if (s->next == s) {
        c->partial = NULL;
    } else {
        s->prev->next = s->next;
        s->next->prev = s->prev;
        if (c->partial == s)
            c->partial = s->next;
    }
    s->class_list = CLASS_LIST_NONE;
}

static inline void partial_append(struct sheap_class *c, struct sheap_span *s)
{
    SHEAP_ASSERT_CACHE_LOCKED();
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
    s->class_list = CLASS_LIST_PARTIAL;
}

/* Whether SMALL span s waits on its owner's remote stack or backlog, or a
 * remote free of it is in flight (SMP): then it is not given back to the
 * page heap, whose record reuse would leave a stale entry on that list or
 * let the free push a reused record.  An empty span is pending only while
 * a remote free whose bit was reclaimed has not yet reached the flag, or
 * after a double free raced with a local free (docs/DESIGN.md); it stays
 * listed and its next reclaim gives it back. */
static inline bool span_remote_pending(const struct sheap_span *s)
{
#if SHEAP_SMP
    return __atomic_load_n(&s->remote_queued, __ATOMIC_ACQUIRE) != 0;
#else
    (void)s;
    return false;
#endif
}

/* ---- Stashes of empty spans ------------------------------------------------------ */

static inline void stash_push(struct sheap_heap *h, unsigned cls, struct sheap_span *s)
{
    SHEAP_ASSERT_LOCKED();
    s->next = HCPU(h)->stash[cls];
    s->prev = NULL;
    s->class_list = CLASS_LIST_STASH;
    HCPU(h)->stash[cls] = s;
    bit_set(HCPU(h)->stash_map, cls);
    HCPU(h)->stash_pages += s->npages;
}

/* Whether cls's stash holds fewer than SHEAP_STASH_SPANS spans: a walk of
 * at most that many links (no count kept: a byte per class of static RAM). */
static inline bool stash_has_room(const struct sheap_heap *h, unsigned cls)
{
    const struct sheap_span *s = HCPU(h)->stash[cls];
    for (unsigned n = 0; n < (unsigned)SHEAP_STASH_SPANS; n++, s = s->next)
        if (s == NULL)
            return true;
    return false;
}

static inline struct sheap_span *stash_pop(struct sheap_heap *h, unsigned cls)
{
    SHEAP_ASSERT_LOCKED();
    struct sheap_span *s = HCPU(h)->stash[cls];
    if (s != NULL) {
        HCPU(h)->stash[cls] = s->next;
        if (s->next == NULL)
            bit_clear(HCPU(h)->stash_map, cls);
        HCPU(h)->stash_pages -= s->npages;
        s->class_list = CLASS_LIST_NONE;
    }
    return s;
}

/* The empty head of class cls, or NULL; clears a stale head_map bit. */
static struct sheap_span *empty_head(struct sheap_heap *h, uintptr_t cls)
{
    SHEAP_ASSERT_LOCKED();
    struct sheap_span *s = HCPU(h)->classes[cls].partial;
    if (s && s->nfree == s->nelems)
        return s;
    bit_clear(HCPU(h)->head_map, cls);
    return NULL;
}

/* Give class cls's kept empty spans back, stash first, then its empty head,
 * until *budget spans have gone.  Returns the pages given back. */
static uintptr_t release_class(struct sheap_heap *h, uintptr_t cls, uintptr_t *budget)
{
    SHEAP_ASSERT_LOCKED();
    uintptr_t pages = 0;
    struct sheap_span *s;
#if SHEAP_SMP
    /* A stashed span with remote frees pending stays (see span_remote_pending). */
    while (*budget != 0 && HCPU(h)->stash[cls] != NULL && !span_remote_pending(HCPU(h)->stash[cls]) &&
           (s = stash_pop(h, (unsigned)cls)) != NULL) {
#else
    while (*budget != 0 && (s = stash_pop(h, (unsigned)cls)) != NULL) {
#endif
        pages += s->npages;
        ph_free(h, s);
        --*budget;
        lock_break(); /* one run free per masked stretch */
    }
    if (*budget != 0 && (s = empty_head(h, cls)) != NULL && !span_remote_pending(s)) {
        pages += s->npages;
        partial_remove(&HCPU(h)->classes[cls], s);
        ph_free(h, s);
        bit_clear(HCPU(h)->head_map, cls);
        --*budget;
        lock_break();
    }
    return pages;
}

uintptr_t small_release_empty(struct sheap_heap *h, uintptr_t need, uintptr_t max_spans)
{
    SHEAP_ASSERT_LOCKED();
    struct sheap_span *s;
    if (need != 0) {
        uintptr_t pages = HCPU(h)->stash_pages;
        for (uintptr_t cls = bits_next(HCPU(h)->head_map, 0, SHEAP_NUM_CLASSES, true); cls < SHEAP_NUM_CLASSES;
             cls = bits_next(HCPU(h)->head_map, cls + 1, SHEAP_NUM_CLASSES, true)) {
            if ((s = empty_head(h, cls)) != NULL)
                pages += s->npages;
            if ((cls & 3) == 3)
                lock_break(); /* an estimate: may be stale, which is harmless */
        }
        if (pages + h->c.free_pages < need)
            return 0; /* giving them back could not make room for need pages */
    }
    /* Classes with a stash or a (maybe) empty head.  A bounded batch goes
     * round robin from the class after the last one visited, so that no
     * class always goes first; giving back all of them goes in class order,
     * so that the free runs it leaves do not depend on earlier batches. */
    uintptr_t released = 0, budget = max_spans, visited = 0;
    uintptr_t start = max_spans == UINTPTR_MAX ? 0 : HCPU(h)->release_cursor;
    for (unsigned n = 0; n < 2 && budget != 0; n++) {
        uintptr_t from = n == 0 ? start : 0, to = n == 0 ? SHEAP_NUM_CLASSES : start;
        for (uintptr_t cls = from; cls < to && budget != 0; cls++) {
            uintptr_t a = bits_next(HCPU(h)->stash_map, cls, to, true), b = bits_next(HCPU(h)->head_map, cls, to, true);
            cls = a < b ? a : b;
            if (cls >= to)
                break;
            released += release_class(h, cls, &budget);
            HCPU(h)->release_cursor = (unsigned)cls + 1 < SHEAP_NUM_CLASSES ? (unsigned)cls + 1 : 0;
            if ((++visited & 1) == 0)
                lock_break(); /* stale head_map bits: bounded work per stretch */
        }
    }
    return released;
}

/* ---- Small blocks -------------------------------------------------------------- */

/* Take a free slot of s (nfree > 0).  The scan starts at the word where the
 * last one found a slot and wraps around: free does not move the hint (that
 * would cost it a load, a compare and a store), so free slots may lie below
 * it.  nfree > 0 ends the scan within one round of the bitmap's words. */
static inline void *small_take(struct sheap_heap *h, struct sheap_cpu *cpu, struct sheap_class *c,
                               struct sheap_span *s)
{
    SHEAP_ASSERT_CACHE_LOCKED();
#if SHEAP_HARDENING >= 2
    /* Randomised slot choice: the word the scan finds (as below), and in
     * it the first free bit at or after a random position (rotate, count
     * zeros).  Which word is not randomised: a span's first word holds 32
     * or more slots for every class up to 128 bytes. */
    unsigned w = s->hint, rot = harden_random() % WORD_BITS;
    uintptr_t bits;
    while ((bits = s->freebits[w]) == 0)
        w = (w + 1) & (SPAN_BITMAP_WORDS - 1);
    s->hint = w;
    uintptr_t rbits = rot != 0 ? (bits >> rot) | (bits << (WORD_BITS - rot)) : bits;
    unsigned b = (ctz_word(rbits) + rot) % WORD_BITS;
    s->freebits[w] = bits & ~((uintptr_t)1 << b);
    uintptr_t slot = (uintptr_t)w * WORD_BITS + b;
    /* The owner tag is written by take_verify, after the old one was reported. */
#else
    unsigned w = s->hint;
    uintptr_t bits;
    while ((bits = s->freebits[w]) == 0)
        w = (w + 1) & (SPAN_BITMAP_WORDS - 1);
    SMP_STORE(s->freebits[w], bits & (bits - 1));
    s->hint = w;
    uintptr_t slot = (uintptr_t)w * WORD_BITS + ctz_word(bits);
#if SHEAP_OWNER_TAGS
    s->owner[slot] = sheap_current_owner;
#endif
#endif
    if (__builtin_expect(--s->nfree == 0, 0))
        partial_remove(c, s);
    count_small_alloc(h, cpu, s->elem_size);
    return (void *)slot_addr(s, slot);
}

/*
 * A run of npages for a new span of h (ph_alloc), with the policy for
 * memory the size classes keep for reuse: it should not make the heap
 * bigger.  When the run this would take is not Ready already (so pages
 * would be backed, or the heap would grow), up to SHEAP_RELEASE_BATCH of
 * the kept empty spans (stashes, kept heads) go back to the free runs
 * first, where they coalesce and may serve this very request; the next
 * such allocation takes the next ones.  If the page heap still fails (out
 * of address space or of physical memory), every kept span goes back (when
 * there could be enough of them) and it tries again; then, when backing
 * failed, free Ready pages go back to the backend, whose memory they free:
 * one last try.  O(pages wanted + classes / word + SHEAP_RELEASE_BATCH run
 * frees) when anything is kept; O(classes + free runs) on the failure
 * paths only.  Lock held.
 */
static struct sheap_span *span_alloc_rest(struct sheap_heap *h, uintptr_t npages, uintptr_t align_pages,
                                          enum span_state state, bool searched);
static struct sheap_span *span_alloc(struct sheap_heap *h, uintptr_t npages, uintptr_t align_pages,
                                     enum span_state state)
{
    SHEAP_ASSERT_LOCKED();
    if (npages + align_pages - 1 < npages)
        return NULL;
    struct sheap_span *s;
    /* One search: a run that is all Ready is taken at once. */
    bool searched = small_kept_maybe(h);
    if (searched && (s = ph_alloc_ready(h, npages, align_pages, state)) != NULL)
        return s;
    return span_alloc_rest(h, npages, align_pages, state, searched);
}

/* span_alloc after its search for a Ready run (ph_alloc_ready) failed
 * (searched) or, nothing kept, was not made: the kept spans, backing,
 * growth, the failure paths. */
static struct sheap_span *span_alloc_rest(struct sheap_heap *h, uintptr_t npages, uintptr_t align_pages,
                                          enum span_state state, bool searched)
{
    SHEAP_ASSERT_LOCKED();
    uintptr_t need = npages + align_pages - 1;
    struct sheap_span *s;
    if (searched)
        lock_break(); /* the fit test in one stretch, what follows in others */
    if (small_kept_maybe(h)) {
        small_release_empty(h, 0, SHEAP_RELEASE_BATCH); /* each run freed in a stretch of its own */
        lock_break();
    }
    bool oom_backing = false;
    s = ph_alloc(h, npages, align_pages, state, &oom_backing);
    if (s == NULL && small_release_empty(h, need, UINTPTR_MAX) != 0)
        s = ph_alloc(h, npages, align_pages, state, &oom_backing);
    if (s == NULL && oom_backing && h->free_ready_pages > 0) {
        ph_trim(h);
        s = ph_alloc(h, npages, align_pages, state, &oom_backing);
    }
    return s;
}

/* The class has no partial span: take a stashed empty one, or start a new
 * one.  Lock held. */
static struct sheap_span *small_refill(struct sheap_heap *h, unsigned cls)
{
    SHEAP_ASSERT_LOCKED();
    struct sheap_span *s = stash_pop(h, cls);
    if (s != NULL) {
        partial_append(&HCPU(h)->classes[cls], s); /* SMP: stashed spans are this CPU's already */
        return s;
    }
    s = span_alloc(h, sheap_class_npages[cls], 1, SPAN_SMALL);
    if (s == NULL)
        return NULL;
    /* s has no blocks yet (obj_bytes 0) and is on no list, so the set-up
     * may start a new stretch.  Across the break it is BUSY, a run in
     * flight: its class fields are not set yet, and the validator and the
     * walker run meanwhile (another thread, a handler) must not read it
     * as a SMALL span (the validator waits for busy_spans to drop to 0;
     * the walker reports a BUSY run as free pages). */
    s->state = SPAN_BUSY;
    sheap_shared.busy_spans++;
#if SHEAP_HARDENING >= 2
    /* Level 2: every free slot holds the poison; the fill runs with the
     * lock dropped, like the break it replaces. */
    unlock();
    harden_poison((void *)s->base, s->npages << SHEAP_PAGE_SHIFT);
    lock();
#else
    lock_break();
#endif
    sheap_shared.busy_spans--;
    s->state = SPAN_SMALL;
    /* Slots and the slot divisor are computed (one division each, once
     * per span), not tabled: the tables cost 6 bytes of flash a class. */
    uint32_t size = sheap_class_size[cls];
    unsigned nelems = (unsigned)((s->npages << SHEAP_PAGE_SHIFT) / size);
    s->cls = (uint8_t)cls;
    s->elem_size = size;
    s->divmul = class_divmul(size);
    s->nelems = nelems;
    s->nfree = nelems;
    s->obj_bytes = (uintptr_t)nelems * s->elem_size;
    s->hint = 0;
    /* Full words, the partial one, then zeros (the scan reads every word). */
    unsigned full = nelems / WORD_BITS, i = 0;
    for (; i < full; i++)
        s->freebits[i] = ~(uintptr_t)0;
    if (i < SPAN_BITMAP_WORDS)
        s->freebits[i++] = ((uintptr_t)1 << (nelems % WORD_BITS)) - 1;
    for (; i < SPAN_BITMAP_WORDS; i++)
        s->freebits[i] = 0;
#if SHEAP_SMP
    /* This CPU's from now on (its lock and the shared lock are held); no
     * block of it is out yet, so no other CPU reads these. */
    s->owner_cpu = sheap_shared.cur_cpu;
    s->remote_queued = 0;
    s->remote_next = NULL;
    for (i = 0; i < SPAN_BITMAP_WORDS; i++)
        s->remote[i] = 0;
#endif
    partial_append(&HCPU(h)->classes[cls], s);
    SHEAP_VALIDATE_SPAN(h, s);
    return s;
}

/* Lock held.  Returns NULL when the page heap cannot supply a span.  When
 * zero, *clear receives the bytes the caller must clear once it has
 * dropped the lock. */
static void *small_alloc(struct sheap_heap *h, unsigned cls, bool zero, uintptr_t *clear)
{
    SHEAP_ASSERT_LOCKED();
    struct sheap_class *c = &HCPU(h)->classes[cls];
    struct sheap_span *s = c->partial;
#if SHEAP_SMP
    if (s == NULL) {
        /* Remote frees first (a bounded batch): they may give this class
         * a partial span without taking one from the page heap. */
        smp_reclaim(h, HCPU(h), SMP_RECLAIM_BATCH);
        s = c->partial;
    }
#endif
    if (s == NULL && (s = small_refill(h, cls)) == NULL)
        return NULL;
    c = &HCPU(h)->classes[cls]; /* the same: small_refill keeps the CPU (heap_drop) */
    void *p = small_take(h, HCPU(h), c, s);
    /* Freed slots are not tracked as dirty (that would cost the free fast
     * path a store), so calloc clears every small block. */
    if (zero)
        *clear = s->elem_size;
    return p;
}

/* A slot of s was freed and s is now empty.  Lock held. */
static void small_span_empty(struct sheap_heap *h, struct sheap_class *c, struct sheap_span *s)
{
    SHEAP_ASSERT_LOCKED();
    if (c->partial == s) {
        /* The head is kept: hysteresis.  Noted for small_release_empty. */
        bit_set(HCPU(h)->head_map, s->cls);
        return;
    }
    if (span_remote_pending(s))
        return; /* stays listed until its reclaim (only after a double free) */
    partial_remove(c, s);
    if (s->npages == 1 && stash_has_room(h, s->cls)) /* see SHEAP_STASH_SPANS */
        stash_push(h, s->cls, s);
    else
        ph_free(h, s);
}

/* ---- Large blocks ------------------------------------------------------------------ */

static inline uintptr_t pages_for(uintptr_t n)
{
    return (n + SHEAP_PAGE_SIZE - 1) >> SHEAP_PAGE_SHIFT;
}

/* Large span s was just taken for a block of its whole run: count it and
 * mark it unguarded, owned by the caller.  Lock held. */
static inline void *large_taken(struct sheap_heap *h, struct sheap_span *s)
{
    count_alloc(h, s->npages << SHEAP_PAGE_SHIFT);
#if SHEAP_HARDENING >= 3
    s->guard_off = 0;
#endif
#if SHEAP_OWNER_TAGS
    s->owner[0] = sheap_current_owner;
#endif
    return (void *)s->base;
}

/* Lock held; *clear as for small_alloc (pages fresh from the backend are
 * zero already). */
static void *large_alloc(struct sheap_heap *h, uintptr_t n, uintptr_t align_pages, bool zero, uintptr_t *clear)
{
    SHEAP_ASSERT_LOCKED();
    uintptr_t npages = pages_for(n ? n : 1);
    struct sheap_span *s = span_alloc(h, npages, align_pages, SPAN_LARGE);
    if (s == NULL)
        return NULL;
    if (zero && s->needzero)
        *clear = npages << SHEAP_PAGE_SHIFT;
    return large_taken(h, s);
}

#if SHEAP_HARDENING >= 3
/* Level 3: mallocs left before the next guarded one (relaxed atomics: a
 * sampling counter, not a lock-protected field). */
static uintptr_t guard_countdown = SHEAP_GUARD_SAMPLE;

void sheap_guard_next(unsigned n)
{
    __atomic_store_n(&guard_countdown, n != 0 ? n : SHEAP_GUARD_SAMPLE, __ATOMIC_RELAXED);
}

/* Whether this malloc is the sampled one (then the count starts again).
 * A relaxed load and store, not an atomic decrement (a libgcc call on
 * some targets): a decrement lost between threads only moves the sample. */
static inline bool guard_due(void)
{
    uintptr_t left = __atomic_load_n(&guard_countdown, __ATOMIC_RELAXED) - 1;
    __atomic_store_n(&guard_countdown, left, __ATOMIC_RELAXED);
    if (__builtin_expect(left != 0, 1))
        return false;
    __atomic_store_n(&guard_countdown, SHEAP_GUARD_SAMPLE, __ATOMIC_RELAXED);
    return true;
}

/*
 * A block of n bytes that ends where an inaccessible page starts: a page
 * run of the block's pages plus one, the block placed at its end (16-byte
 * aligned, so an overflow of a size that is a multiple of 16 faults at its
 * first byte), and the last page given back to the backend (Ready ->
 * Prepared: unmapped on the MMU ports, PROT_NONE on the host; on the
 * static port, whose Prepared pages stay accessible, the backend's protect
 * puts a spare MPU region or PMP entry over it first).  The unused call
 * runs in a growth section with the lock dropped.  Lock held on entry and
 * exit.  NULL when no guarded block can be made (out of memory, no
 * protection region free, or a caller that may not run a growth section:
 * a handler); the caller then allocates as usual.
 */
static void *guarded_alloc(struct sheap_heap *h, uintptr_t n, bool zero, uintptr_t *clear)
{
    SHEAP_ASSERT_LOCKED();
    uintptr_t body = round_up(n != 0 ? n : 1, 16);
    uintptr_t npages = pages_for(body) + 1;
    struct sheap_span *s = span_alloc(h, npages, 1, SPAN_LARGE);
    if (s == NULL)
        return NULL;
    s->guard_off = 0;
    /* s is LARGE but no pointer into it is out yet: nobody else uses it. */
    uintptr_t guard = s->base + ((npages - 1) << SHEAP_PAGE_SHIFT);
    if (!be_protect(h, guard, SHEAP_PAGE_SIZE, true)) {
        ph_free(h, s); /* no region free: the block is an ordinary one */
        return NULL;
    }
    if (!growth_begin()) {
        be_protect(h, guard, SHEAP_PAGE_SIZE, false);
        ph_free(h, s);
        return NULL;
    }
    unlock();
    be_unused(h, guard, SHEAP_PAGE_SIZE);
    lock();
    struct sheap_arena *a = arena_of(guard);
    bit_clear(a->ready, arena_page_index(guard));
    h->c.ready_pages--;
    growth_end();
    s->guard_off = (guard - body - s->base) | 1; /* see struct sheap_span */
    /* block_of finds the span from the block's page: an interior entry of
     * a LARGE run, which may name the span covering it (sheap_internal.h). */
    struct sheap_arena *pa = arena_of(guard - body);
    pa->spans[arena_page_index(guard - body)] = s;
    count_alloc(h, npages << SHEAP_PAGE_SHIFT);
#if SHEAP_OWNER_TAGS
    s->owner[0] = sheap_current_owner;
#endif
    if (zero && s->needzero)
        *clear = body;
    SHEAP_VALIDATE_SPAN(h, s);
    return (void *)(guard - body);
}
#endif

/* ---- Pointer validation ---------------------------------------------------------- */

/*
 * The span of the live block that starts at p, or NULL when p is not the
 * start of a live block.  For a SMALL span *slot receives the slot number.
 * *hp receives the heap that owns the arena.  Reads only the index, the
 * span map and the span record: O(1), and cheap enough for the free fast
 * path.  misuse_cause() explains a NULL.
 */
static inline struct sheap_span *block_of(uintptr_t p, uintptr_t *slot, struct sheap_heap **hp)
{
    SHEAP_ASSERT_LOCKED();
    struct sheap_arena *a = arena_of_cached(p);
    if (a == NULL)
        return NULL;
    *hp = a->heap;
    struct sheap_span *s = arena_span(a, arena_page_index(p));
    if (s == NULL)
        return NULL;
    uintptr_t off = p - s->base; /* wraps to huge when p < base */
    if (off >= s->obj_bytes)     /* also rejects FREE and DEAD records */
        return NULL;
    if (s->state == SPAN_SMALL) {
        uintptr_t i = span_slot(s, off);
        if (slot_offset(s, i) != off || ((SMP_LOAD(s->freebits[i / WORD_BITS]) >> (i % WORD_BITS)) & 1u))
            return NULL;
#if SHEAP_SMP
        if ((__atomic_load_n(&s->remote[i / WORD_BITS], __ATOMIC_RELAXED) >> (i % WORD_BITS)) & 1u)
            return NULL; /* freed on another CPU, waiting for its owner */
#endif
#if SHEAP_HARDENING >= 2
        if (bit_get(s->qbits, i)) /* freed, waiting in quarantine */
            return NULL;
#endif
        *slot = i;
    } else if (off != large_off(s)) {
        return NULL;
    }
    return s;
}

/* Why block_of refused p: the probable misuse, for the fault hook.  Lock held. */
static const char *misuse_cause(uintptr_t p)
{
    SHEAP_ASSERT_LOCKED();
#if SHEAP_HARDENING == 0
    /* Level 0: no diagnosis (see "Hardening levels" in sheap.h). */
    (void)p;
    return "sheap: invalid pointer (not a live block)";
#else
    struct sheap_arena *a = arena_of(p);
    if (a == NULL)
        return "sheap: pointer not from this heap (foreign or stack pointer?)";
    /* A LARGE run's interior span-map entries may be stale: find the span
     * from the start bits. */
    struct sheap_span *s = span_covering(p);
    if (s == NULL || p < s->base || p - s->base >= (s->npages << SHEAP_PAGE_SHIFT) ||
        (s->state != SPAN_SMALL && s->state != SPAN_LARGE))
        return "sheap: pointer into free heap memory (double free or use after free?)";
    uintptr_t off = p - s->base;
    if (s->state == SPAN_LARGE)
        return "sheap: interior pointer into a large block (not its start)";
    if (off >= s->obj_bytes)
        return "sheap: pointer past the last block of a span (not from malloc?)";
    uintptr_t i = span_slot(s, off);
    if (slot_offset(s, i) != off)
        return "sheap: interior pointer into a small block (not its start)";
    observe_note_fault(SHEAP_FAULT_DOUBLE_FREE, (const void *)p, s, i, 0);
#if SHEAP_HARDENING >= 2
    if (bit_get(s->qbits, i))
        return "sheap: double free (block is in quarantine)";
#endif
    return "sheap: double free (block is already free)";
#endif
}

/* Report a pointer that block_of refused.  Called with the lock held; drops it. */
static void reject_pointer(const void *p)
{
    const char *why = misuse_cause((uintptr_t)p);
    unlock();
    report_misuse(why, p);
}

#if SHEAP_HARDENING >= 2
/* The level-2 free fast path's lookup, with the lock held: the span of the
 * live block that may start at p, and its arena in *ap.  A SMALL span when
 * p starts its slot *ip (the free bit is the caller's to test); a LARGE
 * span when p is the start of its unguarded run.  NULL for anything else
 * (misuse: the caller takes its slow path, which checks again).  The
 * level-1 path (free_untraced) does the same tests in its own order. */
static inline __attribute__((always_inline)) struct sheap_span *fast_block(uintptr_t p, struct sheap_arena **ap,
                                                                         uintptr_t *ip)
{
    struct sheap_arena *a = arena_of_cached(p);
    if (__builtin_expect(a != NULL, 1)) {
        struct sheap_span *s = arena_span(a, arena_page_index(p));
        uintptr_t off;
        if (__builtin_expect(s != NULL, 1) && (off = p - s->base) < s->obj_bytes && s->state == SPAN_SMALL) {
            uintptr_t i = span_slot(s, off);
            if (__builtin_expect(slot_offset(s, i) == off, 1)) {
                *ap = a;
                *ip = i;
                return s;
            }
        } else if (__builtin_expect(s != NULL && p == s->base && s->state == SPAN_LARGE && !span_guarded(s), 0)) {
            *ap = a;
            return s;
        }
    }
    return NULL;
}
#endif

/* The live block ptr to be freed: its span (slot, heap) with the lock
 * held, or NULL when ptr is no live block (reported, lock not held) or the
 * call comes from a walker callback (refused). */
static struct sheap_span *lock_live_block(void *ptr, uintptr_t *slot, struct sheap_heap **h)
{
    if (in_own_walk()) {
        walk_reentry(ptr);
        return NULL;
    }
    lock();
    struct sheap_span *s = block_of((uintptr_t)ptr, slot, h);
    if (s == NULL)
        reject_pointer(ptr);
    return s;
}

/* The span's free count crossed a boundary: it was full (join the partial
 * list) or is now empty (maybe return it).  Lock held; off the fast path. */
static void small_transition(struct sheap_heap *h, struct sheap_span *s)
{
    SHEAP_ASSERT_LOCKED();
    struct sheap_class *c = &HCPU(h)->classes[s->cls];
    if (s->nfree == 1)
        partial_append(c, s);
    if (s->nfree == s->nelems)
        small_span_empty(h, c, s);
    else
        SHEAP_VALIDATE_SPAN(h, s);
}

/* small_transition, then drop the lock: a tail call keeps the free fast
 * path free of calls (no stack frame). */
__attribute__((noinline, unused)) static void small_transition_unlock(struct sheap_heap *h, struct sheap_span *s)
{
    small_transition(h, s);
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
static inline bool small_free(struct sheap_heap *h, struct sheap_span *s, uintptr_t slot)
{
    SHEAP_ASSERT_LOCKED();
    unsigned w = (unsigned)(slot / WORD_BITS);
    SMP_STORE(s->freebits[w], s->freebits[w] | (uintptr_t)1 << (slot % WORD_BITS));
    count_small_free(h, HCPU(h), s->elem_size, 1);
    return span_crossed(s, ++s->nfree);
}

/* Free the live block of span s (slot for SMALL spans).  Lock held. */
static void free_block(struct sheap_heap *h, struct sheap_span *s, uintptr_t slot)
{
    SHEAP_ASSERT_LOCKED();
    if (s->state == SPAN_LARGE) {
        count_free(h, s->npages << SHEAP_PAGE_SHIFT);
#if SHEAP_HARDENING >= 3
        if (s->guard_off != 0) {
            /* The guard page joins the free run as it is, Prepared (the
             * run's free looks on every page as Ready); a protection
             * region over it (static port) is given back. */
            be_protect(h, s->base + ((s->npages - 1) << SHEAP_PAGE_SHIFT), SHEAP_PAGE_SIZE, false);
            h->free_ready_pages--;
            s->guard_off = 0;
            ph_free_some_ready(h, s);
            return;
        }
#endif
        ph_free(h, s);
        return;
    }
    if (small_free(h, s, slot))
        small_transition(h, s);
}

/* ---- Hardening level 2 and hooks (contract in sheap.h) --------------------------------- */

#if SHEAP_HARDENING >= 2
/* After small block p of span s was taken and the lock dropped: check that
 * it still holds the poison (a write after free otherwise: reported, then
 * handed out as usual), then tag it with the current owner.  s and its
 * class stay as they are while p is live, so they are read without the
 * lock. */
/* A free slot of s was found changed at offset off: record it for
 * sheap_last_fault as an overflow of the block before it (changed at its
 * first byte, the block before live) or as a write after free.  Returns
 * the message and sets *who to the pointer to report.  Lock held. */
const char *harden_note_damage(const struct sheap_span *s, uintptr_t slot, uintptr_t off, const void **who)
{
    SHEAP_ASSERT_LOCKED();
    uintptr_t block = slot_addr(s, slot);
    if (off == 0 && slot > 0 && !bit_get(s->freebits, slot - 1) && !slot_quarantined(s, slot - 1)) {
        *who = (const void *)(block - s->elem_size);
        observe_note_fault(SHEAP_FAULT_OVERFLOW, *who, s, slot - 1, s->elem_size);
        return "sheap: overflow past the end of a block (the free block after it was modified)";
    }
    *who = (const void *)block;
    observe_note_fault(SHEAP_FAULT_WRITE_AFTER_FREE, *who, s, slot, off);
    return "sheap: write after free (a free block was modified; see sheap_last_fault)";
}

__attribute__((noinline, cold)) static void *take_damaged(struct sheap_span *s, void *p, uintptr_t slot)
{
    uintptr_t off = harden_find_write(p, poison_len(s->elem_size));
    const void *who;
    lock();
    const char *msg = harden_note_damage(s, slot, off, &who);
    unlock();
    report_misuse(msg, who);
#if SHEAP_OWNER_TAGS
    s->owner[slot] = sheap_current_owner;
#endif
    return p;
}

/* Returns p (the damaged case in a tail call: no stack frame on the fast
 * path). */
static inline void *take_verify(struct sheap_span *s, void *p)
{
    uintptr_t slot = span_slot(s, (uintptr_t)p - s->base);
    if (__builtin_expect(!harden_intact(p, poison_len(s->elem_size)), 0))
        return take_damaged(s, p, slot);
#if SHEAP_OWNER_TAGS
    s->owner[slot] = sheap_current_owner;
#endif
    return p;
}

/* take_verify for a block found by address (the slow paths).  Lock not held. */
static void verify_block(void *p)
{
    uintptr_t slot = 0;
    struct sheap_heap *h;
    lock();
    struct sheap_span *s = block_of((uintptr_t)p, &slot, &h);
    unlock();
    if (s != NULL && s->state == SPAN_SMALL)
        (void)take_verify(s, p);
#if SHEAP_OWNER_TAGS
    else if (s != NULL)
        s->owner[0] = sheap_current_owner;
#endif
}

/* A quarantined block leaves the ring: its slot becomes free (it was
 * counted free when it entered).  Returns true when the span crossed a
 * boundary (small_transition must run).  Lock held. */
static inline bool quarantine_release(struct sheap_span *s, uintptr_t slot)
{
    SHEAP_ASSERT_LOCKED();
    uintptr_t bit = (uintptr_t)1 << (slot % WORD_BITS);
    s->qbits[slot / WORD_BITS] &= ~bit;
    s->freebits[slot / WORD_BITS] |= bit;
    return span_crossed(s, ++s->nfree);
}

static void quarantine_leave(struct sheap_span *s, uintptr_t slot)
{
    if (quarantine_release(s, slot))
        small_transition(arena_of(s->base)->heap, s);
}

/* Small block slot of span s (live, validated) enters the quarantine:
 * marked (its qbit: allocated for the bitmap, so nobody takes it, and
 * another free of it is a double free), counted free, filled with the
 * poison, put in the ring, whose oldest entry leaves.  A fill of at most
 * POISON_LOCKED bytes runs with the lock held (16 bytes a step, so at most 16
 * steps); a longer one with the lock dropped.  Lock held on entry;
 * dropped on return (through irq when adopted is false: lock_fast's). */
#define POISON_LOCKED 256u
static inline void quarantine_enter(struct sheap_heap *h, struct sheap_span *s, uintptr_t slot, void *ptr,
                                    unsigned long irq, bool adopted)
{
    s->qbits[slot / WORD_BITS] |= (uintptr_t)1 << (slot % WORD_BITS);
    count_free(h, s->elem_size); /* no longer live, though not reusable yet */
    uintptr_t len = poison_len(s->elem_size);
    if (len <= POISON_LOCKED) {
        harden_poison(ptr, len);
    } else {
        if (!adopted)
            lock_adopt(irq);
        unlock();
        harden_poison(ptr, len);
        lock();
        adopted = true;
    }
    struct quarantine_entry out = quarantine_push(s, slot);
    if (out.s != NULL && quarantine_release(out.s, out.slot)) {
        if (!adopted)
            lock_adopt(irq);
        small_transition_unlock(arena_of(out.s->base)->heap, out.s);
        return;
    }
    if (adopted)
        unlock();
    else
        unlock_fast(irq);
}

/* Level-2 free, the slow way: large blocks, misuse, and calls that
 * lock_fast refused. */
__attribute__((noinline)) static void free_hardened_slow(void *ptr)
{
    uintptr_t slot = 0;
    struct sheap_heap *h;
    struct sheap_span *s = lock_live_block(ptr, &slot, &h);
    if (s == NULL)
        return;
    if (s->state == SPAN_LARGE) {
        free_block(h, s, slot);
        unlock();
        return;
    }
    quarantine_enter(h, s, slot, ptr, 0, true);
}

/* Level-2 free: the checks of sheap_free's fast path (a live slot of a
 * SMALL span, not in quarantine), then quarantine_enter. */
static inline __attribute__((always_inline)) void free_hardened(void *ptr)
{
    unsigned long irq;
    if (__builtin_expect(!lock_fast(&sheap_shared.walker, &irq), 0)) {
        free_hardened_slow(ptr);
        return;
    }
    struct sheap_arena *a;
    uintptr_t i;
    struct sheap_span *s = fast_block((uintptr_t)ptr, &a, &i);
    if (__builtin_expect(s != NULL && s->state == SPAN_SMALL, 1) &&
        ((s->freebits[i / WORD_BITS] | s->qbits[i / WORD_BITS]) & ((uintptr_t)1 << (i % WORD_BITS))) == 0) {
        quarantine_enter(a->heap, s, i, ptr, irq, false);
        return;
    }
    unlock_fast(irq);
    free_hardened_slow(ptr);
}
#define QUARANTINE_DRAIN(h) quarantine_drain((h), quarantine_leave)
#else
#define QUARANTINE_DRAIN(h) 0u
#endif

#if SHEAP_HOOKS
/* The heap and usable size of live block p (0 when it is none); not reported. */
static size_t block_info(const void *p, struct sheap **heap)
{
    uintptr_t slot = 0;
    struct sheap_heap *h = NULL;
    lock();
    struct sheap_span *s = block_of((uintptr_t)p, &slot, &h);
    size_t n = s == NULL ? 0 : s->state == SPAN_LARGE ? large_usable(s) : s->elem_size;
    unlock();
    *heap = s != NULL ? heap_pub(h) : NULL;
    return n;
}

/* The alloc hook for block p of n bytes asked (p may be NULL: no call). */
__attribute__((noinline, cold)) static void *trace_alloc(void *p, size_t n)
{
    void (*fn)(struct sheap *, void *, size_t, size_t, void *) = sheap_hooks_now.on_alloc;
    if (fn != NULL && p != NULL) {
        struct sheap *heap;
        size_t usable = block_info(p, &heap);
        fn(heap, p, n, usable, sheap_hooks_now.ctx);
    }
    return p;
}
/* The test inline (one load and a branch), the call out of line. */
static inline void *trace_alloc_if(void *p, size_t n)
{
    if (__builtin_expect(sheap_hooks_now.on_alloc != NULL, 0))
        return trace_alloc(p, n);
    return p;
}
#define TRACE_ALLOC(p, n) trace_alloc_if((p), (n))

/* The oom hook: true when it asks for one more try.  Lock not held. */
static bool oom_retry(struct sheap_heap *h, size_t n, size_t align)
{
    int (*fn)(struct sheap *, size_t, size_t, void *) = sheap_hooks_now.on_oom;
    return fn != NULL && fn(h != NULL ? heap_pub(h) : NULL, n, align, sheap_hooks_now.ctx) != 0;
}
#else
#define TRACE_ALLOC(p, n) (p)
#endif

/* ---- Heaps: creation, the default heap ------------------------------------------------ */

static const uintptr_t configured_hints[] = SHEAP_ARENA_HINTS;

/* Whether cfg can make a heap (see sheap_heap_create for the rules). */
static bool config_ok(const struct sheap_config *cfg)
{
    const struct sheap_backend *b = cfg ? cfg->backend : NULL;
    if (b == NULL || b->ops == NULL || b->ops->reserve == NULL || b->ops->map == NULL || b->ops->used == NULL ||
        b->ops->unused == NULL || b->ops->release == NULL)
        return false;
    uintptr_t page = b->page_size;
    if (page == 0 || (page & (page - 1)) != 0 || page > SHEAP_PAGE_SIZE)
        return false;
    if (cfg->nhints > SHEAP_MAX_HINTS || (cfg->nhints != 0 && cfg->hints == NULL))
        return false;
    return (cfg->region_size & (SHEAP_ARENA_SIZE - 1)) == 0 && (cfg->initial_reserve & (SHEAP_ARENA_SIZE - 1)) == 0;
}

/* Create heap h from cfg.  Lock held.  Returns 0 or an SHEAP_E* code. */
static int heap_create_locked(struct sheap_heap *h, const struct sheap_config *cfg)
{
    SHEAP_ASSERT_LOCKED();
    if (!config_ok(cfg))
        return SHEAP_EINVAL;
    while (growth_wait()) /* another thread's growth section: wait for it */
        ;
    if (h->initialized || sheap_shared.growing) /* growing: called from a handler or backend */
        return SHEAP_EBUSY;
    mem_zero(h, sizeof(*h));
    return heap_init(h, cfg);
}

/* The default heap exists (made from the port's default backend now if it
 * did not).  Lock held; off every fast path. */
static bool default_ensure(void)
{
    SHEAP_ASSERT_LOCKED();
    if (__builtin_expect(sheap_heap.initialized, 1))
        return true;
    /* The port's default backend (which may set itself up on first use)
     * and the backend work (32-bit mode: the up-front reservations) in a
     * growth section; meanwhile the heap is not live, so other callers
     * (handlers) find it uncreated and get NULL. */
    if (!growth_begin())
        return false;
    if (sheap_heap.initialized) { /* made by the section this caller waited for */
        growth_end();
        return true;
    }
    unlock();
    struct sheap_config cfg;
    mem_zero(&cfg, sizeof(cfg)); /* not an initialiser: that may call memset */
    cfg.backend = sheap_port_default_backend();
    cfg.caps = SHEAP_DEFAULT_HEAP_CAPS;
    cfg.name = "default";
    cfg.order = SHEAP_DEFAULT_HEAP_ORDER;
    cfg.hints = configured_hints;
    cfg.nhints = sizeof(configured_hints) / sizeof(configured_hints[0]);
    /* The port's backend is trusted but for its page size. */
    uintptr_t page = cfg.backend->page_size;
    if (page == 0 || (page & (page - 1)) != 0 || page > SHEAP_PAGE_SIZE)
        sheap_panic("sheap: SHEAP_PAGE_SIZE is not a multiple of the default backend's page size");
    int r = heap_init_prepare(&sheap_heap, &cfg);
    lock();
    growth_end();
    if (r == 0)
        heap_publish(&sheap_heap);
    return r == 0;
}

/* Whether h can serve an allocation: a live heap, or the default heap,
 * which is made here on first use.  Lock held. */
static inline bool heap_ready(struct sheap_heap *h)
{
    SHEAP_ASSERT_LOCKED();
    if (__builtin_expect(h->initialized, 1))
        return true;
    return h == &sheap_heap && default_ensure();
}

int sheap_heap_create(struct sheap *heap, const struct sheap_config *cfg)
{
    if (heap == NULL)
        return SHEAP_EINVAL;
    if (in_own_walk()) {
        walk_reentry(heap);
        return SHEAP_EINVAL;
    }
    lock();
    int r = heap_create_locked(heap_rec(heap), cfg);
    unlock();
    return r;
}

int sheap_default_heap_create(const struct sheap_config *cfg)
{
    return sheap_heap_create(heap_pub(&sheap_heap), cfg);
}

int sheap_heap_destroy(struct sheap *heap)
{
    struct sheap_heap *h = heap ? heap_rec(heap) : NULL;
    if (in_own_walk()) {
        walk_reentry(heap);
        return SHEAP_EINVAL;
    }
    heap_lock_all(); /* SMP: no CPU is inside h's caches; remote frees reclaimed */
    while (growth_wait()) /* another thread's growth section: wait for it */
        ;
    if (h == NULL || !h->initialized) {
        unlock();
        return SHEAP_EINVAL;
    }
    if (sheap_shared.growing) {
        unlock(); /* called from inside a growth section (a backend or a handler) */
        return SHEAP_EBUSY;
    }
    (void)QUARANTINE_DRAIN(h); /* the ring must not keep blocks of a dead heap */
    heap_release_all(h);
    unlock();
    return 0;
}

struct sheap *sheap_default_heap(void)
{
    if (in_own_walk()) {
        walk_reentry(NULL);
        return NULL;
    }
    lock();
    bool ok = default_ensure();
    unlock();
    return ok ? heap_pub(&sheap_heap) : NULL;
}

struct sheap *sheap_heap_of(const void *p)
{
    uintptr_t slot;
    struct sheap_heap *h = NULL;
    if (in_own_walk()) {
        walk_reentry(p);
        return NULL;
    }
    lock();
    struct sheap_span *s = block_of((uintptr_t)p, &slot, &h);
    unlock();
    return s != NULL ? heap_pub(h) : NULL;
}

const char *sheap_heap_name(const struct sheap *heap)
{
    const struct sheap_heap *h = (const struct sheap_heap *)(const void *)heap;
    return h && h->initialized ? h->name : NULL;
}

uint32_t sheap_heap_caps(const struct sheap *heap)
{
    const struct sheap_heap *h = (const struct sheap_heap *)(const void *)heap;
    return h && h->initialized ? h->caps : 0;
}

/* ---- Allocation ---------------------------------------------------------------------- */

static int is_pow2(size_t x) { return x != 0 && (x & (x - 1)) == 0; }

/* n bytes from live heap h, aligned to align when align > 1 (a power of two
 * no larger than an arena; the caller checked).  When zero, *clear receives
 * the bytes from the block's start that the caller clears after dropping
 * the lock (clearing is never done with interrupts masked).  Lock held;
 * NULL when h is out of memory. */
static void *alloc_locked(struct sheap_heap *h, size_t n, size_t align, bool zero, uintptr_t *clear)
{
    SHEAP_ASSERT_LOCKED();
    if (align <= 1)
        return n <= SHEAP_CLASS_MAX_SIZE ? small_alloc(h, size_to_class(n), zero, clear)
                                         : large_alloc(h, n, 1, zero, clear);
    if (n < align && align <= 16)
        n = align; /* class 8 is only 8-aligned; 16 and up are 16-aligned */
    if (n <= SHEAP_CLASS_MAX_SIZE && align <= SHEAP_PAGE_SIZE) {
        /* A class whose size is a multiple of align has every slot aligned,
         * since spans start on page boundaries. */
        unsigned cls = size_to_class(n);
        while (cls < SHEAP_NUM_CLASSES && (sheap_class_size[cls] & (align - 1)) != 0)
            cls++;
        if (cls < SHEAP_NUM_CLASSES)
            return small_alloc(h, cls, zero, clear);
        return large_alloc(h, n, 1, zero, clear);
    }
    uintptr_t align_pages = align > SHEAP_PAGE_SIZE ? align >> SHEAP_PAGE_SHIFT : 1;
    return large_alloc(h, n, align_pages, zero, clear);
}

/* An allocation on heap h that the fast path could not finish: refilling a
 * class, large blocks, alignment, zeroing, failure; h is made if it is the
 * default heap and does not exist yet. */
static void *alloc_slow_g(struct sheap_heap *h, size_t n, size_t align, bool zero, bool guard)
{
    if (in_own_walk()) /* h may be storage that is no heap: its copy is not set */
        return walk_refuse_alloc();
    if (n > MAX_REQUEST)
        return fail_oom(h);
    lock();
    if (!heap_ready(h)) {
        unlock();
        sheap_port_set_errno(h == &sheap_heap ? SHEAP_ENOMEM : SHEAP_EINVAL);
        return NULL;
    }
    uintptr_t clear = 0;
    void *p = NULL;
#if SHEAP_HARDENING >= 3
    if (guard)
        p = guarded_alloc(h, n, zero, &clear);
#else
    (void)guard;
#endif
    if (p == NULL)
        p = alloc_locked(h, n, align, zero, &clear);
    if (p == NULL && QUARANTINE_DRAIN(h) != 0) /* level 2: quarantined blocks first */
        p = alloc_locked(h, n, align, zero, &clear);
#if SHEAP_SMP
    if (p != NULL)
        smp_note_peak(h); /* the slow path holds the shared lock: note the peak */
#endif
    unlock();
#if SHEAP_HOOKS
    if (p == NULL && oom_retry(h, n, align)) {
        lock();
        if (heap_ready(h))
            p = alloc_locked(h, n, align, zero, &clear);
        unlock();
    }
#endif
#if SHEAP_HARDENING >= 2
    if (p != NULL)
        verify_block(p);
#endif
    if (clear != 0)
        mem_zero(p, clear);
    return p ? p : fail_oom(h);
}

static void *alloc_slow(struct sheap_heap *h, size_t n, size_t align, bool zero)
{
    return alloc_slow_g(h, n, align, zero, false);
}

#if SHEAP_DIRECT_PATHS
/* malloc of a large block (n above the largest class, at most
 * MAX_REQUEST) on a live heap: a Ready run in one search under one lock,
 * without the general path's steps (alignment, zeroing, guards, the
 * quarantine).  Anything else (the heap not made yet, a walker callback,
 * backing, growth, the kept-span policy) continues in span_alloc_rest or
 * takes the general path, which also handles failure. */
__attribute__((noinline)) static void *large_malloc(struct sheap_heap *h, size_t n)
{
    if (__builtin_expect(n <= MAX_REQUEST && !in_own_walk(), 1)) {
        lock();
        if (__builtin_expect(h->initialized, 1)) {
            uintptr_t npages = pages_for(n);
            struct sheap_span *s = ph_alloc_ready(h, npages, 1, SPAN_LARGE);
            if (__builtin_expect(s == NULL, 0))
                s = span_alloc_rest(h, npages, 1, SPAN_LARGE, true);
            if (__builtin_expect(s != NULL, 1)) {
                void *p = large_taken(h, s);
#if SHEAP_SMP
                smp_note_peak(h);
#endif
                unlock();
                return p;
            }
        }
        unlock();
    }
    return alloc_slow(h, n, 0, false);
}

/* malloc of a small block whose class the fast path could not serve (no
 * partial span: a refill; or lock_fast refused) on a live heap: the class's
 * slow path under one lock, without the general path's steps.  Anything
 * else (the heap not made yet, a walker callback, failure) takes the
 * general path. */
__attribute__((noinline)) static void *small_malloc_slow(struct sheap_heap *h, size_t n)
{
    if (__builtin_expect(!in_own_walk(), 1)) {
        lock();
        if (__builtin_expect(h->initialized, 1)) {
            uintptr_t clear = 0;
            void *p = small_alloc(h, size_to_class(n), false, &clear);
            if (__builtin_expect(p != NULL, 1)) {
#if SHEAP_SMP
                smp_note_peak(h);
#endif
                unlock();
#if SHEAP_HARDENING >= 2
                verify_block(p);
#endif
                return p;
            }
        }
        unlock();
    }
    return alloc_slow(h, n, 0, false);
}

/* The same for the default heap: sheap_malloc's fast path then needs no
 * register for the heap's address on the way out. */
__attribute__((noinline)) static void *small_malloc_slow_default(size_t n)
{
    return small_malloc_slow(&sheap_heap, n);
}
#else
__attribute__((noinline)) static void *malloc_slow(struct sheap_heap *h, size_t n)
{
    return alloc_slow(h, n, 0, false);
}

/* The same for the default heap: sheap_malloc's fast path then needs no
 * register for the heap's address on the way out. */
__attribute__((noinline)) static void *malloc_slow_default(size_t n)
{
    return alloc_slow(&sheap_heap, n, 0, false);
}
#endif

/* The small-block fast path of every malloc: a small size whose class has
 * a partial span.  It makes no calls, so it needs no stack frame.  Sizes up
 * to SHEAP_CLASS8_LIMIT (the most common) are tested first: one compare
 * before the lookup.  Inlined with h constant into sheap_malloc (deflt:
 * h is the default heap). */
static inline __attribute__((always_inline)) void *heap_malloc(struct sheap_heap *h, size_t n, bool deflt)
{
    /* When lock_fast refuses (maybe a walker callback, see there), the
     * slow path decides: alloc_slow refuses a call from the walker callback
     * (in_own_walk) and lets any other context wait for the lock. */
#if SHEAP_HARDENING >= 3
    if (__builtin_expect(guard_due(), 0))
        return alloc_slow_g(h, n, 0, false, true);
#endif
    if (__builtin_expect(n <= SHEAP_CLASS_MAX_SIZE, 1)) {
        /* One register for h, so the walker test and the class load share
         * it (else the compiler forms the default heap's address twice). */
        __asm__("" : "+r"(h));
        unsigned cls = __builtin_expect(n <= SHEAP_CLASS8_LIMIT, 1) ? sheap_size_to_class8[(n + 7) >> 3]
                                                                    : size_to_class(n);
#if SHEAP_SMP
        /* This CPU's lock only (a walk holds every CPU lock: its callback
         * goes to the slow path, which refuses it). */
        unsigned long irq = sheap_port_irq_save();
        uintptr_t id = fast_cpu_id();
        if (__builtin_expect(!cpu_acquire_fast(&sheap_cpu_locks[id]), 0)) {
            sheap_port_irq_restore(irq);
            goto slow;
        }
        struct sheap_cpu *cpu = &h->cpu[id];
        __asm__("" : "+r"(cpu)); /* one register for the cache: classes and counters */
        struct sheap_class *c = &cpu->classes[cls];
        struct sheap_span *s = c->partial;
        if (__builtin_expect(s != NULL, 1)) {
            void *p = small_take(h, cpu, c, s);
            cpu_release(id);
            sheap_port_irq_restore(irq);
            return p;
        }
        cpu_release(id);
        sheap_port_irq_restore(irq);
#else
        unsigned long irq;
        if (__builtin_expect(!lock_fast(&h->walker, &irq), 0))
            goto slow;
        struct sheap_class *c = &h->cpu.classes[cls];
        struct sheap_span *s = c->partial;
        if (__builtin_expect(s != NULL, 1)) {
            void *p = small_take(h, &h->cpu, c, s);
            unlock_fast(irq);
#if SHEAP_HARDENING >= 2
            return take_verify(s, p);
#else
            return p;
#endif
        }
        unlock_fast(irq);
#endif
    }
slow:
#if SHEAP_DIRECT_PATHS
    if (n > SHEAP_CLASS_MAX_SIZE)
        return large_malloc(h, n);
    return deflt ? small_malloc_slow_default(n) : small_malloc_slow(h, n);
#else
    return deflt ? malloc_slow_default(n) : malloc_slow(h, n);
#endif
}

void *sheap_malloc(size_t n)
{
    return TRACE_ALLOC(heap_malloc(&sheap_heap, n, true), n);
}

void *sheap_heap_malloc(struct sheap *heap, size_t n)
{
    return TRACE_ALLOC(heap_malloc(heap_rec(heap), n, false), n);
}

static void *heap_calloc(struct sheap_heap *h, size_t count, size_t size)
{
    if (in_own_walk())
        return walk_refuse_alloc();
    size_t n;
    if (__builtin_mul_overflow(count, size, &n))
        return fail_oom(h);
    return alloc_slow(h, n, 0, true);
}

void *sheap_calloc(size_t count, size_t size)
{
    return TRACE_ALLOC(heap_calloc(&sheap_heap, count, size), count * size);
}

void *sheap_heap_calloc(struct sheap *heap, size_t count, size_t size)
{
    return TRACE_ALLOC(heap_calloc(heap_rec(heap), count, size), count * size);
}

static void *heap_aligned_alloc(struct sheap_heap *h, size_t align, size_t n)
{
    if (in_own_walk())
        return walk_refuse_alloc();
    if (!is_pow2(align) || align > SHEAP_ARENA_SIZE) {
        sheap_port_set_errno(SHEAP_EINVAL);
        return NULL;
    }
    return alloc_slow(h, n, align, false);
}

void *sheap_aligned_alloc(size_t align, size_t n)
{
    return TRACE_ALLOC(heap_aligned_alloc(&sheap_heap, align, n), n);
}

void *sheap_heap_aligned_alloc(struct sheap *heap, size_t align, size_t n)
{
    return TRACE_ALLOC(heap_aligned_alloc(heap_rec(heap), align, n), n);
}

static int heap_posix_memalign(struct sheap_heap *h, void **out, size_t align, size_t n)
{
    if (in_own_walk()) {
        walk_refuse_alloc();
        return SHEAP_EINVAL;
    }
    /* errno is set on EINVAL too (the Failure rule of sheap.h). */
    if (!is_pow2(align) || align % sizeof(void *) != 0 || align > SHEAP_ARENA_SIZE) {
        sheap_port_set_errno(SHEAP_EINVAL);
        return SHEAP_EINVAL;
    }
    void *p = heap_aligned_alloc(h, align, n);
    if (p == NULL)
        return h->initialized || h == &sheap_heap ? SHEAP_ENOMEM : SHEAP_EINVAL;
    *out = p;
    return 0;
}

int sheap_posix_memalign(void **out, size_t align, size_t n)
{
    int r = heap_posix_memalign(&sheap_heap, out, align, n);
    if (r == 0)
        (void)TRACE_ALLOC(*out, n);
    return r;
}

int sheap_heap_posix_memalign(struct sheap *heap, void **out, size_t align, size_t n)
{
    int r = heap_posix_memalign(heap_rec(heap), out, align, n);
    if (r == 0)
        (void)TRACE_ALLOC(*out, n);
    return r;
}

/* ---- Allocation by capability ----------------------------------------------------------- */

static void *caps_alloc(uint32_t caps, size_t n, size_t align, bool zero)
{
    if (in_own_walk())
        return walk_refuse_alloc();
    if (n > MAX_REQUEST)
        return fail_oom(NULL);
    lock();
    default_ensure(); /* the default heap takes part; failing that is not fatal */
    struct sheap_heap *first = NULL;
    void *p = NULL;
    uintptr_t clear = 0;
    for (unsigned round = 0; round < 1 + (SHEAP_HARDENING >= 2) && p == NULL; round++) {
        /* Level 2: a second round after the quarantine was emptied. */
        if (round == 1 && QUARANTINE_DRAIN(NULL) == 0)
            break;
        for (struct sheap_heap *h = sheap_shared.heaps; h != NULL && p == NULL; h = h->next_heap) {
            if ((h->caps & caps) != caps)
                continue;
            if (first == NULL)
                first = h;
            p = alloc_locked(h, n, align, zero, &clear);
        }
    }
    unlock();
#if SHEAP_HOOKS
    if (p == NULL && first != NULL && oom_retry(NULL, n, align)) {
        lock();
        for (struct sheap_heap *h = sheap_shared.heaps; h != NULL && p == NULL; h = h->next_heap)
            if ((h->caps & caps) == caps)
                p = alloc_locked(h, n, align, zero, &clear);
        unlock();
    }
#endif
    if (p != NULL) {
#if SHEAP_HARDENING >= 2
        verify_block(p);
#endif
        if (clear != 0)
            mem_zero(p, clear);
        return p;
    }
    if (first == NULL) {
        sheap_port_set_errno(SHEAP_EINVAL); /* no heap has caps */
        return NULL;
    }
    return fail_oom(first);
}

void *sheap_malloc_caps(uint32_t caps, size_t n)
{
    return TRACE_ALLOC(caps_alloc(caps, n, 0, false), n);
}

void *sheap_calloc_caps(uint32_t caps, size_t count, size_t size)
{
    if (in_own_walk())
        return walk_refuse_alloc();
    size_t n;
    if (__builtin_mul_overflow(count, size, &n))
        return fail_oom(NULL);
    return TRACE_ALLOC(caps_alloc(caps, n, 0, true), n);
}

void *sheap_aligned_alloc_caps(uint32_t caps, size_t align, size_t n)
{
    if (!is_pow2(align) || align > SHEAP_ARENA_SIZE) {
        sheap_port_set_errno(SHEAP_EINVAL);
        return NULL;
    }
    return TRACE_ALLOC(caps_alloc(caps, n, align, false), n);
}

/* ---- Free, realloc, usable size: any heap's block ------------------------------------- */

#if SHEAP_SMP
static void free_slow(void *ptr);

/*
 * Remote free (docs/DESIGN.md "Concurrency"): slot i of SMALL
 * span s, owned by another CPU, found live by the caller.  No lock: one
 * fetch_or sets the slot's bit in s->remote, whose old value tells a
 * second free of the same block (a double free, reported; nothing
 * changed); the first pending bit of the span (remote_queued, by
 * exchange) pushes the span on the owner's stack, which the owner empties
 * on its slow path (smp_reclaim).  The fields read here (base, divmul,
 * elem_size, owner_cpu, the span map) were written before the block was
 * handed out, and the program's own synchronization that passed the
 * pointer to this CPU orders those writes before these reads.
 */
__attribute__((noinline)) static void remote_free(struct sheap_heap *h, struct sheap_span *s, uintptr_t i, void *ptr)
{
    unsigned w = (unsigned)(i / WORD_BITS);
    uintptr_t bit = (uintptr_t)1 << (i % WORD_BITS);
    if (__builtin_expect((SMP_LOAD(s->freebits[w]) & bit) != 0, 0)) {
        lock(); /* already free: the validator's report */
        reject_pointer(ptr);
        return;
    }
    /* In flight from here to the queueing below: the owner does not give
     * the span back meanwhile (span_remote_pending), even if its reclaim
     * takes this bit before this free reaches the flag and the span
     * empties; the push below then finds a live record. */
    __atomic_fetch_add(&s->remote_queued, REMOTE_IN_FLIGHT, __ATOMIC_SEQ_CST);
    uintptr_t old = __atomic_fetch_or(&s->remote[w], bit, __ATOMIC_SEQ_CST);
    if (__builtin_expect((old & bit) != 0, 0)) {
        __atomic_fetch_sub(&s->remote_queued, REMOTE_IN_FLIGHT, __ATOMIC_SEQ_CST);
#if SHEAP_HARDENING >= 1
        lock();
        observe_note_fault(SHEAP_FAULT_DOUBLE_FREE, ptr, s, i, 0);
        unlock();
#endif
        report_misuse("sheap: double free (block already freed on another CPU, not yet reclaimed)", ptr);
        return;
    }
    /* Leave the in-flight count and set the queued flag in one step; the
     * free that sets the flag pushes the span. */
    uint32_t q = __atomic_load_n(&s->remote_queued, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&s->remote_queued, &q, (q - REMOTE_IN_FLIGHT) | REMOTE_QUEUED, true,
                                        __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
        ;
    if ((q & REMOTE_QUEUED) == 0) {
        struct sheap_cpu *o = &h->cpu[s->owner_cpu];
        struct sheap_span *head = __atomic_load_n(&o->remote_head, __ATOMIC_RELAXED);
        do
            s->remote_next = head;
        while (!__atomic_compare_exchange_n(&o->remote_head, &head, s, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
    }
}

/* A double free found by a reclaim: k blocks, the first at p.  Reported
 * by the unlock that ends the entry point (unlock()).  Lock held. */
static void reclaim_fault(const struct sheap_span *s, uintptr_t slot, uintptr_t k)
{
    const void *p = (const void *)slot_addr(s, slot);
    if (sheap_shared.df_count == 0) {
        sheap_shared.df_ptr = p;
#if SHEAP_HARDENING >= 1
        observe_note_fault(SHEAP_FAULT_DOUBLE_FREE, p, s, slot, 0);
#endif
    } else {
        sheap_shared.misuse++; /* one report per unlock; every block counted */
    }
    sheap_shared.misuse += k - 1;
    sheap_shared.df_count += k;
}

/* Take the remote frees of span s into its bitmap (s came off cpu's
 * stack, cpu is s's owner, index idx).  The flag is cleared first, with a
 * sequentially consistent store, and each word is then read and taken the
 * same way: a remote free either set its bit before that read (taken
 * here) or finds the flag clear and queues s again.  A pending bit whose
 * slot is free in freebits is a double free (reported, dropped).  Then the
 * span joins the partial list (it was full) or is handled as empty, as a
 * local free would.  O(bitmap words).  This CPU's lock and the shared
 * lock held, sheap_shared.cur_cpu == idx. */
static void reclaim_span(struct sheap_heap *h, struct sheap_cpu *cpu, unsigned idx, struct sheap_span *s)
{
    __atomic_fetch_and(&s->remote_queued, ~REMOTE_QUEUED, __ATOMIC_SEQ_CST);
    bool ours = s->state == SPAN_SMALL && s->owner_cpu == idx;
    uint32_t before = s->nfree;
    uintptr_t freed = 0;
    for (unsigned w = 0; w < SPAN_BITMAP_WORDS; w++) {
        if (__atomic_load_n(&s->remote[w], __ATOMIC_SEQ_CST) == 0)
            continue;
        uintptr_t bits = __atomic_exchange_n(&s->remote[w], (uintptr_t)0, __ATOMIC_SEQ_CST);
        if (!ours) {
            /* Only after a free raced with the span's release (misuse):
             * the bits are dropped, counted as double frees. */
            sheap_shared.misuse += popcount_word(bits);
            continue;
        }
        uintptr_t dup = bits & s->freebits[w];
        if (dup != 0) {
            reclaim_fault(s, (uintptr_t)w * WORD_BITS + ctz_word(dup), popcount_word(dup));
            bits &= ~dup;
        }
        SMP_STORE(s->freebits[w], s->freebits[w] | bits);
        freed += popcount_word(bits);
    }
    if (!ours)
        return;
    s->nfree += (uint32_t)freed;
    count_small_free(h, cpu, freed * s->elem_size, freed);
    struct sheap_class *c = &cpu->classes[s->cls];
    if (before == 0 && freed != 0)
        partial_append(c, s);
    if (s->nfree == s->nelems && s->class_list == CLASS_LIST_PARTIAL)
        small_span_empty(h, c, s);
    else
        SHEAP_VALIDATE_SPAN(h, s);
}

/* Reclaim the remote frees of up to max spans of the current CPU's cache
 * of h (HCPU(h)): its backlog first, refilled from its stack by one
 * exchange.  Bounded: max spans of O(bitmap words) each (the malloc slow
 * path takes SMP_RECLAIM_BATCH).  Returns the spans done.  Lock held. */
uintptr_t smp_reclaim(struct sheap_heap *h, struct sheap_cpu *cpu, uintptr_t max)
{
    SHEAP_ASSERT_LOCKED();
    unsigned idx = (unsigned)(cpu - h->cpu);
    uintptr_t n = 0;
    while (n < max) {
        struct sheap_span *s = cpu->backlog;
        if (s == NULL) {
            if (__atomic_load_n(&cpu->remote_head, __ATOMIC_RELAXED) == NULL)
                break;
            s = __atomic_exchange_n(&cpu->remote_head, (struct sheap_span *)NULL, __ATOMIC_ACQUIRE);
            if (s == NULL)
                break;
        }
        cpu->backlog = s->remote_next;
        reclaim_span(h, cpu, idx, s);
        n++;
    }
    return n;
}

/* Reclaim everything pending on every CPU's cache of every heap, and fold
 * the CPUs' live figures into the heaps' counters (then exact; the peak
 * updated).  A break after each batch.  Every lock held (heap_lock_all). */
static void smp_settle(void)
{
    unsigned keep = sheap_shared.cur_cpu;
    for (struct sheap_heap *h = sheap_shared.heaps; h != NULL; h = h->next_heap) {
        for (unsigned i = 0; i < SHEAP_MAX_CPUS; i++) {
            sheap_shared.cur_cpu = i;
            while (smp_reclaim(h, &h->cpu[i], SMP_RECLAIM_BATCH) == SMP_RECLAIM_BATCH) {
                lock_break();
                sheap_shared.cur_cpu = i;
            }
        }
    }
    sheap_shared.cur_cpu = keep;
    heap_fold();
}

void heap_fold(void)
{
    SHEAP_ASSERT_LOCKED();
    for (struct sheap_heap *h = sheap_shared.heaps; h != NULL; h = h->next_heap) {
        bool moved = false;
        for (unsigned i = 0; i < SHEAP_MAX_CPUS; i++) {
            moved |= (h->cpu[i].live_bytes | h->cpu[i].live_blocks) != 0;
            h->c.live_bytes += h->cpu[i].live_bytes;
            h->c.live_blocks += h->cpu[i].live_blocks;
            h->cpu[i].live_bytes = 0;
            h->cpu[i].live_blocks = 0;
        }
        /* Only when small blocks moved: a peak below the live figure is
         * otherwise a broken counter, which the validator reports. */
        if (moved)
            note_peak(h, h->c.live_bytes);
    }
}

void heap_lock_all(void)
{
    unsigned long irq = sheap_port_irq_save();
    unsigned id = sheap_port_cpu_id();
    sheap_port_irq_restore(irq);
    lock_mode_take(LOCK_MODE_ALL);
    sheap_shared.cur_cpu = id;
    lock_note_taken();
    smp_settle();
}

/* A free made SMALL span s of this CPU (cpu, its lock l taken with irq
 * saved) go from full to partial: only this CPU's class list changes, so
 * the shared lock is not taken.  Then releases l.  Out of line: the fast
 * path keeps its registers and makes a tail call. */
__attribute__((noinline)) static void free_refill_unlock(struct sheap_cpu *cpu, struct sheap_span *s,
                                                         struct sheap_cpu_lock *l, unsigned long irq)
{
    partial_append(&cpu->classes[s->cls], s);
    cpu_word_release(&l->word);
    sheap_port_irq_restore(irq);
}

/*
 * sheap_free's SMP fast path.  This CPU's lock, then the lookup of
 * fast_block (the arena index without its cache, which is shared-lock
 * state): a slot of a span this CPU owns is freed as on one CPU, its
 * remote bit tested too when the span is queued (a block freed on another
 * CPU and not yet reclaimed is not live: free_slow reports it); under
 * this CPU's lock such a span cannot change owner or state, and a full
 * span turning partial needs this lock only (free_refill_unlock).  A slot of another CPU's span is a remote free (no lock
 * held).  Large blocks and anything else take free_slow.
 */
static inline __attribute__((always_inline)) void free_smp(void *ptr)
{
    uintptr_t p = (uintptr_t)ptr;
    unsigned long irq = sheap_port_irq_save();
    uintptr_t id = fast_cpu_id();
    struct sheap_cpu_lock *l = &sheap_cpu_locks[id];
    __asm__("" : "+r"(l)); /* one register for the lock and the arena cache */
    /* A walk holds every CPU lock: its callback must not spin on one
     * (refused, free_slow decides). */
    if (__builtin_expect(!cpu_acquire_fast(l), 0)) {
        sheap_port_irq_restore(irq);
        free_slow(ptr);
        return;
    }
#if INDEX_LEVELS == 2
    struct sheap_arena *a = l->last_arena; /* this CPU's cache, under its lock */
    if (__builtin_expect(a == NULL || ((p ^ a->base) >> SHEAP_ARENA_SHIFT) != 0, 0)) {
        a = arena_of(p);
        if (a != NULL)
            l->last_arena = a;
    }
#else
    struct sheap_arena *a = arena_of(p);
#endif
    struct sheap_span *s;
    uintptr_t off;
    if (__builtin_expect(a != NULL, 1) && __builtin_expect((s = arena_span(a, arena_page_index(p))) != NULL, 1) &&
        (off = p - s->base) < s->obj_bytes) {
        uintptr_t i = span_slot(s, off);
        /* The slot's free bit first: with the slot test it fails for every
         * span that is not SMALL (a LARGE one maps every offset to slot 0,
         * marked free; see struct sheap_span), so no state test is needed,
         * and a LARGE block never reaches the remote path below.  A free
         * bit here is a double free or not a block: free_slow decides.
         * The word of another CPU's span is read without its lock, as
         * remote_free reads it (SMP_LOAD). */
        uintptr_t *bitmap = s->freebits;
        __asm__("" : "+r"(bitmap)); /* indexed loads and store from one base */
        uintptr_t *word = &bitmap[i / WORD_BITS];
        uintptr_t bit = (uintptr_t)1 << (i % WORD_BITS);
        uintptr_t bits = SMP_LOAD(*word);
        if (__builtin_expect(slot_offset(s, i) == off && (bits & bit) == 0, 1)) {
            struct sheap_heap *h = a->heap;
            /* Owned by this CPU with no remote free queued (one load of
             * both words, see struct sheap_span): no remote bit can be
             * pending, the free bit alone tells a double free.  Else it
             * is a remote free, or a pending remote bit of this slot makes
             * it a double free that free_slow reports. */
            bool ok = true;
            if (__builtin_expect(SMP_LOAD(s->owner_queued) != span_owner_word(id), 0)) {
                /* The cold paths read the id again (this CPU's: interrupts
                 * are masked), so that the fast path keeps one copy. */
                if (s->owner_cpu != sheap_port_cpu_id()) {
                    cpu_word_release(&l->word);
                    sheap_port_irq_restore(irq);
                    remote_free(h, s, i, ptr);
                    return;
                }
                ok = (SMP_LOAD(s->remote[i / WORD_BITS]) & bit) == 0;
            }
            if (__builtin_expect(ok, 1)) {
                SMP_STORE(*word, bits | bit);
                struct sheap_cpu *cpu = &h->cpu[id];
                __asm__("" : "+r"(cpu)); /* both counters from one base (a load pair) */
                count_small_free(h, cpu, s->elem_size, 1);
                uint32_t nfree = ++s->nfree;
                if (span_crossed(s, nfree)) {
                    if (nfree != s->nelems) {
                        free_refill_unlock(cpu, s, l, irq);
                        return;
                    }
                    /* Empty: the transition needs the shared lock too
                     * (the page heap): this CPU's lock is held, so the
                     * order is kept. */
                    l->irq = irq;
                    sheap_port_lock_inline();
                    sheap_shared.lock_mode = sheap_shared.cur_cpu = sheap_port_cpu_id();
                    lock_note_taken();
                    small_transition_unlock(h, s);
                    return;
                }
                cpu_word_release(&l->word);
                sheap_port_irq_restore(irq);
                return;
            }
        }
    }
    cpu_word_release(&l->word);
    sheap_port_irq_restore(irq);
    free_slow(ptr);
}
#else
void heap_lock_all(void) { lock(); }
#endif

/* Large blocks and pointers the fast path refused (reported as misuse). */
__attribute__((noinline, unused)) static void free_slow(void *ptr)
{
    uintptr_t slot = 0;
    struct sheap_heap *h;
    struct sheap_span *s = lock_live_block(ptr, &slot, &h);
    if (s == NULL)
        return;
#if SHEAP_SMP
    if (s->state == SPAN_SMALL && s->owner_cpu != sheap_shared.cur_cpu) {
        unlock();
        remote_free(h, s, slot, ptr);
        return;
    }
#endif
    free_block(h, s, slot);
    unlock();
}

/* The start of a live, unguarded large block in arena a, found by
 * sheap_free's fast path under lock_fast: its run goes back under this same
 * lock (no second lock, no second lookup).  Out of line, so that the small
 * path keeps its registers. */
__attribute__((noinline, unused)) static void free_large_adopt(struct sheap_arena *a, struct sheap_span *s,
                                                               unsigned long irq)
{
    lock_adopt(irq);
    struct sheap_heap *h = a->heap;
    count_free(h, s->npages << SHEAP_PAGE_SHIFT);
    ph_free_in(h, s, a);
    unlock();
}

/* sheap_free without its trace hook (realloc's internal frees use it too). */
static inline __attribute__((always_inline)) void free_untraced(void *ptr)
{
    if (ptr == NULL)
        return;
#if SHEAP_SMP
    free_smp(ptr);
#elif SHEAP_HARDENING >= 2
    free_hardened(ptr);
#else
    /* When lock_fast refuses (maybe a walker callback, see there),
     * free_slow decides: it refuses a call from the walker callback
     * (in_own_walk) and lets any other context wait for the lock. */
    unsigned long irq;
    if (__builtin_expect(!lock_fast(&sheap_shared.walker, &irq), 0)) {
        free_slow(ptr);
        return;
    }
    /* Fast path: a live block of whichever heap owns the arena (the checks
     * of block_of): a slot of a SMALL span, its free bit tested and set
     * with one load of the bitmap word; or the start of a LARGE run, freed
     * under this same lock.  The slot test needs no state test: it fails
     * for every span that is not SMALL (obj_bytes 0, or LARGE, whose
     * offsets all map to slot 0, marked free).  Anything else (misuse)
     * takes free_slow, which checks again. */
    uintptr_t p = (uintptr_t)ptr;
    struct sheap_arena *a = arena_of_cached(p);
    if (__builtin_expect(a != NULL, 1)) {
        struct sheap_span *s = arena_span(a, arena_page_index(p));
        uintptr_t off;
        if (__builtin_expect(s != NULL, 1) && (off = p - s->base) < s->obj_bytes) {
            uintptr_t i = span_slot(s, off);
            uintptr_t *word = &s->freebits[i / WORD_BITS];
            uintptr_t bit = (uintptr_t)1 << (i % WORD_BITS), bits = *word;
            if (__builtin_expect(slot_offset(s, i) == off && (bits & bit) == 0, 1)) {
                struct sheap_heap *h = a->heap;
                *word = bits | bit;
                count_free(h, s->elem_size);
                if (span_crossed(s, ++s->nfree)) {
                    lock_adopt(irq); /* small_transition_unlock unlocks */
                    small_transition_unlock(h, s);
                    return;
                }
                unlock_fast(irq);
                return;
            }
            if (off == 0 && s->state == SPAN_LARGE && !span_guarded(s)) {
                free_large_adopt(a, s, irq);
                return;
            }
        }
    }
    unlock_fast(irq);
    free_slow(ptr);
#endif
}

#if SHEAP_HOOKS
/* sheap_free with the free hook set: the block's heap and size first, then
 * the free, then the hook (not for misuse). */
__attribute__((noinline)) static void free_traced(void *ptr)
{
    struct sheap *heap;
    size_t n = block_info(ptr, &heap);
    free_untraced(ptr);
    if (n != 0 && sheap_hooks_now.on_free != NULL)
        sheap_hooks_now.on_free(heap, ptr, n, sheap_hooks_now.ctx);
}
#endif

void sheap_free(void *ptr)
{
#if SHEAP_HOOKS
    if (__builtin_expect(sheap_hooks_now.on_free != NULL, 0) && ptr != NULL) {
        free_traced(ptr);
        return;
    }
#endif
    free_untraced(ptr);
}

#if SHEAP_SMP
/* SMP: the size of live SMALL block p (its class's block size) and its
 * heap, found under this CPU's lock alone, or 0 when p is no live SMALL
 * block or the lock is busy (a walk, the validator, trim or destroy holds
 * every CPU lock): the caller then takes the heap lock and decides, and
 * reports misuse.  The CPU lock keeps the arena index and span map as the
 * free fast path reads them; a span's class fields do not change while
 * one of its blocks is live, whichever CPU owns it; the free bit and a
 * pending remote bit tell a block freed already (atomic loads, as a
 * remote free reads them).  So usable_size and realloc within a class
 * take no shared lock. */
static size_t smp_small_size(uintptr_t p, struct sheap_heap **hp)
{
    unsigned long irq = sheap_port_irq_save();
    struct sheap_cpu_lock *l = &sheap_cpu_locks[fast_cpu_id()];
    size_t n = 0;
    if (__builtin_expect(cpu_acquire_fast(l), 1)) {
        struct sheap_arena *a = arena_of(p);
        struct sheap_span *s;
        uintptr_t off;
        if (a != NULL && (s = arena_span(a, arena_page_index(p))) != NULL && (off = p - s->base) < s->obj_bytes &&
            s->state == SPAN_SMALL) {
            uintptr_t i = span_slot(s, off);
            uintptr_t w = i / WORD_BITS, bit = (uintptr_t)1 << (i % WORD_BITS);
            if (slot_offset(s, i) == off && (SMP_LOAD(s->freebits[w]) & bit) == 0 &&
                (__atomic_load_n(&s->remote[w], __ATOMIC_RELAXED) & bit) == 0) {
                n = s->elem_size;
                *hp = a->heap;
            }
        }
        cpu_word_release(&l->word);
    }
    sheap_port_irq_restore(irq);
    return n;
}
#endif

size_t sheap_usable_size(const void *ptr)
{
    if (ptr == NULL)
        return 0;
    if (in_own_walk()) {
        walk_reentry(ptr);
        return 0;
    }
#if SHEAP_SMP
    struct sheap_heap *hs;
    size_t small = smp_small_size((uintptr_t)ptr, &hs);
    if (small != 0)
        return small;
#endif
    uintptr_t slot;
    struct sheap_heap *h;
    lock();
    struct sheap_span *s = block_of((uintptr_t)ptr, &slot, &h);
    if (s == NULL) {
        reject_pointer(ptr);
        return 0;
    }
    size_t n = s->state == SPAN_LARGE ? large_usable(s) : s->elem_size;
    unlock();
    return n;
}

/* The end of a realloc that moves: q is the new block of n bytes (NULL:
 * the allocation failed, errno set, and the old block stays), ptr the old
 * one of old usable bytes, copied and then freed. */
static void *realloc_moved(void *q, void *ptr, size_t n, size_t old)
{
    if (q == NULL)
        return NULL;
    mem_copy(q, ptr, n < old ? n : old);
#if SHEAP_HOOKS
    free_untraced(ptr); /* not traced: the realloc hook covers it */
#else
    sheap_free(ptr); /* a call, not the fast path inlined once more */
#endif
    return q;
}

static void *realloc_untraced(void *ptr, size_t n)
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
    struct sheap_heap *h;
#if SHEAP_SMP
    /* A small block without the shared lock: kept when n stays in its
     * class, else moved through the heap's fast paths. */
    if (n <= SHEAP_CLASS_MAX_SIZE && (old = smp_small_size((uintptr_t)ptr, &h)) != 0) {
        if (n <= old && size_to_class(n) == size_to_class(old))
            return ptr;
        return realloc_moved(heap_malloc(h, n, false), ptr, n, old);
    }
#endif
    lock();
    struct sheap_span *s = block_of((uintptr_t)ptr, &slot, &h);
    if (s == NULL) {
        reject_pointer(ptr);
        return NULL;
    }
    if (n > MAX_REQUEST) {
        unlock();
        return fail_oom(h);
    }
    if (s->state == SPAN_SMALL) {
        old = s->elem_size;
        if (n <= old && size_to_class(n) == s->cls) {
            unlock();
            return ptr;
        }
    } else {
        old = large_usable(s);
        uintptr_t want = pages_for(n);
        if (n > SHEAP_CLASS_MAX_SIZE && !span_guarded(s)) { /* a guarded block always moves */
            /* Shrink gives the tail back; growth takes the free run after
             * the block.  Either may decline (no span record, neighbour in
             * use), which the size test below sorts out. */
            if (want < s->npages)
                ph_shrink(h, s, want);
            else if (want > s->npages)
                ph_grow_in_place(h, s, want);
            if (s->npages >= want) {
                h->c.live_bytes = h->c.live_bytes - old + (s->npages << SHEAP_PAGE_SHIFT);
                note_peak(h, h->c.live_bytes);
                unlock();
                return ptr;
            }
        }
    }
    unlock();
    /* Move, within the block's heap: allocate, copy, free.  On failure the
     * old block stays. */
    return realloc_moved(alloc_slow(h, n, 0, false), ptr, n, old);
}

void *sheap_realloc(void *ptr, size_t n)
{
#if SHEAP_HOOKS
    void (*fn)(struct sheap *, void *, void *, size_t, void *) = sheap_hooks_now.on_realloc;
    if (__builtin_expect(fn != NULL, 0) && ptr != NULL && n != 0) {
        void *q = realloc_untraced(ptr, n);
        struct sheap *heap;
        if (q != NULL && block_info(q, &heap) != 0)
            fn(heap, ptr, q, n, sheap_hooks_now.ctx);
        return q;
    }
#endif
    return realloc_untraced(ptr, n);
}

/* ---- Trim, statistics, fault hook ---------------------------------------------------------- */

static size_t heap_trim(struct sheap_heap *h)
{
    size_t released = 0;
    if (in_own_walk()) {
        walk_reentry(NULL);
        return 0;
    }
    heap_lock_all(); /* SMP: every CPU's cache, remote frees reclaimed */
    if (h->initialized) {
        (void)QUARANTINE_DRAIN(h); /* level 2: quarantined blocks first */
        /* Kept empty spans first, so their pages join the free runs. */
#if SHEAP_SMP
        unsigned keep = sheap_shared.cur_cpu;
        for (unsigned i = 0; i < SHEAP_MAX_CPUS; i++) {
            sheap_shared.cur_cpu = i; /* kept across lock_break (heap_drop) */
            small_release_empty(h, 0, UINTPTR_MAX);
        }
        sheap_shared.cur_cpu = keep;
#else
        small_release_empty(h, 0, UINTPTR_MAX);
#endif
        released = ph_trim(h);
    }
    unlock();
    return released;
}

size_t sheap_trim(void)
{
    return heap_trim(&sheap_heap);
}

size_t sheap_heap_trim(struct sheap *heap)
{
    return heap_trim(heap_rec(heap));
}

void sheap_isr_enter(void)
{
    lock();
    ISR_DEPTH++;
    unlock();
}

void sheap_isr_exit(void)
{
    lock();
    if (ISR_DEPTH > 0)
        ISR_DEPTH--;
    unlock();
}

sheap_fault_hook sheap_set_fault_hook(sheap_fault_hook hook)
{
    if (in_own_walk()) {
        walk_reentry(NULL);
        return sheap_shared.fault_hook; /* unchanged; the walk holds the lock */
    }
    lock();
    sheap_fault_hook old = sheap_shared.fault_hook;
    sheap_shared.fault_hook = hook;
    unlock();
    return old;
}

/* Heap h's figures, added to *out (shared ones not included).  Lock held. */
static void stats_add(const struct sheap_heap *h, struct sheap_stats *out)
{
    SHEAP_ASSERT_LOCKED();
    out->live_bytes += h->c.live_bytes;
    out->peak_live_bytes += h->c.peak_live_bytes;
    out->live_blocks += h->c.live_blocks;
    out->ready_bytes += h->c.ready_pages << SHEAP_PAGE_SHIFT;
    out->prepared_bytes += (h->c.arena_pages - h->c.ready_pages) << SHEAP_PAGE_SHIFT;
    out->free_bytes += h->c.free_pages << SHEAP_PAGE_SHIFT;
    out->metadata_bytes += h->c.meta_bytes;
    out->reserved_bytes += h->c.reserved_bytes;
    out->arenas += h->c.arenas;
    out->spans_free += h->c.spans[SPAN_FREE];
    out->spans_small += h->c.spans[SPAN_SMALL];
    out->spans_large += h->c.spans[SPAN_LARGE];
    out->oom_count += h->c.oom;
    out->grow_count += h->c.grows;
}

/* What every heap shares: the index (static part plus L2 tables) and the
 * misuse count.  Lock held. */
static void stats_shared(struct sheap_stats *out)
{
    SHEAP_ASSERT_LOCKED();
    out->metadata_bytes += index_bytes();
    out->misuse_count = sheap_shared.misuse;
}

static void heap_stats(const struct sheap_heap *h, struct sheap_stats *out)
{
    if (in_own_walk()) {
        walk_reentry(out);
        return; /* *out untouched */
    }
    mem_zero(out, sizeof(*out));
    heap_lock_all(); /* SMP: the CPUs' figures folded in, exact */
    if (h->initialized)
        stats_add(h, out);
    if (h->initialized || h == &sheap_heap)
        stats_shared(out);
    unlock();
}

void sheap_stats(struct sheap_stats *out)
{
    heap_stats(&sheap_heap, out);
}

void sheap_heap_stats(const struct sheap *heap, struct sheap_stats *out)
{
    heap_stats((const struct sheap_heap *)(const void *)heap, out);
}

void sheap_stats_total(struct sheap_stats *out)
{
    if (in_own_walk()) {
        walk_reentry(out);
        return; /* *out untouched */
    }
    mem_zero(out, sizeof(*out));
    heap_lock_all();
    for (const struct sheap_heap *h = sheap_shared.heaps; h != NULL; h = h->next_heap)
        stats_add(h, out);
    stats_shared(out);
    unlock();
}

struct sheap_cpu *heap_cache_here(struct sheap_heap *h)
{
#if SHEAP_SMP
    unsigned long irq = sheap_port_irq_save();
    unsigned id = sheap_port_cpu_id();
    sheap_port_irq_restore(irq);
    return &h->cpu[id];
#else
    return &h->cpu;
#endif
}

/* Internal lock access for check.c and white-box tests. */
void heap_lock(void) { lock(); }
void heap_unlock(void) { unlock(); }
