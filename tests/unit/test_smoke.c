/* test_smoke.c - the first things that must work: one block of each kind. */
#include "harness.h"
#include "sheap.h"
#include "sheap_config.h"

static void test_small_roundtrip(void)
{
    char *p = sheap_malloc(24);
    CHECK(p != NULL);
    for (int i = 0; i < 24; i++)
        p[i] = (char)i;
    CHECK_HEAP();
    sheap_free(p);
    CHECK_HEAP();
}

/* 1 MB, or half of what a board with less RAM lets the tests use (board.h
 * SHEAP_TEST_RAM_BYTES): a page run either way. */
#if defined(SHEAP_TEST_RAM_BYTES) && SHEAP_TEST_RAM_BYTES < (2u << 20)
#define LARGE (SHEAP_TEST_RAM_BYTES / 2)
#else
#define LARGE (1 << 20)
#endif

static void test_large_roundtrip(void)
{
    char *p = sheap_malloc(LARGE);
    CHECK(p != NULL);
    p[0] = 1;
    p[LARGE - 1] = 2;
    CHECK_HEAP();
    sheap_free(p);
    CHECK_HEAP();
}

int main(void)
{
    RUN(test_small_roundtrip);
    RUN(test_large_roundtrip);
    return harness_finish("smoke");
}
