/*
 * sheap_libc.c - the C library binding: malloc, free, calloc, realloc and the
 * rest of the C library's allocation functions, served by sheap.
 *
 * A thin layer over the public API (sheap.h); the rules are in
 * include/sheap_libc.h.  Built into libsheap_libc.a, never into libsheap.a,
 * so the core and the host test programs keep their own malloc.
 *
 * Keep every definition in this one file: the link forces only malloc
 * (-Wl,--undefined=malloc), and that must bring in all the other names with
 * it, before the linker searches libc.a.  Including the C library's own
 * headers makes the compiler check each prototype against the library's.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1 /* reallocarray, posix_memalign, cfree under -std=c11 */
#endif
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sheap.h"
#include "sheap_config.h"
#include "sheap_libc.h"

void *malloc(size_t n)
{
    return sheap_malloc(n);
}

void free(void *p)
{
    sheap_free(p);
}

void *calloc(size_t count, size_t size)
{
    return sheap_calloc(count, size);
}

void *realloc(void *p, size_t n)
{
    return sheap_realloc(p, n);
}

void *reallocarray(void *p, size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    return sheap_realloc(p, n);
}

void *aligned_alloc(size_t align, size_t n)
{
    return sheap_aligned_alloc(align, n);
}

void *memalign(size_t align, size_t n)
{
    return sheap_aligned_alloc(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    int saved = errno;
    int r = sheap_posix_memalign(out, align, n);
    errno = saved;
    return r;
}

void *valloc(size_t n)
{
    return sheap_aligned_alloc(SHEAP_PAGE_SIZE, n);
}

void *pvalloc(size_t n)
{
    size_t rounded = (n + (SHEAP_PAGE_SIZE - 1)) & ~(size_t)(SHEAP_PAGE_SIZE - 1);
    if (rounded < n) {
        errno = ENOMEM;
        return NULL;
    }
    return sheap_aligned_alloc(SHEAP_PAGE_SIZE, rounded ? rounded : SHEAP_PAGE_SIZE);
}

size_t malloc_usable_size(void *p)
{
    return sheap_usable_size(p);
}

int malloc_trim(size_t pad)
{
    (void)pad;
    return sheap_trim() != 0;
}

void malloc_stats(void)
{
    struct sheap_stats s;
    sheap_stats(&s);
    fprintf(stderr,
            "sheap: live %zu bytes in %zu blocks (peak %zu), ready %zu, metadata %zu, "
            "reserved %zu, arenas %zu\n",
            s.live_bytes, s.live_blocks, s.peak_live_bytes, s.ready_bytes, s.metadata_bytes,
            s.reserved_bytes, s.arenas);
}

int mallopt(int param, int value)
{
    (void)param;
    (void)value;
    return 0;
}

#ifdef __PICOLIBC__
/* Declared by picolibc only: glibc has no reallocf, no longer declares
 * cfree, and its struct mallinfo has int fields. */

void *reallocf(void *p, size_t n)
{
    void *q = sheap_realloc(p, n);
    if (q == NULL && p != NULL && n != 0)
        sheap_free(p);
    return q;
}

void cfree(void *p)
{
    sheap_free(p);
}

struct mallinfo mallinfo(void)
{
    struct sheap_stats s;
    sheap_stats(&s);
    struct mallinfo m = {0};
    m.arena = s.ready_bytes + s.metadata_bytes;
    m.ordblks = s.spans_free;
    m.usmblks = s.peak_live_bytes;
    m.uordblks = s.live_bytes;
    m.fordblks = s.ready_bytes - s.live_bytes;
    return m;
}
#endif
