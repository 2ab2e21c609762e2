/*
 * test_rt.c - the real-time contract of sheap.h ("Interrupt latency",
 * "Interrupt handlers"): calls made in interrupt context, or while another
 * caller owns a growth section, never grow, back or release memory: they
 * get memory that is already Ready or a clean NULL, and the heap stays
 * consistent.  A growth section is entered for real: the harness's backend
 * calls a hook from its used() operation, where the core has dropped the
 * heap lock, just as an interrupt handler would run there.
 */
#include <errno.h>
#include <string.h>

#include "fault_backend.h"
#include "harness.h"
#include "sheap.h"
#include "sheap_config.h"
#include "sheap_internal.h"

/* A page run larger than anything Ready in a fresh heap (boards with
 * little RAM: a quarter of what the tests may use). */
#if defined(SHEAP_TEST_RAM_BYTES) && SHEAP_TEST_RAM_BYTES < (4u << 20)
#define RUN_BYTES (SHEAP_TEST_RAM_BYTES / 4)
#else
#define RUN_BYTES (1u << 20)
#endif

/* Between sheap_isr_enter and sheap_isr_exit: Ready memory or NULL. */
static void test_isr_ready_or_null(void)
{
    void *warm = sheap_malloc(48); /* the class now has a partial span */
    CHECK(warm != NULL);
    struct sheap_stats before;
    sheap_stats(&before);
    sheap_isr_enter();
    void *q = sheap_malloc(48);
    CHECK(q != NULL); /* served from the Ready partial span */
    errno = 0;
    void *big = sheap_malloc(RUN_BYTES); /* would back pages */
    CHECK(big == NULL);
    CHECK_EQ(errno, ENOMEM);
    CHECK_EQ(sheap_trim(), 0);
    sheap_free(q);
    struct sheap_stats during;
    sheap_stats(&during);
    CHECK_EQ(during.ready_bytes, before.ready_bytes); /* nothing backed or released */
    CHECK_EQ(during.reserved_bytes, before.reserved_bytes);
    sheap_isr_exit();
    CHECK_HEAP();
    big = sheap_malloc(RUN_BYTES); /* thread context again: it may grow */
    CHECK(big != NULL);
    sheap_free(big);
    sheap_free(warm);
    CHECK_HEAP();
}

/* What the hook saw, checked after the growth section. */
static struct {
    int ran;
    void *small, *big, *to_free;
    int check, destroy;
    size_t trimmed;
} seen;

static void in_growth_section(void)
{
    fault_backend_used_hook = NULL; /* once */
    seen.ran++;
    seen.small = sheap_malloc(48);
    seen.big = sheap_malloc(RUN_BYTES);
    seen.check = sheap_check();
    seen.trimmed = sheap_trim();
    seen.destroy = sheap_heap_destroy(sheap_default_heap());
    /* A free whose run may touch the pages being backed: they are BUSY, so
     * the free run must not merge with them. */
    sheap_free(seen.to_free);
    sheap_free(seen.small);
}

static void test_calls_during_growth(void)
{
    void *warm = sheap_malloc(48);
    CHECK(warm != NULL);
    seen.to_free = sheap_malloc(RUN_BYTES / 4);
    CHECK(seen.to_free != NULL);
    seen.ran = 0;
    fault_backend_used_hook = in_growth_section;
    void *b = sheap_malloc(RUN_BYTES / 4); /* fresh pages: used() runs the hook */
    fault_backend_used_hook = NULL;
    CHECK(b != NULL);
    CHECK_EQ(seen.ran, 1);
    CHECK(seen.small != NULL);    /* Ready memory */
    CHECK(seen.big == NULL);      /* no waiting for growth, no nested growth */
    CHECK_EQ(seen.check, SHEAP_CHECK_BUSY);
    CHECK_EQ(seen.trimmed, 0);
    CHECK_EQ(seen.destroy, SHEAP_EBUSY);
    CHECK_HEAP();
    ((char *)b)[0] = 1;
    ((char *)b)[RUN_BYTES / 4 - 1] = 2;
    CHECK_EQ(sheap_usable_size(b), RUN_BYTES / 4);
    sheap_free(b);
    sheap_free(warm);
    CHECK_HEAP();
}

/* A long page run's interior pointers are still refused, with the right
 * cause, although only its first and last span-map entries are kept. */
#define IRUN (SHEAP_MAX_SMALL_SIZE + 4u * SHEAP_PAGE_SIZE) /* a page run of 4+ pages */
static void test_run_interior_pointer(void)
{
    char *p = sheap_malloc(IRUN);
    CHECK(p != NULL);
    sheap_fault_hook old = sheap_set_fault_hook(harness_fault_hook);
    unsigned faults0 = harness_faults;
    sheap_free(p + SHEAP_PAGE_SIZE * 2);
    CHECK_EQ(harness_faults, faults0 + 1);
    /* (Level 0: one message for every misuse.) */
    CHECK(harness_last_fault != NULL &&
          strstr(harness_last_fault, SHEAP_HARDENING == 0 ? "invalid pointer" : "interior pointer into a large block") != NULL);
    CHECK_EQ(sheap_usable_size(p), IRUN);
    sheap_free(p);
    sheap_free(p); /* double free */
    CHECK_EQ(harness_faults, faults0 + 2);
    CHECK(harness_last_fault != NULL &&
          strstr(harness_last_fault, SHEAP_HARDENING == 0 ? "invalid pointer" : "free heap memory") != NULL);
    sheap_set_fault_hook(old);
    CHECK_HEAP();
}

int main(void)
{
    RUN(test_isr_ready_or_null);
    RUN(test_calls_during_growth);
    RUN(test_run_interior_pointer);
    return harness_finish("rt");
}
