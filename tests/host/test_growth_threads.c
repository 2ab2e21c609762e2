/*
 * test_growth_threads.c - a thread that needs growth while another thread
 * owns it waits and then gets memory ("NULL iff the heap cannot grow"
 * holds for threaded programs), host only, with real threads.
 *
 * Thread A allocates a run of fresh pages; the harness's fault backend calls
 * fault_backend_used_hook inside A's growth section (heap lock dropped).
 * There A first calls sheap_malloc itself, as a backend calling back would:
 * that must get NULL at once (its own context never waits for itself).
 * Then A stays in the section until the hosted port has counted a wait
 * (sheap_hosted_growth_waits) after thread B started its call, so B's call
 * cannot finish before A's section ends: B must have waited, and must
 * succeed.  No clock is read: the outcome is asserted, and the interleaving
 * is forced by the wait counter (bounded loops, which fail the test rather
 * than hang it).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

#include "fault_backend.h"
#include "harness.h"
#include "sheap.h"
#include "../../port/hosted/sheap_hosted.h"

#define RUN_BYTES (1u << 20) /* a page run of fresh (not Ready) pages */
#define SPIN_LIMIT 100000000ul

enum b_action { B_MALLOC, B_CHECK };

static _Thread_local int i_am_a;
static volatile int a_in_section, b_calling, b_done, hook_ran;
static volatile unsigned long waits_before_b;
static volatile int a_saw_wait;
static void *callback_block;
static int callback_errno_ok;
static enum b_action b_action;
static void *b_block;
static int b_check;

/* In A's growth section (lock not held), once, in thread A only. */
static void a_in_growth(void)
{
    if (!i_am_a || hook_ran)
        return;
    hook_ran = 1;
    /* A backend calling back: growth is this context's own, so no wait. */
    errno = 0;
    callback_block = sheap_malloc(RUN_BYTES);
    callback_errno_ok = errno == SHEAP_ENOMEM;
    __atomic_store_n(&a_in_section, 1, __ATOMIC_SEQ_CST);
    /* Stay until B has started its call and waited at least once. */
    for (unsigned long i = 0; i < SPIN_LIMIT && !__atomic_load_n(&b_calling, __ATOMIC_SEQ_CST); i++)
        sched_yield();
    for (unsigned long i = 0; i < SPIN_LIMIT; i++) {
        if (sheap_hosted_growth_waits() > waits_before_b) {
            a_saw_wait = 1;
            break;
        }
        sched_yield();
    }
    for (int i = 0; i < 1000; i++) /* B keeps waiting meanwhile */
        sched_yield();
    a_saw_wait = a_saw_wait && !__atomic_load_n(&b_done, __ATOMIC_SEQ_CST); /* B still waiting */
}

static void *thread_b(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&a_in_section, __ATOMIC_SEQ_CST))
        sched_yield();
    waits_before_b = sheap_hosted_growth_waits();
    __atomic_store_n(&b_calling, 1, __ATOMIC_SEQ_CST);
    if (b_action == B_MALLOC)
        b_block = sheap_malloc(RUN_BYTES);
    else
        b_check = sheap_check();
    __atomic_store_n(&b_done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void *thread_a(void *arg)
{
    i_am_a = 1;
    *(void **)arg = sheap_malloc(RUN_BYTES); /* fresh pages: used() runs the hook */
    return NULL;
}

static void run_pair(enum b_action action, void **a_block)
{
    a_in_section = b_calling = b_done = hook_ran = a_saw_wait = 0;
    waits_before_b = 0;
    callback_block = b_block = NULL;
    callback_errno_ok = 0;
    b_check = -1;
    b_action = action;
    fault_backend_used_hook = a_in_growth;
    pthread_t a, b;
    CHECK(pthread_create(&b, NULL, thread_b, NULL) == 0);
    CHECK(pthread_create(&a, NULL, thread_a, a_block) == 0);
    CHECK(pthread_join(a, NULL) == 0);
    CHECK(pthread_join(b, NULL) == 0);
    fault_backend_used_hook = NULL;
    CHECK_EQ(hook_ran, 1);
    CHECK(*a_block != NULL);
    CHECK(callback_block == NULL); /* the backend's own context: NULL, no deadlock */
    CHECK(callback_errno_ok);
    CHECK(a_saw_wait);             /* B waited while A's section ran */
    CHECK(sheap_hosted_growth_waits() > waits_before_b);
}

/* B's allocation needs growth (backing fresh pages) while A owns it. */
static void test_second_thread_waits_for_growth(void)
{
    void *a_block = NULL;
    struct sheap_stats s0 = stats_now();
    run_pair(B_MALLOC, &a_block);
    unsigned long waits = sheap_hosted_growth_waits() - waits_before_b;
    printf("  thread B waited %lu time%s for A's growth section\n", waits, waits == 1 ? "" : "s");
    CHECK(b_block != NULL); /* the heap could grow: B gets memory, not NULL */
    CHECK(b_block != a_block);
    CHECK_EQ(sheap_usable_size(b_block), RUN_BYTES);
    ((char *)b_block)[0] = 1;
    ((char *)b_block)[RUN_BYTES - 1] = 2;
    struct sheap_stats s1 = stats_now();
    CHECK_EQ(s1.oom_count, s0.oom_count + 1); /* the callback's NULL only */
    CHECK_EQ(s1.misuse_count, s0.misuse_count);
    CHECK_HEAP();
    sheap_free(b_block);
    sheap_free(a_block);
    CHECK_HEAP();
}

/* sheap_check from B during A's section waits for it and then checks (it
 * answers SHEAP_CHECK_BUSY only to the owner itself or a handler). */
static void test_check_waits_for_growth(void)
{
    void *a_block = NULL;
    run_pair(B_CHECK, &a_block);
    CHECK_EQ(b_check, 0);
    sheap_free(a_block);
    CHECK_HEAP();
}

int main(void)
{
    RUN(test_second_thread_waits_for_growth);
    RUN(test_check_waits_for_growth);
    return harness_finish("growth-threads");
}
