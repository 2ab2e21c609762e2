/* test_smoke.c - the first things that must work: one block of each kind. */
#include "harness.h"
#include "sheap.h"

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

static void test_large_roundtrip(void)
{
    char *p = sheap_malloc(1 << 20);
    CHECK(p != NULL);
    p[0] = 1;
    p[(1 << 20) - 1] = 2;
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
