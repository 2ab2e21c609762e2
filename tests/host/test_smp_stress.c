/*
 * test_smp_stress.c - the multi-CPU stress (tests/smp/smp_stress.c) on the
 * host, one pthread per CPU: 2, 4 and 8 threads (8 is more
 * threads than SHEAP_MAX_CPUS in an SMP build: threads then share CPU
 * slots, which the port allows).  The main thread is CPU 0.  Each run is
 * one test on a fresh default heap (the harness's RUN); it passes when the
 * engine found no error: every pattern intact, sheap_check() == 0 and the
 * statistics equal to the shadow's sums at every quiescent point, double
 * frees across threads reported once, and everything freed at the end.
 *
 * Sized for make test: a few hundred thousand operations in all on the
 * native build, fewer under ThreadSanitizer (about 10x slower) and on
 * i686 (qemu-i386).  No clock is read.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sched.h>
#include <stdio.h>

#include "harness.h"
#include "sheap.h"
#include "smp_stress.h"

#if defined(__SANITIZE_THREAD__)
#define STEPS 600
#elif defined(__i386__)
#define STEPS 1000
#else
#define STEPS 2500
#endif

/* Waiting at a barrier with more threads than cores: let the others run. */
void smp_stress_relax(void)
{
    sched_yield();
}

static struct smp_stress st;

struct cpu_arg {
    unsigned cpu;
    int rc;
};

static void *cpu_thread(void *arg)
{
    struct cpu_arg *a = arg;
    a->rc = smp_stress_cpu(&st, a->cpu);
    return NULL;
}

static void run_threads(unsigned ncpus, uint32_t seed)
{
    struct cpu_arg args[SMP_STRESS_MAX_CPUS];
    pthread_t tid[SMP_STRESS_MAX_CPUS];
    unsigned char *z = (unsigned char *)&st;
    for (size_t i = 0; i < sizeof st; i++)
        z[i] = 0;
    st.ncpus = ncpus;
    st.rounds = 5;
    st.steps = STEPS;
    st.slots = 64;
    st.max_size = 96 * 1024;
    st.seed = seed;
    smp_stress_init(&st);
    /* SMP_STRESS_NOTRIM=1: no sheap_trim while the other threads allocate. */
    if (getenv("SMP_STRESS_NOTRIM") != NULL)
        st.concurrent_trim = 0;
    for (unsigned i = 1; i < ncpus; i++) {
        args[i].cpu = i;
        args[i].rc = -1;
        CHECK(pthread_create(&tid[i], NULL, cpu_thread, &args[i]) == 0);
    }
    int rc0 = smp_stress_cpu(&st, 0);
    int all = rc0;
    for (unsigned i = 1; i < ncpus; i++) {
        CHECK(pthread_join(tid[i], NULL) == 0);
        all |= args[i].rc;
    }
    printf("  %u threads, seed %u: %lu ops (%lu malloc, %lu calloc, %lu realloc, %lu free of which %lu remote), "
           "%u quiescent checks, %lu misuse reports, %lu busy checks, %lu large NULL\n",
           ncpus, (unsigned)seed, st.ops, st.mallocs, st.callocs, st.reallocs, st.frees, st.remote_frees,
           st.quiescent_checks, st.misuse_reports, st.busy_checks, st.large_nulls);
    if (st.first_error)
        printf("  first error: %s (cpu %u, round %u); %lu errors\n", st.first_error, st.first_error_cpu,
               st.first_error_round, st.errors);
    CHECK_EQ(st.errors, 0);
    CHECK_EQ(all, 0);
    /* The run really did what it claims. */
    CHECK_EQ(st.quiescent_checks, st.rounds + 1 + 4 + (st.rounds > 1));
    CHECK_EQ(st.misuse_reports, 4);
    CHECK(st.mallocs > 0 && st.callocs > 0 && st.reallocs > 0);
    CHECK_EQ(st.large_nulls, 0);                   /* the host heap can always grow */
    CHECK_EQ(st.frees, st.mallocs + st.callocs);  /* every block made was freed once */
    if (ncpus > 1)
        CHECK(st.remote_frees > 0);
    struct sheap_stats s;
    sheap_stats(&s);
    CHECK_EQ(s.live_blocks, 0);
    CHECK_EQ(s.live_bytes, 0);
    CHECK_HEAP();
}

static void test_smp_stress_2_threads(void) { run_threads(2, 1); }
static void test_smp_stress_4_threads(void) { run_threads(4, 2); }
static void test_smp_stress_8_threads(void) { run_threads(8, 3); }

int main(void)
{
    RUN(test_smp_stress_2_threads);
    RUN(test_smp_stress_4_threads);
    RUN(test_smp_stress_8_threads);
    return harness_finish("smp-stress");
}
