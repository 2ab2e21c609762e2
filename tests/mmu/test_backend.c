/*
 * test_backend.c - the MMU backend as a value, on the firmware's tables
 * (qemu-virt-aarch64 native and foreign, qemu-virt-riscv64 Sv39, Sv48 and
 * foreign):
 *   - the regime sheap reads is the one the board's startup set up;
 *   - bad configurations are refused with the documented code and change
 *     nothing (root table, registry);
 *   - a second instance with its own window and frame pool on the same
 *     root works through its operations (reserve, map, used, unused,
 *     release), runs out of frames cleanly, gives every frame and table
 *     back, and leaves the default heap alone;
 *   - the firmware's translation state (registers, entries, its own
 *     mappings, .rodata) is intact after all of it (board_mmu_intact).
 */
#include <string.h>

#include "boot_mmu.h"
#include "harness.h"
#include "sheap.h"
#include "sheap_board.h"
#include "sheap_config.h"
#include "sheap_mmu.h"

#define PAGE 4096u

extern char __sheap_frames_start[], __sheap_frames_end[];

static uintptr_t root;
static unsigned va_bits, pa_bits;
/* Memory of the program's own (firmware-mapped RAM). */
static volatile char fw_ram_page[PAGE] __attribute__((aligned(4096))) = {42};

static uint64_t root_sum(void)
{
    const volatile uint64_t *e = (const volatile uint64_t *)root;
    uint64_t h = 1469598103934665603ull;
    for (unsigned i = 0; i < 512; i++)
        h = (h ^ e[i]) * 1099511628211ull;
    return h;
}

/* VA one root entry covers. */
static uintptr_t slot(void) { return (uintptr_t)1 << (12 + 9 * ((va_bits - 12) / 9 - 1)); }

static const struct sheap_mmu_frame_range mmu2_frames[] = {
    {SHEAP_TEST_MMU2_FRAMES_BASE, SHEAP_TEST_MMU2_FRAMES_SIZE},
};

static struct sheap_mmu_config good_config(void)
{
    struct sheap_mmu_config c = {
        .root = root,
        .va_bits = va_bits,
        .pa_bits = pa_bits,
        .window_base = SHEAP_TEST_MMU2_WINDOW_BASE,
        .window_size = SHEAP_TEST_MMU2_WINDOW_SIZE,
        .frames = mmu2_frames,
        .nframes = 1,
        .leaf_attrs = SHEAP_MMU_LEAF_ATTRS,
    };
    return c;
}

static void test_regime_is_the_firmwares(void)
{
    void *p = sheap_malloc(100); /* the default heap attaches now */
    CHECK(p != NULL);
    sheap_free(p);
    CHECK_EQ(sheap_mmu_read_regime(&root, &va_bits, &pa_bits), SHEAP_MMU_OK);
    CHECK(root != 0 && (root & (PAGE - 1)) == 0);
    CHECK_EQ(va_bits, SHEAP_VA_BITS);
    CHECK(pa_bits >= 32 && pa_bits <= 56);
    printf("  root table at %#lx, %u-bit VA, %u-bit PA, top-level entries of %lu GB\n", (unsigned long)root, va_bits,
           pa_bits, (unsigned long)(slot() >> 30));
    CHECK_EQ(board_mmu_intact(), 0);
}

static void test_bad_configs_change_nothing(void)
{
    static const struct sheap_mmu_frame_range misaligned[] = {{SHEAP_TEST_MMU2_FRAMES_BASE + 8, 1u << 20}};
    static const struct sheap_mmu_frame_range empty[] = {{SHEAP_TEST_MMU2_FRAMES_BASE, 0}};
    static const struct sheap_mmu_frame_range tiny[] = {{SHEAP_TEST_MMU2_FRAMES_BASE, PAGE}};
    static const struct sheap_mmu_frame_range overlapping[] = {
        {SHEAP_TEST_MMU2_FRAMES_BASE, 1u << 20}, {SHEAP_TEST_MMU2_FRAMES_BASE + (512u << 10), 1u << 20}};
    static const struct sheap_mmu_frame_range five[5] = {{SHEAP_TEST_MMU2_FRAMES_BASE, 1u << 20}};
    struct sheap_mmu_frame_range on_root[] = {{root & ~(uintptr_t)0xffff, 1u << 16}};
    static const struct sheap_mmu_frame_range high_frames[] = {{(uintptr_t)1 << 32, 1u << 20}};
    struct sheap_mmu_frame_range default_heaps[] = {
        {(uintptr_t)__sheap_frames_start, 1u << 20}};
    uintptr_t limit = (uintptr_t)1 << va_bits;
#if defined(__riscv)
    limit >>= 1; /* the lower half of the canonical space */
    const uint64_t bad_attrs = 1ull << 3;     /* X: heap leaves are never executable */
    const uint64_t bad_attrs2 = 3ull << 61;   /* PBMT 3 is reserved */
#else
    const uint64_t bad_attrs = 1ull << 6;     /* AP[1]: EL0 access */
    const uint64_t bad_attrs2 = SHEAP_MMU_AARCH64_ATTRS(0, 1); /* SH 01 is reserved */
#endif
    struct {
        const char *what;
        struct sheap_mmu_config c;
        int want;
    } cases[32];
    unsigned n = 0;
#define CASE(w, code, ...)                                                                                   \
    do {                                                                                                  \
        cases[n].what = w;                                                                                \
        cases[n].c = good_config();                                                                       \
        struct sheap_mmu_config *c = &cases[n].c;                                                         \
        __VA_ARGS__;                                                                                      \
        cases[n++].want = code;                                                                           \
    } while (0)
    CASE("empty window", SHEAP_MMU_EINVAL, c->window_size = 0);
    CASE("window base inside a top-level entry", SHEAP_MMU_EINVAL, c->window_base += PAGE);
    CASE("window size not whole entries", SHEAP_MMU_EINVAL, c->window_size = slot() / 2);
    CASE("window beyond the regime", SHEAP_MMU_EINVAL, c->window_base = limit - slot(); c->window_size = 2 * slot());
    CASE("window over the firmware's mappings at 0", SHEAP_MMU_EBUSY, c->window_base = 0; c->window_size = slot());
    CASE("window over the firmware's RAM", SHEAP_MMU_EBUSY,
         c->window_base = (uintptr_t)BOARD_RAM_BASE & ~(slot() - 1); c->window_size = slot());
    CASE("window of the default heap", SHEAP_MMU_EBUSY, c->window_base = SHEAP_MMU_WINDOW_BASE);
    CASE("any-window outside the window", SHEAP_MMU_EINVAL, c->any_base = SHEAP_MMU_WINDOW_BASE; c->any_size = PAGE);
    CASE("any-window misaligned", SHEAP_MMU_EINVAL, c->any_base = c->window_base + 8; c->any_size = PAGE);
    CASE("no frame ranges", SHEAP_MMU_EINVAL, c->nframes = 0);
    CASE("frames NULL", SHEAP_MMU_EINVAL, c->frames = NULL);
    CASE("too many frame ranges", SHEAP_MMU_EINVAL, c->frames = five; c->nframes = 5);
    CASE("misaligned frames", SHEAP_MMU_EINVAL, c->frames = misaligned);
    CASE("empty frame range", SHEAP_MMU_EINVAL, c->frames = empty);
    CASE("frame range with no room beyond its counters", SHEAP_MMU_EINVAL, c->frames = tiny);
    CASE("overlapping frame ranges", SHEAP_MMU_EINVAL, c->frames = overlapping; c->nframes = 2);
    CASE("frames holding the root table", SHEAP_MMU_EINVAL, c->frames = on_root);
    CASE("frames of the default heap", SHEAP_MMU_EBUSY, c->frames = default_heaps);
    CASE("unsupported VA bits", SHEAP_MMU_EINVAL, c->va_bits = 40);
    CASE("PA bits beyond the descriptor format", SHEAP_MMU_EINVAL, c->pa_bits = 57);
    CASE("frames beyond the regime's PA bits", SHEAP_MMU_EINVAL, c->pa_bits = 32;
         c->frames = high_frames);
    CASE("no root", SHEAP_MMU_EINVAL, c->root = 0);
    CASE("misaligned root", SHEAP_MMU_EINVAL, c->root += 8);
    CASE("leaf attributes the backend sets itself", SHEAP_MMU_EINVAL, c->leaf_attrs |= 1);
    CASE("leaf attributes not allowed", SHEAP_MMU_EINVAL, c->leaf_attrs |= bad_attrs);
    CASE("reserved leaf attributes", SHEAP_MMU_EINVAL, c->leaf_attrs = bad_attrs2);
#undef CASE
    uint64_t before = root_sum();
    for (unsigned i = 0; i < n; i++) {
        static struct sheap_mmu m;
        struct sheap_backend b = {0};
        memset(&m, 0x5a, sizeof m);
        int r = sheap_mmu_backend_init(&m, &cases[i].c, &b);
        if (r != cases[i].want)
            printf("  %s: got %d, want %d\n", cases[i].what, r, cases[i].want);
        CHECK_EQ(r, cases[i].want);
        if (r == SHEAP_MMU_OK)
            sheap_mmu_backend_fini(&m);
        CHECK(b.ops == NULL && b.ctx == NULL);
        CHECK_EQ(((unsigned char *)&m)[0], 0x5a); /* m untouched */
    }
    printf("  %u bad configurations refused\n", n);
    struct sheap_mmu_config c = good_config();
    struct sheap_backend b;
    CHECK_EQ(sheap_mmu_backend_init(NULL, &c, &b), SHEAP_MMU_EINVAL);
    CHECK_EQ(sheap_mmu_backend_init(sheap_mmu_default(), NULL, &b), SHEAP_MMU_EINVAL);
    CHECK_EQ(root_sum(), before);
    /* Nothing was registered: the good configuration still works, once. */
    static struct sheap_mmu m2;
    CHECK_EQ(sheap_mmu_backend_init(&m2, &c, &b), SHEAP_MMU_OK);
    CHECK_EQ(sheap_mmu_backend_init(&m2, &c, &b), SHEAP_MMU_EBUSY);
    CHECK_EQ(root_sum(), before); /* init writes no entry */
    CHECK_EQ(sheap_mmu_backend_fini(&m2), SHEAP_MMU_OK);
    CHECK_EQ(sheap_mmu_backend_fini(&m2), SHEAP_MMU_EINVAL);
    CHECK_HEAP();
}

static struct sheap_frame_stats stats_of(const struct sheap_mmu *m)
{
    struct sheap_frame_stats s;
    sheap_mmu_stats(m, &s);
    return s;
}

static void test_second_instance(void)
{
    static struct sheap_mmu m2;
    struct sheap_backend b;
    struct sheap_mmu_config c = good_config();
    c.clear_frames = true; /* the board option: used() clears every frame */
    /* The default heap is fresh for each test: its first arena's root
     * entry is made before the snapshot, not by the malloc further down. */
    void *warm = sheap_malloc(3 * PAGE);
    CHECK(warm != NULL);
    uint64_t root_before = root_sum();
    CHECK_EQ(sheap_mmu_backend_init(&m2, &c, &b), SHEAP_MMU_OK);
    const struct sheap_backend_ops *ops = b.ops;
    CHECK_EQ(b.page_size, PAGE);
    struct sheap_frame_stats s0 = stats_of(&m2);
    CHECK_EQ(s0.free, s0.total);
    CHECK(s0.total > 2000); /* 8 MB less its counters */

    /* Hints outside the window: below is someone else's, above is out of reach. */
    uintptr_t got;
    CHECK_EQ(ops->reserve(b.ctx, SHEAP_MMU_WINDOW_BASE, 16 * PAGE, &got), SHEAP_BACKEND_EBUSY);
    CHECK_EQ(ops->reserve(b.ctx, c.window_base + c.window_size, 16 * PAGE, &got), SHEAP_BACKEND_ENOMEM);
    uintptr_t v;
    CHECK_EQ(ops->reserve(b.ctx, 0, 16 * PAGE, &v), SHEAP_BACKEND_OK);
    CHECK(v >= c.window_base && v + 16 * PAGE <= c.window_base + c.window_size);
    CHECK_EQ(ops->reserve(b.ctx, v, PAGE, &got), SHEAP_BACKEND_EBUSY);
    CHECK_EQ(ops->map(b.ctx, v, 16 * PAGE), SHEAP_BACKEND_OK);
    CHECK_EQ(ops->map(b.ctx, v + 16 * PAGE, PAGE), SHEAP_BACKEND_ENOMEM); /* never reserved */
    bool zeroed = false;
    CHECK_EQ(ops->used(b.ctx, v, 16 * PAGE, &zeroed), SHEAP_BACKEND_OK);
    CHECK(zeroed);
    volatile uint64_t *w = (volatile uint64_t *)v;
    bool zero = true;
    for (unsigned i = 0; i < 16 * PAGE / 8; i++) {
        zero &= w[i] == 0;
        w[i] = i ^ 0x5555;
    }
    CHECK(zero);
    for (unsigned i = 0; i < 16 * PAGE / 8; i++)
        if (w[i] != (i ^ 0x5555)) {
            CHECK(0);
            break;
        }
    uintptr_t pa = sheap_mmu_translate(&m2, v);
    CHECK(pa >= SHEAP_TEST_MMU2_FRAMES_BASE && pa < SHEAP_TEST_MMU2_FRAMES_BASE + SHEAP_TEST_MMU2_FRAMES_SIZE);
    CHECK_EQ(sheap_mmu_translate(sheap_mmu_default(), v), 0);
    struct sheap_frame_stats s1 = stats_of(&m2);
    CHECK_EQ(s1.heap_pages, 16);
    CHECK_EQ(s1.table_pages, (va_bits - 12) / 9 - 1);
    CHECK_EQ(s1.free, s1.total - 16 - s1.table_pages);
    printf("  second instance: 16 pages at %#lx -> frames at %#lx (%lu table pages)\n", (unsigned long)v,
           (unsigned long)pa, (unsigned long)s1.table_pages);

    /* More than the pool: fails, and nothing changes. */
    uintptr_t big;
    uintptr_t bign = (s1.free + 1) * PAGE;
    CHECK_EQ(ops->reserve(b.ctx, 0, bign, &big), SHEAP_BACKEND_OK);
    CHECK_EQ(ops->map(b.ctx, big, bign), SHEAP_BACKEND_OK);
    CHECK_EQ(ops->used(b.ctx, big, bign, &zeroed), SHEAP_BACKEND_ENOMEM);
    struct sheap_frame_stats s2 = stats_of(&m2);
    CHECK_EQ(s2.free, s1.free);
    CHECK_EQ(s2.heap_pages, s1.heap_pages);
    CHECK_EQ(s2.table_pages, s1.table_pages);
    CHECK_EQ(sheap_mmu_translate(&m2, big), 0);
    ops->release(b.ctx, big, bign);

    /* The default heap is unaffected meanwhile, also by calls on its pages
     * (or the firmware's) through this instance: they change nothing. */
    char *p = sheap_malloc(3 * PAGE);
    CHECK(p != NULL);
    memset(p, 1, 3 * PAGE);
    uintptr_t pv = (uintptr_t)p & ~(uintptr_t)(PAGE - 1);
    ops->unused(b.ctx, pv, PAGE);
    ops->release(b.ctx, pv, PAGE);
    ops->unused(b.ctx, (uintptr_t)fw_ram_page & ~(uintptr_t)(PAGE - 1), PAGE);
    CHECK_EQ(ops->used(b.ctx, pv, PAGE, &zeroed), SHEAP_BACKEND_ENOMEM);
    CHECK(sheap_mmu_is_mapped(pv));
    CHECK_EQ(p[0], 1);
    CHECK_EQ(fw_ram_page[0], 42);
    CHECK_EQ(stats_of(&m2).free, s1.free);
    sheap_free(p);
    CHECK_HEAP();

    /* unused: the pages fault, their frames come back. */
    ops->unused(b.ctx, v + 4 * PAGE, 4 * PAGE);
    CHECK_EQ(stats_of(&m2).free, s1.free + 4);
    CHECK_EQ(sheap_mmu_translate(&m2, v + 4 * PAGE), 0);
    if (sheap_board_can_trap_faults()) {
        uintptr_t addr = 0;
        sheap_board_expect_fault();
        __asm__ volatile("" ::: "memory");
        (void)w[4 * PAGE / 8];
        __asm__ volatile("" ::: "memory");
        CHECK(sheap_board_fault_taken(&addr));
        CHECK_EQ(addr, v + 4 * PAGE);
    }
    CHECK_EQ(w[3 * PAGE / 8], (3 * PAGE / 8) ^ 0x5555); /* neighbours kept */
    CHECK_EQ(w[8 * PAGE / 8], (8 * PAGE / 8) ^ 0x5555);
    /* Backed again: zeroed frames. */
    CHECK_EQ(ops->used(b.ctx, v + 4 * PAGE, 4 * PAGE, &zeroed), SHEAP_BACKEND_OK);
    CHECK_EQ(w[4 * PAGE / 8], 0);

    /* fini refuses while anything is reserved; release gives everything back. */
    CHECK_EQ(sheap_mmu_backend_fini(&m2), SHEAP_MMU_EBUSY);
    ops->release(b.ctx, v, 16 * PAGE);
    struct sheap_frame_stats s3 = stats_of(&m2);
    CHECK_EQ(s3.heap_pages, 0);
    CHECK_EQ(s3.table_pages, 0);
    CHECK_EQ(s3.free, s3.total);
    CHECK_EQ(root_sum(), root_before); /* the window's root entries are invalid again */
    CHECK_EQ(sheap_mmu_backend_fini(&m2), SHEAP_MMU_OK);
    sheap_free(warm);
    CHECK_EQ(board_mmu_intact(), 0);
}

/* Both instances at once, interleaved: each keeps to its frames. */
static void test_two_instances_interleaved(void)
{
    static struct sheap_mmu m2;
    struct sheap_backend b;
    struct sheap_mmu_config c = good_config();
    CHECK_EQ(sheap_mmu_backend_init(&m2, &c, &b), SHEAP_MMU_OK);
    enum { N = 8 };
    void *blk[N];
    uintptr_t v[N];
    bool z;
    for (unsigned i = 0; i < N; i++) {
        blk[i] = sheap_malloc(64 * 1024);
        CHECK(blk[i] != NULL);
        memset(blk[i], (int)i, 64 * 1024);
        CHECK_EQ(b.ops->reserve(b.ctx, 0, 64 * 1024, &v[i]), SHEAP_BACKEND_OK);
        CHECK_EQ(b.ops->map(b.ctx, v[i], 64 * 1024), SHEAP_BACKEND_OK);
        CHECK_EQ(b.ops->used(b.ctx, v[i], 64 * 1024, &z), SHEAP_BACKEND_OK);
        memset((void *)v[i], 0x80 | (int)i, 64 * 1024);
    }
    for (unsigned i = 0; i < N; i++) {
        const unsigned char *a = blk[i], *d = (const unsigned char *)v[i];
        CHECK(a[0] == i && a[64 * 1024 - 1] == i);
        CHECK(d[0] == (0x80 | i) && d[64 * 1024 - 1] == (0x80 | i));
        uintptr_t pa = sheap_mmu_translate(&m2, v[i]);
        CHECK(pa >= SHEAP_TEST_MMU2_FRAMES_BASE && pa < SHEAP_TEST_MMU2_FRAMES_BASE + SHEAP_TEST_MMU2_FRAMES_SIZE);
        CHECK_EQ(sheap_mmu_translate(&m2, (uintptr_t)blk[i]), 0);
        sheap_free(blk[i]);
        b.ops->release(b.ctx, v[i], 64 * 1024);
    }
    CHECK_EQ(stats_of(&m2).heap_pages, 0);
    CHECK_EQ(stats_of(&m2).table_pages, 0);
    CHECK_EQ(sheap_mmu_backend_fini(&m2), SHEAP_MMU_OK);
    CHECK_HEAP();
    CHECK_EQ(board_mmu_intact(), 0);
}

/*
 * Without clear_frames (the default) used() maps frames as they are and
 * says so: a frame that held data comes back with it, zeroed false.  With
 * the option it is cleared.  On counter boards: backing one page where the
 * tables exist already costs at most FRESH_PAGE_MAX instructions without
 * clearing, the clearing about a page's worth of stores more.
 */
#define FRESH_PAGE_MAX 300u
static uint64_t used_one_page(const struct sheap_backend *b, uintptr_t va, bool *z, int *r)
{
    uint64_t c0 = sheap_board_icount();
    *r = b->ops->used(b->ctx, va, PAGE, z);
    uint64_t c1 = sheap_board_icount();
    return c1 - c0;
}

static void test_frames_cleared_only_on_request(void)
{
    for (int clear = 0; clear <= 1; clear++) {
        static struct sheap_mmu m2;
        struct sheap_backend b;
        struct sheap_mmu_config c = good_config();
        c.clear_frames = clear != 0;
        CHECK_EQ(sheap_mmu_backend_init(&m2, &c, &b), SHEAP_MMU_OK);
        uintptr_t v;
        bool z = !clear;
        CHECK_EQ(b.ops->reserve(b.ctx, 0, 4 * PAGE, &v), SHEAP_BACKEND_OK);
        CHECK_EQ(b.ops->map(b.ctx, v, 4 * PAGE), SHEAP_BACKEND_OK);
        CHECK_EQ(b.ops->used(b.ctx, v, PAGE, &z), SHEAP_BACKEND_OK); /* makes the tables */
        CHECK_EQ(z, clear != 0);
        /* One more page below existing tables: the measured case. */
        int r;
        uint64_t n = used_one_page(&b, v + PAGE, &z, &r);
        CHECK_EQ(r, SHEAP_BACKEND_OK);
        CHECK_EQ(z, clear != 0);
        volatile uint64_t *w = (volatile uint64_t *)(v + PAGE);
        for (unsigned i = 0; i < PAGE / 8; i++)
            w[i] = 0xdeadbeefull ^ i;
        uintptr_t pa = sheap_mmu_translate(&m2, v + PAGE);
        /* Back to the pool and out again: the same frame (LIFO free list). */
        b.ops->unused(b.ctx, v + PAGE, PAGE);
        z = !clear;
        CHECK_EQ(b.ops->used(b.ctx, v + 2 * PAGE, PAGE, &z), SHEAP_BACKEND_OK);
        CHECK_EQ(z, clear != 0);
        CHECK_EQ(sheap_mmu_translate(&m2, v + 2 * PAGE), pa);
        w = (volatile uint64_t *)(v + 2 * PAGE);
        bool zero = true, old = true;
        /* Word 0 held the pool's free-list link meanwhile. */
        for (unsigned i = 1; i < PAGE / 8; i++) {
            zero &= w[i] == 0;
            old &= w[i] == (0xdeadbeefull ^ i);
        }
        CHECK(clear ? zero : old); /* not cleared: the old data is there */
        if (sheap_board_has_icount()) {
            printf("  used() of one page, tables present, clear_frames %d: %lu instructions\n", clear,
                   (unsigned long)n);
            if (!clear)
                CHECK(n <= FRESH_PAGE_MAX);
        }
        b.ops->release(b.ctx, v, 4 * PAGE);
        CHECK_EQ(stats_of(&m2).heap_pages, 0);
        CHECK_EQ(sheap_mmu_backend_fini(&m2), SHEAP_MMU_OK);
    }
    CHECK_EQ(board_mmu_intact(), 0);
}

/* The intact check is not vacuous: a software-ignored bit flipped in one
 * of the firmware's valid root entries is noticed (and put back). */
static void test_intact_check_sees_changes(void)
{
#if defined(__riscv)
    const uint64_t ignored = 1ull << 8; /* RSW */
#else
    const uint64_t ignored = 1ull << 55; /* reserved for software use */
#endif
    volatile uint64_t *e = (volatile uint64_t *)root;
    unsigned i = 0;
    while (i < 512 && !(e[i] & 1))
        i++;
    CHECK(i < 512);
    CHECK_EQ(board_mmu_intact(), 0);
    e[i] ^= ignored;
    int r = board_mmu_intact();
    e[i] ^= ignored;
    CHECK(r != 0);
    CHECK_EQ(board_mmu_intact(), 0);
}

int main(void)
{
    RUN(test_regime_is_the_firmwares);
    RUN(test_bad_configs_change_nothing);
    RUN(test_second_instance);
    RUN(test_two_instances_interleaved);
    RUN(test_frames_cleared_only_on_request);
    RUN(test_intact_check_sees_changes);
    return harness_finish("mmu-backend");
}
