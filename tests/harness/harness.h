/*
 * harness.h - the minimal test harness shared by every test program, on the
 * host and (through picolibc's printf) on the boards.
 *
 *   static void test_x(void) { CHECK(a == b); CHECK_EQ(x, 3); }
 *   int main(void) { RUN(test_x); return harness_finish("arena"); }
 *
 * A test is one function; it fails at its first failed CHECK (which returns
 * from it).  A failed test ends its suite: the tests after it do not run
 * (each is reported "FAIL <name> (not run: ...)" and counted as failed),
 * since the failed one may have left blocks, reservations, armed faults or
 * a fault hook behind.  A test that cannot run on this configuration calls
 * SKIP (reported "skip <name>", counted neither as passed nor as failed).
 * harness_finish prints "SUITE <name>: N passed, M failed" (then ", K
 * skipped" when K > 0), the line tools/run_test.sh collects, and returns the
 * exit status.
 *
 * Each test runs on a fresh default heap (harness_heap.c, linked by the
 * unit tests): RUN creates it on the fault backend (fault_backend.h) before
 * the test, and after it checks the heap, destroys it and checks that it
 * gave back everything it reserved.  Programs built from the public
 * headers only (tests/libc) link harness.c alone and keep one heap.  The
 * fault hook is shared by all heaps and stays as a test leaves it.
 *
 * Misuse tests install harness_fault_hook as sheap's fault hook: it counts
 * reports and keeps the last message instead of stopping.
 */
#ifndef SHEAP_HARNESS_H
#define SHEAP_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

extern int harness_failed_now, harness_skipped_now;

void harness_fail(const char *file, int line, const char *expr);
void harness_fail_eq(const char *file, int line, const char *expr, unsigned long long a, unsigned long long b);
void harness_run(const char *name, void (*fn)(void));
/* Mark the running test as skipped (see SKIP). */
void harness_skip(void);
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

/* The test cannot run on this configuration: print why (printf arguments,
 * no newline) and leave it as skipped.  Only for what the configuration
 * rules out (word size, board, hardening level), never for a branch that
 * a run happened not to take. */
#define SKIP(...)                                                                                  \
    do {                                                                                           \
        printf("  skipped: " __VA_ARGS__);                                                         \
        printf("\n");                                                                              \
        harness_skip();                                                                            \
        return;                                                                                    \
    } while (0)

/* Run a helper that uses CHECK; leave the test at its first failure. */
#define CALL(x)                                                                                    \
    do {                                                                                           \
        x;                                                                                         \
        if (harness_failed_now)                                                                    \
            return;                                                                                \
    } while (0)

/* RUN's per-test hooks: weak no-ops in harness.c, the fresh heap in
 * harness_heap.c.  Non-zero fails the test. */
int harness_before_each(void);
int harness_after_each(void);

/* A fresh default heap on harness_fault_backend (destroying the old one);
 * 0 or the sheap_default_heap_create error.  RUN calls it. */
int harness_fresh_heap(void);
/* Destroy the default heap; 0 when its backend got everything back. */
int harness_release_heap(void);

/* Fault hook that counts misuse reports (see sheap_set_fault_hook). */
extern unsigned harness_faults;
extern const char *harness_last_fault;
void harness_fault_hook(const char *msg, const void *ptr);

#include "board_test.h" /* the board's test sizing (SHEAP_TEST_*) */
#include "fault_backend.h"

/* The test heap's backend (harness_fault_backend over the port's default
 * backend) called directly, for tests that take address space away from
 * the heap.  Injected faults apply; what is reserved must be released by
 * the end of the test. */
uintptr_t test_port_page_size(void);
int test_port_reserve(uintptr_t hint, uintptr_t n, uintptr_t *out);
int test_port_map(uintptr_t v, uintptr_t n);
int test_port_used(uintptr_t v, uintptr_t n, bool *zeroed);
void test_port_unused(uintptr_t v, uintptr_t n);
void test_port_release(uintptr_t v, uintptr_t n);
/* The same two under the heap lock, as the heap itself calls them. */
int test_port_reserve_locked(uintptr_t hint, uintptr_t n, uintptr_t *out);
void test_port_release_locked(uintptr_t v, uintptr_t n);

/* Statistics now, and whether two snapshots match field for field (the
 * fields that differ are printed). */
#include "sheap.h"
struct sheap_stats stats_now(void);
bool stats_same(const struct sheap_stats *a, const struct sheap_stats *b);

/* A digest of every block sheap_walk reports (address, size, used): equal
 * digests, the same blocks.  harness_digest_fn is its walker callback. */
int harness_digest_fn(void *ptr, size_t size, bool used, void *ctx);
uint64_t heap_digest(void);

/* The default heap's internals (harness_heap.c; programs that see only the
 * public headers do not link it).  find_free_run: the first free run of at
 * least min_pages pages, or NULL.  map_entry: the span-map entry of the
 * page holding addr, an arena address. */
struct sheap_span;
struct sheap_span *find_free_run(uintptr_t min_pages);
struct sheap_span **map_entry(uintptr_t addr);

/* Deterministic PRNG (xorshift64*), seeded and printed by each test. */
uint64_t harness_rand(void);
void harness_seed(uint64_t seed);

#endif
