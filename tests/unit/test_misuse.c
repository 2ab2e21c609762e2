/*
 * test_misuse.c - misuse reports.
 *
 * harness_fault_hook is installed as sheap's fault hook.  Every bad call
 * (double free, foreign, interior and free-memory pointers, a pointer past
 * the last slot of a span, a bad pointer with a huge realloc size, heap
 * calls made from a walker callback) must be reported exactly once with a
 * message naming the cause, and must leave the heap as it was: the same
 * statistics except misuse_count + 1, the same blocks (heap_digest), and a
 * clean sheap_check().  Damaged metadata is test_corruption.c's, port
 * failures test_port_failure.c's.
 *
 * Portability: public API, the internal header and printf only; sizes from
 * SHEAP_PAGE_SIZE / SHEAP_ARENA_SIZE.
 */
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "sheap.h"
#include "sheap_internal.h"

#define PAGE SHEAP_PAGE_SIZE
#define ARENA SHEAP_ARENA_SIZE
#define MAXSMALL ((size_t)SHEAP_CLASS_MAX_SIZE)

static unsigned misuse_cases;

/* ---- helpers ------------------------------------------------------------------- */

/*
 * stmt must be reported exactly once, with a message containing keyword,
 * and change nothing but misuse_count.
 */
/* Hardening level 0 reports every misuse with one message, without the
 * diagnosis. */
#if SHEAP_HARDENING == 0
#define MISUSE_NAME(keyword) "invalid pointer"
#else
#define MISUSE_NAME(keyword) (keyword)
#endif
#define EXPECT_MISUSE(stmt, keyword)                                                               \
    do {                                                                                           \
        struct sheap_stats mb_ = stats_now();                                                       \
        uint64_t md_ = heap_digest();                                                               \
        unsigned mf_ = harness_faults;                                                              \
        harness_last_fault = NULL;                                                                 \
        stmt;                                                                                      \
        CHECK_EQ(harness_faults, mf_ + 1);                                                          \
        CHECK(harness_last_fault != NULL);                                                         \
        if (strstr(harness_last_fault, MISUSE_NAME(keyword)) == NULL) {                            \
            printf("  message \"%s\" does not name \"%s\"\n", harness_last_fault, (keyword));     \
            CHECK(false);                                                                          \
        }                                                                                          \
        struct sheap_stats ma_ = stats_now();                                                       \
        mb_.misuse_count++;                                                                         \
        CHECK(stats_same(&ma_, &mb_));                                                               \
        CHECK(heap_digest() == md_);                                                                \
        CHECK_HEAP();                                                                              \
        misuse_cases++;                                                                            \
    } while (0)

/* The three calls that take a pointer, each on its own. */
#define EXPECT_MISUSE_ALL(ptr, keyword)                                                            \
    do {                                                                                           \
        void *m_ = (void *)(ptr);                                                                  \
        EXPECT_MISUSE(sheap_free(m_), keyword);                                                    \
        EXPECT_MISUSE(CHECK(sheap_realloc(m_, 100) == NULL), keyword);                             \
        EXPECT_MISUSE(CHECK(sheap_realloc(m_, 0) == NULL), keyword);                               \
        /* a huge size must not hide the bad pointer */                                           \
        EXPECT_MISUSE(CHECK(sheap_realloc(m_, SIZE_MAX) == NULL), keyword);                        \
        EXPECT_MISUSE(CHECK(sheap_realloc(m_, SIZE_MAX / 2 + 1) == NULL), keyword);                \
        EXPECT_MISUSE(CHECK_EQ(sheap_usable_size(m_), 0), keyword);                                \
    } while (0)

#define KW_DOUBLE "double free"
#define KW_FOREIGN "not from this heap"
#define KW_INTERIOR "interior"
#define KW_FREE_MEM "free heap memory"
#define KW_PAST "past the last"

static int global_object;

/* ---- misuse ------------------------------------------------------------------------------ */

static const void *hook_ptr;
static unsigned hook_calls;
static void recording_hook(const char *msg, const void *ptr)
{
    hook_ptr = ptr;
    hook_calls++;
    harness_fault_hook(msg, ptr);
}

static void test_hook_gets_pointer(void)
{
    sheap_fault_hook old = sheap_set_fault_hook(recording_hook);
    CHECK(old == harness_fault_hook);
    void *k = sheap_malloc(64), *p = sheap_malloc(64); /* k keeps the span */
    CHECK(k != NULL && p != NULL);
    sheap_free(p);
    hook_calls = 0;
    EXPECT_MISUSE(sheap_free((char *)p + 8), KW_INTERIOR);
    CHECK_EQ(hook_calls, 1);
    CHECK(hook_ptr == (char *)p + 8);
    sheap_free(k);
    /* NULL is not misuse. */
    unsigned f = harness_faults;
    sheap_free(NULL);
    CHECK_EQ(sheap_usable_size(NULL), 0);
    CHECK_EQ(harness_faults, f);
    CHECK(sheap_set_fault_hook(old) == recording_hook);
    CHECK_HEAP();
}

static void test_double_free_small(void)
{
    /* A neighbour keeps the span live: the slot itself is free. */
    char *keep = sheap_malloc(32), *p = sheap_malloc(32);
    CHECK(keep != NULL && p != NULL);
    CHECK(span_of((uintptr_t)p) == span_of((uintptr_t)keep));
    sheap_free(p);
    EXPECT_MISUSE(sheap_free(p), KW_DOUBLE);
    EXPECT_MISUSE(sheap_free(p), KW_DOUBLE); /* and again */
    EXPECT_MISUSE(CHECK(sheap_realloc(p, 64) == NULL), KW_DOUBLE);
    EXPECT_MISUSE(CHECK_EQ(sheap_usable_size(p), 0), KW_DOUBLE);
    /* The block is still only once on the free side: two mallocs give two
     * different blocks. */
    char *a = sheap_malloc(32), *b = sheap_malloc(32);
    CHECK(a != NULL && b != NULL && a != b);
    sheap_free(a);
    sheap_free(b);
    sheap_free(keep);
    /* The last block of a class: the empty head span stays, the slot is free. */
    sheap_trim();
    char *only = sheap_malloc(sheap_class_size[SHEAP_NUM_CLASSES - 1]);
    CHECK(only != NULL);
    sheap_free(only);
    EXPECT_MISUSE(sheap_free(only), KW_DOUBLE);
    /* After trim the span itself is gone: free heap memory. */
    sheap_trim();
    EXPECT_MISUSE(sheap_free(only), KW_FREE_MEM);
    CHECK_HEAP();
}

static void test_double_free_large(void)
{
    char *p = sheap_malloc(MAXSMALL + 1), *q = sheap_malloc(10 * PAGE);
    CHECK(p != NULL && q != NULL);
    sheap_free(p);
    EXPECT_MISUSE(sheap_free(p), KW_DOUBLE);
    EXPECT_MISUSE(sheap_free(p), KW_FREE_MEM);
    sheap_free(q);
    EXPECT_MISUSE_ALL(q, KW_FREE_MEM);
    /* Even after the pages went back to the port. */
    sheap_trim();
    EXPECT_MISUSE_ALL(q, KW_FREE_MEM);
    EXPECT_MISUSE_ALL(q + 3 * PAGE, KW_FREE_MEM);
    CHECK_HEAP();
}

static void test_foreign_pointers(void)
{
    int local = 0;
    void *p = sheap_malloc(48);
    CHECK(p != NULL);
    EXPECT_MISUSE_ALL(&global_object, KW_FOREIGN);
    EXPECT_MISUSE_ALL(&local, KW_FOREIGN);
    EXPECT_MISUSE_ALL((void *)(uintptr_t)0x10, KW_FOREIGN);
    EXPECT_MISUSE_ALL((void *)(UINTPTR_MAX & ~(uintptr_t)15), KW_FOREIGN);
    EXPECT_MISUSE_ALL((void *)(uintptr_t)PAGE, KW_FOREIGN);
    /* The heap's own metadata is off the heap: foreign as well. */
    EXPECT_MISUSE_ALL(span_of((uintptr_t)p), KW_FOREIGN);
    EXPECT_MISUSE_ALL(&sheap_heap, KW_FOREIGN);
    /* Just outside every arena. */
    struct sheap_arena *first = sheap_heap.arenas;
    CHECK(first != NULL);
    if (first->base >= ARENA && arena_of(first->base - 1) == NULL)
        EXPECT_MISUSE_ALL(first->base - 16, KW_FOREIGN);
    sheap_free(p);
    (void)local;
    CHECK_HEAP();
}

static void test_interior_small(void)
{
    char *p = sheap_malloc(32), *q = sheap_malloc(48), *q2 = sheap_malloc(48); /* q2 keeps q's span */
    CHECK(p != NULL && q != NULL && q2 != NULL);
    CHECK(span_of((uintptr_t)q) == span_of((uintptr_t)q2));
    CHECK_EQ(sheap_usable_size(p), 32);
    EXPECT_MISUSE_ALL(p + 8, KW_INTERIOR);
    EXPECT_MISUSE_ALL(p + 1, KW_INTERIOR);
    EXPECT_MISUSE_ALL(p + 16, KW_INTERIOR);
    EXPECT_MISUSE_ALL(p + 31, KW_INTERIOR);
    EXPECT_MISUSE_ALL(q + 16, KW_INTERIOR); /* 16-aligned, still not a slot */
    EXPECT_MISUSE_ALL(q + 32, KW_INTERIOR);
    /* Interior of a free slot is interior too. */
    sheap_free(q);
    EXPECT_MISUSE(sheap_free(q + 8), KW_INTERIOR);
    /* The block itself is untouched by all that. */
    CHECK_EQ(sheap_usable_size(p), 32);
    sheap_free(p);
    sheap_free(q2);
    CHECK_HEAP();
}

static void test_interior_large(void)
{
    char *p = sheap_malloc(4 * PAGE + MAXSMALL);
    CHECK(p != NULL);
    size_t u = sheap_usable_size(p);
    EXPECT_MISUSE_ALL(p + PAGE, KW_INTERIOR);
    EXPECT_MISUSE_ALL(p + 1, KW_INTERIOR);
    EXPECT_MISUSE_ALL(p + 16, KW_INTERIOR);
    EXPECT_MISUSE_ALL(p + u - 16, KW_INTERIOR);
    EXPECT_MISUSE_ALL(p + u - PAGE, KW_INTERIOR);
    CHECK_EQ(sheap_usable_size(p), u);
    sheap_free(p);
    CHECK_HEAP();
}

static void test_free_run_pointers(void)
{
    /* A page run, freed: its first page, its interior, its last page. */
    char *p = sheap_malloc(8 * PAGE + MAXSMALL);
    CHECK(p != NULL);
    size_t u = sheap_usable_size(p);
    sheap_free(p);
    EXPECT_MISUSE_ALL(p, KW_FREE_MEM);
    EXPECT_MISUSE_ALL(p + 2 * PAGE, KW_FREE_MEM);
    EXPECT_MISUSE_ALL(p + u - PAGE, KW_FREE_MEM);
    EXPECT_MISUSE_ALL(p + 24, KW_FREE_MEM);
    /* Pages of a free run that were never handed out. */
    struct sheap_span *f = find_free_run(2);
    CHECK(f != NULL);
    uintptr_t fb = f->base, fe = f->base + (f->npages << SHEAP_PAGE_SHIFT);
    EXPECT_MISUSE_ALL(fb, KW_FREE_MEM);
    EXPECT_MISUSE_ALL(fe - PAGE, KW_FREE_MEM);
    EXPECT_MISUSE_ALL(fb + PAGE + 32, KW_FREE_MEM);
    CHECK_HEAP();
}

/* Classes whose span has a tail: nelems * size < npages * page.  A pointer
 * to the tail is past the last slot. */
static void test_past_last_slot(void)
{
    unsigned tested = 0;
    for (unsigned c = 1; c < SHEAP_NUM_CLASSES; c++) {
        uintptr_t used = (uintptr_t)sheap_class_nelems[c] * sheap_class_size[c];
        uintptr_t span = (uintptr_t)sheap_class_npages[c] << SHEAP_PAGE_SHIFT;
        if (used >= span)
            continue;
        char *p = sheap_malloc(sheap_class_size[c]);
        CHECK(p != NULL);
        struct sheap_span *s = span_of((uintptr_t)p);
        CHECK(s != NULL && s->state == SPAN_SMALL && s->cls == c);
        uintptr_t tail = s->base + used;
        EXPECT_MISUSE_ALL(tail, KW_PAST);
        if (span - used > 8)
            EXPECT_MISUSE_ALL(tail + 8, KW_PAST);
        EXPECT_MISUSE_ALL(s->base + span - 8, KW_PAST);
        sheap_free(p);
        tested++;
    }
    printf("  %u classes with a tail\n", tested);
    CHECK(tested > 0);
    CHECK_HEAP();
}

/* ---- bad pointers with bad sizes, errno, calls from a walker ------------------- */

/* realloc validates the pointer before the size: freed, interior and stack
 * pointers with sizes beyond the largest request are each reported once,
 * are not an OOM, and leave errno alone (like sheap_free). */
static void test_realloc_invalid_huge(void)
{
    char *keep = sheap_malloc(32);
    void *p = sheap_malloc(32);
    CHECK(keep != NULL && p != NULL);
    sheap_free(p);
    struct sheap_stats before = stats_now();
    errno = 0;
    EXPECT_MISUSE(CHECK(sheap_realloc(p, SIZE_MAX) == NULL), KW_DOUBLE);
    CHECK_EQ(errno, 0);
    CHECK_EQ(stats_now().oom_count, before.oom_count);
    char *big = sheap_malloc(3 * PAGE);
    int local = 0;
    CHECK(big != NULL);
    EXPECT_MISUSE(CHECK(sheap_realloc(big + PAGE, SIZE_MAX) == NULL), KW_INTERIOR);
    EXPECT_MISUSE(CHECK(sheap_realloc(keep + 1, SIZE_MAX - PAGE) == NULL), KW_INTERIOR);
    EXPECT_MISUSE(CHECK(sheap_realloc(&local, SIZE_MAX) == NULL), KW_FOREIGN);
    /* A valid pointer with a huge size: ENOMEM, no report, block intact. */
    unsigned f = harness_faults;
    memset(big, 0x5a, 3 * PAGE);
    errno = 0;
    CHECK(sheap_realloc(big, SIZE_MAX) == NULL);
    CHECK_EQ(errno, ENOMEM);
    CHECK_EQ(harness_faults, f);
    CHECK_EQ(stats_now().oom_count, before.oom_count + 1);
    CHECK(big[0] == 0x5a && big[3 * PAGE - 1] == 0x5a);
    sheap_free(big);
    sheap_free(keep);
    (void)local;
    CHECK_HEAP();
}

/* posix_memalign sets errno on EINVAL as well as returning it. */
static void test_posix_memalign_errno(void)
{
    static const size_t bad[] = {0, 3, sizeof(void *) / 2, 24, (size_t)ARENA * 2, SIZE_MAX};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        void *out = &global_object;
        errno = 0;
        CHECK_EQ(sheap_posix_memalign(&out, bad[i], 64), SHEAP_EINVAL);
        CHECK_EQ(errno, EINVAL);
        CHECK(out == &global_object); /* *out untouched */
    }
    void *out = NULL;
    errno = 0;
    CHECK_EQ(sheap_posix_memalign(&out, 64, SIZE_MAX), SHEAP_ENOMEM);
    CHECK_EQ(errno, ENOMEM);
    CHECK_EQ(sheap_posix_memalign(&out, 64, 100), 0);
    CHECK(out != NULL && ((uintptr_t)out & 63) == 0);
    sheap_free(out);
    CHECK_HEAP();
}

/* Every entry point called from a walker callback is reported and
 * refused; nothing deadlocks (a deadlock would hang the test, which
 * tools/run_test.sh counts as a failure). */
struct reentry {
    void *live;          /* a live block the callback tries to free */
    unsigned calls;      /* callback invocations that made the calls */
    unsigned refused;    /* calls that failed as the contract says */
    unsigned faults;     /* reports seen inside the callback */
    int errno_ok;
};

static void reentry_calls(struct reentry *r)
{
    unsigned f0 = harness_faults;
    errno = 0;
    r->refused += sheap_malloc(16) == NULL;
    r->errno_ok += errno == EINVAL;
    r->refused += sheap_calloc(2, 8) == NULL;
    r->refused += sheap_realloc(r->live, 64) == NULL;
    r->refused += sheap_realloc(NULL, 64) == NULL;
    r->refused += sheap_aligned_alloc(64, 64) == NULL;
    void *out = NULL;
    r->refused += sheap_posix_memalign(&out, 64, 64) == SHEAP_EINVAL && out == NULL;
    r->refused += sheap_usable_size(r->live) == 0;
    sheap_free(r->live); /* refused: the block stays live */
    r->refused += sheap_trim() == 0;
    struct sheap_stats st;
    memset(&st, 0xa5, sizeof(st));
    sheap_stats(&st);
    r->refused += st.live_blocks == (size_t)0xa5a5a5a5a5a5a5a5ull; /* untouched */
    r->refused += sheap_check() == SHEAP_CHECK_IN_WALK;
    r->refused += sheap_walk(harness_digest_fn, &(uint64_t){0}) == -1;
    r->refused += sheap_set_fault_hook(NULL) == harness_fault_hook; /* unchanged */
    r->faults += harness_faults - f0;
    r->calls++;
}

#define REENTRY_CALLS 12

static int reentry_walk_fn(void *ptr, size_t size, bool used, void *ctx)
{
    (void)ptr;
    (void)size;
    (void)used;
    reentry_calls(ctx);
    return 1; /* once is enough */
}

static int reentry_arena_fn(const struct sheap_arena_info *info, void *ctx)
{
    (void)info;
    reentry_calls(ctx);
    return 7;
}

static void test_walk_reentry(void)
{
    struct reentry r = {sheap_malloc(40), 0, 0, 0, 0};
    CHECK(r.live != NULL);
    size_t usable = sheap_usable_size(r.live);
    struct sheap_stats before = stats_now();
    CHECK_EQ(sheap_walk(reentry_walk_fn, &r), 1);
    CHECK_EQ(r.calls, 1);
    CHECK_EQ(r.refused, REENTRY_CALLS);
    CHECK_EQ(r.faults, REENTRY_CALLS + 1); /* + the free */
    CHECK_EQ(r.errno_ok, 1);
    CHECK_EQ(sheap_arena_walk(reentry_arena_fn, &r), 7);
    CHECK_EQ(r.calls, 2);
    CHECK_EQ(r.refused, 2 * REENTRY_CALLS);
    CHECK_EQ(r.faults, 2 * (REENTRY_CALLS + 1));
    struct sheap_stats after = stats_now();
    CHECK_EQ(after.misuse_count, before.misuse_count + 2 * (REENTRY_CALLS + 1));
    CHECK_EQ(after.live_blocks, before.live_blocks);
    CHECK_EQ(after.oom_count, before.oom_count);
    misuse_cases += 2 * (REENTRY_CALLS + 1);
    /* After the walk everything works again, the block is still live. */
    CHECK_EQ(sheap_usable_size(r.live), usable);
    sheap_free(r.live);
    void *q = sheap_malloc(16);
    CHECK(q != NULL);
    sheap_free(q);
    CHECK_HEAP();
}

/* A block freed, its memory returned to the port, then freed again: still a
 * clean misuse report, even though its pages are no longer Ready. */
static void test_free_after_trim(void)
{
    sheap_fault_hook old = sheap_set_fault_hook(harness_fault_hook);
    unsigned before = harness_faults;
    void *small = sheap_malloc(48);
    void *large = sheap_malloc(10 * PAGE);
    CHECK(small && large);
    sheap_free(small);
    sheap_free(large);
    sheap_trim();
    sheap_free(small);
    sheap_free(large);
    CHECK_EQ(harness_faults, before + 2);
    CHECK(sheap_usable_size(large) == 0);
    CHECK_EQ(harness_faults, before + 3);
    misuse_cases += 3;
    sheap_set_fault_hook(old);
    CHECK_HEAP();
}

static sheap_fault_hook saved_hook;

static void test_install_hook(void)
{
    saved_hook = sheap_set_fault_hook(harness_fault_hook);
    CHECK(sheap_set_fault_hook(harness_fault_hook) == harness_fault_hook);
}

/* Last: put the previous hook back. */
static void test_restore_hook(void)
{
    sheap_fault_hook old = sheap_set_fault_hook(saved_hook);
    CHECK(old == harness_fault_hook);
    struct sheap_stats s = stats_now();
    CHECK_EQ(s.live_blocks, 0);
    CHECK_EQ(s.misuse_count, misuse_cases);
    CHECK_HEAP();
}

int main(void)
{
    RUN(test_install_hook);
    RUN(test_hook_gets_pointer);
    RUN(test_double_free_small);
    RUN(test_double_free_large);
    RUN(test_foreign_pointers);
    RUN(test_interior_small);
    RUN(test_interior_large);
    RUN(test_free_run_pointers);
    RUN(test_past_last_slot);
    RUN(test_free_after_trim);
    RUN(test_realloc_invalid_huge);
    RUN(test_posix_memalign_errno);
    RUN(test_walk_reentry);
    RUN(test_restore_hook);
    printf("  %u misuse cases reported (%u hook calls)\n", misuse_cases, harness_faults);
    return harness_finish("misuse");
}
