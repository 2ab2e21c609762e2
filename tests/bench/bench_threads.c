/*
 * bench_threads.c - multi-threaded host throughput (make bench-threads).
 *
 *   bench_threads ALLOC MODE THREADS OPS
 *
 * ALLOC as in bench_host.c (glibc, mimalloc by dlopen, jemalloc by
 * LD_PRELOAD), or sheap-smp / sheap-1lock: the sheap this program is linked
 * with, named after its build (sheap-smp only in a SHEAP_SMP=1 build, the
 * host smp flavour with per-CPU caches; sheap-1lock only in a SHEAP_SMP=0
 * build, one lock for everything), so a row cannot carry the wrong label.
 * MODE:
 *   churn  every thread keeps 64 slots of small blocks (16..256 bytes) and
 *          replaces a random one per step: OPS malloc/free pairs per thread;
 *   xfree  producer/consumer pairs (THREADS even): the producer allocates
 *          and passes blocks through a ring to its consumer, which frees
 *          them (every free is a cross-thread free): OPS blocks per pair.
 * Prints
 *   THREADS <alloc> <mode> threads=<n> ops=<malloc+free calls> ns=<wall>
 * Wall-clock time (the threads overlap): a benchmark figure, never a test.
 *
 * Built with -DBENCH_LOCKCOUNT against a copy of the core that counts the
 * shared lock (tests/bench/lockcount/sheap_port_lock.h), the program takes
 * MODE stress (sizes up to 96 KB) or stress-small (up to SMP_STRESS_SMALL,
 * 1 KB: the small classes, the per-CPU caches' part) instead: the
 * multi-CPU stress of tests/smp with THREADS threads, OPS steps per thread
 * and phase, and prints
 *   LOCKS <build> <mode> threads=<n> max=<bytes> ops=<engine ops> locks=<shared lock taken>
 *         masks=<sheap_port_irq_save calls> errors=<n>
 * (<build> sheap-smp or sheap-1lock; masks only in SMP builds, where every
 * per-CPU lock take is preceded by one, see the lockcount header).  Modes
 * churn and xfree of the counting build print the same line (max=256, the
 * largest request) in place of the THREADS line.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sheap.h"
#include "sheap_config.h"

/* The name of the sheap linked in: which build this program measures. */
#if SHEAP_SMP
#define SHEAP_NAME "sheap-smp"
#else
#define SHEAP_NAME "sheap-1lock"
#endif

#ifdef BENCH_LOCKCOUNT
#include "smp_stress.h"
unsigned long sheap_lockcount_taken;
unsigned long sheap_lockcount_masks;
void smp_stress_relax(void) { sched_yield(); }
#endif

static void *(*a_malloc)(size_t);
static void (*a_free)(void *);

static void *(*je_mallocx)(size_t, int);
static void (*je_dallocx)(void *, int);
static void *je_malloc(size_t n) { return je_mallocx(n, 0); }
static void je_free(void *p) { je_dallocx(p, 0); }

static void *need(void *lib, const char *sym)
{
    void *f = dlsym(lib, sym);
    if (!f) {
        fprintf(stderr, "bench_threads: %s: %s\n", sym, dlerror());
        exit(2);
    }
    return f;
}

static void pick(const char *name)
{
    if (!strcmp(name, SHEAP_NAME)) {
        a_malloc = sheap_malloc, a_free = sheap_free;
    } else if (!strcmp(name, "glibc")) {
        a_malloc = malloc, a_free = free;
    } else if (!strcmp(name, "mimalloc")) {
        void *lib = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
            fprintf(stderr, "bench_threads: %s\n", dlerror());
            exit(2);
        }
        a_malloc = (void *(*)(size_t))need(lib, "mi_malloc");
        a_free = (void (*)(void *))need(lib, "mi_free");
    } else if (!strcmp(name, "jemalloc")) {
        je_mallocx = (void *(*)(size_t, int))need(RTLD_DEFAULT, "mallocx");
        je_dallocx = (void (*)(void *, int))need(RTLD_DEFAULT, "dallocx");
        a_malloc = je_malloc, a_free = je_free;
    } else {
        fprintf(stderr, "bench_threads: unknown allocator %s (this build's sheap is %s)\n", name, SHEAP_NAME);
        exit(2);
    }
}

static unsigned long ops_per_thread;
static volatile int start_flag;
static int failed;

static uint64_t xs(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static void wait_start(void)
{
    while (!__atomic_load_n(&start_flag, __ATOMIC_ACQUIRE))
        sched_yield();
}

static void *churn(void *arg)
{
    uint64_t seed = (uintptr_t)arg * 0x9E3779B97F4A7C15ull + 1;
    void *slot[64] = {0};
    wait_start();
    for (unsigned long i = 0; i < ops_per_thread; i++) {
        uint64_t r = xs(&seed);
        unsigned k = r & 63;
        if (slot[k])
            a_free(slot[k]);
        slot[k] = a_malloc(16 + (size_t)((r >> 8) % 241));
        if (!slot[k]) {
            failed = 1;
            break;
        }
        *(volatile char *)slot[k] = 1;
    }
    for (unsigned k = 0; k < 64; k++)
        if (slot[k])
            a_free(slot[k]);
    return NULL;
}

#define RING 256
struct pair {
    _Alignas(64) unsigned head;
    _Alignas(64) unsigned tail;
    void *ring[RING];
};

static void *producer(void *arg)
{
    struct pair *p = arg;
    uint64_t seed = (uintptr_t)arg | 1;
    wait_start();
    for (unsigned long i = 0; i < ops_per_thread; i++) {
        void *b = a_malloc(16 + (size_t)(xs(&seed) % 241));
        if (!b) {
            failed = 1;
            b = NULL;
        } else {
            *(volatile char *)b = 1;
        }
        unsigned h = p->head;
        while (h - __atomic_load_n(&p->tail, __ATOMIC_ACQUIRE) >= RING)
            sched_yield();
        p->ring[h % RING] = b;
        __atomic_store_n(&p->head, h + 1, __ATOMIC_RELEASE);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    struct pair *p = arg;
    wait_start();
    for (unsigned long i = 0; i < ops_per_thread; i++) {
        unsigned t = p->tail;
        while (__atomic_load_n(&p->head, __ATOMIC_ACQUIRE) == t)
            sched_yield();
        void *b = p->ring[t % RING];
        __atomic_store_n(&p->tail, t + 1, __ATOMIC_RELEASE);
        if (b)
            a_free(b);
    }
    return NULL;
}

static long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

#ifdef BENCH_LOCKCOUNT
static struct smp_stress st;
static void *stress_cpu(void *arg)
{
    smp_stress_cpu(&st, (unsigned)(uintptr_t)arg);
    return NULL;
}

static int lockcount(unsigned n, unsigned long steps, size_t max_size)
{
    memset(&st, 0, sizeof st);
    st.ncpus = n;
    st.rounds = 5;
    st.steps = (unsigned)steps;
    st.slots = 64;
    st.max_size = max_size;
    st.seed = 7;
    smp_stress_init(&st);
    pthread_t t[SMP_STRESS_MAX_CPUS];
    unsigned long before = __atomic_load_n(&sheap_lockcount_taken, __ATOMIC_RELAXED);
    unsigned long masks0 = __atomic_load_n(&sheap_lockcount_masks, __ATOMIC_RELAXED);
    for (unsigned i = 1; i < n; i++)
        pthread_create(&t[i], NULL, stress_cpu, (void *)(uintptr_t)i);
    smp_stress_cpu(&st, 0);
    for (unsigned i = 1; i < n; i++)
        pthread_join(t[i], NULL);
    unsigned long locks = __atomic_load_n(&sheap_lockcount_taken, __ATOMIC_RELAXED) - before;
    unsigned long masks = __atomic_load_n(&sheap_lockcount_masks, __ATOMIC_RELAXED) - masks0;
    printf("LOCKS %s %s threads=%u max=%zu ops=%lu locks=%lu masks=%lu errors=%lu\n", SHEAP_NAME,
           max_size == SMP_STRESS_SMALL ? "stress-small" : "stress", n, max_size,
           st.ops, locks, masks, st.errors);
    return st.errors != 0;
}
#endif

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bench_threads %s|glibc|mimalloc|jemalloc churn|xfree THREADS OPS\n", SHEAP_NAME);
        return 2;
    }
    unsigned n = (unsigned)atoi(argv[3]);
    ops_per_thread = strtoul(argv[4], NULL, 10);
    if (n < 1 || n > 64) {
        fprintf(stderr, "bench_threads: THREADS must be 1..64\n");
        return 2;
    }
#ifdef BENCH_LOCKCOUNT
    int small = !strcmp(argv[2], "stress-small");
    if (small || !strcmp(argv[2], "stress")) {
        if (strcmp(argv[1], SHEAP_NAME)) {
            fprintf(stderr, "bench_threads: this build counts %s, not %s\n", SHEAP_NAME, argv[1]);
            return 2;
        }
        return n <= SMP_STRESS_MAX_CPUS ? lockcount(n, ops_per_thread, small ? SMP_STRESS_SMALL : 96 * 1024) : 2;
    }
#endif
    pick(argv[1]);
    int x = !strcmp(argv[2], "xfree");
    if (!x && strcmp(argv[2], "churn")) {
        fprintf(stderr, "bench_threads: unknown mode %s\n", argv[2]);
        return 2;
    }
    if (x && (n % 2) != 0) {
        fprintf(stderr, "bench_threads: xfree needs an even number of threads\n");
        return 2;
    }
    pthread_t t[64];
#ifdef BENCH_LOCKCOUNT
    unsigned long locks0 = sheap_lockcount_taken, masks0 = sheap_lockcount_masks;
#endif
    struct pair *pairs = calloc(n / 2 + 1, sizeof *pairs);
    for (unsigned i = 0; i < n; i++) {
        if (!x)
            pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(i + 1));
        else
            pthread_create(&t[i], NULL, (i & 1) ? consumer : producer, &pairs[i / 2]);
    }
    long long t0 = now_ns();
    __atomic_store_n(&start_flag, 1, __ATOMIC_RELEASE);
    for (unsigned i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    long long ns = now_ns() - t0;
    free(pairs);
    if (failed) {
        fprintf(stderr, "bench_threads: %s %s: an allocation failed\n", argv[1], argv[2]);
        return 1;
    }
    /* churn: a malloc and (after the first 64) a free per step; xfree: one
     * malloc and one free per block. */
    unsigned long ops = x ? (unsigned long)(n / 2) * ops_per_thread * 2 : (unsigned long)n * ops_per_thread * 2;
#ifdef BENCH_LOCKCOUNT
    /* The counting build: the lock figures of this run (its time is not a
     * throughput figure: the counters are atomics shared by the threads). */
    (void)ns;
    printf("LOCKS %s %s threads=%u max=256 ops=%lu locks=%lu masks=%lu errors=0\n", argv[1], argv[2], n, ops,
           __atomic_load_n(&sheap_lockcount_taken, __ATOMIC_RELAXED) - locks0,
           __atomic_load_n(&sheap_lockcount_masks, __ATOMIC_RELAXED) - masks0);
#else
    printf("THREADS %s %s threads=%u ops=%lu ns=%lld\n", argv[1], argv[2], n, ops, ns);
#endif
    return 0;
}
