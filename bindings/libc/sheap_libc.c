/*
 * sheap_libc.c - the C library binding: malloc, free, calloc, realloc and the
 * rest of the C library's allocation functions, served by sheap.
 *
 * A thin layer over the public API (sheap.h); the rules are in
 * include/sheap_libc.h.  Built into libsheap_libc.a, never into libsheap.a,
 * so the core and the host test programs keep their own malloc.  The
 * archive is built per C library (picolibc, newlib nano, full newlib,
 * glibc), against that library's headers: each reaches errno its own way,
 * and newlib adds the reentrant family (_malloc_r, ...) that it calls
 * internally, and __malloc_lock/__malloc_unlock.
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

/* newlib proper (picolibc grew out of newlib and may define its version
 * macro too). */
#if defined(_NEWLIB_VERSION) && !defined(__PICOLIBC__)
#define SHEAP_LIBC_NEWLIB 1
#include <reent.h>
#else
#define SHEAP_LIBC_NEWLIB 0
#endif

#if SHEAP_LIBC_NEWLIB
/*
 * newlib: every call takes __malloc_lock, as newlib's own allocator does, so
 * that a firmware (an RTOS port) that defines __malloc_lock/__malloc_unlock
 * to serialise allocation keeps that guarantee; sheap's own lock nests
 * inside it.  The defaults below are weak for the same reason: such a
 * firmware's strong definitions replace them, and newlib's (mlock.o) are
 * never pulled.  The default is recursive, as newlib requires: on
 * M-profile Arm it masks interrupts (PRIMASK) from the outermost lock to
 * the matching unlock, with its own saved state, separate from sheap's.
 * Elsewhere (no interrupt mask known) it only counts: single-threaded use.
 */
static unsigned malloc_lock_depth;     /* guarded by the lock itself */
static unsigned long malloc_lock_saved; /* PRIMASK at the outermost lock */

__attribute__((weak)) void __malloc_lock(struct _reent *r)
{
    (void)r;
    unsigned long s = 0;
#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(s)::"memory");
#endif
    if (malloc_lock_depth++ == 0)
        malloc_lock_saved = s;
}

__attribute__((weak)) void __malloc_unlock(struct _reent *r)
{
    (void)r;
    if (--malloc_lock_depth == 0) {
#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
        __asm__ volatile("msr primask, %0" ::"r"(malloc_lock_saved) : "memory");
#endif
    }
}

#define LOCK() __malloc_lock(_REENT)
#define UNLOCK() __malloc_unlock(_REENT)
#else
#define LOCK() ((void)0)
#define UNLOCK() ((void)0)
#endif

/* The calls every public name goes through: sheap's API, inside the C
 * library's allocation lock where it has one. */
static void *b_malloc(size_t n)
{
    LOCK();
    void *p = sheap_malloc(n);
    UNLOCK();
    return p;
}

static void b_free(void *p)
{
    LOCK();
    sheap_free(p);
    UNLOCK();
}

static void *b_calloc(size_t count, size_t size)
{
    LOCK();
    void *p = sheap_calloc(count, size);
    UNLOCK();
    return p;
}

static void *b_realloc(void *p, size_t n)
{
    LOCK();
    void *q = sheap_realloc(p, n);
    UNLOCK();
    return q;
}

static void *b_aligned(size_t align, size_t n)
{
    LOCK();
    void *p = sheap_aligned_alloc(align, n);
    UNLOCK();
    return p;
}

static size_t b_usable(void *p)
{
    LOCK();
    size_t n = sheap_usable_size(p);
    UNLOCK();
    return n;
}

void *malloc(size_t n)
{
    return b_malloc(n);
}

void free(void *p)
{
    b_free(p);
}

void *calloc(size_t count, size_t size)
{
    return b_calloc(count, size);
}

void *realloc(void *p, size_t n)
{
    return b_realloc(p, n);
}

void *reallocarray(void *p, size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    return b_realloc(p, n);
}

void *aligned_alloc(size_t align, size_t n)
{
    return b_aligned(align, n);
}

void *memalign(size_t align, size_t n)
{
    return b_aligned(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    int saved = errno;
    LOCK();
    int r = sheap_posix_memalign(out, align, n);
    UNLOCK();
    errno = saved;
    return r;
}

void *valloc(size_t n)
{
    return b_aligned(SHEAP_PAGE_SIZE, n);
}

void *pvalloc(size_t n)
{
    size_t rounded = (n + (SHEAP_PAGE_SIZE - 1)) & ~(size_t)(SHEAP_PAGE_SIZE - 1);
    if (rounded < n) {
        errno = ENOMEM;
        return NULL;
    }
    return b_aligned(SHEAP_PAGE_SIZE, rounded ? rounded : SHEAP_PAGE_SIZE);
}

size_t malloc_usable_size(void *p)
{
    return b_usable(p);
}

int malloc_trim(size_t pad)
{
    (void)pad;
    LOCK();
    size_t n = sheap_trim();
    UNLOCK();
    return n != 0;
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

#if defined(__PICOLIBC__) || SHEAP_LIBC_NEWLIB
/* Declared by picolibc and newlib only: glibc has no reallocf, no longer
 * declares cfree, and its struct mallinfo has int fields. */

void *reallocf(void *p, size_t n)
{
    void *q = b_realloc(p, n);
    if (q == NULL && p != NULL && n != 0)
        b_free(p);
    return q;
}

void cfree(void *p)
{
    b_free(p);
}

struct mallinfo mallinfo(void)
{
    struct sheap_stats s;
    sheap_stats(&s);
    /* Field by field: an initialiser of the whole struct would be a hidden
     * memset call (make test checks port objects for those). */
    struct mallinfo m;
    m.smblks = m.hblks = m.hblkhd = m.fsmblks = m.keepcost = 0;
    m.arena = s.ready_bytes + s.metadata_bytes;
    m.ordblks = s.spans_free;
    m.usmblks = s.peak_live_bytes;
    m.uordblks = s.live_bytes;
    m.fordblks = s.ready_bytes - s.live_bytes;
    return m;
}
#endif

#if SHEAP_LIBC_NEWLIB
/*
 * newlib's reentrant family: what newlib's own code calls (strdup, stdio
 * buffers, fopen, asprintf, ...), and what its plain malloc & co. would
 * call.  Defining every name of newlib's allocator objects here (nano and
 * full: _malloc_r ... _mstats_r, mstats) means that no reference can pull
 * one of them out of libc.a.  r is the caller's reentrancy structure: a
 * failure's errno goes there (sheap sets the current one, errno).
 */
static void *r_result(struct _reent *r, void *p)
{
    if (p == NULL && r != NULL && r != _REENT)
        r->_errno = errno;
    return p;
}

void *_malloc_r(struct _reent *r, size_t n)
{
    return r_result(r, b_malloc(n));
}

void _free_r(struct _reent *r, void *p)
{
    (void)r;
    b_free(p);
}

void *_calloc_r(struct _reent *r, size_t count, size_t size)
{
    return r_result(r, b_calloc(count, size));
}

void *_realloc_r(struct _reent *r, void *p, size_t n)
{
    return r_result(r, b_realloc(p, n));
}

void *_reallocf_r(struct _reent *r, void *p, size_t n)
{
    return r_result(r, reallocf(p, n));
}

void *_memalign_r(struct _reent *r, size_t align, size_t n)
{
    return r_result(r, b_aligned(align, n));
}

void *_valloc_r(struct _reent *r, size_t n)
{
    return r_result(r, valloc(n));
}

void *_pvalloc_r(struct _reent *r, size_t n)
{
    return r_result(r, pvalloc(n));
}

size_t _malloc_usable_size_r(struct _reent *r, void *p)
{
    (void)r;
    return b_usable(p);
}

int _malloc_trim_r(struct _reent *r, size_t pad)
{
    (void)r;
    return malloc_trim(pad);
}

struct mallinfo _mallinfo_r(struct _reent *r)
{
    (void)r;
    return mallinfo();
}

void _malloc_stats_r(struct _reent *r)
{
    (void)r;
    malloc_stats();
}

int _mallopt_r(struct _reent *r, int param, int value)
{
    (void)r;
    return mallopt(param, value);
}

void mstats(char *title)
{
    (void)title;
    malloc_stats();
}

void _mstats_r(struct _reent *r, char *title)
{
    (void)r;
    mstats(title);
}
#endif
