/* harness.c - see harness.h. */
#include "harness.h"

#include <string.h>

int harness_failed_now, harness_skipped_now;
/* Cases that passed, failed (not_run of them never ran) and were skipped. */
static unsigned passed, failed, not_run, skipped;
/* Set by the first failed case: a failed CHECK leaves its case at once, with
 * whatever it allocated, reserved or installed (fault hook, armed faults,
 * heaps of its own) still in place, so the cases after it would run on a
 * dirty state.  They are reported as failed and not run instead. */
static bool suite_ended;
unsigned harness_faults;
const char *harness_last_fault;
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

void harness_fail(const char *file, int line, const char *expr)
{
    printf("  %s:%d: CHECK(%s) failed\n", file, line, expr);
    harness_failed_now = 1;
}

void harness_fail_eq(const char *file, int line, const char *expr, unsigned long long a, unsigned long long b)
{
    printf("  %s:%d: CHECK_EQ(%s) failed: %llu (0x%llx) != %llu (0x%llx)\n", file, line, expr, a, a, b, b);
    harness_failed_now = 1;
}

/* Per-test set-up and clean-up; harness_heap.c (linked by the unit tests)
 * overrides these to give each test a fresh heap.  Non-zero fails the test. */
__attribute__((weak)) int harness_before_each(void) { return 0; }
__attribute__((weak)) int harness_after_each(void) { return 0; }

void harness_skip(void)
{
    harness_skipped_now = 1;
}

void harness_run(const char *name, void (*fn)(void))
{
    if (suite_ended) {
        failed++;
        not_run++;
        printf("FAIL %s (not run: an earlier case of this suite failed)\n", name);
        fflush(stdout);
        return;
    }
    harness_failed_now = 0;
    harness_skipped_now = 0;
    if (harness_before_each() != 0) {
        printf("  could not set up the test\n");
        harness_failed_now = 1;
    } else {
        fn();
        if (harness_after_each() != 0)
            harness_failed_now = 1;
    }
    if (harness_failed_now) {
        failed++;
        suite_ended = true;
        printf("FAIL %s\n", name);
    } else if (harness_skipped_now) {
        skipped++;
        printf("skip %s\n", name);
    } else {
        passed++;
        printf("ok   %s\n", name);
    }
    fflush(stdout);
}

int harness_finish(const char *suite)
{
    /* A skipped case is neither passed nor failed; the counts appear only
     * when not zero, so a suite that ran every case prints what it always did. */
    printf("SUITE %s: %u passed, %u failed", suite, passed, failed);
    if (skipped != 0)
        printf(", %u skipped", skipped);
    if (not_run != 0)
        printf(" (%u of the failed not run after the first failure)", not_run);
    printf("\n");
    fflush(stdout);
    return failed != 0;
}

void harness_fault_hook(const char *msg, const void *ptr)
{
    (void)ptr;
    harness_faults++;
    harness_last_fault = msg;
}

void harness_seed(uint64_t seed)
{
    rng_state = seed ? seed : 1;
}

uint64_t harness_rand(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

int harness_digest_fn(void *ptr, size_t size, bool used, void *ctx)
{
    uint64_t *h = ctx;
    *h = (*h ^ (uint64_t)(uintptr_t)ptr) * 0x100000001b3ull;
    *h = (*h ^ ((uint64_t)size << 1 | used)) * 0x100000001b3ull;
    return 0;
}

uint64_t heap_digest(void)
{
    uint64_t h = 0xcbf29ce484222325ull;
    sheap_walk(harness_digest_fn, &h);
    return h;
}

#define STAT_FIELDS(X)                                                                             \
    X(live_bytes) X(peak_live_bytes) X(live_blocks) X(ready_bytes) X(prepared_bytes) X(free_bytes) \
    X(metadata_bytes) X(reserved_bytes) X(arenas) X(spans_free) X(spans_small) X(spans_large)      \
    X(oom_count) X(misuse_count) X(grow_count)

struct sheap_stats stats_now(void)
{
    struct sheap_stats s;
    sheap_stats(&s);
    return s;
}

bool stats_same(const struct sheap_stats *a, const struct sheap_stats *b)
{
    bool same = true;
#define X(f)                                                                                       \
    if (a->f != b->f) {                                                                            \
        printf("  stats.%s: %llu != %llu\n", #f, (unsigned long long)a->f, (unsigned long long)b->f); \
        same = false;                                                                              \
    }
    STAT_FIELDS(X)
#undef X
    return same;
}

