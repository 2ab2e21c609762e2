/*
 * port_hosted.c - the hosted port: sheap on a POSIX process, for tests and
 * benchmarks.  Memory states map onto mmap protections:
 *
 *   Reserved   mmap(PROT_NONE, MAP_NORESERVE): address space, no commit
 *   Prepared   still PROT_NONE: the core keeps metadata, access faults
 *   Ready      mprotect(PROT_READ|PROT_WRITE); pages are zero-filled on
 *              first touch by the kernel, so used() reports zeroed memory
 *   unused     madvise(MADV_DONTNEED) + PROT_NONE: the kernel drops the
 *              pages and a stray access faults, as on an MMU port
 *
 * This keeps the host tests honest: touching memory that is not Ready
 * segfaults here just as it faults on the MMU boards.
 *
 * The backend keeps no state of its own (the kernel does), so any number
 * of heaps can share sheap_port_default_backend().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sheap.h"
#include "sheap_port.h"
#include "sheap_port_lock.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif

_Static_assert(SHEAP_ENOMEM == ENOMEM && SHEAP_EINVAL == EINVAL, "sheap errno values match the libc's");

/* ---- The backend: mmap ---------------------------------------------------------- */

static int hosted_reserve(void *ctx, uintptr_t hint, uintptr_t n, uintptr_t *out)
{
    (void)ctx;
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
    if (hint != 0)
        flags |= MAP_FIXED_NOREPLACE;
    void *p = mmap((void *)hint, n, PROT_NONE, flags, -1, 0);
    if (p == MAP_FAILED)
        return hint != 0 && errno == EEXIST ? SHEAP_BACKEND_EBUSY : SHEAP_BACKEND_ENOMEM;
    if (hint != 0 && (uintptr_t)p != hint) {
        /* A kernel (or qemu-user) that ignores MAP_FIXED_NOREPLACE treats the
         * address as a hint and puts the mapping elsewhere: the range is taken. */
        munmap(p, n);
        return SHEAP_BACKEND_EBUSY;
    }
    *out = (uintptr_t)p;
    return SHEAP_BACKEND_OK;
}

static int hosted_map(void *ctx, uintptr_t v, uintptr_t n)
{
    (void)ctx;
    (void)v;
    (void)n;
    return SHEAP_BACKEND_OK;
}

static int hosted_used(void *ctx, uintptr_t v, uintptr_t n, bool *zeroed)
{
    (void)ctx;
    if (mprotect((void *)v, n, PROT_READ | PROT_WRITE) != 0)
        return SHEAP_BACKEND_ENOMEM;
    *zeroed = true;
    return SHEAP_BACKEND_OK;
}

static void hosted_unused(void *ctx, uintptr_t v, uintptr_t n)
{
    (void)ctx;
    madvise((void *)v, n, MADV_DONTNEED);
    mprotect((void *)v, n, PROT_NONE);
}

static void hosted_release(void *ctx, uintptr_t v, uintptr_t n)
{
    (void)ctx;
    munmap((void *)v, n);
}

static const struct sheap_backend_ops hosted_ops = {
    hosted_reserve, hosted_map, hosted_used, hosted_unused, hosted_release,
};

const struct sheap_backend *sheap_port_default_backend(void)
{
    static struct sheap_backend backend;
    if (backend.ops == NULL) {
        backend.page_size = (uintptr_t)sysconf(_SC_PAGESIZE);
        backend.ops = &hosted_ops;
    }
    return &backend;
}

/* A test-and-set spinlock: cheap when uncontended, which is the common case
 * for an allocator lock held for a few dozen instructions.  The core inlines
 * the same code from sheap_port_lock.h. */
volatile char sheap_port_lock_word;

void sheap_port_lock(void)
{
    sheap_port_lock_inline();
}

void sheap_port_unlock(void)
{
    sheap_port_unlock_inline();
}

void sheap_port_fault(const char *msg, const void *ptr, bool fatal)
{
    fprintf(stderr, "%s [%p]%s\n", msg, ptr, fatal ? " (fatal)" : "");
    abort();
}

void sheap_port_set_errno(int err)
{
    errno = err;
}
