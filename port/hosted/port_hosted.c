/*
 * port_hosted.c - the hosted port: sheap on a POSIX process, for tests and
 * benchmarks.  Memory states map onto mmap protections:
 *
 *   Reserved   mmap(PROT_NONE): address space only (a PROT_NONE private
 *              mapping is not charged to the kernel's commit accounting)
 *   Prepared   still PROT_NONE: the core keeps metadata, access faults
 *   Ready      mprotect(PROT_READ|PROT_WRITE), which charges the range to
 *              the kernel's commit accounting; pages are zero-filled on
 *              first touch, so used() reports zeroed memory
 *   unused     madvise(MADV_DONTNEED) + PROT_NONE: the kernel drops the
 *              pages and a stray access faults, as on an MMU port
 *
 * Honest backing (issue 20).  used() must back all of a range or fail with
 * ENOMEM, so the port keeps a budget of bytes it may have Ready at once:
 * by default the machine's available memory when the port starts
 * (MemAvailable in /proc/meminfo), or SHEAP_HOST_BUDGET bytes from the
 * environment, or what sheap_hosted_set_budget sets (sheap_hosted.h).
 *   - used() fails with ENOMEM when the range would take the Ready bytes
 *     over the budget, or when the kernel refuses the commit (mprotect);
 *   - map() fails with ENOMEM for a range larger than what is left of the
 *     budget, so the core keeps no metadata (span maps) for address space
 *     that could not be backed now: a request larger than the budget fails
 *     before any metadata is made.  The cost: near the budget, growth by a
 *     whole arena may be refused while a few pages could still be backed.
 *   - the core never releases Ready memory (it releases only Reserved or
 *     Prepared ranges: trimmed reservations, failed growth), so release()
 *     does not touch the count.
 *
 * This keeps the host tests honest: touching memory that is not Ready
 * segfaults here just as it faults on the MMU boards.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sheap.h"
#include "sheap_port.h"
#include "sheap_hosted.h"
#include "sheap_port_lock.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

_Static_assert(SHEAP_ENOMEM == ENOMEM && SHEAP_EINVAL == EINVAL, "sheap errno values match the libc's");

uintptr_t sheap_port_page_size(void)
{
    static uintptr_t page;
    if (page == 0)
        page = (uintptr_t)sysconf(_SC_PAGESIZE);
    return page;
}

/* ---- the budget (see the top of the file); under the heap lock ---------------- */

static uintptr_t budget;    /* bytes that may be Ready at once; 0 = not read yet */
static uintptr_t committed; /* bytes Ready now */

/* MemAvailable from /proc/meminfo in bytes, or 0.  Plain open/read and a
 * stack buffer: this runs under the heap lock, and with the C library
 * binding (port/libc) stdio's malloc would be sheap's, re-entering it. */
static uint64_t mem_available(void)
{
    int fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buf[4096];
    ssize_t got = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (got <= 0)
        return 0;
    buf[got] = 0;
    const char *key = "MemAvailable:";
    char *at = strstr(buf, key);
    if (at == NULL)
        return 0;
    uint64_t kb = 0;
    for (at += strlen(key); *at == ' '; at++)
        ;
    for (; *at >= '0' && *at <= '9'; at++)
        kb = kb * 10 + (uint64_t)(*at - '0');
    return kb * 1024u;
}

static void budget_init(void)
{
    if (budget != 0)
        return;
    uint64_t b = 0;
    const char *env = getenv("SHEAP_HOST_BUDGET");
    if (env != NULL)
        b = strtoull(env, NULL, 0);
    if (b == 0)
        b = mem_available();
    if (b == 0) {
        long pages = sysconf(_SC_AVPHYS_PAGES);
        b = pages > 0 ? (uint64_t)pages * sheap_port_page_size() : (uint64_t)1 << 30;
    }
    budget = b > UINTPTR_MAX ? UINTPTR_MAX : (uintptr_t)b;
}

/* Bytes that may still become Ready. */
static uintptr_t budget_left(void)
{
    budget_init();
    return committed < budget ? budget - committed : 0;
}

uintptr_t sheap_hosted_budget(uintptr_t *ready)
{
    sheap_port_lock();
    budget_init();
    uintptr_t b = budget;
    if (ready)
        *ready = committed;
    sheap_port_unlock();
    return b;
}

void sheap_hosted_set_budget(uintptr_t bytes)
{
    sheap_port_lock();
    budget = bytes;
    budget_init(); /* 0: back to the default */
    sheap_port_unlock();
}

/* ---- the port contract (sheap_port.h) ------------------------------------------ */

int sheap_port_reserve(uintptr_t hint, uintptr_t n, uintptr_t *out)
{
    if (sheap_fault_inject_hit(SHEAP_OP_RESERVE))
        return SHEAP_PORT_ENOMEM;
    int flags = MAP_PRIVATE | MAP_ANONYMOUS;
    if (hint != 0)
        flags |= MAP_FIXED_NOREPLACE;
    void *p = mmap((void *)hint, n, PROT_NONE, flags, -1, 0);
    if (p == MAP_FAILED)
        return hint != 0 && errno == EEXIST ? SHEAP_PORT_EBUSY : SHEAP_PORT_ENOMEM;
    if (hint != 0 && (uintptr_t)p != hint) {
        /* A kernel (or qemu-user) that ignores MAP_FIXED_NOREPLACE treats the
         * address as a hint and puts the mapping elsewhere: the range is taken. */
        munmap(p, n);
        return SHEAP_PORT_EBUSY;
    }
    *out = (uintptr_t)p;
    return SHEAP_PORT_OK;
}

int sheap_port_map(uintptr_t v, uintptr_t n)
{
    (void)v;
    if (sheap_fault_inject_hit(SHEAP_OP_MAP))
        return SHEAP_PORT_ENOMEM;
    if (n > budget_left())
        return SHEAP_PORT_ENOMEM; /* could not be backed: no metadata for it */
    return SHEAP_PORT_OK;
}

int sheap_port_used(uintptr_t v, uintptr_t n, bool *zeroed)
{
    if (sheap_fault_inject_hit(SHEAP_OP_USED))
        return SHEAP_PORT_ENOMEM;
    if (n > budget_left())
        return SHEAP_PORT_ENOMEM;
    if (mprotect((void *)v, n, PROT_READ | PROT_WRITE) != 0)
        return SHEAP_PORT_ENOMEM; /* the kernel refused the commit */
    committed += n;
    *zeroed = true;
    return SHEAP_PORT_OK;
}

void sheap_port_unused(uintptr_t v, uintptr_t n)
{
    madvise((void *)v, n, MADV_DONTNEED);
    mprotect((void *)v, n, PROT_NONE);
    committed -= n;
}

void sheap_port_release(uintptr_t v, uintptr_t n)
{
    munmap((void *)v, n);
}

/* A test-and-set spinlock: cheap when uncontended, which is the common case
 * for an allocator lock held for a few dozen instructions.  The core inlines
 * the same code from sheap_port_lock.h. */
volatile char sheap_port_lock_word;
_Thread_local char sheap_port_thread_tag;

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
