/*
 * test_corruption.c - damaged metadata is detected.
 *
 * Metadata is damaged on purpose through sheap_internal.h, one field at a
 * time: span records, small-span bitmaps, partial lists, the span map, the
 * in-use and Ready page bits, the free lists and their bitmaps, two free
 * runs left uncoalesced, the counters and the arena index.  sheap_check()
 * must return the code for that structure and a message, and 0 again once
 * the field is restored.
 *
 * Portability: public API, the internal header and printf only; sizes from
 * SHEAP_PAGE_SIZE / SHEAP_ARENA_SIZE.
 */
#include <string.h>

#include "harness.h"
#include "sheap.h"
#include "sheap_internal.h"

#define PAGE SHEAP_PAGE_SIZE
#define ARENA SHEAP_ARENA_SIZE
#define MAXSMALL ((size_t)SHEAP_CLASS_MAX_SIZE)

static unsigned corruption_cases;

/* Damage with `corrupt`, expect `code` from sheap_check, undo with
 * `restore` (before any CHECK can leave), and expect a clean heap again. */
#define EXPECT_CORRUPTION(code, corrupt, restore)                                                  \
    do {                                                                                           \
        corrupt;                                                                                   \
        int cr_ = sheap_check();                                                                    \
        restore;                                                                                   \
        if (cr_ != (code))                                                                          \
            printf("  after \"%s\": sheap_check() = %d (%s)\n", #corrupt, cr_, sheap_check_message(cr_)); \
        CHECK_EQ(cr_, (code));                                                                      \
        const char *cm_ = sheap_check_message(cr_);                                                  \
        CHECK(cm_ != NULL && cm_[0] != 0 && strcmp(cm_, sheap_check_message(SHEAP_CHECK_OK)) != 0);  \
        CHECK_HEAP();                                                                              \
        corruption_cases++;                                                                        \
    } while (0)

static void test_corruption_small_span(void)
{
    /* A fresh span of the 32-byte class with one live block (slot 0). */
    sheap_trim();
    char *p = sheap_malloc(32);
    CHECK(p != NULL);
    struct sheap_span *s = span_of((uintptr_t)p);
    CHECK(s != NULL && s->state == SPAN_SMALL);
    CHECK(s->nfree > 1 && s->nfree < s->nelems);
    uintptr_t slot = ((uintptr_t)p - s->base) / s->elem_size;
    uintptr_t *w = &s->freebits[slot / WORD_BITS], bit = (uintptr_t)1 << (slot % WORD_BITS);
    unsigned cls = s->cls;

    /* The live slot marked free. */
    EXPECT_CORRUPTION(SHEAP_CHECK_BITMAP, *w ^= bit, *w ^= bit);
    /* A free bit at or beyond nelems. */
    unsigned beyond = s->nelems;
    if (beyond < WORD_BITS * SPAN_BITMAP_WORDS) {
        uintptr_t *bw = &s->freebits[beyond / WORD_BITS], bb = (uintptr_t)1 << (beyond % WORD_BITS);
        EXPECT_CORRUPTION(SHEAP_CHECK_BITMAP, *bw |= bb, *bw &= ~bb);
    }
    /* The count of free slots. */
    EXPECT_CORRUPTION(SHEAP_CHECK_BITMAP, s->nfree++, s->nfree--);
    EXPECT_CORRUPTION(SHEAP_CHECK_BITMAP, s->nfree--, s->nfree++);
    /* The scan hint outside the bitmap (malloc would read past it). */
    uint32_t hint = s->hint;
    EXPECT_CORRUPTION(SHEAP_CHECK_BITMAP, s->hint = SPAN_BITMAP_WORDS, s->hint = hint);
    /* Record fields. */
    uint32_t es = s->elem_size;
    EXPECT_CORRUPTION(SHEAP_CHECK_SPAN, s->elem_size += 16, s->elem_size = es);
    EXPECT_CORRUPTION(SHEAP_CHECK_SPAN, s->cls = (uint8_t)(cls + 1), s->cls = (uint8_t)cls);
    uint16_t ne = s->nelems;
    EXPECT_CORRUPTION(SHEAP_CHECK_SPAN, s->nelems--, s->nelems = ne);
    uint8_t st = s->state;
    EXPECT_CORRUPTION(SHEAP_CHECK_SPAN, s->state = 7, s->state = st);
    /* Partial list: flag and list head. */
    EXPECT_CORRUPTION(SHEAP_CHECK_PARTIAL, s->class_list = 0, s->class_list = 1);
    struct sheap_span *head = heap_cache_here(&sheap_heap)->classes[cls].partial;
    EXPECT_CORRUPTION(SHEAP_CHECK_PARTIAL, heap_cache_here(&sheap_heap)->classes[cls].partial = NULL,
                      heap_cache_here(&sheap_heap)->classes[cls].partial = head);
    /* Span map entry of the block's page. */
    struct sheap_span **e = map_entry((uintptr_t)p);
    EXPECT_CORRUPTION(SHEAP_CHECK_SPAN_MAP, *e = NULL, *e = s);
    /* In-use and Ready page bits. */
    struct sheap_arena *a = arena_of((uintptr_t)p);
    uintptr_t pg = arena_page_index(s->base);
    uintptr_t pw = pg / WORD_BITS, pb = (uintptr_t)1 << (pg % WORD_BITS);
    EXPECT_CORRUPTION(SHEAP_CHECK_PAGE_STATE, a->starts[pw] ^= pb, a->starts[pw] ^= pb);
    EXPECT_CORRUPTION(SHEAP_CHECK_PAGE_STATE, a->ready[pw] ^= pb, a->ready[pw] ^= pb);
    /* The block still works. */
    CHECK_EQ(sheap_usable_size(p), 32);
    sheap_free(p);
    CHECK_HEAP();
}

static void test_corruption_large_span(void)
{
    char *p = sheap_malloc(3 * PAGE + MAXSMALL);
    CHECK(p != NULL);
    struct sheap_span *s = span_of((uintptr_t)p);
    CHECK(s != NULL && s->state == SPAN_LARGE && s->npages >= 3);
    uintptr_t mid = (uintptr_t)p + PAGE;
    /* A large run's span map is exact at its first and last page (the
     * interior entries are not kept: O(1) per run). */
    uintptr_t lastpg = (uintptr_t)p + ((s->npages - 1) << SHEAP_PAGE_SHIFT);
    struct sheap_span **first = map_entry((uintptr_t)p), **e = map_entry(lastpg);
    EXPECT_CORRUPTION(SHEAP_CHECK_SPAN_MAP, *e = NULL, *e = s);
    EXPECT_CORRUPTION(SHEAP_CHECK_SPAN_MAP, *first = NULL, *first = s);
    uintptr_t np = s->npages;
    EXPECT_CORRUPTION(SHEAP_CHECK_SPAN_MAP, s->npages = np + 1, s->npages = np);
    struct sheap_arena *a = arena_of(mid);
    uintptr_t pg = arena_page_index(mid);
    uintptr_t pw = pg / WORD_BITS, pb = (uintptr_t)1 << (pg % WORD_BITS);
    /* A start bit inside the run, or a page of it not Ready. */
    EXPECT_CORRUPTION(SHEAP_CHECK_PAGE_STATE, a->starts[pw] ^= pb, a->starts[pw] ^= pb);
    EXPECT_CORRUPTION(SHEAP_CHECK_PAGE_STATE, a->ready[pw] ^= pb, a->ready[pw] ^= pb);
    sheap_free(p);
    CHECK_HEAP();
}

static void test_corruption_free_lists(void)
{
    /* Make sure there is a free run of a few pages. */
    char *p = sheap_malloc(4 * PAGE + MAXSMALL);
    CHECK(p != NULL);
    sheap_free(p);
    struct sheap_span *f = find_free_run(2);
    CHECK(f != NULL);
    unsigned fl, sl;
    ph_mapping(f->npages, &fl, &sl);
    uint32_t bit = 1u << sl;
    EXPECT_CORRUPTION(SHEAP_CHECK_FREE_LIST, sheap_heap.sl_bitmap[fl] ^= bit, sheap_heap.sl_bitmap[fl] ^= bit);
    uint64_t fbit = (uint64_t)1 << fl;
    EXPECT_CORRUPTION(SHEAP_CHECK_FREE_LIST, sheap_heap.fl_bitmap ^= fbit, sheap_heap.fl_bitmap ^= fbit);
    /* A bit for a list that is empty. */
    unsigned efl = FL_COUNT - 1;
    if (sheap_heap.sl_bitmap[efl] == 0) {
        EXPECT_CORRUPTION(SHEAP_CHECK_FREE_LIST, sheap_heap.sl_bitmap[efl] |= 1u, sheap_heap.sl_bitmap[efl] = 0);
        EXPECT_CORRUPTION(SHEAP_CHECK_FREE_LIST, sheap_heap.fl_bitmap |= (uint64_t)1 << efl,
                          sheap_heap.fl_bitmap &= ~((uint64_t)1 << efl));
    }
    /* Broken links. */
    struct sheap_span *prev = f->prev;
    EXPECT_CORRUPTION(SHEAP_CHECK_FREE_LIST, f->prev = f, f->prev = prev);
    struct sheap_span **headp = &sheap_heap.free_lists[fl][sl], *head = *headp;
    EXPECT_CORRUPTION(SHEAP_CHECK_FREE_LIST, *headp = head->next, *headp = head);
    /* The record claims a shorter run: its last page maps elsewhere. */
    uintptr_t np = f->npages;
    EXPECT_CORRUPTION(SHEAP_CHECK_SPAN_MAP, f->npages = np - 1, f->npages = np);
    CHECK_HEAP();
}

/* Split a free run in two adjacent free records without merging them. */
static void test_corruption_coalesce(void)
{
    char *p = sheap_malloc(4 * PAGE + MAXSMALL);
    CHECK(p != NULL);
    sheap_free(p);
    struct sheap_span *f = find_free_run(2);
    CHECK(f != NULL);
    static struct sheap_span g;
    uintptr_t np = f->npages, last = f->base + ((np - 1) << SHEAP_PAGE_SHIFT);
    uintptr_t second = f->base + PAGE;
    struct sheap_span **e_second = map_entry(second), **e_last = map_entry(last);
    struct sheap_span *old_second = *e_second;
    g = *f;
    g.base = second;
    g.npages = np - 1;
    g.next = g.prev = NULL;
    EXPECT_CORRUPTION(SHEAP_CHECK_COALESCE, (f->npages = 1, *e_second = &g, *e_last = &g),
                      (f->npages = np, *e_last = f, *e_second = old_second));
    CHECK_HEAP();
}

static void test_corruption_counters(void)
{
    void *p = sheap_malloc(100), *l = sheap_malloc(2 * PAGE + MAXSMALL);
    CHECK(p != NULL && l != NULL);
    struct sheap_counters *c = &sheap_heap.c;
    EXPECT_CORRUPTION(SHEAP_CHECK_STATS, c->live_bytes += 16, c->live_bytes -= 16);
    EXPECT_CORRUPTION(SHEAP_CHECK_STATS, c->live_blocks++, c->live_blocks--);
    EXPECT_CORRUPTION(SHEAP_CHECK_STATS, c->free_pages++, c->free_pages--);
    EXPECT_CORRUPTION(SHEAP_CHECK_STATS, c->ready_pages--, c->ready_pages++);
    EXPECT_CORRUPTION(SHEAP_CHECK_STATS, c->spans[SPAN_FREE]++, c->spans[SPAN_FREE]--);
    EXPECT_CORRUPTION(SHEAP_CHECK_STATS, c->spans[SPAN_SMALL]++, c->spans[SPAN_SMALL]--);
    EXPECT_CORRUPTION(SHEAP_CHECK_STATS, c->spans[SPAN_LARGE]--, c->spans[SPAN_LARGE]++);
    EXPECT_CORRUPTION(SHEAP_CHECK_STATS, sheap_heap.free_ready_pages++, sheap_heap.free_ready_pages--);
    uintptr_t peak = c->peak_live_bytes;
    EXPECT_CORRUPTION(SHEAP_CHECK_STATS, c->peak_live_bytes = c->live_bytes - 1, c->peak_live_bytes = peak);
    /* Index and arena list. */
    EXPECT_CORRUPTION(SHEAP_CHECK_INDEX, c->arenas++, c->arenas--);
    EXPECT_CORRUPTION(SHEAP_CHECK_INDEX, c->arena_pages++, c->arena_pages--);
    struct sheap_arena *first = sheap_heap.arenas;
    EXPECT_CORRUPTION(SHEAP_CHECK_INDEX, sheap_heap.arenas = NULL, sheap_heap.arenas = first);
    uintptr_t base = first->base;
    EXPECT_CORRUPTION(SHEAP_CHECK_INDEX, first->base = base + ARENA, first->base = base);
    sheap_free(p);
    sheap_free(l);
    CHECK_HEAP();
}
int main(void)
{
    RUN(test_corruption_small_span);
    RUN(test_corruption_large_span);
    RUN(test_corruption_free_lists);
    RUN(test_corruption_coalesce);
    RUN(test_corruption_counters);
    printf("  %u corruptions detected\n", corruption_cases);
    return harness_finish("corruption");
}
