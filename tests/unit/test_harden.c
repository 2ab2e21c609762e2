/*
 * test_harden.c - a deliberate heap bug for each hardening level (the
 * levels are in sheap.h), each of which must be caught, named, and leave the
 * heap consistent (sheap_check() == 0):
 *   every level   double free (small and large): level 0 reports "invalid
 *                 pointer", level 1 names the double free, level 2 names
 *                 the quarantine;
 *   level 2       write after free, caught at reuse and by
 *                 sheap_heap_verify, with block, size class, offset and
 *                 (owner tags on) owner; overflow by one byte into a free
 *                 neighbour, named as an overflow of the live block;
 *                 quarantine delaying reuse; randomised slot choice;
 *   level 3       overflow by one byte and by a page past a guarded block:
 *                 a fault at the bad write, on the boards that trap faults
 *                 (the host, the MMU boards); the sampling picks every
 *                 SHEAP_GUARD_SAMPLE-th malloc.
 * Which of them run depends on SHEAP_HARDENING in the build (host flavours
 * hard0 / native / hard2, the boards' hardened flavours); a bug a level
 * does not catch is said so in the output, not asserted.
 */
#include <string.h>

#include "harness.h"
#include "sheap.h"
#include "sheap_board.h"
#include "sheap_internal.h"

#define PAGE SHEAP_PAGE_SIZE
#define LARGE (((size_t)SHEAP_CLASS_MAX_SIZE + PAGE - 1) / PAGE * PAGE + PAGE)

static sheap_fault_hook saved_hook;
static unsigned faults0;

static void hook_on(void)
{
    saved_hook = sheap_set_fault_hook(harness_fault_hook);
    faults0 = harness_faults;
    struct sheap_fault_info drop;
    (void)sheap_last_fault(&drop); /* start clean */
}

static void hook_off(void) { sheap_set_fault_hook(saved_hook); }

static bool msg_has(const char *s) { return harness_last_fault != NULL && strstr(harness_last_fault, s) != NULL; }

static void test_double_free_small(void)
{
    void *p = sheap_malloc(40);
    CHECK(p != NULL);
    hook_on();
    sheap_free(p);
    struct sheap_stats before;
    sheap_stats(&before);
    sheap_free(p); /* the bug */
    struct sheap_fault_info fi;
    bool noted = sheap_last_fault(&fi);
    hook_off();
    CHECK_EQ(harness_faults, faults0 + 1);
    struct sheap_stats after;
    sheap_stats(&after);
    CHECK_EQ(after.live_blocks, before.live_blocks);
    CHECK_EQ(after.misuse_count, before.misuse_count + 1);
#if SHEAP_HARDENING == 0
    CHECK(msg_has("invalid pointer"));
    CHECK(!noted);
#elif !SHEAP_FAULT_RECORD
    CHECK(msg_has("double free"));
    CHECK(!noted); /* no record kept: the hook's message is the report */
#else
    CHECK(msg_has("double free"));
    CHECK(noted);
    CHECK_EQ(fi.kind, SHEAP_FAULT_DOUBLE_FREE);
    CHECK(fi.block == p);
    CHECK_EQ(fi.size, sheap_class_size[sheap_size_to_class8[(40 + 7) >> 3]]);
#if SHEAP_HARDENING >= 2
    CHECK(msg_has("in quarantine"));
#endif
#endif
    CHECK_HEAP();
}

static void test_double_free_large(void)
{
    void *p = sheap_malloc(LARGE);
    CHECK(p != NULL);
    hook_on();
    sheap_free(p);
    sheap_free(p); /* the bug */
    hook_off();
    CHECK_EQ(harness_faults, faults0 + 1);
#if SHEAP_HARDENING == 0
    CHECK(msg_has("invalid pointer"));
#else
    CHECK(msg_has("double free"));
#endif
    CHECK_HEAP();
}

#if SHEAP_HARDENING >= 2
static unsigned class_of(size_t n) { return sheap_size_to_class8[(n + 7) >> 3]; }

/* Write after free, found by the scan: block, class, size, offset, owner. */
static void test_write_after_free_scan(void)
{
    sheap_owner_t old = sheap_set_owner(6);
    unsigned char *p = sheap_malloc(48);
    sheap_set_owner(old);
    CHECK(p != NULL);
    CHECK_EQ(sheap_heap_verify(NULL), 0);
    sheap_free(p);
    hook_on();
    p[5] = 0x11; /* the bug */
    size_t damaged = sheap_heap_verify(NULL);
    struct sheap_fault_info fi;
    bool noted = sheap_last_fault(&fi);
    hook_off();
    CHECK_EQ(damaged, 1);
    CHECK_EQ(harness_faults, faults0 + 1);
    CHECK(msg_has("write after free"));
    CHECK(noted);
    CHECK_EQ(fi.kind, SHEAP_FAULT_WRITE_AFTER_FREE);
    CHECK(fi.block == p);
    CHECK_EQ(fi.size, sheap_class_size[class_of(48)]);
    CHECK_EQ(fi.size_class, class_of(48));
    CHECK_EQ(fi.offset, 5);
#if SHEAP_OWNER_TAGS
    CHECK_EQ(fi.owner, 6);
#endif
    CHECK_EQ(sheap_heap_verify(NULL), 0); /* repaired: reported once */
    CHECK_HEAP();
}

/* Write after free, found when the block is handed out again: it has to
 * leave the quarantine first (SHEAP_QUARANTINE later frees), then be
 * picked among its span's free slots. */
static void test_write_after_free_on_reuse(void)
{
    enum { N = 2 * SHEAP_QUARANTINE + 8 };
    static void *other[N];
    unsigned char *p = sheap_malloc(96);
    CHECK(p != NULL);
    unsigned per = sheap_class_nelems[class_of(96)];
    sheap_free(p);
    hook_on();
    p[17] = 0x5a; /* the bug */
    /* Push p out of the quarantine with frees of another class. */
    for (unsigned i = 0; i < N; i++)
        CHECK((other[i] = sheap_malloc(200)) != NULL);
    for (unsigned i = 0; i < N; i++)
        sheap_free(other[i]);
    /* Allocate from p's class until p comes back. */
    static void *got[1024];
    unsigned n = 0;
    bool back = false;
    while (n < per + 1 && n < 1024 && !back) {
        got[n] = sheap_malloc(96);
        CHECK(got[n] != NULL);
        back = got[n++] == p;
    }
    struct sheap_fault_info fi;
    bool noted = sheap_last_fault(&fi);
    hook_off();
    CHECK(back);
    CHECK_EQ(harness_faults, faults0 + 1);
    CHECK(msg_has("write after free"));
    CHECK(noted && fi.kind == SHEAP_FAULT_WRITE_AFTER_FREE && fi.block == p && fi.offset == 17);
    for (unsigned i = 0; i < n; i++)
        sheap_free(got[i]);
    CHECK_HEAP();
}

/* Overflow by one byte into a free neighbour: named as an overflow of the
 * live block before it. */
static void test_overflow_one_byte(void)
{
    enum { K = 64 };
    static unsigned char *b[K];
    const size_t n = 64;
    for (unsigned i = 0; i < K; i++)
        CHECK((b[i] = sheap_malloc(n)) != NULL);
    /* Two live neighbours a, a + size. */
    unsigned char *a = NULL, *next = NULL;
    size_t sz = sheap_class_size[class_of(n)];
    for (unsigned i = 0; i < K && a == NULL; i++)
        for (unsigned j = 0; j < K; j++)
            if (b[j] == b[i] + sz) {
                a = b[i];
                next = b[j];
                b[j] = NULL;
                break;
            }
    CHECK(a != NULL);
    sheap_free(next);
    hook_on();
    a[sz] = 0; /* the bug: one byte past a's block */
    size_t damaged = sheap_heap_verify(NULL);
    struct sheap_fault_info fi;
    bool noted = sheap_last_fault(&fi);
    hook_off();
    CHECK_EQ(damaged, 1);
    CHECK(msg_has("overflow"));
    CHECK(noted && fi.kind == SHEAP_FAULT_OVERFLOW && fi.block == a && fi.offset == sz);
    for (unsigned i = 0; i < K; i++)
        sheap_free(b[i]);
    CHECK_HEAP();
}

/* A freed block is not handed out again while it is in quarantine. */
static void test_quarantine_delays_reuse(void)
{
    void *p = sheap_malloc(32);
    CHECK(p != NULL);
    sheap_free(p);
    struct sheap_report r;
    CHECK_EQ(sheap_heap_report(NULL, &r), 0);
    CHECK(r.quarantine_blocks >= 1);
    static void *q[SHEAP_QUARANTINE];
    /* Fewer frees than the ring holds: p stays in it, whatever is taken. */
    for (unsigned i = 0; i < SHEAP_QUARANTINE - 1; i++) {
        q[i] = sheap_malloc(32);
        CHECK(q[i] != NULL && q[i] != p);
    }
    for (unsigned i = 0; i < SHEAP_QUARANTINE - 1; i++)
        sheap_free(q[i]);
    sheap_trim(); /* empties the ring */
    CHECK_EQ(sheap_heap_report(NULL, &r), 0);
    CHECK_EQ(r.quarantine_blocks, 0);
    CHECK_HEAP();
}

/* Consecutive allocations do not come out in address order. */
static void test_random_slots(void)
{
    enum { K = 32 };
    void *b[K];
    unsigned ascending = 0;
    for (unsigned i = 0; i < K; i++) {
        CHECK((b[i] = sheap_malloc(128)) != NULL);
        if (i > 0 && (uintptr_t)b[i] == (uintptr_t)b[i - 1] + 128)
            ascending++;
    }
    CHECK(ascending < K / 2);
    for (unsigned i = 0; i < K; i++)
        sheap_free(b[i]);
    CHECK_HEAP();
}
#endif

#if SHEAP_HARDENING >= 3
/* One write through a volatile pointer that must fault: true when it did,
 * at exactly that address. */
static bool write_faults(unsigned char *at)
{
    uintptr_t where = 0;
    sheap_board_expect_fault();
    *(volatile unsigned char *)at = 0x42;
    bool taken = sheap_board_fault_taken(&where);
    if (taken && where != (uintptr_t)at)
        printf("  fault at %p, expected %p\n", (void *)where, (void *)at);
    return taken && where == (uintptr_t)at;
}

/* Overflow by one byte and by a page past a guarded block. */
static void test_guard_page_overflow(void)
{
    if (!sheap_board_can_trap_faults())
        SKIP("this board cannot trap faults");
    static const size_t sizes[] = {96, 4096, 3 * 4096 + 16 * 5, 40000};
    for (unsigned k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        size_t n = sizes[k];
        sheap_guard_next(1);
        unsigned char *p = sheap_malloc(n);
        CHECK(p != NULL);
        CHECK_EQ((uintptr_t)p % 16, 0);
        CHECK_EQ(sheap_usable_size(p), n);
        memset(p, 0x33, n); /* every byte of the block is writable */
        CHECK_HEAP();
        CHECK(write_faults(p + n));            /* the bug: one byte past the end */
        CHECK(write_faults(p + n + PAGE - 1)); /* the bug: a page past the end */
        CHECK_EQ(p[n - 1], 0x33);
        CHECK_HEAP();
        /* A double free of it is still named. */
        hook_on();
        sheap_free(p);
        sheap_free(p);
        hook_off();
        CHECK_EQ(harness_faults, faults0 + 1);
        CHECK(msg_has("double free"));
        CHECK_HEAP();
    }
    /* The guard page went back to the free runs Prepared: a run that
     * covers it backs it again and can be written whole. */
    size_t big = 8 * PAGE + LARGE;
    unsigned char *q = sheap_malloc(big);
    CHECK(q != NULL);
    memset(q, 1, big);
    sheap_free(q);
    CHECK_HEAP();
}

/* Sampling: the n-th next malloc is the guarded one, and only it; realloc
 * moves a guarded block keeping its contents. */
static void test_guard_sampling(void)
{
    sheap_guard_next(3);
    void *a = sheap_malloc(48), *b = sheap_malloc(48), *c = sheap_malloc(48), *d = sheap_malloc(48);
    CHECK(a && b && c && d);
    struct sheap_stats st;
    sheap_stats(&st);
    CHECK_EQ(sheap_usable_size(c), 48);
    CHECK((uintptr_t)c % PAGE == PAGE - 48); /* ends at a page boundary */
    CHECK(sheap_usable_size(a) == sheap_usable_size(b) && (uintptr_t)a % PAGE != PAGE - 48);
#if SHEAP_OWNER_TAGS
    CHECK_EQ(sheap_owner_of(c), sheap_get_owner());
#endif
    memset(c, 7, 48);
    unsigned char *m = sheap_realloc(c, 64);
    CHECK(m != NULL && m != c && m[0] == 7 && m[47] == 7);
    sheap_free(a);
    sheap_free(b);
    sheap_free(m);
    sheap_free(d);
    CHECK_HEAP();
}
#endif

int main(void)
{
    RUN(test_double_free_small);
    RUN(test_double_free_large);
#if SHEAP_HARDENING >= 2
    RUN(test_write_after_free_scan);
    RUN(test_write_after_free_on_reuse);
    RUN(test_overflow_one_byte);
    RUN(test_quarantine_delays_reuse);
    RUN(test_random_slots);
#if SHEAP_HARDENING >= 3
    RUN(test_guard_page_overflow);
    RUN(test_guard_sampling);
#endif
#else
    printf("  level %d: writes after free and overflows are not caught (no poison; level 2 does)\n",
           SHEAP_HARDENING);
#endif
    return harness_finish("harden");
}
