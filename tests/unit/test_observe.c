/*
 * test_observe.c - the observability calls, on every board and flavour:
 * the heap report (largest free block, bytes by size class, resettable
 * peak and minimum-ever-free, fragmentation) checked against figures the
 * test keeps itself; sheap_dump's text; and, where the build has them
 * (SHEAP_HOOKS, SHEAP_OWNER_TAGS: the host's hard2 flavour and the boards'
 * hardened flavours), the trace and out-of-memory hooks and the owner tags
 * with the leak report by owner.  Builds without them check that the calls
 * say so (SHEAP_EINVAL, owner 0).
 */
#include <string.h>

#include "fault_backend.h"
#include "harness.h"
#include "sheap.h"
#include "sheap_internal.h"

#define PAGE SHEAP_PAGE_SIZE
/* Bytes of a large block (a page run) of k pages more than the largest class. */
#define LARGE(k) (((size_t)SHEAP_CLASS_MAX_SIZE + PAGE - 1) / PAGE * PAGE + (k) * PAGE)

static struct sheap_report report_now(void)
{
    struct sheap_report r;
    int rc = sheap_heap_report(NULL, &r);
    if (rc != 0)
        printf("  sheap_heap_report: %d\n", rc);
    return r;
}

/* Free bytes of small slots and live bytes of small blocks, from the walker. */
struct walk_sum {
    size_t free_small, live;
};

static int sum_fn(void *ptr, size_t size, bool used, void *ctx)
{
    (void)ptr;
    struct walk_sum *w = ctx;
    if (used)
        w->live += size;
    return 0;
}

static void test_report_matches_stats(void)
{
    void *p[40];
    for (unsigned i = 0; i < 40; i++)
        CHECK((p[i] = sheap_malloc(8 + 37 * i)) != NULL);
    void *big = sheap_malloc(LARGE(1));
    CHECK(big != NULL);
    for (unsigned i = 0; i < 40; i += 3)
        sheap_free(p[i]);
    struct sheap_stats st;
    sheap_stats(&st);
    struct sheap_report r = report_now();
    CHECK_EQ(r.live_bytes, st.live_bytes);
    CHECK_EQ(r.live_blocks, st.live_blocks);
    CHECK_EQ(r.peak_live_bytes, st.peak_live_bytes);
    CHECK_EQ(r.heap_bytes, st.arenas * SHEAP_ARENA_SIZE);
    CHECK_EQ(r.free_bytes, r.heap_bytes - r.live_bytes);
    CHECK_EQ(r.free_run_bytes, st.free_bytes);
    CHECK(r.largest_free_bytes <= r.free_run_bytes && r.largest_free_bytes % PAGE == 0);
    CHECK(r.min_free_bytes <= r.free_bytes);
    CHECK_EQ(r.nclasses, SHEAP_NUM_CLASSES);
    /* The class report adds up to the same figures. */
    struct sheap_class_report c[8];
    size_t used = 0, freeb = 0;
    for (unsigned first = 0; first < r.nclasses; first += 8) {
        int n = sheap_heap_class_report(NULL, first, c, 8);
        CHECK(n > 0 && n <= 8);
        for (int i = 0; i < n; i++) {
            CHECK_EQ(c[i].block_size, sheap_class_size[first + (unsigned)i]);
            used += c[i].used_bytes;
            freeb += c[i].free_bytes;
        }
    }
    CHECK_EQ(used + LARGE(1), r.live_bytes);
    CHECK_EQ(freeb, r.slot_free_bytes);
    struct walk_sum w = {0, 0};
    CHECK_EQ(sheap_walk(sum_fn, &w), 0);
    CHECK_EQ(w.live, r.live_bytes);
    /* Past the last class: nothing filled. */
    CHECK_EQ(sheap_heap_class_report(NULL, r.nclasses, c, 8), 0);
    CHECK_EQ(sheap_heap_class_report(NULL, r.nclasses - 2, c, 8), 2);
    for (unsigned i = 1; i < 40; i += 3)
        sheap_free(p[i]);
    sheap_free(big);
    CHECK_HEAP();
}

static void test_report_not_a_heap(void)
{
    struct sheap nothing;
    memset(&nothing, 0, sizeof(nothing));
    struct sheap_report r;
    r.live_bytes = 1;
    CHECK_EQ(sheap_heap_report(&nothing, &r), SHEAP_EINVAL);
    CHECK_EQ(r.live_bytes, 0);
    struct sheap_class_report c[2];
    CHECK_EQ(sheap_heap_class_report(&nothing, 0, c, 2), -SHEAP_EINVAL);
    sheap_heap_reset_peak(&nothing); /* does nothing */
    CHECK_EQ(sheap_heap_verify(&nothing), 0);
}

/* Peak and minimum-ever-free: the test keeps its own minimum of
 * heap_bytes - live_bytes after every step, growth included. */
static void test_peak_and_min_free(void)
{
    enum { N = 64 };
    static void *p[N];
    sheap_heap_reset_peak(NULL);
    struct sheap_report r = report_now();
    CHECK_EQ(r.peak_live_bytes, r.live_bytes);
    CHECK_EQ(r.min_free_bytes, r.free_bytes);
    size_t shadow_min = r.free_bytes, peak = r.live_bytes;
    /* Blocks from 1 KB to a quarter arena, so that the heap grows.  A
     * static board's heap may fill up first (a 192 KB part): the figures
     * are checked up to there. */
    size_t big = SHEAP_ARENA_SIZE / 4;
    unsigned full = 0;
    for (unsigned i = 0; i < N; i++) {
        size_t n = i % 8 == 7 ? big : 1024u << (i % 5);
        p[i] = sheap_malloc(n);
        if (p[i] == NULL) {
            full++;
            continue;
        }
        for (unsigned step = 0; step < 2; step++) {
            if (step == 1 && i % 3 == 2) {
                sheap_free(p[i - 1]);
                p[i - 1] = NULL;
            }
            r = report_now();
            if (r.free_bytes < shadow_min)
                shadow_min = r.free_bytes;
            if (r.live_bytes > peak)
                peak = r.live_bytes;
            CHECK_EQ(r.min_free_bytes, shadow_min);
            CHECK_EQ(r.peak_live_bytes, peak);
        }
    }
    struct sheap_stats st;
    sheap_stats(&st);
    if (full != 0 || st.grow_count < 2)
        printf("  note: the heap grew %u times, %u mallocs found it full (a static board's region)\n",
               (unsigned)st.grow_count, full);
    for (unsigned i = 0; i < N; i++)
        sheap_free(p[i]);
    r = report_now();
    CHECK_EQ(r.min_free_bytes, shadow_min); /* freeing does not raise it */
    CHECK_EQ(r.peak_live_bytes, peak);
    sheap_heap_reset_peak(NULL);
    r = report_now();
    CHECK_EQ(r.peak_live_bytes, r.live_bytes);
    CHECK_EQ(r.min_free_bytes, r.free_bytes);
    CHECK_HEAP();
}

/* Two free runs between live runs: the largest free block is at least the
 * bigger one (more where the free tail of the arena is bigger), and the
 * fragmentation figure is 1000 * (1 - largest / total). */
static void test_largest_free_and_fragmentation(void)
{
    sheap_trim();
    void *a = sheap_malloc(LARGE(2)), *b = sheap_malloc(LARGE(0)), *c = sheap_malloc(LARGE(5)),
         *d = sheap_malloc(LARGE(0));
    CHECK(a && b && c && d);
    struct sheap_report before = report_now();
    sheap_free(a);
    sheap_free(c);
    struct sheap_report r = report_now();
    CHECK_EQ(r.free_run_bytes, before.free_run_bytes + LARGE(2) + LARGE(5));
    CHECK(r.largest_free_bytes >= LARGE(5));
    CHECK(r.largest_free_bytes >= before.largest_free_bytes);
    CHECK_EQ(r.fragmentation,
             (unsigned)(1000u - (uint64_t)r.largest_free_bytes * 1000u / r.free_run_bytes));
    CHECK(r.fragmentation > 0 || r.largest_free_bytes == r.free_run_bytes);
    sheap_free(b);
    sheap_free(d);
    CHECK_HEAP();
}

/* sheap_dump: text through the given console, one call per line. */
static char dump_buf[16384];
static size_t dump_len;
static unsigned dump_calls;

static void dump_out(const char *s, size_t n)
{
    dump_calls++;
    if (dump_len + n < sizeof(dump_buf)) {
        memcpy(dump_buf + dump_len, s, n);
        dump_len += n;
        dump_buf[dump_len] = 0;
    }
}

static void test_dump(void)
{
    sheap_owner_t old = sheap_set_owner(7);
    void *p = sheap_malloc(48), *q = sheap_malloc(48), *big = sheap_malloc(LARGE(0));
    sheap_set_owner(old);
    CHECK(p && q && big);
    dump_len = 0;
    dump_calls = 0;
    sheap_dump(NULL, dump_out);
    CHECK(dump_calls >= 5);
    CHECK(strstr(dump_buf, "sheap heap \"default (test)\"") != NULL);
    char line[96];
    struct sheap_report r = report_now();
    /* (%lu: newlib-nano's printf has no %llu; sizes fit unsigned long on
     * every target here.) */
    snprintf(line, sizeof(line), "live %lu B in %lu blocks", (unsigned long)r.live_bytes,
             (unsigned long)r.live_blocks);
    CHECK(strstr(dump_buf, line) != NULL);
    snprintf(line, sizeof(line), "largest free block %lu B", (unsigned long)r.largest_free_bytes);
    CHECK(strstr(dump_buf, line) != NULL);
    /* The 48-byte class line: its class number, block size and used bytes. */
    unsigned cls = sheap_size_to_class8[(48 + 7) >> 3];
    snprintf(line, sizeof(line), "%7u%9u%9u", cls, (unsigned)sheap_class_size[cls], 2u * (unsigned)sheap_class_size[cls]);
    if (strstr(dump_buf, line) == NULL)
        printf("%s", dump_buf);
    CHECK(strstr(dump_buf, line) != NULL);
#if SHEAP_OWNER_TAGS
    snprintf(line, sizeof(line), "%7u%9u%9u", 7u, 3u, 2u * (unsigned)sheap_class_size[cls] + (unsigned)LARGE(0));
    CHECK(strstr(dump_buf, line) != NULL);
#endif
    CHECK(strstr(dump_buf, "check: ") != NULL);
    /* Not a heap, no console. */
    struct sheap nothing;
    memset(&nothing, 0, sizeof(nothing));
    dump_len = 0;
    sheap_dump(&nothing, dump_out);
    CHECK(strcmp(dump_buf, "sheap: no heap\n") == 0);
    sheap_dump(NULL, NULL);
    sheap_free(p);
    sheap_free(q);
    sheap_free(big);
    CHECK_HEAP();
}

/* ---- Hooks ------------------------------------------------------------------------ */

#if SHEAP_HOOKS
struct trace {
    unsigned allocs, frees, reallocs, ooms;
    void *last_p, *last_old;
    size_t last_asked, last_usable;
    struct sheap *last_heap;
    void *release; /* the oom hook frees this and asks for a retry */
};
static struct trace tr;

static void on_alloc(struct sheap *heap, void *p, size_t asked, size_t usable, void *ctx)
{
    CHECK(ctx == &tr);
    tr.allocs++;
    tr.last_heap = heap;
    tr.last_p = p;
    tr.last_asked = asked;
    tr.last_usable = usable;
}

static void on_free(struct sheap *heap, void *p, size_t usable, void *ctx)
{
    (void)ctx;
    tr.frees++;
    tr.last_heap = heap;
    tr.last_p = p;
    tr.last_usable = usable;
}

static void on_realloc(struct sheap *heap, void *old, void *p, size_t n, void *ctx)
{
    (void)ctx;
    tr.reallocs++;
    tr.last_heap = heap;
    tr.last_old = old;
    tr.last_p = p;
    tr.last_asked = n;
}

static int on_oom(struct sheap *heap, size_t n, size_t align, void *ctx)
{
    (void)heap, (void)align, (void)ctx;
    tr.ooms++;
    tr.last_asked = n;
    if (tr.release == NULL)
        return 0;
    sheap_free(tr.release); /* the hook may free; this is traced too */
    tr.release = NULL;
    return 1;
}

static void test_trace_hooks(void)
{
    memset(&tr, 0, sizeof(tr));
    struct sheap_hooks hk = {on_alloc, on_free, on_realloc, on_oom, &tr};
    CHECK_EQ(sheap_set_hooks(&hk), 0);
    struct sheap *dflt = sheap_default_heap();
    void *p = sheap_malloc(100);
    CHECK(p != NULL);
    CHECK_EQ(tr.allocs, 1);
    CHECK(tr.last_p == p && tr.last_asked == 100 && tr.last_usable == sheap_usable_size(p) && tr.last_heap == dflt);
    void *z = sheap_calloc(3, 10);
    CHECK_EQ(tr.allocs, 2);
    CHECK(tr.last_p == z && tr.last_asked == 30);
    void *al = sheap_aligned_alloc(256, 300);
    CHECK_EQ(tr.allocs, 3);
    CHECK(tr.last_p == al);
    void *pm = NULL;
    CHECK_EQ(sheap_posix_memalign(&pm, 64, 64), 0);
    CHECK_EQ(tr.allocs, 4);
    CHECK(tr.last_p == pm);
    /* In place (same class) and moved. */
    void *q = sheap_realloc(p, 101);
    CHECK(q == p);
    CHECK_EQ(tr.reallocs, 1);
    CHECK(tr.last_old == p && tr.last_p == p && tr.last_asked == 101);
    q = sheap_realloc(p, 5000);
    CHECK(q != NULL && q != p);
    CHECK_EQ(tr.reallocs, 2);
    CHECK(tr.last_old == p && tr.last_p == q);
    CHECK_EQ(tr.allocs, 4);
    CHECK_EQ(tr.frees, 0);
    /* realloc(NULL, n) is an alloc, realloc(p, 0) a free. */
    void *r0 = sheap_realloc(NULL, 16);
    CHECK_EQ(tr.allocs, 5);
    CHECK(sheap_realloc(r0, 0) == NULL);
    CHECK_EQ(tr.frees, 1);
    CHECK(tr.last_p == r0 && tr.last_usable == 16);
    /* Misuse is not traced. */
    unsigned faults = harness_faults;
    sheap_fault_hook old = sheap_set_fault_hook(harness_fault_hook);
    sheap_free(r0);
    sheap_set_fault_hook(old);
    CHECK_EQ(harness_faults, faults + 1);
    CHECK_EQ(tr.frees, 1);
    sheap_free(q);
    sheap_free(z);
    sheap_free(al);
    sheap_free(pm);
    CHECK_EQ(tr.frees, 5);
    CHECK_EQ(tr.ooms, 0);
    CHECK_EQ(sheap_set_hooks(NULL), 0);
    void *after = sheap_malloc(8);
    sheap_free(after);
    CHECK_EQ(tr.allocs, 5); /* hooks removed */
    CHECK_HEAP();
}

/* The oom hook frees a block and asks for one more try, which succeeds; a
 * hook that returns 0 lets the call fail. */
static void test_oom_hook_retry(void)
{
    memset(&tr, 0, sizeof(tr));
    struct sheap_hooks hk = {NULL, NULL, NULL, on_oom, &tr};
    CHECK_EQ(sheap_set_hooks(&hk), 0);
    size_t n = 16 * PAGE;
    void *a = sheap_malloc(n);
    CHECK(a != NULL);
    /* No more memory from the backend: neither address space nor backing. */
    sheap_fault_inject_all(SHEAP_OP_RESERVE, true);
    sheap_fault_inject_all(SHEAP_OP_MAP, true);
    sheap_fault_inject_all(SHEAP_OP_USED, true);
    tr.release = a;
    void *b = sheap_malloc(n);
    unsigned ooms1 = tr.ooms;
    void *c = sheap_malloc(n); /* the hook has nothing left to free */
    sheap_fault_inject_all(SHEAP_OP_RESERVE, false);
    sheap_fault_inject_all(SHEAP_OP_MAP, false);
    sheap_fault_inject_all(SHEAP_OP_USED, false);
    sheap_set_hooks(NULL);
    CHECK_EQ(ooms1, 1);
    CHECK(b != NULL); /* served from the pages a's free gave back */
    CHECK(tr.release == NULL);
    CHECK_EQ(tr.ooms, 2);
    CHECK(c == NULL);
    CHECK_EQ(tr.last_asked, n);
    sheap_free(b);
    CHECK_HEAP();
}
#else
static void test_hooks_compiled_out(void)
{
    struct sheap_hooks hk;
    memset(&hk, 0, sizeof(hk));
    CHECK_EQ(sheap_set_hooks(&hk), SHEAP_EINVAL);
    CHECK_EQ(sheap_set_hooks(NULL), SHEAP_EINVAL);
}
#endif

/* ---- Owner tags ---------------------------------------------------------------------- */

#if SHEAP_OWNER_TAGS
struct leak_list {
    void *seen[16];
    size_t sizes[16];
    unsigned n;
};

static int leak_fn(void *ptr, size_t size, bool used, void *ctx)
{
    struct leak_list *l = ctx;
    if (!used || l->n == 16)
        return 1;
    l->seen[l->n] = ptr;
    l->sizes[l->n++] = size;
    return 0;
}

/* A leak by owner: task 3 allocates six blocks (two of them large) and
 * frees three; task 4 allocates two.  The report by owner names exactly
 * task 3's three survivors. */
static void test_leak_by_owner(void)
{
    sheap_owner_t old = sheap_set_owner(3);
    CHECK_EQ(sheap_get_owner(), 3);
    void *t3[6] = {sheap_malloc(24), sheap_malloc(200), sheap_malloc(LARGE(0)), sheap_malloc(24),
                   sheap_malloc(LARGE(1)), sheap_calloc(1, 700)};
    sheap_set_owner(4);
    void *t4[2] = {sheap_malloc(24), sheap_malloc(64)};
    sheap_set_owner(old);
    for (unsigned i = 0; i < 6; i++)
        CHECK(t3[i] != NULL && sheap_owner_of(t3[i]) == 3);
    CHECK(sheap_owner_of(t4[0]) == 4 && sheap_owner_of(t4[1]) == 4);
    sheap_free(t3[0]);
    sheap_free(t3[2]);
    sheap_free(t3[5]);
    CHECK_EQ(sheap_owner_of(t3[0]), 0); /* freed: no owner */
    CHECK_EQ(sheap_owner_of((char *)t3[1] + 8), 0); /* interior: none */
    /* Usage by owner. */
    struct sheap_owner_usage u[16];
    CHECK_EQ(sheap_heap_owner_usage(NULL, 0, u, 16), 0);
    CHECK_EQ(u[3].blocks, 3);
    CHECK_EQ(u[3].bytes, sheap_usable_size(t3[1]) + sheap_usable_size(t3[3]) + sheap_usable_size(t3[4]));
    CHECK_EQ(u[4].blocks, 2);
    CHECK_EQ(sheap_heap_owner_usage(NULL, 250, u, 8), SHEAP_EINVAL); /* past 255 */
    CHECK_EQ(sheap_heap_owner_usage(NULL, 248, u, 8), 0);
    /* The leak report names the three survivors. */
    struct leak_list l;
    memset(&l, 0, sizeof(l));
    CHECK_EQ(sheap_heap_owner_walk(NULL, 3, leak_fn, &l), 0);
    CHECK_EQ(l.n, 3);
    unsigned found = 0;
    for (unsigned i = 0; i < l.n; i++) {
        for (unsigned k = 1; k < 5; k += (k == 1 ? 2 : 1))
            if (l.seen[i] == t3[k] && l.sizes[i] == sheap_usable_size(t3[k]))
                found |= 1u << k;
    }
    CHECK_EQ(found, (1u << 1) | (1u << 3) | (1u << 4));
    /* realloc in place keeps the owner; a moved block gets the current one. */
    sheap_set_owner(9);
    void *same = sheap_realloc(t3[1], 201);
    CHECK(same == t3[1]);
    CHECK_EQ(sheap_owner_of(same), 3);
    void *moved = sheap_realloc(t3[3], 3000);
    CHECK(moved != NULL);
    CHECK_EQ(sheap_owner_of(moved), 9);
    sheap_set_owner(old);
    sheap_free(same);
    sheap_free(moved);
    sheap_free(t3[4]);
    sheap_free(t4[0]);
    sheap_free(t4[1]);
    CHECK_EQ(sheap_heap_owner_usage(NULL, 0, u, 16), 0);
    CHECK_EQ(u[3].blocks + u[4].blocks + u[9].blocks, 0);
    CHECK_HEAP();
}
#else
static void test_owner_tags_compiled_out(void)
{
    sheap_owner_t old = sheap_set_owner(5);
    CHECK_EQ(sheap_get_owner(), 5);
    void *p = sheap_malloc(16);
    CHECK_EQ(sheap_owner_of(p), 0);
    struct sheap_owner_usage u[2];
    CHECK_EQ(sheap_heap_owner_usage(NULL, 0, u, 2), SHEAP_EINVAL);
    CHECK_EQ(sheap_heap_owner_walk(NULL, 5, NULL, NULL), -1);
    sheap_set_owner(old);
    sheap_free(p);
}
#endif

int main(void)
{
    RUN(test_report_matches_stats);
    RUN(test_report_not_a_heap);
    RUN(test_peak_and_min_free);
    RUN(test_largest_free_and_fragmentation);
    RUN(test_dump);
#if SHEAP_HOOKS
    RUN(test_trace_hooks);
    RUN(test_oom_hook_retry);
#else
    RUN(test_hooks_compiled_out);
#endif
#if SHEAP_OWNER_TAGS
    RUN(test_leak_by_owner);
#else
    RUN(test_owner_tags_compiled_out);
#endif
    return harness_finish("observe");
}
