/*
 * small_churn.c - the small-object workload (8..256 B, warm) used to count
 * instructions per call on the host with callgrind:
 *   make BOARD=host lib
 *   gcc -O2 -Iinclude tests/bench/small_churn.c -Lbuild/host -lsheap -o churn
 *   valgrind --tool=callgrind --callgrind-out-file=cg.out ./churn
 *   callgrind_annotate --inclusive=yes cg.out | grep -E 'sheap_(malloc|free)'
 * and divide by the calls (201,024 mallocs, 202,048 frees).
 * A fixed seed; 1024 live slots; each step frees a random slot and
 * allocates a random size into it.  The first pass warms every class so
 * that the counted steady state contains no heap growth.
 */
#include <stdint.h>
#include <stdio.h>

#include "sheap.h"

#define SLOTS 1024
#define STEPS 200000

static uint64_t rng = 0x12345678abcdefull;
static uint64_t next_rand(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dull;
}

static void *slot[SLOTS];

int main(void)
{
    for (unsigned i = 0; i < SLOTS; i++)
        slot[i] = sheap_malloc(8 + next_rand() % 249);
    for (unsigned long s = 0; s < STEPS; s++) {
        unsigned i = (unsigned)(next_rand() % SLOTS);
        sheap_free(slot[i]);
        slot[i] = sheap_malloc(8 + next_rand() % 249);
    }
    for (unsigned i = 0; i < SLOTS; i++)
        sheap_free(slot[i]);
    int r = sheap_check();
    printf("small_churn: %d steps, check %d\n", STEPS, r);
    return r;
}
