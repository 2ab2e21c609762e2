/*
 * harness.h - the minimal test harness shared by every test program, on the
 * host and (through picolibc's printf) on the boards.
 *
 *   static void test_x(void) { CHECK(a == b); CHECK_EQ(x, 3); }
 *   int main(void) { RUN(test_x); return harness_finish("arena"); }
 *
 * A test is one function; it fails at its first failed CHECK (which returns
 * from it).  harness_finish prints "SUITE <name>: N passed, M failed", the
 * line tools/run_test.sh collects, and returns the exit status.
 *
 * Misuse tests install harness_fault_hook as sheap's fault hook: it counts
 * reports and keeps the last message instead of stopping.
 */
#ifndef SHEAP_HARNESS_H
#define SHEAP_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

extern int harness_failed_now;

void harness_fail(const char *file, int line, const char *expr);
void harness_fail_eq(const char *file, int line, const char *expr, unsigned long long a, unsigned long long b);
void harness_run(const char *name, void (*fn)(void));
int harness_finish(const char *suite);

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            harness_fail(__FILE__, __LINE__, #c);                                                  \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);             \
        if (a_ != b_) {                                                                            \
            harness_fail_eq(__FILE__, __LINE__, #a " == " #b, a_, b_);                             \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* sheap_check() must pass; prints the validator's message when it does not. */
#define CHECK_HEAP()                                                                               \
    do {                                                                                           \
        int r_ = sheap_check();                                                                    \
        if (r_ != 0) {                                                                             \
            printf("  sheap_check: %s\n", sheap_check_message(r_));                               \
            harness_fail(__FILE__, __LINE__, "sheap_check() == 0");                                \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define RUN(fn) harness_run(#fn, fn)

/* Fault hook that counts misuse reports (see sheap_set_fault_hook). */
extern unsigned harness_faults;
extern const char *harness_last_fault;
void harness_fault_hook(const char *msg, const void *ptr);

/* Statistics now, and whether two snapshots match field for field (the
 * fields that differ are printed). */
#include "sheap.h"
struct sheap_stats stats_now(void);
bool stats_same(const struct sheap_stats *a, const struct sheap_stats *b);

/* Deterministic PRNG (xorshift64*), seeded and printed by each test. */
uint64_t harness_rand(void);
void harness_seed(uint64_t seed);

#endif
