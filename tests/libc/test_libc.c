/*
 * test_libc.c - the C library binding (include/sheap_libc.h) seen from a
 * plain C program: malloc, free, calloc, realloc, reallocarray,
 * aligned_alloc, memalign, posix_memalign, valloc, pvalloc and
 * malloc_usable_size keep the C and POSIX rules (errno, alignment, zeroing,
 * content), and the C library's own allocations (strdup, asprintf, fopen on
 * a semihosted file, fmemopen) land in sheap, shown by sheap_stats deltas.
 *
 * Built only through build/<board>/sheap.mk (tests/libc/Makefile), as an
 * outside firmware build would be; runs on every picolibc board, on
 * mps2-an385 with newlib nano and full newlib (where newlib's own calls go
 * through the reentrant _malloc_r family: strdup, asprintf, fopen, the
 * stdio buffer of printf, printf's float conversion), and on the host's
 * native flavour, where the binding replaces glibc's malloc.
 * tools/check_libc_link.sh checks the linked image with nm.
 */
#define _GNU_SOURCE 1 /* asprintf, reallocarray, valloc, pvalloc on glibc */

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sheap.h"
#include "sheap_config.h"

/* Sizes no heap can satisfy, hidden from the compiler so that it neither
 * folds the calls nor warns about them. */
static volatile size_t huge = SIZE_MAX - 4096;
static volatile size_t half = SIZE_MAX / 2 + 1;

/* On the boards fopen goes through the C library's semihosting open(). */
#if defined(__PICOLIBC__)
#define FILE_KIND "semihosted file"
#elif defined(_NEWLIB_VERSION)
#define FILE_KIND "semihosted file"
#define NEWLIB 1
#else
#define FILE_KIND "host file"
#endif

static bool aligned(const void *p, size_t a) { return ((uintptr_t)p & (a - 1)) == 0; }

static void fill(void *p, size_t n, unsigned seed)
{
    unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(i * 7u + seed);
}

static bool intact(const void *p, size_t n, unsigned seed)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != (unsigned char)(i * 7u + seed))
            return false;
    return true;
}

/* ---- the C and POSIX rules ------------------------------------------------------ */

static void test_malloc_free(void)
{
    struct sheap_stats a = stats_now();
    char *p = malloc(100);
    CHECK(p != NULL);
    CHECK(aligned(p, 16));
    CHECK(malloc_usable_size(p) >= 100);
    CHECK_EQ(malloc_usable_size(p), sheap_usable_size(p));
    fill(p, 100, 1);
    struct sheap_stats b = stats_now();
    CHECK_EQ(b.live_blocks, a.live_blocks + 1);
    CHECK_EQ(b.live_bytes, a.live_bytes + malloc_usable_size(p));
    CHECK(intact(p, 100, 1));
    free(p);
    free(NULL);
    b = stats_now();
    CHECK_EQ(b.live_blocks, a.live_blocks);
    CHECK_EQ(b.live_bytes, a.live_bytes);
    CHECK_EQ(malloc_usable_size(NULL), 0);
}

static void test_malloc_zero(void)
{
    struct sheap_stats a = stats_now();
    void *p = malloc(0), *q = malloc(0);
    CHECK(p != NULL && q != NULL && p != q);
    CHECK_EQ(stats_now().live_blocks, a.live_blocks + 2);
    free(p);
    free(q);
    CHECK_EQ(stats_now().live_blocks, a.live_blocks);
}

static void test_malloc_enomem(void)
{
    struct sheap_stats a = stats_now();
    errno = 0;
    CHECK(malloc(huge) == NULL);
    CHECK_EQ(errno, ENOMEM);
    errno = 0;
    CHECK(malloc(half) == NULL);
    CHECK_EQ(errno, ENOMEM);
    CHECK_EQ(stats_now().live_blocks, a.live_blocks);
}

static void test_calloc(void)
{
    /* Dirty a block, free it, and take its slot back zeroed. */
    unsigned char *d = malloc(96);
    CHECK(d != NULL);
    memset(d, 0xa5, 96);
    free(d);
    unsigned char *p = calloc(12, 8);
    CHECK(p != NULL);
    for (size_t i = 0; i < 96; i++)
        CHECK_EQ(p[i], 0);
    free(p);
    unsigned char *big = calloc(3, 40000);
    CHECK(big != NULL);
    for (size_t i = 0; i < 120000; i += 997)
        CHECK_EQ(big[i], 0);
    free(big);
    errno = 0;
    CHECK(calloc(half, 2) == NULL); /* count * size overflows */
    CHECK_EQ(errno, ENOMEM);
    void *z = calloc(0, 8);
    CHECK(z != NULL);
    free(z);
}

static void test_realloc(void)
{
    struct sheap_stats a = stats_now();
    char *p = realloc(NULL, 24); /* realloc(NULL, n) is malloc(n) */
    CHECK(p != NULL);
    fill(p, 24, 3);
    static const size_t sizes[] = {100, 5000, 100000, 70000, 300, 10};
    size_t have = 24;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i], keep = n < have ? n : have;
        char *q = realloc(p, n);
        CHECK(q != NULL);
        CHECK(aligned(q, 8));
        CHECK(intact(q, keep, 3));
        CHECK(malloc_usable_size(q) >= n);
        fill(q, n, 3);
        p = q;
        have = n;
    }
    /* Failure leaves the block as it was. */
    errno = 0;
    CHECK(realloc(p, huge) == NULL);
    CHECK_EQ(errno, ENOMEM);
    CHECK(intact(p, have, 3));
    /* realloc(p, 0) frees p and returns NULL; errno is untouched. */
    errno = EDOM;
    CHECK(realloc(p, 0) == NULL);
    CHECK_EQ(errno, EDOM);
    struct sheap_stats b = stats_now();
    CHECK_EQ(b.live_blocks, a.live_blocks);
    CHECK_EQ(b.live_bytes, a.live_bytes);
}

static void test_reallocarray(void)
{
    int *v = reallocarray(NULL, 10, sizeof(int));
    CHECK(v != NULL);
    for (int i = 0; i < 10; i++)
        v[i] = i * i;
    int *w = reallocarray(v, 1000, sizeof(int));
    CHECK(w != NULL);
    for (int i = 0; i < 10; i++)
        CHECK_EQ(w[i], i * i);
    errno = 0;
    CHECK(reallocarray(w, half, 4) == NULL);
    CHECK_EQ(errno, ENOMEM);
    CHECK_EQ(w[9], 81); /* still ours */
    free(w);
}

static void test_aligned_alloc(void)
{
    /* Up to 1 MB, or a quarter of what a board with less RAM lets the tests
     * use (board.h SHEAP_TEST_RAM_BYTES). */
#if defined(SHEAP_TEST_RAM_BYTES) && SHEAP_TEST_RAM_BYTES < (4u << 20)
    const size_t amax = SHEAP_TEST_RAM_BYTES / 4;
#else
    const size_t amax = (size_t)1 << 20;
#endif
    for (size_t a = 1; a <= amax; a <<= 1) {
        size_t n = a / 2 + 3; /* need not be a multiple of the alignment */
        void *p = aligned_alloc(a, n);
        CHECK(p != NULL);
        CHECK(aligned(p, a));
        CHECK(malloc_usable_size(p) >= n);
        fill(p, n, 5);
        free(p);
    }
    static const size_t bad[] = {0, 3, 24, 48, 4097};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        CHECK(aligned_alloc(bad[i], 64) == NULL);
        CHECK_EQ(errno, EINVAL);
    }
    errno = 0;
    CHECK(aligned_alloc((size_t)SHEAP_ARENA_SIZE * 2, 64) == NULL); /* too big */
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK(aligned_alloc(64, huge) == NULL);
    CHECK_EQ(errno, ENOMEM);
}

static void test_memalign_valloc(void)
{
    void *p = memalign(256, 10);
    CHECK(p != NULL && aligned(p, 256));
    free(p);
    errno = 0;
    CHECK(memalign(24, 10) == NULL);
    CHECK_EQ(errno, EINVAL);
    p = valloc(1);
    CHECK(p != NULL && aligned(p, SHEAP_PAGE_SIZE));
    free(p);
    p = pvalloc(1);
    CHECK(p != NULL && aligned(p, SHEAP_PAGE_SIZE));
    CHECK(malloc_usable_size(p) >= SHEAP_PAGE_SIZE);
    free(p);
    errno = 0;
    CHECK(pvalloc(huge) == NULL);
    CHECK_EQ(errno, ENOMEM);
}

static void test_posix_memalign(void)
{
    void *p = NULL;
    CHECK_EQ(posix_memalign(&p, 64, 100), 0);
    CHECK(p != NULL && aligned(p, 64));
    free(p);
    /* Errors come back as the result; errno and *out are left alone. */
    void *const untouched = (void *)&p;
    static const size_t bad[] = {0, sizeof(void *) / 2, 24, (size_t)SHEAP_ARENA_SIZE * 2};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = untouched;
        errno = EDOM;
        CHECK_EQ(posix_memalign(&p, bad[i], 16), EINVAL);
        CHECK_EQ(errno, EDOM);
        CHECK(p == untouched);
    }
    errno = EDOM;
    CHECK_EQ(posix_memalign(&p, 64, huge), ENOMEM);
    CHECK_EQ(errno, EDOM);
    CHECK(p == untouched);
}

#if defined(__PICOLIBC__) || defined(NEWLIB)
static void test_picolibc_extras(void)
{
    struct sheap_stats a = stats_now();
    /* reallocf(p, 0): realloc already freed p; no second free (a second
     * free would reach the fault hook). */
    unsigned faults = harness_faults;
    sheap_fault_hook old = sheap_set_fault_hook(harness_fault_hook);
    void *p = malloc(40);
    CHECK(p != NULL);
    CHECK(reallocf(p, 0) == NULL);
    p = malloc(40);
    CHECK(p != NULL);
    errno = 0;
    CHECK(reallocf(p, huge) == NULL); /* frees p when growing fails */
    CHECK_EQ(errno, ENOMEM);
    sheap_set_fault_hook(old);
    CHECK_EQ(harness_faults, faults);
    CHECK_EQ(stats_now().live_blocks, a.live_blocks);
    p = malloc(1000);
    CHECK(p != NULL);
    struct mallinfo mi = mallinfo();
    struct sheap_stats b = stats_now();
    CHECK_EQ(mi.uordblks, b.live_bytes);
    CHECK_EQ(mi.usmblks, b.peak_live_bytes);
    cfree(p);
    CHECK_EQ(stats_now().live_blocks, a.live_blocks);
    CHECK_EQ(mallopt(M_TRIM_THRESHOLD, 0), 0);
}
#endif

/* ---- the C library's own allocations land in sheap ------------------------------- */

static void report(const char *what, const struct sheap_stats *a, const struct sheap_stats *b)
{
    printf("  %-34s live_blocks %+ld, live_bytes %+ld\n", what, (long)(b->live_blocks - a->live_blocks),
           (long)(b->live_bytes - a->live_bytes));
}

static void test_strdup_in_sheap(void)
{
    static const char text[] = "picolibc's strdup calls malloc";
    struct sheap_stats a = stats_now();
    char *s = strdup(text);
    struct sheap_stats b = stats_now();
    CHECK(s != NULL);
    CHECK(strcmp(s, text) == 0);
    CHECK_EQ(b.live_blocks, a.live_blocks + 1);
    CHECK(sheap_usable_size(s) >= sizeof text); /* sheap knows the block */
    CHECK_EQ(b.live_bytes, a.live_bytes + sheap_usable_size(s));
    report("strdup (31 bytes):", &a, &b);
    free(s);
    b = stats_now();
    CHECK_EQ(b.live_blocks, a.live_blocks);
    CHECK_EQ(b.live_bytes, a.live_bytes);
}

static void test_asprintf_in_sheap(void)
{
    struct sheap_stats a = stats_now();
    char *s = NULL;
    int n = asprintf(&s, "%s %d", "sheap", 4242);
    struct sheap_stats b = stats_now();
    CHECK_EQ(n, 10);
    CHECK(s != NULL && strcmp(s, "sheap 4242") == 0);
    CHECK_EQ(b.live_blocks, a.live_blocks + 1);
    CHECK(sheap_usable_size(s) >= 11);
    report("asprintf (11 bytes):", &a, &b);
    free(s);
    CHECK_EQ(stats_now().live_blocks, a.live_blocks);
}

static void test_fopen_in_sheap(void)
{
#ifdef NEWLIB
    /* newlib takes FILE records from blocks of four it allocates once
     * (__sfmoreglue) and keeps: open and close once so that the measured
     * round below allocates only what it frees again (the buffer). */
    FILE *warm = fopen(LIBC_TEST_FILE, "r");
    CHECK(warm != NULL);
    CHECK_EQ(fclose(warm), 0);
#endif
    struct sheap_stats a = stats_now();
    FILE *f = fopen(LIBC_TEST_FILE, "r");
    CHECK(f != NULL);
    char line[128];
    bool got = fgets(line, sizeof line, f) != NULL;
    struct sheap_stats b = stats_now();
    CHECK(got);
    CHECK(strncmp(line, "# tests/libc/test_libc.c reads this line", 40) == 0);
    /* The FILE (and its buffer) came from sheap. */
    CHECK(b.live_blocks >= a.live_blocks + 1);
    CHECK(b.live_bytes > a.live_bytes);
#ifdef NEWLIB
    CHECK(sheap_usable_size(f->_bf._base) >= (size_t)f->_bf._size); /* the buffer */
#else
    CHECK(sheap_usable_size(f) >= 1);
#endif
    report("fopen + fgets (" FILE_KIND "):", &a, &b);
    CHECK_EQ(fclose(f), 0);
    struct sheap_stats c = stats_now();
    CHECK_EQ(c.live_blocks, a.live_blocks);
    CHECK_EQ(c.live_bytes, a.live_bytes);
}

static void test_fmemopen_in_sheap(void)
{
    char buf[32];
    struct sheap_stats a = stats_now();
    FILE *f = fmemopen(buf, sizeof buf, "w");
    struct sheap_stats b = stats_now();
    CHECK(f != NULL);
    CHECK(b.live_blocks >= a.live_blocks + 1);
    report("fmemopen:", &a, &b);
    fputs("in memory", f);
    CHECK_EQ(fclose(f), 0);
    CHECK(strcmp(buf, "in memory") == 0);
    CHECK_EQ(stats_now().live_blocks, a.live_blocks);
}

#ifdef NEWLIB
static void test_newlib_stdio_in_sheap(void)
{
    /* printf's stdout buffer: newlib allocates it (__smakebuf_r) at the
     * first output, which main's first printf did. */
    CHECK(stdout->_bf._base != NULL);
    CHECK(sheap_usable_size(stdout->_bf._base) >= (size_t)stdout->_bf._size);
    /* A float conversion: newlib's dtoa takes its big integers from
     * _calloc_r/_malloc_r and keeps them in the reentrancy structure. */
    char buf[64];
    struct sheap_stats a = stats_now();
    int n = snprintf(buf, sizeof buf, "%.3f", 3.14159);
    struct sheap_stats b = stats_now();
    CHECK_EQ(n, 5);
    CHECK(strcmp(buf, "3.142") == 0);
    CHECK(b.live_blocks > a.live_blocks);
    report("snprintf(\"%.3f\") (dtoa):", &a, &b);
    printf("  printf of a float through stdout: %.2f\n", 2.5);
    /* free() of newlib's own block: strdup's, through _free_r. */
    char *s = strdup("freed by free(), allocated by _malloc_r");
    CHECK(s != NULL && sheap_usable_size(s) > 0);
    free(s);
    CHECK_HEAP();
}
#endif

static void test_foreign_free_reported(void)
{
    /* free() is sheap_free: a pointer sheap did not return is a misuse
     * report, not heap corruption. */
    static char not_heap[32];
    char *volatile foreign = not_heap + 16;
    unsigned faults = harness_faults;
    sheap_fault_hook old = sheap_set_fault_hook(harness_fault_hook);
    free(foreign);
    sheap_set_fault_hook(old);
    CHECK_EQ(harness_faults, faults + 1);
}

static void test_heap_consistent(void) { CHECK_HEAP(); }

int main(void)
{
    printf("libc binding on %s\n", SHEAP_BOARD_NAME);
    RUN(test_malloc_free);
    RUN(test_malloc_zero);
    RUN(test_malloc_enomem);
    RUN(test_calloc);
    RUN(test_realloc);
    RUN(test_reallocarray);
    RUN(test_aligned_alloc);
    RUN(test_memalign_valloc);
    RUN(test_posix_memalign);
#if defined(__PICOLIBC__) || defined(NEWLIB)
    RUN(test_picolibc_extras);
#endif
    RUN(test_strdup_in_sheap);
    RUN(test_asprintf_in_sheap);
    RUN(test_fopen_in_sheap);
    RUN(test_fmemopen_in_sheap);
#ifdef NEWLIB
    RUN(test_newlib_stdio_in_sheap);
#endif
    RUN(test_foreign_free_reported);
    RUN(test_heap_consistent);
    return harness_finish("libc");
}
