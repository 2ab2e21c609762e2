/*
 * test_smp_threads.c - four threads (and then eight) allocate, hand blocks
 * to each other and free each other's blocks, host only.
 *
 * In the smp flavour every thread has a CPU slot of its own (eight threads
 * share four slots two by two, so the per-CPU locks are contended too), and
 * a block freed by a thread other than the one that allocated it is a
 * remote free.  Each block carries a shadow record: its first word names
 * the thread and serial that made it, the rest holds a pattern derived
 * from that; whoever frees it checks the pattern first, so two blocks
 * handed out over each other, or a block reused while still live, show.
 * Mailboxes (one per thread, a mutex each) carry blocks between threads.
 * Between rounds, with every thread joined (a quiescent point), the heap
 * must validate and the statistics must be back where they started, with
 * no misuse counted.  Built in every host flavour: without SHEAP_SMP the
 * one heap lock serialises the same traffic.  Run under ThreadSanitizer
 * too (the tsan flavour).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "sheap.h"

enum { MAX_THREADS = 8, KEEP = 128, MAILBOX = 64, OPS = 40000 };

struct block {
    unsigned char *p;
    size_t n;
    uint32_t tag;
};

struct mailbox {
    pthread_mutex_t mu;
    struct block b[MAILBOX];
    unsigned count;
};

static struct mailbox box[MAX_THREADS];
static unsigned nthreads;
static unsigned long bad_pattern, failed_alloc;

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

static unsigned char pat(uint32_t tag, size_t i) { return (unsigned char)(tag * 31u + i * 7u + 1u); }

/* The bytes of a block the pattern covers: all of a small one, the first
 * and last 256 of a large one (touching every page would dominate). */
static void fill(struct block *b)
{
    memcpy(b->p, &b->tag, sizeof(b->tag));
    for (size_t i = sizeof(b->tag); i < b->n && i < 256; i++)
        b->p[i] = pat(b->tag, i);
    for (size_t i = b->n > 512 ? b->n - 256 : b->n; i < b->n; i++)
        b->p[i] = pat(b->tag, i);
}

static void verify_and_free(struct block *b)
{
    uint32_t t;
    memcpy(&t, b->p, sizeof(t));
    bool ok = t == b->tag;
    for (size_t i = sizeof(b->tag); ok && i < b->n && i < 256; i++)
        ok = b->p[i] == pat(b->tag, i);
    for (size_t i = b->n > 512 ? b->n - 256 : b->n; ok && i < b->n; i++)
        ok = b->p[i] == pat(b->tag, i);
    if (!ok)
        __atomic_fetch_add(&bad_pattern, 1, __ATOMIC_RELAXED);
    sheap_free(b->p);
}

static size_t pick_size(uint64_t *rng)
{
    uint64_t r = next_rand(rng);
    unsigned k = (unsigned)(r % 100);
    r >>= 8;
    if (k < 70)
        return 1 + (size_t)(r % 256);
    if (k < 95)
        return 257 + (size_t)(r % 4000);
    return 8192 + (size_t)(r % 60000); /* large: the shared lock */
}

static bool post(unsigned to, struct block b)
{
    struct mailbox *m = &box[to];
    pthread_mutex_lock(&m->mu);
    bool ok = m->count < MAILBOX;
    if (ok)
        m->b[m->count++] = b;
    pthread_mutex_unlock(&m->mu);
    return ok;
}

static bool take(unsigned me, struct block *b)
{
    struct mailbox *m = &box[me];
    pthread_mutex_lock(&m->mu);
    bool ok = m->count > 0;
    if (ok)
        *b = m->b[--m->count];
    pthread_mutex_unlock(&m->mu);
    return ok;
}

static void *worker(void *arg)
{
    unsigned me = (unsigned)(uintptr_t)arg;
    uint64_t rng = 0x9e3779b97f4a7c15ull * (me + 1);
    struct block keep[KEEP];
    unsigned nkeep = 0;
    uint32_t serial = 0;
    for (unsigned op = 0; op < OPS; op++) {
        unsigned k = (unsigned)(next_rand(&rng) % 10);
        struct block b;
        if (k < 4 && nkeep < KEEP) {
            b.n = pick_size(&rng);
            b.tag = me << 24 | (serial++ & 0xffffff);
            b.p = (k == 0) ? sheap_calloc(1, b.n) : sheap_malloc(b.n);
            if (b.p == NULL) {
                __atomic_fetch_add(&failed_alloc, 1, __ATOMIC_RELAXED);
                continue;
            }
            fill(&b);
            keep[nkeep++] = b;
        } else if (k < 6 && nkeep > 0) {
            /* Hand a block to another thread: it frees it there. */
            unsigned i = (unsigned)(next_rand(&rng) % nkeep);
            unsigned to = (me + 1 + (unsigned)(next_rand(&rng) % (nthreads - 1))) % nthreads;
            if (post(to, keep[i]))
                keep[i] = keep[--nkeep];
        } else if (k < 8) {
            if (take(me, &b))
                verify_and_free(&b);
        } else if (nkeep > 0) {
            unsigned i = (unsigned)(next_rand(&rng) % nkeep);
            verify_and_free(&keep[i]);
            keep[i] = keep[--nkeep];
        }
    }
    while (nkeep > 0)
        verify_and_free(&keep[--nkeep]);
    return NULL;
}

static void round_of(unsigned n)
{
    nthreads = n;
    pthread_t t[MAX_THREADS];
    for (unsigned i = 0; i < n; i++)
        CHECK(pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i) == 0);
    for (unsigned i = 0; i < n; i++)
        CHECK(pthread_join(t[i], NULL) == 0);
    /* What is still in the mailboxes (posted after its receiver ended). */
    struct block b;
    for (unsigned i = 0; i < n; i++)
        while (take(i, &b))
            verify_and_free(&b);
}

static void test_threads(unsigned n)
{
    for (unsigned i = 0; i < MAX_THREADS; i++)
        pthread_mutex_init(&box[i].mu, NULL);
    void *warm = sheap_malloc(32); /* the default heap exists before the threads start */
    CHECK(warm != NULL);
    struct sheap_stats s0 = stats_now();
    for (unsigned r = 0; r < 3; r++) {
        round_of(n);
        /* Quiescent: every block is back. */
        CHECK_HEAP();
        struct sheap_stats s = stats_now();
        CHECK_EQ(s.live_blocks, s0.live_blocks);
        CHECK_EQ(s.live_bytes, s0.live_bytes);
        CHECK_EQ(s.misuse_count, s0.misuse_count);
        CHECK(s.peak_live_bytes >= s.live_bytes);
    }
    CHECK_EQ(bad_pattern, 0);
    CHECK_EQ(failed_alloc, 0);
    sheap_free(warm);
    sheap_trim();
    CHECK_HEAP();
}

static void test_four_threads(void) { test_threads(4); }
static void test_eight_threads(void) { test_threads(8); }

int main(void)
{
    RUN(test_four_threads);
    RUN(test_eight_threads);
    return harness_finish("smp-threads");
}
