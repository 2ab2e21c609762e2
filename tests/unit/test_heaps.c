/*
 * test_heaps.c - several heaps at once: creation and destruction, bad
 * input, placement by capability and fallback along the firmware's order,
 * per-heap and total statistics, free/realloc/usable_size of any heap's
 * block through the plain calls, one heap exhausted while the others work,
 * the per-heap forms of every call, and a walk of one heap refusing calls
 * into every heap from its callback.
 *
 * Two heaps take part in every test: the default heap (re-created here with
 * caps EXTERNAL, order 1) and a second heap "fast" (caps FAST | DMA, order
 * 0).  The second heap's memory depends on the board:
 *   - a static-port board that names a second memory (BOARD_HEAP2_*, e.g.
 *     on-chip SRAM beside the PSRAM default heap on mps2-an385/an505): a
 *     static region instance (sheap_static.h) over it;
 *   - a static-port board without one: the tests are skipped (SKIP);
 *   - an MMU board (SHEAP_TEST_MMU2_*: qemu-virt-aarch64, qemu-virt-riscv64):
 *     an MMU backend instance of its own on the firmware's tables, with its
 *     own VA window and its own 8 MB frame pool; the tests also show the
 *     fast heap's pages come from that pool, the default heap's never do,
 *     that the pool runs out by itself, and that destroy gives back every
 *     frame and table page (the instance can then be finalised);
 *   - the host: the port's default backend, which hands out any part of a
 *     large address space.
 * Either way the second backend is wrapped in a fault backend
 * (fault_backend.h), which counts what is reserved (destroy must give it
 * all back) and, where memory is plentiful, fails reserve and used so the
 * heap can be exhausted quickly.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "sheap.h"
#include "sheap_board.h"
#include "sheap_internal.h"
#include "sheap_port.h"

#define HEAP2_STATIC 0
#define HEAP2_MMU 0
#define HEAP2_AVAILABLE 1
#if defined(BOARD_HEAP2_BASE)
#include "../../port/static/sheap_static.h"
#undef HEAP2_STATIC
#define HEAP2_STATIC 1
#elif defined(SHEAP_STATIC_META_SIZE)
#undef HEAP2_AVAILABLE
#define HEAP2_AVAILABLE 0 /* a static board with one memory */
#elif defined(SHEAP_TEST_MMU2_WINDOW_BASE)
#include "boot_mmu.h"
#include "sheap_mmu.h"
#undef HEAP2_MMU
#define HEAP2_MMU 1
#endif
/* The second memory runs out by itself (no injected failures needed). */
#define HEAP2_BOUNDED (HEAP2_STATIC || HEAP2_MMU)

#define U(x) ((unsigned long long)(x))
#define EXT_CAPS SHEAP_CAP_EXTERNAL
#define FAST_CAPS (SHEAP_CAP_FAST | SHEAP_CAP_DMA)

static struct sheap fast;
static struct fault_backend fast_fb;
#if HEAP2_STATIC
static struct sheap_static_region sram;
#endif
#if HEAP2_MMU
/* The fast heap's MMU instance: its own window and frame pool on the
 * firmware's root table (only this instance holds them while it lives). */
static struct sheap_mmu mmu2;
static struct sheap_backend mmu2_backend;
static bool mmu2_live;
static const struct sheap_mmu_frame_range mmu2_frames[] = {
    {SHEAP_TEST_MMU2_FRAMES_BASE, SHEAP_TEST_MMU2_FRAMES_SIZE},
};

/* The instance's configuration on the running regime; 0 or the
 * sheap_mmu_read_regime error. */
static int mmu2_config(struct sheap_mmu_config *c)
{
    *c = (struct sheap_mmu_config){
        .window_base = SHEAP_TEST_MMU2_WINDOW_BASE,
        .window_size = SHEAP_TEST_MMU2_WINDOW_SIZE,
        .frames = mmu2_frames,
        .nframes = 1,
        .leaf_attrs = SHEAP_MMU_LEAF_ATTRS,
    };
    return sheap_mmu_read_regime(&c->root, &c->va_bits, &c->pa_bits);
}

static int mmu2_init(void)
{
    struct sheap_mmu_config c;
    int r = mmu2_config(&c);
    if (r == SHEAP_MMU_OK)
        r = sheap_mmu_backend_init(&mmu2, &c, &mmu2_backend);
    mmu2_live = r == SHEAP_MMU_OK;
    return r;
}

static struct sheap_frame_stats mmu2_stats(void)
{
    struct sheap_frame_stats f;
    heap_lock();
    sheap_mmu_stats(&mmu2, &f);
    heap_unlock();
    return f;
}

/* The frame backing p in the fast heap's pool (0: not Ready there). */
static uintptr_t mmu2_frame_of(const void *p)
{
    heap_lock();
    uintptr_t pa = sheap_mmu_translate(&mmu2, (uintptr_t)p);
    heap_unlock();
    return pa;
}

static bool in_mmu2_pool(uintptr_t pa)
{
    return pa >= SHEAP_TEST_MMU2_FRAMES_BASE && pa < SHEAP_TEST_MMU2_FRAMES_BASE + SHEAP_TEST_MMU2_FRAMES_SIZE;
}
#endif

/* The second memory's backend (made once), wrapped afresh for each test. */
static const struct sheap_backend *heap2_backend(void)
{
#if HEAP2_MMU
    if (!mmu2_live) {
        int r = mmu2_init();
        if (r != SHEAP_MMU_OK) {
            printf("  sheap_mmu_backend_init: %d\n", r);
            return NULL;
        }
    }
    return &mmu2_backend;
#elif HEAP2_STATIC
    if (sram.backend.ops == NULL) {
        int r = sheap_static_region_init(&sram, BOARD_HEAP2_BASE, BOARD_HEAP2_SIZE, BOARD_HEAP2_META_BASE,
                                         BOARD_HEAP2_META_SIZE);
        if (r != 0) {
            printf("  sheap_static_region_init: %d\n", r);
            return NULL;
        }
    }
    return &sram.backend;
#else
    return sheap_port_default_backend();
#endif
}

/* The default heap again with caps EXTERNAL and order 1 (on the harness's
 * fault backend), and the fast heap beside it.  0 on success. */
static int two_heaps(void)
{
    static const uintptr_t hints[] = SHEAP_ARENA_HINTS;
    sheap_heap_destroy(&fast); /* left over by a failed test, if any */
    if (harness_release_heap() != 0)
        return -1;
    fault_backend_init(&harness_fault_backend, sheap_port_default_backend());
    struct sheap_config dcfg = {
        .backend = &harness_fault_backend.backend,
        .caps = EXT_CAPS,
        .name = "ext",
        .order = 1,
        .hints = hints,
        .nhints = sizeof(hints) / sizeof(hints[0]),
    };
    if (sheap_default_heap_create(&dcfg) != 0)
        return -2;
    const struct sheap_backend *b = heap2_backend();
    if (b == NULL)
        return -3;
    fault_backend_init(&fast_fb, b);
    struct sheap_config fcfg = {.backend = &fast_fb.backend, .caps = FAST_CAPS, .name = "fast", .order = 0};
    return sheap_heap_create(&fast, &fcfg) != 0 ? -4 : 0;
}

/* Destroy the fast heap; true when its backend got everything back. */
static bool fast_gone(void)
{
    if (sheap_heap_destroy(&fast) != 0)
        return false;
    if (fast_fb.reserved_bytes != 0)
        printf("  fast heap destroyed with %llu bytes still reserved\n", U(fast_fb.reserved_bytes));
#if HEAP2_MMU
    /* Every frame of the pool is free again, no table page is left. */
    struct sheap_frame_stats f = mmu2_stats();
    if (f.heap_pages != 0 || f.table_pages != 0 || f.free != f.total) {
        printf("  fast heap destroyed with %llu heap and %llu table frames in use\n", U(f.heap_pages),
               U(f.table_pages));
        return false;
    }
#endif
    return fast_fb.reserved_bytes == 0;
}

#define SETUP()                                                                                    \
    do {                                                                                           \
        if (!HEAP2_AVAILABLE)                                                                      \
            SKIP("this board has no second memory for a heap");                                    \
        int r2_ = two_heaps();                                                                     \
        if (r2_ != 0)                                                                              \
            printf("  two_heaps: %d\n", r2_);                                                      \
        CHECK_EQ(r2_, 0);                                                                          \
    } while (0)

#define TEARDOWN()                                                                                 \
    do {                                                                                           \
        CHECK_EQ(sheap_heap_check(&fast), 0);                                                      \
        CHECK_HEAP();                                                                              \
        CHECK(fast_gone());                                                                        \
    } while (0)

/* Fill heap h with blocks of sz until it fails; the blocks go to out[]. */
#define MAXBLK 2048
static void *blocks[MAXBLK];
static unsigned nblocks;

static void exhaust(struct sheap *h, struct fault_backend *fb, size_t sz)
{
    nblocks = 0;
    /* Where memory is plentiful (the host; the default heap anywhere) the
     * backend stops giving more: no reservation, no backing.  A static
     * region or an MMU instance's frame pool runs out by itself. */
    if (!HEAP2_BOUNDED || h != &fast) {
        while (nblocks < 16 && (blocks[nblocks] = sheap_heap_malloc(h, sz)) != NULL)
            nblocks++;
        fb->fail_all[SHEAP_OP_RESERVE] = true;
        fb->fail_all[SHEAP_OP_USED] = true;
    }
    while (nblocks < MAXBLK && (blocks[nblocks] = sheap_heap_malloc(h, sz)) != NULL)
        nblocks++;
}

static void unexhaust(struct fault_backend *fb)
{
    while (nblocks > 0)
        sheap_free(blocks[--nblocks]);
    fb->fail_all[SHEAP_OP_RESERVE] = false;
    fb->fail_all[SHEAP_OP_USED] = false;
}

/* ---- tests ------------------------------------------------------------------------ */

static int dummy_reserve(void *c, uintptr_t h, uintptr_t n, uintptr_t *o)
{
    (void)c, (void)h, (void)n, (void)o;
    return SHEAP_BACKEND_ENOMEM;
}

static void test_bad_input(void)
{
    SETUP();
    struct sheap_stats t0;
    sheap_stats_total(&t0);
    struct sheap h2;
    memset(&h2, 0, sizeof(h2));
    /* No backend, incomplete ops, bad page sizes, bad hints, bad 32-bit sizes. */
    struct sheap_backend_ops half = {.reserve = dummy_reserve};
    struct sheap_backend bhalf = {&half, NULL, SHEAP_PAGE_SIZE, false};
    struct sheap_backend b0 = fast_fb.backend, b3 = fast_fb.backend, bbig = fast_fb.backend;
    b0.page_size = 0;
    b3.page_size = 3 * 1024;
    bbig.page_size = SHEAP_PAGE_SIZE * 2;
    uintptr_t hint = 0;
    const struct sheap_config bad[] = {
        {.backend = NULL},
        {.backend = &bhalf},
        {.backend = &b0},
        {.backend = &b3},
        {.backend = &bbig},
        {.backend = &fast_fb.backend, .hints = NULL, .nhints = 1},
        {.backend = &fast_fb.backend, .hints = &hint, .nhints = SHEAP_MAX_HINTS + 1},
        {.backend = &fast_fb.backend, .region_size = SHEAP_ARENA_SIZE + SHEAP_PAGE_SIZE},
        {.backend = &fast_fb.backend, .initial_reserve = SHEAP_PAGE_SIZE},
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = sheap_heap_create(&h2, &bad[i]);
        if (r != SHEAP_EINVAL)
            printf("  bad config %u: %d\n", i, r);
        CHECK_EQ(r, SHEAP_EINVAL);
    }
    CHECK_EQ(sheap_heap_create(NULL, &bad[0]), SHEAP_EINVAL);
    /* A live heap cannot be created again; the default heap exists. */
    struct sheap_config ok = {.backend = &fast_fb.backend, .caps = FAST_CAPS};
    CHECK_EQ(sheap_heap_create(&fast, &ok), SHEAP_EBUSY);
    CHECK_EQ(sheap_default_heap_create(&ok), SHEAP_EBUSY);
    /* Storage that is no heap: every per-heap call refuses it. */
    CHECK_EQ(sheap_heap_destroy(&h2), SHEAP_EINVAL);
    errno = 0;
    CHECK(sheap_heap_malloc(&h2, 16) == NULL);
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK(sheap_heap_calloc(&h2, 2, 16) == NULL);
    CHECK_EQ(errno, EINVAL);
    CHECK(sheap_heap_aligned_alloc(&h2, 64, 16) == NULL);
    void *out = &h2;
    CHECK_EQ(sheap_heap_posix_memalign(&h2, &out, 64, 16), SHEAP_EINVAL);
    CHECK(out == &h2);
    CHECK_EQ(sheap_heap_check(&h2), SHEAP_CHECK_INDEX);
    CHECK_EQ(sheap_heap_trim(&h2), 0);
    CHECK(sheap_heap_name(&h2) == NULL && sheap_heap_caps(&h2) == 0);
    /* Capabilities no heap has, and a bad alignment: EINVAL. */
    errno = 0;
    CHECK(sheap_malloc_caps(SHEAP_CAP_USER(3), 16) == NULL);
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK(sheap_malloc_caps(SHEAP_CAP_FAST | SHEAP_CAP_EXTERNAL, 16) == NULL);
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK(sheap_aligned_alloc_caps(FAST_CAPS, 48, 16) == NULL);
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK(sheap_calloc_caps(FAST_CAPS, SIZE_MAX / 2, 4) == NULL);
    CHECK_EQ(errno, ENOMEM);
#if HEAP2_STATIC
    /* A region already owned (the second memory, the default region, their
     * pools), overlapping ranges, zero and misaligned sizes. */
    static struct sheap_static_region r3;
    struct sheap_static_info di;
    sheap_static_info(&di);
    CHECK_EQ(sheap_static_region_init(&r3, BOARD_HEAP2_BASE, BOARD_HEAP2_SIZE, BOARD_HEAP2_META_BASE,
                                      BOARD_HEAP2_META_SIZE), SHEAP_EBUSY);
    CHECK_EQ(sheap_static_region_init(&r3, di.region_base, SHEAP_ARENA_SIZE, BOARD_HEAP2_META_BASE,
                                      SHEAP_PAGE_SIZE), SHEAP_EBUSY);
    CHECK_EQ(sheap_static_region_init(&sram, BOARD_HEAP2_BASE, BOARD_HEAP2_SIZE, BOARD_HEAP2_META_BASE,
                                      BOARD_HEAP2_META_SIZE), SHEAP_EBUSY);
    CHECK_EQ(sheap_static_region_init(&r3, BOARD_HEAP2_BASE, 0, BOARD_HEAP2_META_BASE, SHEAP_PAGE_SIZE),
             SHEAP_EINVAL);
    CHECK_EQ(sheap_static_region_init(&r3, BOARD_HEAP2_BASE + SHEAP_PAGE_SIZE, SHEAP_ARENA_SIZE,
                                      BOARD_HEAP2_META_BASE, SHEAP_PAGE_SIZE), SHEAP_EINVAL);
    CHECK_EQ(sheap_static_region_init(&r3, BOARD_HEAP2_BASE, SHEAP_ARENA_SIZE, BOARD_HEAP2_META_BASE, 100),
             SHEAP_EINVAL);
    CHECK_EQ(sheap_static_region_init(&r3, BOARD_HEAP2_BASE, SHEAP_ARENA_SIZE, BOARD_HEAP2_BASE,
                                      SHEAP_PAGE_SIZE), SHEAP_EINVAL);
#endif
#if HEAP2_MMU
    /* The fast heap's window and frames are owned: a second instance over
     * either is refused, and the default instance is untouched. */
    static struct sheap_mmu m3;
    struct sheap_backend b3m;
    struct sheap_mmu_config c3;
    CHECK_EQ(mmu2_config(&c3), SHEAP_MMU_OK);
    CHECK_EQ(sheap_mmu_backend_init(&m3, &c3, &b3m), SHEAP_MMU_EBUSY);
    c3.window_base = SHEAP_MMU_WINDOW_BASE; /* the default heap's window */
    c3.window_size = SHEAP_TEST_MMU2_WINDOW_SIZE;
    CHECK_EQ(sheap_mmu_backend_init(&m3, &c3, &b3m), SHEAP_MMU_EBUSY);
#endif
    /* Nothing changed but the oom count of the calloc overflow. */
    struct sheap_stats t1;
    sheap_stats_total(&t1);
    t0.oom_count = t1.oom_count;
    CHECK(stats_same(&t0, &t1));
    TEARDOWN();
}

static void test_placement_by_caps(void)
{
    SETUP();
    CHECK(sheap_heap_of(NULL) == NULL);
    CHECK(strcmp(sheap_heap_name(&fast), "fast") == 0);
    CHECK_EQ(sheap_heap_caps(&fast), FAST_CAPS);
    CHECK_EQ(sheap_heap_caps(sheap_default_heap()), EXT_CAPS);
    void *f = sheap_malloc_caps(SHEAP_CAP_DMA, 100);
    void *e = sheap_malloc_caps(SHEAP_CAP_EXTERNAL, 100);
    void *any = sheap_malloc_caps(0, 100); /* the first heap in order: fast */
    void *z = sheap_calloc_caps(SHEAP_CAP_FAST, 10, 30);
    void *a = sheap_aligned_alloc_caps(SHEAP_CAP_EXTERNAL, 4096, 5000);
    void *big = sheap_malloc_caps(FAST_CAPS, 3 * SHEAP_PAGE_SIZE);
    void *plain = sheap_malloc(100); /* the default heap, whatever its caps */
    CHECK(f && e && any && z && a && big && plain);
    CHECK(sheap_heap_of(f) == &fast);
    CHECK(sheap_heap_of(any) == &fast);
    CHECK(sheap_heap_of(z) == &fast);
    CHECK(sheap_heap_of(big) == &fast);
    CHECK(sheap_heap_of(e) == sheap_default_heap());
    CHECK(sheap_heap_of(a) == sheap_default_heap());
    CHECK(sheap_heap_of(plain) == sheap_default_heap());
    CHECK_EQ((uintptr_t)a & 4095, 0);
#if HEAP2_MMU
    /* The fast heap's pages come from its own frame pool, the default
     * heap's never do. */
    CHECK(in_mmu2_pool(mmu2_frame_of(f)) && in_mmu2_pool(mmu2_frame_of(big)));
    CHECK(mmu2_frame_of(e) == 0 && mmu2_frame_of(plain) == 0);
#endif
    for (unsigned i = 0; i < 300; i++)
        CHECK_EQ(((unsigned char *)z)[i], 0);
    /* Per-heap forms place in the named heap, whatever the caps. */
    void *pf = sheap_heap_malloc(&fast, 24), *pz = sheap_heap_calloc(&fast, 3, 8);
    void *pa = sheap_heap_aligned_alloc(&fast, 256, 24), *pm = NULL;
    CHECK_EQ(sheap_heap_posix_memalign(&fast, &pm, 64, 40), 0);
    CHECK(pf && pz && pa && pm);
    CHECK(sheap_heap_of(pf) == &fast && sheap_heap_of(pz) == &fast && sheap_heap_of(pa) == &fast &&
          sheap_heap_of(pm) == &fast);
    CHECK_EQ((uintptr_t)pa & 255, 0);
    CHECK_EQ((uintptr_t)pm & 63, 0);
    void *all[] = {f, e, any, z, a, big, plain, pf, pz, pa, pm};
    for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        sheap_free(all[i]);
    TEARDOWN();
}

/* The walkers see each heap's own blocks only. */
struct walk_tally {
    size_t used, bytes;
    bool foreign;
    const struct sheap *h;
};

static int walk_count(void *p, size_t size, bool used, void *ctx)
{
    struct walk_tally *t = ctx;
    if (used) {
        t->used++;
        t->bytes += size;
        /* The walk holds the lock: look at the index directly. */
        struct sheap_arena *a = arena_of((uintptr_t)p);
        if (a == NULL || heap_pub(a->heap) != t->h)
            t->foreign = true;
    }
    return 0;
}

static int arena_count(const struct sheap_arena_info *info, void *ctx)
{
    (void)info;
    ++*(unsigned *)ctx;
    return 0;
}

static void test_stats_per_heap_and_total(void)
{
    SETUP();
    struct sheap_stats f0, d0, t0;
    sheap_heap_stats(&fast, &f0);
    sheap_stats(&d0);
    sheap_stats_total(&t0);
    CHECK_EQ(f0.live_blocks, 0);
    void *p[6];
    for (unsigned i = 0; i < 3; i++) {
        p[i] = sheap_heap_malloc(&fast, 64);
        p[3 + i] = sheap_malloc(200);
        CHECK(p[i] && p[3 + i]);
    }
    struct sheap_stats f1, d1, t1;
    sheap_heap_stats(&fast, &f1);
    sheap_stats(&d1);
    sheap_stats_total(&t1);
    CHECK_EQ(f1.live_blocks, 3);
    CHECK_EQ(f1.live_bytes, 3 * 64);
    CHECK_EQ(d1.live_blocks - d0.live_blocks, 3);
    CHECK_EQ(d1.live_bytes - d0.live_bytes, 3 * sheap_usable_size(p[3]));
    CHECK_EQ(t1.live_blocks, f1.live_blocks + d1.live_blocks);
    CHECK_EQ(t1.live_bytes, f1.live_bytes + d1.live_bytes);
    CHECK_EQ(t1.arenas, f1.arenas + d1.arenas);
    CHECK_EQ(t1.reserved_bytes, f1.reserved_bytes + d1.reserved_bytes);
    /* The shared index is counted once in the total, in each heap's figure. */
    CHECK_EQ(t1.metadata_bytes + index_bytes(), f1.metadata_bytes + d1.metadata_bytes);
    CHECK(f1.arenas >= 1);
    /* Walkers and the validator, per heap. */
    struct walk_tally wf = {0, 0, false, &fast}, wd = {0, 0, false, sheap_default_heap()};
    CHECK_EQ(sheap_heap_walk(&fast, walk_count, &wf), 0);
    CHECK_EQ(sheap_walk(walk_count, &wd), 0);
    CHECK_EQ(wf.used, 3);
    CHECK_EQ(wf.bytes, f1.live_bytes);
    CHECK(!wf.foreign && !wd.foreign);
    CHECK_EQ(wd.used, d1.live_blocks);
    unsigned na = 0;
    CHECK_EQ(sheap_heap_arena_walk(&fast, arena_count, &na), 0);
    CHECK_EQ(na, f1.arenas);
    CHECK_EQ(sheap_heap_check(&fast), 0);
    for (unsigned i = 0; i < 6; i++)
        sheap_free(p[i]);
    struct sheap_stats f2;
    sheap_heap_stats(&fast, &f2);
    CHECK_EQ(f2.live_blocks, 0);
    CHECK_EQ(f2.peak_live_bytes, 3 * 64);
    sheap_heap_trim(&fast);
    sheap_heap_stats(&fast, &f2);
    CHECK_EQ(f2.ready_bytes, 0);
    TEARDOWN();
}

static void test_free_realloc_any_heap(void)
{
    SETUP();
    /* Small and large blocks of the fast heap, through the plain calls. */
    char *s = sheap_heap_malloc(&fast, 40);
    char *l = sheap_heap_malloc(&fast, 2 * SHEAP_PAGE_SIZE);
    CHECK(s && l);
    memset(s, 0x11, 40);
    memset(l, 0x22, 2 * SHEAP_PAGE_SIZE);
    CHECK(sheap_usable_size(s) >= 40);
    CHECK_EQ(sheap_usable_size(l), 2 * SHEAP_PAGE_SIZE);
    /* realloc moves within the block's own heap. */
    char *s2 = sheap_realloc(s, 1000);
    CHECK(s2 != NULL);
    CHECK(sheap_heap_of(s2) == &fast);
    for (unsigned i = 0; i < 40; i++)
        CHECK_EQ((unsigned char)s2[i], 0x11);
    char *l2 = sheap_realloc(l, 5 * SHEAP_PAGE_SIZE);
    CHECK(l2 != NULL);
    CHECK(sheap_heap_of(l2) == &fast);
    CHECK_EQ((unsigned char)l2[2 * SHEAP_PAGE_SIZE - 1], 0x22);
    char *l3 = sheap_realloc(l2, 100); /* shrinks into a small block, same heap */
    CHECK(l3 != NULL && sheap_heap_of(l3) == &fast);
    CHECK_EQ((unsigned char)l3[99], 0x22);
    struct sheap_stats f;
    sheap_heap_stats(&fast, &f);
    CHECK_EQ(f.live_blocks, 2);
    sheap_free(s2);
    sheap_free(l3);
    sheap_heap_stats(&fast, &f);
    CHECK_EQ(f.live_blocks, 0);
    CHECK_EQ(f.live_bytes, 0);
    /* A block of the default heap is untouched by all this. */
    void *d = sheap_malloc(16);
    CHECK(d != NULL && sheap_heap_of(d) == sheap_default_heap());
    sheap_free(d);
    TEARDOWN();
}

static void test_fallback_and_exhaustion(void)
{
    SETUP();
    /* The fast heap first, by order: caps 0 and DMA land there. */
    void *first = sheap_malloc_caps(0, 512);
    CHECK(first != NULL && sheap_heap_of(first) == &fast);
    sheap_free(first);
    exhaust(&fast, &fast_fb, 16 * 1024);
    printf("  fast heap full after %u blocks of 16 KB\n", nblocks);
    CHECK(nblocks < MAXBLK);
    CHECK(sheap_heap_malloc(&fast, 16 * 1024) == NULL);
    /* caps 0 falls back along the order to the external heap ... */
    void *fb = sheap_malloc_caps(0, 16 * 1024);
    CHECK(fb != NULL);
    CHECK(sheap_heap_of(fb) == sheap_default_heap());
    /* ... FAST has nowhere else to go: ENOMEM, counted on the fast heap. */
    struct sheap_stats f0, f1;
    sheap_heap_stats(&fast, &f0);
    errno = 0;
    CHECK(sheap_malloc_caps(SHEAP_CAP_FAST, 16 * 1024) == NULL);
    CHECK_EQ(errno, ENOMEM);
    sheap_heap_stats(&fast, &f1);
    CHECK_EQ(f1.oom_count, f0.oom_count + 1);
    /* The other heap works in full: small and large, plain and by caps. */
    void *x = sheap_malloc(100), *y = sheap_malloc(3 * SHEAP_PAGE_SIZE), *z = sheap_malloc_caps(EXT_CAPS, 10);
    CHECK(x && y && z);
    CHECK(sheap_heap_of(x) == sheap_default_heap() && sheap_heap_of(y) == sheap_default_heap());
    sheap_free(x);
    sheap_free(y);
    sheap_free(z);
    sheap_free(fb);
    CHECK_EQ(sheap_heap_check(&fast), 0);
    CHECK_HEAP();
    /* Freed blocks of the full heap make it work again. */
    unexhaust(&fast_fb);
    void *again = sheap_malloc_caps(SHEAP_CAP_FAST, 16 * 1024);
    CHECK(again != NULL && sheap_heap_of(again) == &fast);
    sheap_free(again);
    TEARDOWN();
}

static void test_destroy_gives_back(void)
{
    SETUP();
    /* Grow the fast heap by several arenas' worth of metadata and blocks. */
    void *p[8];
    for (unsigned i = 0; i < 8; i++) {
        p[i] = sheap_heap_malloc(&fast, i % 2 ? 24 : 3 * SHEAP_PAGE_SIZE);
        CHECK(p[i] != NULL);
    }
    struct sheap_stats f;
    sheap_heap_stats(&fast, &f);
    CHECK(f.reserved_bytes > 0);
    CHECK(fast_fb.reserved_bytes > 0);
    /* Destroy with live blocks: everything goes back; the pointers become
     * foreign, reported as misuse. */
    CHECK(fast_gone());
    sheap_heap_stats(&fast, &f);
    CHECK_EQ(f.arenas, 0);
    CHECK(sheap_heap_of(p[1]) == NULL);
    sheap_fault_hook old = sheap_set_fault_hook(harness_fault_hook);
    unsigned faults = harness_faults;
    sheap_free(p[1]);
    sheap_set_fault_hook(old);
    CHECK_EQ(harness_faults, faults + 1);
    /* The storage can hold a new heap, which works. */
    struct sheap_config cfg = {.backend = &fast_fb.backend, .caps = FAST_CAPS, .name = "fast"};
    CHECK_EQ(sheap_heap_create(&fast, &cfg), 0);
    void *q = sheap_malloc_caps(SHEAP_CAP_FAST, 64);
    CHECK(q != NULL && sheap_heap_of(q) == &fast);
    sheap_free(q);
    TEARDOWN();
}

/* The fast heap's MMU instance: used frames follow the heap, destroy gives
 * all of them back, the instance can then be finalised (refused while the
 * heap holds memory) and made again; the firmware's tables stay intact. */
static void test_mmu_instance_given_back(void)
{
#if !HEAP2_MMU
    SKIP("the second heap is not on an MMU instance of its own here");
#else
    SETUP();
    struct sheap_frame_stats f0 = mmu2_stats();
    void *p = sheap_heap_malloc(&fast, 1u << 20);
    CHECK(p != NULL);
    memset(p, 0x5a, 1u << 20);
    struct sheap_frame_stats f1 = mmu2_stats();
    CHECK(f1.heap_pages >= f0.heap_pages + (1u << 20) / 4096);
    CHECK_EQ(f1.free + f1.heap_pages + f1.table_pages, f1.total);
    printf("  fast heap: %llu of %llu frames in use (%llu table pages) with 1 MB live\n",
           U(f1.heap_pages + f1.table_pages), U(f1.total), U(f1.table_pages));
    CHECK_EQ(sheap_mmu_backend_fini(&mmu2), SHEAP_MMU_EBUSY); /* still in use */
    sheap_free(p);
    TEARDOWN(); /* fast_gone: every frame back, no table page left */
    CHECK_EQ(sheap_mmu_backend_fini(&mmu2), SHEAP_MMU_OK);
    mmu2_live = false;
    CHECK_EQ(mmu2_init(), SHEAP_MMU_OK); /* the window and frames are free again */
    CHECK_EQ(board_mmu_intact(), 0);
#endif
}

/* A walk of one heap refuses calls into it and into the other heap from its
 * callback (the lock is one for all heaps): reported, never a deadlock. */
struct walk_calls {
    unsigned calls, refused;
};

static int walk_calls_fn(void *ptr, size_t size, bool used, void *ctx)
{
    (void)ptr, (void)size, (void)used;
    struct walk_calls *w = ctx;
    w->calls++;
    w->refused += sheap_heap_malloc(&fast, 16) == NULL;
    w->refused += sheap_malloc(16) == NULL;
    w->refused += sheap_malloc_caps(SHEAP_CAP_FAST, 16) == NULL;
    w->refused += sheap_heap_check(&fast) == SHEAP_CHECK_IN_WALK;
    w->refused += sheap_heap_destroy(&fast) == SHEAP_EINVAL;
    return 1;
}

static void test_walk_refuses_every_heap(void)
{
    SETUP();
    void *f = sheap_heap_malloc(&fast, 32);
    CHECK(f != NULL);
    sheap_fault_hook old = sheap_set_fault_hook(harness_fault_hook);
    unsigned faults = harness_faults;
    struct walk_calls w = {0, 0};
    CHECK_EQ(sheap_heap_walk(&fast, walk_calls_fn, &w), 1);
    sheap_set_fault_hook(old);
    CHECK_EQ(w.calls, 1);
    CHECK_EQ(w.refused, 5);
    CHECK_EQ(harness_faults, faults + 5);
    /* Afterwards both heaps work again. */
    void *g = sheap_heap_malloc(&fast, 16), *d = sheap_malloc(16);
    CHECK(g != NULL && d != NULL);
    sheap_free(g);
    sheap_free(d);
    sheap_free(f);
    TEARDOWN();
}

/* A backend that hands out memory another heap owns: every reserve
 * "succeeds" at rogue_at, the default heap's first arena. */
static uintptr_t rogue_at;
static unsigned rogue_calls;

static int rogue_reserve(void *c, uintptr_t hint, uintptr_t n, uintptr_t *out)
{
    (void)c, (void)hint, (void)n;
    rogue_calls++;
    *out = rogue_at;
    return SHEAP_BACKEND_OK;
}
static int rogue_map(void *c, uintptr_t v, uintptr_t n) { return (void)c, (void)v, (void)n, SHEAP_BACKEND_OK; }
static int rogue_used(void *c, uintptr_t v, uintptr_t n, bool *z)
{
    (void)c, (void)v, (void)n;
    *z = false; /* the core would clear it: it must never get that far */
    return SHEAP_BACKEND_OK;
}
static void rogue_unused(void *c, uintptr_t v, uintptr_t n) { (void)c, (void)v, (void)n; }
static void rogue_release(void *c, uintptr_t v, uintptr_t n) { (void)c, (void)v, (void)n; }

static void test_memory_of_another_heap(void)
{
    SETUP();
    unsigned char *d = sheap_malloc(200);
    CHECK(d != NULL);
    memset(d, 0x3c, 200);
    rogue_at = arena_of((uintptr_t)d)->base;
    rogue_calls = 0;
    static const struct sheap_backend_ops ops = {
        .reserve = rogue_reserve, .map = rogue_map, .used = rogue_used, .unused = rogue_unused, .release = rogue_release};
    struct sheap_backend rb = {&ops, NULL, SHEAP_PAGE_SIZE, false};
    struct sheap_config cfg = {.backend = &rb, .caps = SHEAP_CAP_USER(0), .name = "rogue"};
    static struct sheap rogue;
    struct sheap_stats t0, t1;
    sheap_stats_total(&t0);
    int r = sheap_heap_create(&rogue, &cfg);
#if SHEAP_32BIT_MODE
    /* The up-front arena records would land in the default heap's arena. */
    CHECK_EQ(r, SHEAP_ENOMEM);
    CHECK_EQ(sheap_heap_destroy(&rogue), SHEAP_EINVAL);
#else
    CHECK_EQ(r, 0);
    errno = 0;
    CHECK(sheap_heap_malloc(&rogue, 64) == NULL);
    CHECK_EQ(errno, ENOMEM);
    errno = 0;
    CHECK(sheap_malloc_caps(SHEAP_CAP_USER(0), 3 * SHEAP_PAGE_SIZE) == NULL);
    CHECK_EQ(errno, ENOMEM);
    CHECK_EQ(sheap_heap_check(&rogue), 0);
    struct sheap_stats rs;
    sheap_heap_stats(&rogue, &rs);
    CHECK_EQ(rs.arenas, 0);
    CHECK_EQ(rs.reserved_bytes, 0);
    CHECK_EQ(sheap_heap_destroy(&rogue), 0);
#endif
    CHECK(rogue_calls > 0);
    /* The default heap did not notice. */
    for (unsigned i = 0; i < 200; i++)
        CHECK_EQ(d[i], 0x3c);
    sheap_stats_total(&t1);
    t0.oom_count = t1.oom_count;
    CHECK(stats_same(&t0, &t1));
    sheap_free(d);
    TEARDOWN();
}

/* Two heaps whose arenas touch: runs never coalesce across them, walks and
 * the validator keep to each heap's own arenas. */
static void test_adjacent_arenas(void)
{
#if SHEAP_32BIT_MODE
    SKIP("32-bit heaps start from an initial reservation, not from hints");
#else
    SETUP();
    void *d = sheap_malloc(64);
    CHECK(d != NULL);
    uintptr_t a = arena_of((uintptr_t)d)->base;
    /* The fast heap again, told to grow right after the default heap's arena. */
    CHECK(fast_gone());
#if HEAP2_MMU
    /* Its own MMU instance cannot reach there (another window, and too few
     * frames for half an arena): this test puts it on the default backend. */
    fault_backend_init(&fast_fb, sheap_port_default_backend());
#endif
    const uintptr_t hint[] = {a + SHEAP_ARENA_SIZE};
    struct sheap_config cfg = {.backend = &fast_fb.backend, .caps = FAST_CAPS, .name = "fast", .hints = hint,
                               .nhints = 1};
    CHECK_EQ(sheap_heap_create(&fast, &cfg), 0);
    void *f = sheap_heap_malloc(&fast, 64);
    CHECK(f != NULL);
    uintptr_t b = arena_of((uintptr_t)f)->base;
    printf("  default heap's arena at 0x%llx, fast heap's at 0x%llx%s\n", U(a), U(b),
           b == a + SHEAP_ARENA_SIZE ? " (touching)" : " (the hint was taken: not touching)");
    /* Both free runs at the boundary, large blocks on either side. */
    void *x = sheap_malloc(SHEAP_ARENA_SIZE / 2), *y = sheap_heap_malloc(&fast, SHEAP_ARENA_SIZE / 2);
    CHECK(x != NULL && y != NULL);
    CHECK(sheap_heap_of(x) == sheap_default_heap() && sheap_heap_of(y) == &fast);
    CHECK_EQ(sheap_heap_check(&fast), 0);
    CHECK_HEAP();
    sheap_free(x);
    sheap_free(y);
    sheap_free(f);
    CHECK_EQ(sheap_heap_check(&fast), 0);
    CHECK_HEAP();
    struct walk_tally wf = {0, 0, false, &fast};
    CHECK_EQ(sheap_heap_walk(&fast, walk_count, &wf), 0);
    CHECK_EQ(wf.used, 0);
    sheap_free(d);
    TEARDOWN();
#endif
}

int main(void)
{
    printf("heaps on %s: struct sheap %llu B (heap record %llu B), struct sheap_arena %llu B\n",
           sheap_board_name(), U(sizeof(struct sheap)), U(sizeof(struct sheap_heap)),
           U(sizeof(struct sheap_arena)));
    RUN(test_bad_input);
    RUN(test_placement_by_caps);
    RUN(test_stats_per_heap_and_total);
    RUN(test_free_realloc_any_heap);
    RUN(test_fallback_and_exhaustion);
    RUN(test_destroy_gives_back);
    RUN(test_adjacent_arenas);
    RUN(test_mmu_instance_given_back);
    RUN(test_memory_of_another_heap);
    RUN(test_walk_refuses_every_heap);
    return harness_finish("heaps");
}
