/*
 * harness_heap.c - a fresh heap for each test (see harness.h): the unit
 * tests link it beside harness.c, whose weak per-test hooks it replaces.
 * Uses the core's internals (sheap_internal.h), so builds that see only
 * the public headers (tests/libc) leave it out.
 */
#include <stdio.h>

#include "harness.h"
#include "fault_backend.h"
#include "sheap_internal.h"

/* The default heap when it exists (without making it). */
static struct sheap *sheap_default_heap_live(void)
{
    return sheap_heap.initialized ? heap_pub(&sheap_heap) : NULL;
}

static const uintptr_t default_hints[] = SHEAP_ARENA_HINTS;

int harness_fresh_heap(void)
{
    struct sheap *d = sheap_default_heap_live();
    if (d != NULL)
        sheap_heap_destroy(d);
    fault_backend_init(&harness_fault_backend, sheap_port_default_backend());
    struct sheap_config cfg = {
        .backend = &harness_fault_backend.backend,
        .caps = SHEAP_DEFAULT_HEAP_CAPS,
        .name = "default (test)",
        .order = SHEAP_DEFAULT_HEAP_ORDER,
        .hints = default_hints,
        .nhints = sizeof(default_hints) / sizeof(default_hints[0]),
    };
    return sheap_default_heap_create(&cfg);
}

int harness_release_heap(void)
{
    struct sheap *d = sheap_default_heap_live();
    if (d != NULL && sheap_heap_destroy(d) != 0)
        return -1;
    if (harness_fault_backend.reserved_bytes != 0) {
        printf("  heap destroyed but %llu bytes still reserved from its backend\n",
               (unsigned long long)harness_fault_backend.reserved_bytes);
        return -1;
    }
    return 0;
}

int harness_before_each(void)
{
    return harness_fresh_heap();
}

int harness_after_each(void)
{
    /* Live blocks a test kept die with the heap: that is allowed; a broken
     * heap or a reservation the heap did not give back is not. */
    int r = sheap_check();
    if (r != 0)
        printf("  sheap_check after the test: %s\n", sheap_check_message(r));
    return harness_release_heap() != 0 || r != 0 ? -1 : 0;
}

struct sheap_span *find_free_run(uintptr_t min_pages)
{
    for (unsigned fl = 0; fl < FL_COUNT; fl++)
        for (unsigned sl = 0; sl < SL_COUNT; sl++)
            for (struct sheap_span *s = sheap_heap.free_lists[fl][sl]; s; s = s->next)
                if (s->npages >= min_pages)
                    return s;
    return NULL;
}

struct sheap_span **map_entry(uintptr_t addr)
{
    struct sheap_arena *a = arena_of(addr);
    return &a->spans[arena_page_index(addr)];
}

/* ---- The test heap's backend, directly ---------------------------------------------- */

#define DB (&harness_fault_backend.backend)

uintptr_t test_port_page_size(void) { return DB->page_size; }
int test_port_reserve(uintptr_t hint, uintptr_t n, uintptr_t *out) { return DB->ops->reserve(DB->ctx, hint, n, out); }
int test_port_map(uintptr_t v, uintptr_t n) { return DB->ops->map(DB->ctx, v, n); }
int test_port_used(uintptr_t v, uintptr_t n, bool *zeroed) { return DB->ops->used(DB->ctx, v, n, zeroed); }
void test_port_unused(uintptr_t v, uintptr_t n) { DB->ops->unused(DB->ctx, v, n); }
void test_port_release(uintptr_t v, uintptr_t n) { DB->ops->release(DB->ctx, v, n); }

int test_port_reserve_locked(uintptr_t hint, uintptr_t n, uintptr_t *out)
{
    heap_lock();
    int r = test_port_reserve(hint, n, out);
    heap_unlock();
    return r;
}

void test_port_release_locked(uintptr_t v, uintptr_t n)
{
    heap_lock();
    test_port_release(v, n);
    heap_unlock();
}
