/*
 * test_walk_threads.c - the walk re-entry guard (sheap_walk) tells the
 * walking thread from the others, host only.
 *
 * A call into the heap from a walker callback is refused and reported; a
 * call from another thread during the walk must not be: it waits for the
 * heap lock and then succeeds.  Thread B announces that it is about to call
 * sheap_malloc once A's walker callback runs (so the walk holds the lock);
 * the callback waits for the announcement (and a while longer, yielding)
 * before it returns.  B cannot finish before the walk does, its block must
 * come back, and no misuse may be counted for it.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

#include "harness.h"
#include "sheap.h"

static volatile int a_walking, b_started, b_done;
static void *b_block;

static void *thread_b(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&a_walking, __ATOMIC_SEQ_CST)) /* the walk holds the lock from now on */
        sched_yield();
    __atomic_store_n(&b_started, 1, __ATOMIC_SEQ_CST);
    b_block = sheap_malloc(48);
    __atomic_store_n(&b_done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static unsigned long waited;

static int slow_walk_fn(void *ptr, size_t size, bool used, void *ctx)
{
    (void)ptr;
    (void)size;
    (void)used;
    (void)ctx;
    __atomic_store_n(&a_walking, 1, __ATOMIC_SEQ_CST);
    for (unsigned long i = 0; i < 100000000ul && !__atomic_load_n(&b_started, __ATOMIC_SEQ_CST); i++)
        sched_yield();
    for (int i = 0; i < 2000; i++) /* let B reach the lock */
        sched_yield();
    waited = __atomic_load_n(&b_done, __ATOMIC_SEQ_CST) ? 2 : 1; /* 1: B was still waiting */
    return 1;
}

static void test_other_thread_waits(void)
{
    void *keep = sheap_malloc(16);
    CHECK(keep != NULL);
    struct sheap_stats s0 = stats_now();
    pthread_t b;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    CHECK(pthread_create(&b, &attr, thread_b, NULL) == 0);
    CHECK_EQ(sheap_walk(slow_walk_fn, NULL), 1);
    CHECK(pthread_join(b, NULL) == 0);
    printf("  thread B %s the walk ended\n", waited == 1 ? "was blocked until" : "finished before");
    CHECK(waited == 1); /* the walk holds the lock: B cannot finish first */
    CHECK(b_block != NULL);
    struct sheap_stats s1 = stats_now();
    CHECK_EQ(s1.misuse_count, s0.misuse_count);
    sheap_free(b_block);
    sheap_free(keep);
    CHECK_HEAP();
}

int main(void)
{
    RUN(test_other_thread_waits);
    return harness_finish("walk-threads");
}
