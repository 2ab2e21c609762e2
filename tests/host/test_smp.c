/*
 * test_smp.c - the SMP core's remote frees, white box and deterministic,
 * host only.
 *
 * One thread plays several CPUs: sheap_hosted_set_cpu (sheap_hosted.h)
 * changes the CPU id the hosted SMP port reports, so a block allocated "on
 * CPU 0" and freed "on CPU 1" takes the remote-free path, and the tests
 * look at the span record between the steps: the pending bit, the span on
 * its owner's remote stack, the reclaim (by the owner's malloc slow path,
 * by sheap_check and the reports), double frees caught at each stage, and
 * statistics that add up across CPUs.  In a build without SHEAP_SMP the
 * suite says so and checks nothing.
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "sheap.h"
#include "../../port/hosted/sheap_hosted.h"
#include "sheap_internal.h"

#if SHEAP_SMP

/* The span and slot of live small block p. */
static struct sheap_span *slot_of(void *p, uintptr_t *slot)
{
    struct sheap_span *s = span_of((uintptr_t)p);
    *slot = (uintptr_t)(((uint64_t)((uintptr_t)p - s->base) * s->divmul) >> 32);
    return s;
}

static bool remote_pending(const struct sheap_span *s, uintptr_t slot)
{
    return (__atomic_load_n(&s->remote[slot / WORD_BITS], __ATOMIC_RELAXED) >> (slot % WORD_BITS)) & 1u;
}

static bool on_remote_stack(unsigned cpu, const struct sheap_span *s)
{
    for (const struct sheap_span *x = sheap_heap.cpu[cpu].remote_head; x != NULL; x = x->remote_next)
        if (x == s)
            return true;
    for (const struct sheap_span *x = sheap_heap.cpu[cpu].backlog; x != NULL; x = x->remote_next)
        if (x == s)
            return true;
    return false;
}

static void setup(void)
{
    sheap_set_fault_hook(harness_fault_hook);
    sheap_hosted_set_cpu(0);
    sheap_trim(); /* settles everything pending from earlier tests */
}

/* A block freed on another CPU: one bit in the span's remote map, the span
 * on its owner's stack, the block still allocated (and counted) until the
 * owner reclaims it; sheap_check reclaims it. */
static void test_remote_free_then_check(void)
{
    setup();
    struct sheap_stats s0 = stats_now();
    void *p = sheap_malloc(40);
    CHECK(p != NULL);
    uintptr_t slot;
    struct sheap_span *s = slot_of(p, &slot);
    CHECK_EQ(s->owner_cpu, 0);
    sheap_hosted_set_cpu(1);
    sheap_free(p);
    CHECK(remote_pending(s, slot));
    CHECK(!bit_get(s->freebits, slot)); /* still allocated for its owner */
    CHECK_EQ(s->remote_queued, 1);
    CHECK(on_remote_stack(0, s));
    CHECK_EQ(sheap_check(), 0); /* reclaims (every CPU lock held) */
    CHECK(!remote_pending(s, slot));
    CHECK(bit_get(s->freebits, slot));
    CHECK_EQ(s->remote_queued, 0);
    CHECK(!on_remote_stack(0, s));
    struct sheap_stats s1 = stats_now();
    CHECK_EQ(s1.live_bytes, s0.live_bytes);
    CHECK_EQ(s1.live_blocks, s0.live_blocks);
    CHECK_EQ(s1.misuse_count, s0.misuse_count);
    sheap_hosted_set_cpu(0);
}

/* A second free of a block whose remote free is pending: the fetch_or's
 * old bit says so, on any CPU, the owner's included; reported, nothing
 * changed. */
static void test_double_free_pending(void)
{
    setup();
    void *p = sheap_malloc(24);
    CHECK(p != NULL);
    uintptr_t slot;
    struct sheap_span *s = slot_of(p, &slot);
    sheap_hosted_set_cpu(2);
    sheap_free(p);
    unsigned f0 = harness_faults;
    struct sheap_stats m0 = stats_now(); /* reclaims: p is free now */
    CHECK(bit_get(s->freebits, slot));
    /* Pending again, then freed twice more: from another CPU and from the owner. */
    sheap_hosted_set_cpu(0);
    p = sheap_malloc(24);
    CHECK(p != NULL);
    s = slot_of(p, &slot);
    sheap_hosted_set_cpu(3);
    sheap_free(p);
    CHECK(remote_pending(s, slot));
    sheap_hosted_set_cpu(1);
    sheap_free(p); /* remote, bit already set */
    CHECK_EQ(harness_faults, f0 + 1);
    sheap_hosted_set_cpu(0);
    sheap_free(p); /* the owner: the remote bit makes the block not live */
    CHECK_EQ(harness_faults, f0 + 2);
#if SHEAP_HARDENING >= 1 /* level 0 names no cause (sheap.h) */
    CHECK(harness_last_fault != NULL && strstr(harness_last_fault, "double free") != NULL);
#endif
    CHECK(remote_pending(s, slot));
    CHECK(!bit_get(s->freebits, slot));
    CHECK_EQ(sheap_check(), 0);
    struct sheap_stats m1 = stats_now();
    CHECK_EQ(m1.misuse_count, m0.misuse_count + 2);
    CHECK_EQ(m1.live_blocks, m0.live_blocks);
    CHECK_EQ(m1.live_bytes, m0.live_bytes);
    /* A free of a reclaimed block from another CPU: its freebits bit. */
    sheap_hosted_set_cpu(2);
    sheap_free(p);
    CHECK_EQ(harness_faults, f0 + 3);
    CHECK(!remote_pending(s, slot));
    sheap_hosted_set_cpu(0);
    CHECK_EQ(sheap_check(), 0);
}

/* The race the fetch_or cannot see: the owner frees the block locally and
 * another CPU's free lands in the remote map after it read the block as
 * allocated.  Written here as its outcome (both the free bit and a pending
 * remote bit, the span queued): the owner's reclaim finds the slot free
 * and reports a double free, the heap stays consistent. */
static void test_double_free_race_caught_by_reclaim(void)
{
    setup();
    void *keep = sheap_malloc(56), *p = sheap_malloc(56);
    CHECK(keep != NULL && p != NULL);
    uintptr_t slot;
    struct sheap_span *s = slot_of(p, &slot);
    struct sheap_stats s0 = stats_now();
    unsigned f0 = harness_faults;
    sheap_free(p); /* the owner's free */
    /* ...and what remote_free did meanwhile on CPU 1: */
    __atomic_fetch_or(&s->remote[slot / WORD_BITS], (uintptr_t)1 << (slot % WORD_BITS), __ATOMIC_SEQ_CST);
    CHECK_EQ(__atomic_exchange_n(&s->remote_queued, 1u, __ATOMIC_SEQ_CST), 0);
    s->remote_next = sheap_heap.cpu[0].remote_head;
    sheap_heap.cpu[0].remote_head = s;
    CHECK_EQ(sheap_check(), 0); /* reclaim: reported, bit dropped */
    CHECK_EQ(harness_faults, f0 + 1);
    CHECK(strstr(harness_last_fault, "double free") != NULL);
    CHECK(!remote_pending(s, slot));
    CHECK(bit_get(s->freebits, slot));
    struct sheap_stats s1 = stats_now();
    CHECK_EQ(s1.misuse_count, s0.misuse_count + 1);
    CHECK_EQ(s1.live_blocks, s0.live_blocks - 1);
    sheap_free(keep);
    CHECK_HEAP();
}

/* The owner's malloc slow path reclaims before it takes a new span: a
 * span filled on CPU 0 and emptied by CPU 1 serves CPU 0's next malloc. */
static void test_reclaim_on_malloc_slow_path(void)
{
    setup();
    unsigned cls = 5;
    size_t n = sheap_class_size[cls];
    unsigned nelems = (unsigned)((sheap_class_npages[cls] << SHEAP_PAGE_SHIFT) / n);
    static void *blk[4096];
    CHECK(nelems <= 4096);
    /* Take blocks until a fresh span is full (the class's partial list is
     * then empty: the next malloc goes slow). */
    unsigned k = 0;
    struct sheap_span *s = NULL;
    for (;;) {
        blk[k] = sheap_malloc(n);
        CHECK(blk[k] != NULL);
        uintptr_t slot;
        struct sheap_span *x = slot_of(blk[k], &slot);
        k++;
        if (x->nfree == 0 && x->nelems == nelems) {
            s = x;
            break;
        }
        CHECK(k < 4096);
    }
    CHECK(sheap_heap.cpu[0].classes[cls].partial == NULL);
    uintptr_t spans = sheap_heap.c.spans[SPAN_SMALL];
    /* CPU 1 frees the blocks of s remotely. */
    sheap_hosted_set_cpu(1);
    unsigned freed = 0;
    for (unsigned i = 0; i < k; i++) {
        uintptr_t slot;
        if (slot_of(blk[i], &slot) == s) {
            sheap_free(blk[i]);
            blk[i] = NULL;
            freed++;
        }
    }
    CHECK_EQ(freed, nelems);
    CHECK_EQ(s->nfree, 0); /* nothing reclaimed yet */
    sheap_hosted_set_cpu(0);
    void *q = sheap_malloc(n);
    uintptr_t slot;
    CHECK(q != NULL && slot_of(q, &slot) == s); /* the reclaimed span served it */
    CHECK_EQ(sheap_heap.c.spans[SPAN_SMALL], spans);
    CHECK_EQ(s->nfree, nelems - 1);
    sheap_free(q);
    for (unsigned i = 0; i < k; i++)
        sheap_free(blk[i]);
    CHECK_HEAP();
}

/* A remote free in flight keeps its span: the owner's reclaim takes the
 * free's bit (set) before the free reaches the queued flag, and that bit
 * empties the span.  The owner must keep the span listed until the free
 * has pushed it, or the push would put a recycled record on the stack.
 * Written as the steps of remote_free around the owner's reclaim: the
 * in-flight count and the bit, then sheap_check (the reclaim), then the
 * compare-and-swap and the push; the next reclaim gives the span back. */
static void test_inflight_free_keeps_empty_span(void)
{
    setup();
    unsigned cls = 7;
    size_t n = sheap_class_size[cls];
    unsigned nelems = (unsigned)((sheap_class_npages[cls] << SHEAP_PAGE_SHIFT) / n);
    static void *blk[4096];
    CHECK(nelems <= 4096 && nelems >= 2);
    struct sheap_stats s0 = stats_now();
    unsigned f0 = harness_faults;
    /* Blocks until a span s is full, then one more: its span (another one,
     * with free slots) heads the class's partial list, so s, emptied, is
     * not kept as the head. */
    unsigned k = 0;
    struct sheap_span *s = NULL;
    uintptr_t slot;
    for (;;) {
        CHECK(k < 4096);
        blk[k] = sheap_malloc(n);
        CHECK(blk[k] != NULL);
        struct sheap_span *x = slot_of(blk[k++], &slot);
        if (x->nfree == 0 && x->nelems == nelems) {
            s = x;
            break;
        }
    }
    CHECK(k < 4096);
    blk[k] = sheap_malloc(n);
    CHECK(blk[k] != NULL && slot_of(blk[k++], &slot) != s);
    struct sheap_class *c = &sheap_heap.cpu[0].classes[cls];
    CHECK(c->partial != NULL && c->partial != s);
    /* CPU 1 frees all blocks of s but one, which it is still freeing. */
    sheap_hosted_set_cpu(1);
    void *last = NULL;
    for (unsigned i = 0; i < k; i++) {
        if (slot_of(blk[i], &slot) != s)
            continue;
        if (last == NULL)
            last = blk[i];
        else
            sheap_free(blk[i]);
        blk[i] = NULL;
    }
    CHECK(on_remote_stack(0, s));
    slot_of(last, &slot);
    __atomic_fetch_add(&s->remote_queued, REMOTE_IN_FLIGHT, __ATOMIC_SEQ_CST);
    __atomic_fetch_or(&s->remote[slot / WORD_BITS], (uintptr_t)1 << (slot % WORD_BITS), __ATOMIC_SEQ_CST);
    /* The owner reclaims all of it: s is empty, and stays listed. */
    sheap_hosted_set_cpu(0);
    CHECK_EQ(sheap_check(), 0);
    CHECK_EQ(s->nfree, nelems);
    CHECK_EQ(s->state, SPAN_SMALL);
    CHECK_EQ(s->class_list, CLASS_LIST_PARTIAL);
    CHECK_EQ(s->remote_queued, REMOTE_IN_FLIGHT);
    CHECK(!on_remote_stack(0, s));
    /* The free goes on: the flag was clear, so it pushes s. */
    uint32_t q = REMOTE_IN_FLIGHT;
    CHECK(__atomic_compare_exchange_n(&s->remote_queued, &q, REMOTE_QUEUED, false, __ATOMIC_SEQ_CST,
                                      __ATOMIC_SEQ_CST));
    s->remote_next = sheap_heap.cpu[0].remote_head;
    sheap_heap.cpu[0].remote_head = s;
    /* The next reclaim finds nothing to take and gives the empty span up
     * (stashed or back to the page heap): off the partial list. */
    CHECK_EQ(sheap_check(), 0);
    CHECK(!on_remote_stack(0, s));
    CHECK_EQ(s->remote_queued, 0);
    CHECK(s->state != SPAN_SMALL || s->class_list != CLASS_LIST_PARTIAL);
    for (unsigned i = 0; i < k; i++)
        sheap_free(blk[i]);
    struct sheap_stats s1 = stats_now();
    CHECK_EQ(s1.live_blocks, s0.live_blocks);
    CHECK_EQ(s1.live_bytes, s0.live_bytes);
    CHECK_EQ(s1.misuse_count, s0.misuse_count);
    CHECK_EQ(harness_faults, f0);
    CHECK_HEAP();
}

/* sheap_usable_size and realloc of a small block on a CPU that does not
 * own its span: the size found under that CPU's lock alone; a realloc in
 * the class keeps the block, one to another class moves it (the old block
 * then a remote free); a block freed remotely and not yet reclaimed, or
 * freed already, is refused and reported as on one CPU. */
static void test_usable_and_realloc_elsewhere(void)
{
    setup();
    struct sheap_stats s0 = stats_now();
    unsigned f0 = harness_faults;
    char *p = sheap_malloc(40);
    CHECK(p != NULL);
    memset(p, 0x6b, 40);
    uintptr_t slot;
    struct sheap_span *s = slot_of(p, &slot);
    CHECK_EQ(s->owner_cpu, 0);
    size_t cls_size = s->elem_size;
    sheap_hosted_set_cpu(2);
    CHECK_EQ(sheap_usable_size(p), cls_size);
    CHECK(sheap_realloc(p, cls_size) == p); /* the same class */
    char *q = sheap_realloc(p, 3 * cls_size);
    CHECK(q != NULL && q != p);
    CHECK(q[0] == 0x6b && q[39] == 0x6b);
    uintptr_t qslot;
    CHECK_EQ(slot_of(q, &qslot)->owner_cpu, 2); /* allocated on this CPU */
    CHECK(remote_pending(s, slot)); /* p went back as a remote free */
    /* p is not live: pending, then reclaimed. */
    CHECK_EQ(sheap_usable_size(p), 0);
    CHECK_EQ(harness_faults, f0 + 1);
    CHECK(sheap_realloc(p, 8) == NULL);
    CHECK_EQ(harness_faults, f0 + 2);
    sheap_hosted_set_cpu(0);
    CHECK_EQ(sheap_check(), 0); /* reclaims */
    sheap_hosted_set_cpu(1);
    CHECK_EQ(sheap_usable_size(p), 0);
    CHECK_EQ(harness_faults, f0 + 3);
    CHECK_EQ(sheap_usable_size(q), slot_of(q, &qslot)->elem_size);
    sheap_free(q);
    sheap_hosted_set_cpu(0);
    struct sheap_stats s1 = stats_now();
    CHECK_EQ(s1.live_blocks, s0.live_blocks);
    CHECK_EQ(s1.live_bytes, s0.live_bytes);
    CHECK_EQ(s1.misuse_count, s0.misuse_count + 3);
    CHECK_HEAP();
}

/* Reclaim is bounded per slow-path call: SMP_RECLAIM_BATCH spans (4). */
static void test_reclaim_bounded(void)
{
    setup();
    enum { SPANS = 10 };
    void *blk[SPANS];
    unsigned cls[SPANS];
    /* One block in each of SPANS classes (a span each), freed remotely. */
    for (unsigned i = 0; i < SPANS; i++) {
        cls[i] = 3 + 2 * i;
        blk[i] = sheap_malloc(sheap_class_size[cls[i]]);
        CHECK(blk[i] != NULL);
    }
    sheap_hosted_set_cpu(1);
    for (unsigned i = 0; i < SPANS; i++)
        sheap_free(blk[i]);
    sheap_hosted_set_cpu(0);
    unsigned queued = 0;
    for (const struct sheap_span *x = sheap_heap.cpu[0].remote_head; x != NULL; x = x->remote_next)
        queued++;
    CHECK_EQ(queued, SPANS);
    /* A malloc of a class with no partial span on CPU 0: the slow path. */
    unsigned big = SHEAP_NUM_CLASSES - 1;
    CHECK(sheap_heap.cpu[0].classes[big].partial == NULL);
    void *q = sheap_malloc(sheap_class_size[big]);
    CHECK(q != NULL);
    unsigned left = 0;
    for (const struct sheap_span *x = sheap_heap.cpu[0].backlog; x != NULL; x = x->remote_next)
        left++;
    CHECK(sheap_heap.cpu[0].remote_head == NULL);
    CHECK_EQ(left, SPANS - 4);
    sheap_free(q);
    CHECK_HEAP(); /* the rest */
    CHECK(sheap_heap.cpu[0].backlog == NULL);
}

/* Live figures per CPU add up: blocks allocated on four CPUs, some freed
 * locally, some remotely, the report exact at each quiescent point. */
static void test_stats_add_up(void)
{
    setup();
    struct sheap_stats s0 = stats_now();
    enum { N = 64 };
    void *p[N];
    size_t live = 0;
    for (unsigned i = 0; i < N; i++) {
        sheap_hosted_set_cpu(i % 4);
        p[i] = sheap_malloc(8 + 24 * i);
        CHECK(p[i] != NULL);
        live += sheap_usable_size(p[i]);
    }
    struct sheap_stats s1 = stats_now();
    CHECK_EQ(s1.live_bytes, s0.live_bytes + live);
    CHECK_EQ(s1.live_blocks, s0.live_blocks + N);
    CHECK(s1.peak_live_bytes >= s1.live_bytes);
    for (unsigned i = 0; i < N; i += 2) {
        sheap_hosted_set_cpu((i / 2) % 4); /* local for some, remote for others */
        live -= sheap_usable_size(p[i]);
        sheap_free(p[i]);
    }
    sheap_hosted_set_cpu(0);
    struct sheap_stats s2 = stats_now();
    CHECK_EQ(s2.live_bytes, s0.live_bytes + live);
    CHECK_EQ(s2.live_blocks, s0.live_blocks + N / 2);
    struct sheap_report r;
    CHECK_EQ(sheap_heap_report(NULL, &r), 0);
    CHECK_EQ(r.live_bytes, s2.live_bytes);
    CHECK_EQ(r.live_blocks, s2.live_blocks);
    for (unsigned i = 1; i < N; i += 2) {
        sheap_hosted_set_cpu(3 - i % 4);
        sheap_free(p[i]);
    }
    sheap_hosted_set_cpu(0);
    struct sheap_stats s3 = stats_now();
    CHECK_EQ(s3.live_bytes, s0.live_bytes);
    CHECK_EQ(s3.live_blocks, s0.live_blocks);
    CHECK_HEAP();
}

/* Trim after remote frees: every CPU's kept spans go back, none pending. */
static void test_trim_reclaims(void)
{
    setup();
    void *p[16];
    for (unsigned i = 0; i < 16; i++) {
        sheap_hosted_set_cpu(i % 4);
        p[i] = sheap_malloc(200);
        CHECK(p[i] != NULL);
    }
    for (unsigned i = 0; i < 16; i++) {
        sheap_hosted_set_cpu((i + 1) % 4);
        sheap_free(p[i]);
    }
    sheap_hosted_set_cpu(0);
    sheap_trim();
    struct sheap_stats s = stats_now();
    CHECK_EQ(s.spans_small, 0);
    for (unsigned c = 0; c < SHEAP_MAX_CPUS; c++)
        CHECK(sheap_heap.cpu[c].remote_head == NULL && sheap_heap.cpu[c].backlog == NULL);
    CHECK_HEAP();
}

/* A handler's sheap_isr_enter counts on its own CPU only: a thread on
 * another CPU is no interrupt context (it may still grow the heap). */
static void test_isr_depth_per_cpu(void)
{
    setup();
    sheap_hosted_set_cpu(1);
    sheap_isr_enter();
    CHECK_EQ(sheap_cpu_locks[1].isr_depth, 1);
    CHECK_EQ(sheap_cpu_locks[0].isr_depth, 0);
    sheap_hosted_set_cpu(0);
    /* CPU 0 grows: a block larger than everything free. */
    struct sheap_stats s0 = stats_now();
    void *big = sheap_malloc((size_t)s0.free_bytes + ((size_t)8 << 20));
    CHECK(big != NULL);
    sheap_free(big);
    sheap_hosted_set_cpu(1);
    sheap_isr_exit();
    CHECK_EQ(sheap_cpu_locks[1].isr_depth, 0);
    sheap_hosted_set_cpu(0);
    CHECK_HEAP();
}

int main(void)
{
    RUN(test_isr_depth_per_cpu);
    RUN(test_remote_free_then_check);
    RUN(test_double_free_pending);
    RUN(test_double_free_race_caught_by_reclaim);
    RUN(test_reclaim_on_malloc_slow_path);
    RUN(test_inflight_free_keeps_empty_span);
    RUN(test_usable_and_realloc_elsewhere);
    RUN(test_reclaim_bounded);
    RUN(test_stats_add_up);
    RUN(test_trim_reclaims);
    return harness_finish("smp");
}

#else

int main(void)
{
    printf("  SHEAP_SMP=0: no per-CPU caches to test (the smp flavour runs this)\n");
    return harness_finish("smp");
}

#endif
