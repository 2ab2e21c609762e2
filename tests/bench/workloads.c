/*
 * workloads.c - the six benchmark workloads (see workloads.h).
 *
 *   small      small churn, 8..256 B: 1024 live slots; a warm-up pass fills
 *              them, then each step frees a random slot and allocates a
 *              random size into it (tests/bench/small_churn.c's semantics)
 *   loguni     log-uniform sizes 8 B..128 KB, 256 live slots (~3.5 MB live)
 *   uniform    uniform sizes 8 B..64 KB, 128 live slots (~4 MB live)
 *   fifo       producer/consumer queue: allocate at the head, free at the
 *              tail; 768..1280 blocks of 16 B..8 KB (log-uniform, ~1.3 MB)
 *   realloc    32 buffers grown step by step (+1/8 and a random tail) from
 *              16 B up to 256 KB, then freed and started again (~4 MB live)
 *   frag       fragmentation adversary: 16384 blocks of 64 B, every other
 *              one freed, then 48 blocks of 32 KB; everything freed; again
 *
 * Every block is touched at its first and last byte when it is allocated,
 * so that lazily backed memory (the host's mmap) is really used.  The step
 * counts are the target's (scale 1); the host runs them times `scale`.
 */
#include "workloads.h"

const char *const bench_op_name[BENCH_NOPS] = {"malloc", "free", "realloc"};
volatile unsigned bench_probe_mark; /* written by the BENCH_PROBE functions */

struct slot {
    void *p;
    size_t n;
};

#define MAX_SLOTS 16384
static struct slot slots[MAX_SLOTS];

static uint64_t next_rand(struct bench_run *r)
{
    uint64_t x = r->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->rng = x;
    return x * 0x2545f4914f6cdd1dull;
}

static void touch(void *p, size_t n)
{
    volatile unsigned char *c = p;
    c[0] = (unsigned char)n;
    c[n - 1] = (unsigned char)n;
}

static void *wl_malloc(struct bench_run *r, size_t n)
{
    void *p = bench_do_malloc(r, n);
    r->calls++;
    if (!p) {
        r->failed = 1;
        return NULL;
    }
    touch(p, n);
    r->live += n;
    if (r->live > r->peak_live)
        r->peak_live = r->live;
    bench_tick(r);
    return p;
}

static void wl_free(struct bench_run *r, struct slot *s)
{
    if (!s->p)
        return;
    bench_do_free(r, s->p);
    r->calls++;
    r->live -= s->n;
    s->p = NULL;
    s->n = 0;
    bench_tick(r);
}

static void wl_set(struct bench_run *r, struct slot *s, size_t n)
{
    s->p = wl_malloc(r, n);
    s->n = s->p ? n : 0;
}

static void wl_realloc(struct bench_run *r, struct slot *s, size_t n)
{
    void *p = bench_do_realloc(r, s->p, n);
    r->calls++;
    if (!p) {
        r->failed = 1;
        return;
    }
    ((volatile unsigned char *)p)[n - 1] = (unsigned char)n;
    r->live = r->live - s->n + n;
    if (r->live > r->peak_live)
        r->peak_live = r->live;
    s->p = p;
    s->n = n;
    bench_tick(r);
}

static void free_all(struct bench_run *r, unsigned count)
{
    for (unsigned i = 0; i < count; i++)
        wl_free(r, &slots[i]);
}

/* 8 * 2^k .. 16 * 2^k - 1 with k uniform: log-uniform by octave. */
static size_t log_uniform(struct bench_run *r, unsigned lo_shift, unsigned octaves)
{
    uint64_t x = next_rand(r);
    unsigned k = (unsigned)(x % octaves);
    size_t base = (size_t)1 << (lo_shift + k);
    return base + (size_t)((x >> 16) % base);
}

/* ---- the workloads ------------------------------------------------------------ */

static void run_small(struct bench_run *r)
{
    enum { N = 1024, STEPS = 50000 };
    r->phase = BENCH_WARMUP;
    for (unsigned i = 0; i < N; i++)
        wl_set(r, &slots[i], 8 + next_rand(r) % 249);
    r->phase = BENCH_STEADY;
    for (unsigned long s = 0; s < (unsigned long)STEPS * r->scale && !r->failed; s++) {
        unsigned i = (unsigned)(next_rand(r) % N);
        wl_free(r, &slots[i]);
        wl_set(r, &slots[i], 8 + next_rand(r) % 249);
    }
    free_all(r, N);
}

static void churn(struct bench_run *r, unsigned n, unsigned long steps, size_t (*size)(struct bench_run *))
{
    for (unsigned i = 0; i < n; i++)
        wl_set(r, &slots[i], size(r));
    for (unsigned long s = 0; s < steps * r->scale && !r->failed; s++) {
        unsigned i = (unsigned)(next_rand(r) % n);
        wl_free(r, &slots[i]);
        wl_set(r, &slots[i], size(r));
    }
    free_all(r, n);
}

static size_t size_loguni(struct bench_run *r) { return log_uniform(r, 3, 14); } /* 8 B .. 128 KB */
static size_t size_uniform(struct bench_run *r) { return 8 + (size_t)(next_rand(r) % (65536 - 7)); }

static void run_loguni(struct bench_run *r) { churn(r, 256, 10000, size_loguni); }
static void run_uniform(struct bench_run *r) { churn(r, 128, 10000, size_uniform); }

static void run_fifo(struct bench_run *r)
{
    enum { Q = 2048, LO = 768, HI = 1280, STEPS = 40000 };
    unsigned head = 0, tail = 0, len = 0;
    for (unsigned long s = 0; s < (unsigned long)STEPS * r->scale && !r->failed; s++) {
        uint64_t x = next_rand(r);
        if (len < LO || (len < HI && (x & 1))) {
            wl_set(r, &slots[head], log_uniform(r, 4, 9)); /* 16 B .. 8 KB */
            head = (head + 1) % Q;
            len++;
        } else {
            wl_free(r, &slots[tail]);
            tail = (tail + 1) % Q;
            len--;
        }
    }
    free_all(r, Q);
}

static void run_realloc(struct bench_run *r)
{
    enum { N = 32, STEPS = 20000 };
    const size_t cap = 256u * 1024u;
    for (unsigned i = 0; i < N; i++)
        wl_set(r, &slots[i], 16);
    for (unsigned long s = 0; s < (unsigned long)STEPS * r->scale && !r->failed; s++) {
        struct slot *b = &slots[next_rand(r) % N];
        size_t n = b->n + b->n / 8 + 1 + (size_t)(next_rand(r) % 64);
        if (n > cap) {
            wl_free(r, b);
            wl_set(r, b, 16);
        } else {
            wl_realloc(r, b, n);
        }
    }
    free_all(r, N);
}

static void run_frag(struct bench_run *r)
{
    enum { SMALL = 16384, LARGE = 48, ROUNDS = 4 };
    for (unsigned long round = 0; round < (unsigned long)ROUNDS * r->scale && !r->failed; round++) {
        size_t small = 48 + 16 * (round % 2); /* 48 or 64 B */
        for (unsigned i = 0; i < SMALL; i++)
            wl_set(r, &slots[i], small);
        for (unsigned i = 0; i < SMALL; i += 2)
            wl_free(r, &slots[i]);
        /* The large blocks go into the even slots, which are free now. */
        for (unsigned i = 0; i < LARGE; i++)
            wl_set(r, &slots[2 * i], 32u * 1024u);
        free_all(r, SMALL);
    }
}

const struct bench_workload bench_workloads[] = {
    {"small", "small churn 8-256 B, 1024 live", run_small},
    {"loguni", "log-uniform 8 B-128 KB, 256 live", run_loguni},
    {"uniform", "uniform 8 B-64 KB, 128 live", run_uniform},
    {"fifo", "FIFO queue 768-1280 blocks of 16 B-8 KB", run_fifo},
    {"realloc", "32 buffers grown by realloc to 256 KB", run_realloc},
    {"frag", "16384 x 64 B, free every other, then 48 x 32 KB", run_frag},
};
const unsigned bench_nworkloads = sizeof bench_workloads / sizeof bench_workloads[0];

void bench_run_init(struct bench_run *r, const struct bench_alloc *a, unsigned scale)
{
    r->a = a;
    r->scale = scale;
    r->phase = BENCH_STEADY;
    r->rng = 0x12345678abcdefull;
    r->live = 0;
    r->peak_live = 0;
    r->calls = 0;
    r->failed = 0;
    for (unsigned i = 0; i < MAX_SLOTS; i++)
        slots[i].p = NULL, slots[i].n = 0;
}
