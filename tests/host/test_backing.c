/*
 * test_backing.c - honest backing on the hosted port, host only.
 *
 * The hosted port backs at most a budget of bytes (port/hosted/sheap_hosted.h):
 *   - a request larger than can be backed (2^38 bytes on a 64-bit host; on
 *     i686 a request above a lowered budget) returns NULL with ENOMEM and
 *     leaves no arena, no metadata and no resident memory behind;
 *   - used() stops at the budget: allocation fails cleanly there and works
 *     again when memory is freed;
 *   - Ready memory is charged to the kernel's commit accounting (the heap's
 *     mappings are not MAP_NORESERVE: no "nr" in /proc/self/smaps);
 *   - the decision on span-map metadata of released arenas: it stays (an
 *     arena never leaves the index, which keeps free-path lookups lock-step
 *     simple), bounded by the arena records' share of the address space the
 *     heap once grew to, and it is reused when the heap grows again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "sheap.h"
#include "../../port/hosted/sheap_hosted.h"
#include "sheap_internal.h"

#define ARENA SHEAP_ARENA_SIZE
#define U(x) ((unsigned long long)(x))

/* Resident bytes of this process (the second field of /proc/self/statm). */
static uintptr_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, res = 0;
    if (f != NULL) {
        if (fscanf(f, "%lu %lu", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return (uintptr_t)res * (uintptr_t)sysconf(_SC_PAGESIZE);
}

/* The largest request and whether the budget had to be lowered for it. */
static size_t huge_request(void)
{
#if UINTPTR_MAX > 0xffffffffu
    return (size_t)1 << 38;
#else
    /* 2^38 does not fit a 32-bit size_t: lower the budget below the
     * request instead (restored by the caller). */
    sheap_hosted_set_budget((uintptr_t)64 << 20);
    return (size_t)256 << 20;
#endif
}

static void test_huge_request_leaves_nothing(void)
{
    void *warm = sheap_malloc(100); /* the heap exists, its first metadata too */
    CHECK(warm != NULL);
    size_t n = huge_request();
    uintptr_t ready0 = 0, budget = sheap_hosted_budget(&ready0);
    printf("  budget %llu MB (%llu KB Ready now); request %llu MB\n", U(budget >> 20), U(ready0 >> 10),
           U(n >> 20));
    CHECK(n > budget);
    struct sheap_stats s0 = stats_now();
    uintptr_t rss0 = rss_bytes();
    errno = 0;
    CHECK(sheap_malloc(n) == NULL);
    CHECK_EQ(errno, ENOMEM);
    errno = 0;
    CHECK(sheap_calloc(1, n) == NULL);
    CHECK_EQ(errno, ENOMEM);
    errno = 0;
    CHECK(sheap_aligned_alloc(4096, n) == NULL);
    CHECK_EQ(errno, ENOMEM);
    errno = 0;
    CHECK(sheap_realloc(warm, n) == NULL);
    CHECK_EQ(errno, ENOMEM);
    struct sheap_stats s1 = stats_now();
    uintptr_t rss1 = rss_bytes();
    printf("  after 4 failed requests: arenas %llu -> %llu, metadata %llu -> %llu B, reserved %llu -> %llu B, "
           "RSS %+lld KB\n",
           U(s0.arenas), U(s1.arenas), U(s0.metadata_bytes), U(s1.metadata_bytes), U(s0.reserved_bytes),
           U(s1.reserved_bytes), (long long)((intptr_t)(rss1 - rss0) / 1024));
    CHECK_EQ(s1.oom_count, s0.oom_count + 4);
    CHECK_EQ(s1.arenas, s0.arenas);
    CHECK_EQ(s1.metadata_bytes, s0.metadata_bytes);
    CHECK_EQ(s1.reserved_bytes, s0.reserved_bytes);
    CHECK_EQ(s1.ready_bytes, s0.ready_bytes);
#if UINTPTR_MAX > 0xffffffffu
    /* under 1 MB: no span map was made (2^38 bytes would need 528 MB of it) */
    CHECK((intptr_t)(rss1 - rss0) < (intptr_t)(1u << 20));
#endif
    /* (i686 runs under qemu-i386, whose own RSS moves with its code cache;
     * the metadata and reservation counts above are the test there) */
    sheap_free(warm);
    sheap_hosted_set_budget(0);
    CHECK_HEAP();
}

/* used() stops at the budget; the heap is sound there and works again. */
static void test_budget_stops_backing(void)
{
    uintptr_t ready0 = 0;
    sheap_hosted_budget(&ready0);
    const uintptr_t extra = (uintptr_t)3 * ARENA + ARENA / 2;
    sheap_hosted_set_budget(ready0 + extra);
    enum { MAXB = 4096 };
    static void *b[MAXB];
    unsigned nb = 0;
    const size_t bs = 256 * 1024;
    errno = 0;
    while (nb < MAXB && (b[nb] = sheap_malloc(bs)) != NULL)
        memset(b[nb++], 0xc3, 64);
    CHECK(nb < MAXB);
    CHECK_EQ(errno, ENOMEM);
    uintptr_t ready = 0;
    sheap_hosted_budget(&ready);
    printf("  budget Ready + %llu KB: %u blocks of %llu KB, then ENOMEM; Ready %llu KB of %llu KB\n",
           U(extra >> 10), nb, U(bs >> 10), U(ready >> 10), U((ready0 + extra) >> 10));
    CHECK(ready <= ready0 + extra);
    CHECK((uintptr_t)nb * bs >= extra / 2); /* most of it was usable */
    CHECK_HEAP();
    for (unsigned i = 0; i < nb; i++)
        sheap_free(b[i]);
    sheap_trim();
    void *p = sheap_malloc(bs);
    CHECK(p != NULL);
    sheap_free(p);
    sheap_hosted_set_budget(0);
    CHECK_HEAP();
}

/* A destroyed heap gives its arenas and metadata back whole, Ready pages
 * and all (release from any state): the backend's Ready count drops by
 * exactly what the heap had made Ready, so the budget is not eaten away by
 * heaps that come and go.  The first round is the baseline: the arena
 * index's second-level tables are shared by all heaps and stay once made. */
static void test_destroy_returns_ready(void)
{
    uintptr_t ready0 = 0;
    for (unsigned round = 0; round < 4; round++) {
        static struct sheap heap;
        struct sheap_config cfg = {.backend = sheap_port_default_backend(), .name = "gone"};
        CHECK_EQ(sheap_heap_create(&heap, &cfg), 0);
        void *big = sheap_heap_malloc(&heap, 3 * ARENA / 2); /* two arenas, most pages Ready */
        void *small = sheap_heap_malloc(&heap, 100);
        CHECK(big != NULL && small != NULL);
        memset(big, 0x5a, 3 * ARENA / 2);
        uintptr_t ready_live = 0;
        sheap_hosted_budget(&ready_live);
        CHECK(ready_live >= ready0 + 3 * ARENA / 2);
        CHECK_EQ(sheap_heap_destroy(&heap), 0);
        uintptr_t ready = 0;
        sheap_hosted_budget(&ready);
        if (round == 0)
            ready0 = ready;
        CHECK_EQ(ready, ready0);
    }
    CHECK_HEAP();
}

/* The heap's mappings are charged to commit accounting: no "nr" flag. */
static void test_commit_is_charged(void)
{
    char *p = sheap_malloc(ARENA / 4);
    CHECK(p != NULL);
    p[0] = 1;
    FILE *f = fopen("/proc/self/smaps", "r");
    if (f == NULL) {
        sheap_free(p);
        SKIP("no /proc/self/smaps");
    }
    char line[512];
    bool inside = false, found = false, noreserve = false;
    while (fgets(line, sizeof(line), f) != NULL) {
        unsigned long long lo, hi;
        if (sscanf(line, "%llx-%llx ", &lo, &hi) == 2 && strchr(line, '-') == line + strcspn(line, "-")) {
            inside = (uintptr_t)p >= lo && (uintptr_t)p < hi;
            continue;
        }
        if (inside && strncmp(line, "VmFlags:", 8) == 0) {
            found = true;
            noreserve = strstr(line, " nr") != NULL;
            printf("  block's mapping %s", line);
        }
    }
    fclose(f);
    sheap_free(p);
    if (!found)
        SKIP("no VmFlags for the block (qemu-user?)");
    CHECK(!noreserve);
    CHECK_HEAP();
}

/* Decision: span-map metadata of released arenas stays (and is reused). */
static void test_released_arena_metadata_stays(void)
{
    struct sheap_stats s0 = stats_now();
    size_t n = 8 * ARENA;
    char *p = sheap_malloc(n);
    CHECK(p != NULL);
    struct sheap_stats s1 = stats_now();
    sheap_free(p);
    sheap_trim();
    struct sheap_stats s2 = stats_now();
    printf("  %llu MB block: arenas %llu -> %llu, metadata %llu -> %llu KB; after free + trim: Ready %llu KB, "
           "metadata %llu KB (kept: %llu B per arena)\n",
           U(n >> 20), U(s0.arenas), U(s1.arenas), U(s0.metadata_bytes >> 10), U(s1.metadata_bytes >> 10),
           U(s2.ready_bytes >> 10), U(s2.metadata_bytes >> 10), U(sizeof(struct sheap_arena)));
    CHECK(s1.arenas > s0.arenas);
    CHECK_EQ(s2.ready_bytes, 0);
    CHECK_EQ(s2.arenas, s1.arenas);
    CHECK_EQ(s2.metadata_bytes, s1.metadata_bytes); /* stays */
    /* bounded: the arena records are a small share of the address space */
    CHECK((s1.metadata_bytes - s0.metadata_bytes) * 200 < (s1.arenas - s0.arenas) * ARENA);
    /* and reused: the same request again grows nothing */
    p = sheap_malloc(n);
    CHECK(p != NULL);
    struct sheap_stats s3 = stats_now();
    CHECK_EQ(s3.arenas, s1.arenas);
    CHECK_EQ(s3.metadata_bytes, s1.metadata_bytes);
    sheap_free(p);
    sheap_trim();
    CHECK_HEAP();
}

int main(void)
{
    RUN(test_huge_request_leaves_nothing);
    RUN(test_budget_stops_backing);
    RUN(test_destroy_returns_ready);
    RUN(test_commit_is_charged);
    RUN(test_released_arena_metadata_stays);
    return harness_finish("backing");
}
