/*
 * smp_stress.c - the multi-CPU stress engine (see smp_stress.h for the use).
 *
 * Each CPU keeps st->slots live blocks in its shadow table (struct
 * smp_stress_percpu, written by that CPU only).  A step picks a slot: an
 * empty slot gets a block (malloc, calloc or aligned_alloc of a small,
 * medium or large size), a full one is checked against its pattern and
 * then freed here, reallocated (the kept prefix checked), or handed to
 * another CPU through the single-producer single-consumer mailbox
 * st->mbox[from][to]; the receiver checks the pattern and frees it (a
 * remote free: the block was allocated on another CPU).  Now and then the
 * last CPU runs sheap_check while the others work (and CPU 0 sheap_trim
 * when st->concurrent_trim is set).  CPU 0 trims at one quiescent point.
 *
 * Phases end at a barrier; then every CPU drains its mailboxes (no one
 * produces any more), a second barrier, and CPU 0 alone checks the heap:
 * sheap_check() == 0, sheap_stats and sheap_heap_report live bytes and
 * blocks equal the baseline plus the shadow's sums, and misuse_count equals
 * the baseline plus the reports the misuse phase caused.  A third barrier
 * lets the others go on.  After the first phase comes the misuse phase
 * (misuse_phase below).  At the end every block is freed and the heap's
 * live figures are back at the baseline.
 *
 * Memory ordering: the barrier (barrier below) is a counter incremented
 * with acq_rel and a generation published with release and read with
 * acquire, so that everything a CPU wrote before a barrier is visible to
 * every CPU after it (CPU 0 reads all shadows at quiescent points).  A
 * mailbox entry is written, then head is stored with release; the
 * consumer loads head with acquire before it reads the entry (and the
 * block's content), and stores tail with release after it has read it; the
 * producer loads tail with acquire before it reuses an entry.  Counters
 * that several CPUs add to (errors found by CPU 0, fault-hook calls, the
 * totals) are atomic adds.
 */
#include "smp_stress.h"

#include "sheap.h"

#define RELAXED __ATOMIC_RELAXED
#define ACQUIRE __ATOMIC_ACQUIRE
#define RELEASE __ATOMIC_RELEASE
#define ACQ_REL __ATOMIC_ACQ_REL

/* Defined by the program when it wants to yield while waiting. */
void smp_stress_relax(void) __attribute__((weak));

/* ---- small helpers ----------------------------------------------------------- */

static uint64_t rnd(struct smp_stress_percpu *me)
{
    /* xorshift64* */
    uint64_t x = me->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    me->rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static uint32_t mix(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

static void fail(struct smp_stress *st, struct smp_stress_percpu *me, unsigned cpu, unsigned round,
                 const char *what)
{
    me->errors++;
    const char *none = 0;
    if (__atomic_compare_exchange_n(&st->first_error, &none, what, 0, ACQ_REL, RELAXED)) {
        __atomic_store_n(&st->first_error_cpu, cpu, RELAXED);
        __atomic_store_n(&st->first_error_round, round, RELAXED);
    }
}

/* All ncpus CPUs meet here (see the memory-ordering note at the top). */
static void barrier(struct smp_stress *st)
{
    unsigned gen = __atomic_load_n(&st->bar_gen, ACQUIRE);
    if (__atomic_add_fetch(&st->bar_count, 1, ACQ_REL) == st->ncpus) {
        __atomic_store_n(&st->bar_count, 0, RELAXED);
        __atomic_store_n(&st->bar_gen, gen + 1, RELEASE);
        return;
    }
    while (__atomic_load_n(&st->bar_gen, ACQUIRE) == gen) {
        if (smp_stress_relax)
            smp_stress_relax();
    }
}

/* ---- patterns ------------------------------------------------------------------ */

/* The pattern of a block of n bytes covers every byte when n <= 512, else
 * the first and last 256 bytes and every 64th byte between: enough to see
 * two live blocks overlap, cheap on large blocks.  Positions i < limit only. */
static size_t pat_next(size_t i, size_t n)
{
    if (n <= 512 || i < 255 || i + 257 > n)
        return i + 1;
    size_t j = (i | 63) + 1;
    return j + 256 > n ? n - 256 : j;
}

static unsigned char pat_byte(uint32_t tag, size_t i)
{
    return (unsigned char)((tag >> ((i & 3) * 8)) + (i >> 2) * 7u + 1u);
}

static void pat_fill(unsigned char *p, size_t n, uint32_t tag)
{
    for (size_t i = 0; i < n; i = pat_next(i, n))
        p[i] = pat_byte(tag, i);
}

static int pat_ok(const unsigned char *p, size_t n, size_t limit, uint32_t tag)
{
    for (size_t i = 0; i < n && i < limit; i = pat_next(i, n))
        if (p[i] != pat_byte(tag, i))
            return 0;
    return 1;
}

static int zero_ok(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i = pat_next(i, n))
        if (p[i] != 0)
            return 0;
    return 1;
}

/* ---- one CPU's operations ---------------------------------------------------------- */

struct ctx {
    struct smp_stress *st;
    struct smp_stress_percpu *me;
    unsigned cpu, round;
};

static size_t pick_size(struct ctx *c)
{
    uint64_t r = rnd(c->me);
    size_t max = c->st->max_size;
    size_t n;
    if ((r & 63) == 0 && max > 4096)
        n = 4097 + (size_t)((r >> 8) % (max - 4096)); /* large: up to max_size */
    else if ((r & 7) == 0)
        n = 257 + (size_t)((r >> 8) % 3840);          /* medium: up to 4 KB */
    else
        n = (size_t)((r >> 8) % 257);                 /* small, 0 included */
    return n > max ? max : n;
}

static uint32_t new_tag(struct ctx *c, unsigned slot)
{
    c->me->gen++;
    return mix((uint32_t)c->cpu << 24 ^ (uint32_t)slot << 12 ^ c->me->gen ^ c->st->seed);
}

/* An allocation of n bytes returned NULL: an error for a small request, a
 * count for a large one (a small board's heap may be full). */
static void null_result(struct ctx *c, size_t n, const char *what)
{
    if (n <= SMP_STRESS_SMALL)
        fail(c->st, c->me, c->cpu, c->round, what);
    else
        c->me->large_nulls++;
}

static void alloc_into(struct ctx *c, unsigned slot)
{
    struct smp_stress_block *b = &c->me->slot[slot];
    uint64_t r = rnd(c->me);
    size_t n = pick_size(c);
    unsigned char *p;
    int zeroed = 0;
    if ((r & 7) == 0) { /* calloc as count * size */
        size_t count = 1 + (size_t)((r >> 3) & 7);
        n = (n / count) * count;
        p = sheap_calloc(count, n / count);
        zeroed = 1;
        c->me->callocs++;
    } else if ((r & 15) == 1) { /* aligned_alloc, 16 .. 16384 (above a page: an aligned run) */
        size_t align = (size_t)16 << ((r >> 4) % 11);
        p = sheap_aligned_alloc(align, n);
        if (p && ((uintptr_t)p & (align - 1)) != 0)
            fail(c->st, c->me, c->cpu, c->round, "aligned_alloc: misaligned block");
        c->me->mallocs++;
    } else {
        p = sheap_malloc(n);
        c->me->mallocs++;
    }
    c->me->ops++;
    if (!p) {
        null_result(c, n, "NULL from a small request");
        return;
    }
    if (zeroed && !zero_ok(p, n))
        fail(c->st, c->me, c->cpu, c->round, "calloc: block not zeroed");
    size_t usable = sheap_usable_size(p);
    if (usable < n)
        fail(c->st, c->me, c->cpu, c->round, "usable_size smaller than the request");
    b->p = p;
    b->n = n;
    b->usable = usable;
    b->tag = new_tag(c, slot);
    b->owner = c->cpu;
    pat_fill(p, n, b->tag);
}

/* Checks the block's pattern and frees it; remote when another CPU made it. */
static void check_and_free(struct ctx *c, struct smp_stress_block *b)
{
    if (!pat_ok(b->p, b->n, b->n, b->tag))
        fail(c->st, c->me, c->cpu, c->round, "block content changed while live");
    if (sheap_usable_size(b->p) != b->usable)
        fail(c->st, c->me, c->cpu, c->round, "usable_size changed while live");
    sheap_free(b->p);
    c->me->frees++;
    c->me->ops++;
    if (b->owner != c->cpu)
        c->me->remote_frees++;
    b->p = 0;
}

static void realloc_slot(struct ctx *c, unsigned slot)
{
    struct smp_stress_block *b = &c->me->slot[slot];
    size_t n2 = pick_size(c);
    if (n2 == 0)
        n2 = 1; /* realloc(p, 0) frees: not this operation */
    if (!pat_ok(b->p, b->n, b->n, b->tag))
        fail(c->st, c->me, c->cpu, c->round, "block content changed while live (before realloc)");
    unsigned char *p2 = sheap_realloc(b->p, n2);
    c->me->reallocs++;
    c->me->ops++;
    if (!p2) {
        null_result(c, n2, "NULL from a small realloc");
        return; /* the old block stays */
    }
    size_t keep = b->n < n2 ? b->n : n2;
    if (!pat_ok(p2, b->n, keep, b->tag))
        fail(c->st, c->me, c->cpu, c->round, "realloc lost the kept prefix");
    b->p = p2;
    b->n = n2;
    b->usable = sheap_usable_size(p2);
    if (b->usable < n2)
        fail(c->st, c->me, c->cpu, c->round, "usable_size smaller than the realloc size");
    b->tag = new_tag(c, slot);
    pat_fill(p2, n2, b->tag);
}

/* Hands slot's block to CPU to; 0 when its mailbox is full. */
static int hand_off(struct ctx *c, unsigned slot, unsigned to)
{
    struct smp_stress_mbox *m = &c->st->mbox[c->cpu][to];
    unsigned head = m->head; /* only this CPU writes it */
    if (head - __atomic_load_n(&m->tail, ACQUIRE) >= SMP_STRESS_MBOX)
        return 0;
    m->ring[head % SMP_STRESS_MBOX] = c->me->slot[slot];
    __atomic_store_n(&m->head, head + 1, RELEASE);
    c->me->slot[slot].p = 0;
    c->me->ops++;
    return 1;
}

/* Frees everything other CPUs handed to this one. */
static void drain(struct ctx *c)
{
    for (unsigned from = 0; from < c->st->ncpus; from++) {
        struct smp_stress_mbox *m = &c->st->mbox[from][c->cpu];
        unsigned tail = m->tail; /* only this CPU writes it */
        unsigned head = __atomic_load_n(&m->head, ACQUIRE);
        while (tail != head) {
            struct smp_stress_block b = m->ring[tail % SMP_STRESS_MBOX];
            __atomic_store_n(&m->tail, ++tail, RELEASE);
            check_and_free(c, &b);
        }
    }
}

static void phase(struct ctx *c)
{
    struct smp_stress *st = c->st;
    for (unsigned step = 0; step < st->steps; step++) {
        uint64_t r = rnd(c->me);
        unsigned slot = (unsigned)(r % st->slots);
        struct smp_stress_block *b = &c->me->slot[slot];
        unsigned what = (unsigned)(r >> 32) & 15;
        if (!b->p) {
            alloc_into(c, slot);
        } else if (what < 7) {
            check_and_free(c, b);
        } else if (what < 10) {
            realloc_slot(c, slot);
        } else if (what < 15 && st->ncpus > 1) {
            unsigned to = (c->cpu + 1 + (unsigned)((r >> 40) % (st->ncpus - 1))) % st->ncpus;
            if (!hand_off(c, slot, to))
                check_and_free(c, b);
        } else {
            if (!pat_ok(b->p, b->n, b->n, b->tag))
                fail(st, c->me, c->cpu, c->round, "block content changed while live");
        }
        if ((step & 15) == 15)
            drain(c);
        /* Diagnostics and trim while the other CPUs work. */
        if (c->cpu == st->ncpus - 1 && (step & 1023) == 511) {
            int rc = sheap_check();
            if (rc == SHEAP_CHECK_BUSY)
                c->me->busy_checks++;
            else if (rc != 0) /* the validator's message; the CPU tells it from CPU 0's quiescent checks */
                fail(st, c->me, c->cpu, c->round, sheap_check_message(rc));
        }
        if (st->concurrent_trim && c->cpu == 0 && (step & 2047) == 1023)
            sheap_trim();
    }
}

/* ---- quiescent points (CPU 0 alone, the others wait at a barrier) ------------------- */

static void quiescent(struct ctx *c)
{
    struct smp_stress *st = c->st;
    size_t bytes = 0, blocks = 0;
    for (unsigned i = 0; i < st->ncpus; i++)
        for (unsigned s = 0; s < st->slots; s++)
            if (st->cpu[i].slot[s].p) {
                blocks++;
                bytes += st->cpu[i].slot[s].usable;
            }
    st->quiescent_checks++;
    int rc = sheap_check();
    if (rc != 0)
        fail(st, c->me, c->cpu, c->round, sheap_check_message(rc));
    struct sheap_stats s;
    sheap_stats(&s);
    if (s.live_blocks != st->base_blocks + blocks)
        fail(st, c->me, c->cpu, c->round, "sheap_stats live_blocks differs from the shadow's count");
    if (s.live_bytes != st->base_bytes + bytes)
        fail(st, c->me, c->cpu, c->round, "sheap_stats live_bytes differs from the shadow's sum");
    if (s.misuse_count != st->base_misuse + st->misuse_expected)
        fail(st, c->me, c->cpu, c->round, "sheap_stats misuse_count differs from the reports expected");
    struct sheap_report rep;
    if (sheap_heap_report(0, &rep) != 0)
        fail(st, c->me, c->cpu, c->round, "sheap_heap_report failed");
    else if (rep.live_blocks != s.live_blocks || rep.live_bytes != s.live_bytes)
        fail(st, c->me, c->cpu, c->round, "sheap_heap_report disagrees with sheap_stats");
}

/* ---- misuse across CPUs ----------------------------------------------------------------- */

static unsigned long hook_calls;
static const void *hook_last;

static void stress_hook(const char *msg, const void *ptr)
{
    (void)msg;
    __atomic_store_n(&hook_last, ptr, RELAXED);
    __atomic_add_fetch(&hook_calls, 1, ACQ_REL);
}

/* CPU 0, after a double free of st->victim: one report about it, the heap
 * consistent, the victim no longer live. */
static void after_double_free(struct ctx *c, unsigned long calls_before, const char *what)
{
    struct smp_stress *st = c->st;
    unsigned long calls = __atomic_load_n(&hook_calls, ACQUIRE);
    if (calls != calls_before + 1)
        fail(st, c->me, c->cpu, c->round, what);
    else if (__atomic_load_n(&hook_last, RELAXED) != st->victim)
        fail(st, c->me, c->cpu, c->round, "double free reported with another pointer");
    st->misuse_reports += calls - calls_before;
    st->misuse_expected++;
    quiescent(c); /* the victim is freed: not in the shadow */
}

/*
 * Four double frees, each between barriers so that the order is fixed,
 * except the last, where two CPUs free the same block at once:
 *   A  CPU 0 allocates and frees a small block, CPU o frees it again;
 *   B  CPU 0 allocates, CPU o frees it (remote), CPU 0 frees it again;
 *   C  CPU 0 allocates a large block (a page run) and frees it, CPU o
 *      frees it again;
 *   D  CPU 0 allocates, CPUs o and t free it at the same time: exactly one
 *      free succeeds and one is reported (by the free that lost, or, when
 *      the two met within an instant, by the owner's reclaim, which the
 *      check runs before it counts).
 * o = 1 % ncpus, t = 2 % ncpus (with one CPU: CPU 0 does everything; with
 * two, D races CPU 1 against CPU 0).  CPU 0 checks after each.
 */
static void misuse_phase(struct ctx *c)
{
    struct smp_stress *st = c->st;
    unsigned o = 1 % st->ncpus, t = 2 % st->ncpus;
    unsigned long before = 0;
    sheap_fault_hook prev = 0;
    if (c->cpu == 0) {
        prev = sheap_set_fault_hook(stress_hook);
        before = __atomic_load_n(&hook_calls, ACQUIRE);
        st->victim = sheap_malloc(48);
        if (!st->victim)
            fail(st, c->me, c->cpu, c->round, "NULL from a small request");
        sheap_free(st->victim);
    }
    barrier(st);
    if (c->cpu == o && st->victim)
        sheap_free(st->victim);
    barrier(st);
    if (c->cpu == 0 && st->victim) {
        after_double_free(c, before, "A: a double free on another CPU was not reported once");
        before = __atomic_load_n(&hook_calls, ACQUIRE);
        st->victim = sheap_malloc(48);
        if (!st->victim)
            fail(st, c->me, c->cpu, c->round, "NULL from a small request");
    }
    barrier(st);
    if (c->cpu == o && st->victim)
        sheap_free(st->victim);
    barrier(st);
    if (c->cpu == 0 && st->victim) {
        sheap_free(st->victim);
        after_double_free(c, before, "B: a free after a remote free was not reported once");
        before = __atomic_load_n(&hook_calls, ACQUIRE);
        st->victim = sheap_malloc(SHEAP_MAX_SMALL_SIZE + 1);
        if (st->victim)
            sheap_free(st->victim);
        else
            c->me->large_nulls++;
    }
    barrier(st);
    if (c->cpu == o && st->victim)
        sheap_free(st->victim);
    barrier(st);
    if (c->cpu == 0) {
        if (st->victim)
            after_double_free(c, before, "C: a large double free on another CPU was not reported once");
        before = __atomic_load_n(&hook_calls, ACQUIRE);
        st->victim = sheap_malloc(48);
        if (!st->victim)
            fail(st, c->me, c->cpu, c->round, "NULL from a small request");
    }
    barrier(st);
    if ((c->cpu == o || c->cpu == t) && st->victim) {
        sheap_free(st->victim);
        if (o == t)
            sheap_free(st->victim); /* one CPU: both frees here */
    }
    barrier(st);
    if (c->cpu == 0) {
        if (st->victim) {
            /* When the two frees meet within an instant (the remote one
             * has read the slot as allocated, the owner's then frees it),
             * the remote bit lands on a free slot and the owner's next
             * reclaim reports it (docs/DESIGN.md, "Double frees"): the
             * validator reclaims everything first, so one report is due
             * in every order. */
            if (sheap_check() != 0)
                fail(st, c->me, c->cpu, c->round, "D: the heap does not validate after a racing double free");
            after_double_free(c, before, "D: racing double free not reported exactly once");
        }
        st->victim = 0;
        sheap_set_fault_hook(prev);
    }
}

/* ---- the public calls ------------------------------------------------------------------------- */

void smp_stress_init(struct smp_stress *st)
{
    unsigned char *z = (unsigned char *)&st->first_error;
    unsigned char *end = (unsigned char *)(st + 1);
    while (z < end)
        *z++ = 0;
    st->ops = st->mallocs = st->frees = st->remote_frees = st->reallocs = st->callocs = st->errors = 0;
    if (st->ncpus < 1 || st->ncpus > SMP_STRESS_MAX_CPUS || st->slots < 1 || st->max_size < 1) {
        st->bad_config = 1;
        st->errors = 1;
        st->first_error = "bad configuration (ncpus 1..8, slots >= 1, max_size >= 1)";
        return;
    }
    st->concurrent_trim = 1;
    if (st->slots > SMP_STRESS_MAX_SLOTS)
        st->slots = SMP_STRESS_MAX_SLOTS;
    for (unsigned i = 0; i < SMP_STRESS_MAX_CPUS; i++)
        st->cpu[i].rng = ((uint64_t)mix(st->seed + i) << 32 | mix(~st->seed - i)) | 1;
    struct sheap_stats s;
    sheap_stats(&s);
    st->base_bytes = s.live_bytes;
    st->base_blocks = s.live_blocks;
    st->base_misuse = s.misuse_count;
}

int smp_stress_cpu(struct smp_stress *st, unsigned cpu)
{
    if (st->bad_config || cpu >= st->ncpus)
        return -1;
    struct ctx c = {st, &st->cpu[cpu], cpu, 0};
    for (c.round = 0; c.round < st->rounds; c.round++) {
        phase(&c);
        barrier(st); /* no one hands off any more */
        drain(&c);
        barrier(st);
        if (cpu == 0) {
            quiescent(&c);
            if (c.round == 1) { /* a trim with every CPU stopped, then the figures again */
                sheap_trim();
                quiescent(&c);
            }
        }
        if (c.round == 0) {
            barrier(st);
            misuse_phase(&c);
        }
        barrier(st);
    }
    for (unsigned s = 0; s < st->slots; s++)
        if (c.me->slot[s].p)
            check_and_free(&c, &c.me->slot[s]);
    barrier(st);
    if (cpu == 0)
        quiescent(&c); /* the shadow is empty: live is the baseline again */
    struct smp_stress_percpu *me = c.me;
    __atomic_add_fetch(&st->ops, me->ops, RELAXED);
    __atomic_add_fetch(&st->mallocs, me->mallocs, RELAXED);
    __atomic_add_fetch(&st->frees, me->frees, RELAXED);
    __atomic_add_fetch(&st->remote_frees, me->remote_frees, RELAXED);
    __atomic_add_fetch(&st->reallocs, me->reallocs, RELAXED);
    __atomic_add_fetch(&st->callocs, me->callocs, RELAXED);
    __atomic_add_fetch(&st->large_nulls, me->large_nulls, RELAXED);
    __atomic_add_fetch(&st->busy_checks, me->busy_checks, RELAXED);
    __atomic_add_fetch(&st->errors, me->errors, RELAXED);
    barrier(st); /* every CPU's totals are in */
    return __atomic_load_n(&st->errors, RELAXED) != 0;
}
