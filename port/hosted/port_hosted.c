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
 * This keeps the host tests honest: touching memory that is not Ready
 * segfaults here just as it faults on the MMU boards.
 *
 * Honest backing.  used() must back all of a range or fail with
 * ENOMEM, so the backend keeps a budget of bytes it may have Ready at once
 * (struct hosted_backing, the backend's ctx): by default the machine's
 * available memory when it is first needed (MemAvailable in /proc/meminfo),
 * or SHEAP_HOST_BUDGET bytes from the environment, or what
 * sheap_hosted_set_budget sets (sheap_hosted.h).
 *   - used() fails with ENOMEM when the range would take the Ready bytes
 *     over the budget, or when the kernel refuses the commit (mprotect);
 *   - map() fails with ENOMEM for a range larger than what is left of the
 *     budget, so the core keeps no metadata (span maps) for address space
 *     that could not be backed now: a request larger than the budget fails
 *     before any metadata is made.  The cost: near the budget, growth by a
 *     whole arena may be refused while a few pages could still be backed.
 *   - release() may be given Ready pages (a destroyed heap gives back its
 *     arenas and metadata whole): it counts the Ready pages of the range
 *     before unmapping, so the Ready count stays exact.  The backend keeps
 *     one bit per host page for that (the Ready map below), set by used()
 *     and cleared by unused() and release(): a count costs a pass over the
 *     range's bits.  Reading /proc/self/maps instead costs a pass over
 *     every mapping of the process per release, quadratic in the number of
 *     arenas; it remains the fallback for an address above the map.
 * Any number of heaps can share sheap_port_default_backend(); they share
 * its budget, as they share the machine.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend_ops.h"
#include "core_bits.h"
#include "sheap.h"
#include "sheap_hosted.h"
#include "sheap_port.h"
#include "sheap_port_lock.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

_Static_assert(SHEAP_ENOMEM == ENOMEM && SHEAP_EINVAL == EINVAL, "sheap errno values match the libc's");

/* ---- The budget (see the top of the file); under the heap lock ------------------- */

struct hosted_backing {
    uintptr_t budget;    /* bytes that may be Ready at once; 0 = not read yet */
    uintptr_t committed; /* bytes Ready now */
};

static struct hosted_backing default_backing;

/* MemAvailable from /proc/meminfo in bytes, or 0.  Plain open/read and a
 * stack buffer: this runs under the heap lock, and with the C library
 * binding (bindings/libc) stdio's malloc would be sheap's, re-entering it. */
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

static void budget_init(struct hosted_backing *hb)
{
    if (hb->budget != 0)
        return;
    uint64_t b = 0;
    const char *env = getenv("SHEAP_HOST_BUDGET");
    if (env != NULL)
        b = strtoull(env, NULL, 0);
    if (b == 0)
        b = mem_available();
    if (b == 0) {
        long pages = sysconf(_SC_AVPHYS_PAGES);
        b = pages > 0 ? (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE) : (uint64_t)1 << 30;
    }
    hb->budget = b > UINTPTR_MAX ? UINTPTR_MAX : (uintptr_t)b;
}

/* Bytes that may still become Ready. */
static uintptr_t budget_left(struct hosted_backing *hb)
{
    budget_init(hb);
    return hb->committed < hb->budget ? hb->budget - hb->committed : 0;
}

uintptr_t sheap_hosted_budget(uintptr_t *ready)
{
    sheap_port_lock();
    budget_init(&default_backing);
    uintptr_t b = default_backing.budget;
    if (ready)
        *ready = default_backing.committed;
    sheap_port_unlock();
    return b;
}

void sheap_hosted_set_budget(uintptr_t bytes)
{
    sheap_port_lock();
    default_backing.budget = bytes;
    budget_init(&default_backing); /* 0: back to the default */
    sheap_port_unlock();
}

/* Parse a hexadecimal number at *s, moving *s past it. */
static uintptr_t hex_at(const char **s)
{
    uintptr_t v = 0;
    for (;; (*s)++) {
        char c = **s;
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 16;
        if (d == 16)
            return v;
        v = v * 16 + d;
    }
}

/* Bytes of [v, v + n) that are readable and writable now (Ready), from the
 * mappings in /proc/self/maps ("lo-hi rw-p ..."); plain open/read as in
 * mem_available.  A line longer than the buffer is skipped. */
static uintptr_t ready_bytes_in(uintptr_t v, uintptr_t n)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buf[4096];
    size_t have = 0;
    uintptr_t total = 0, end = v + n;
    ssize_t got;
    while ((got = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0) {
        have += (size_t)got;
        char *line = buf, *nl;
        while ((nl = memchr(line, '\n', have - (size_t)(line - buf))) != NULL) {
            *nl = 0;
            const char *c = line;
            uintptr_t lo = hex_at(&c);
            uintptr_t hi = *c == '-' ? (c++, hex_at(&c)) : lo;
            if (*c == ' ' && c[1] == 'r' && c[2] == 'w') {
                uintptr_t a = lo > v ? lo : v, b = hi < end ? hi : end;
                if (a < b)
                    total += b - a;
            }
            line = nl + 1;
        }
        size_t rest = have - (size_t)(line - buf);
        memmove(buf, line, rest);
        have = rest == sizeof(buf) - 1 ? 0 : rest;
    }
    close(fd);
    return total;
}

/* ---- The Ready map (see the top of the file); under the heap lock --------------- */

/* One bitmap of READY_CHUNK_SHIFT bytes' worth of pages per chunk of the
 * address space, made (mmap) the first time a page of the chunk becomes
 * Ready and kept for the life of the process.  The chunk table covers the
 * user address space of the build: 2^47 bytes on 64-bit (1 MB of table),
 * 2^32 on 32-bit. */
#define READY_CHUNK_SHIFT 30
#define READY_ADDR_BITS (UINTPTR_MAX > 0xffffffffu ? 47 : 32)
#define READY_CHUNKS ((size_t)1 << (READY_ADDR_BITS - READY_CHUNK_SHIFT))

static uintptr_t *ready_chunk[READY_CHUNKS];

static unsigned host_page_shift(void)
{
    static unsigned shift;
    if (shift == 0)
        shift = (unsigned)__builtin_ctzl((unsigned long)sysconf(_SC_PAGESIZE));
    return shift;
}

/* Whether [v, v + n) lies inside the Ready map's reach (all of a 32-bit
 * address space). */
static bool ready_map_covers(uintptr_t v, uintptr_t n)
{
#if UINTPTR_MAX > 0xffffffffu
    const uintptr_t top = (uintptr_t)1 << READY_ADDR_BITS;
    return v < top && n <= top - v;
#else
    (void)v;
    (void)n;
    return true;
#endif
}

enum ready_op { READY_SET, READY_CLEAR, READY_COUNT };

/* Apply op to the bits of pages [first, first + count) of one chunk's map;
 * returns the bits that were set (READY_COUNT) or 0. */
static uintptr_t ready_bits(uintptr_t *map, uintptr_t first, uintptr_t count, enum ready_op op)
{
    if (op == READY_SET)
        bits_set_range(map, first, count);
    else if (op == READY_CLEAR)
        bits_clear_range(map, first, count);
    else
        return bits_count_range(map, first, count);
    return 0;
}

/* Apply op to the pages of [v, v + n) (page-aligned, inside the map's
 * reach).  READY_SET makes missing chunk maps and fails (false) when one
 * cannot be made, before it changes any bit; the other ops skip chunks
 * without a map (no Ready page there).  *ready receives the bytes counted. */
static bool ready_map_apply(uintptr_t v, uintptr_t n, enum ready_op op, uintptr_t *ready)
{
    unsigned ps = host_page_shift();
    uintptr_t pages_per_chunk = (uintptr_t)1 << (READY_CHUNK_SHIFT - ps);
    uintptr_t first_chunk = v >> READY_CHUNK_SHIFT, last_chunk = n ? (v + n - 1) >> READY_CHUNK_SHIFT : first_chunk;
    if (op == READY_SET) {
        for (uintptr_t c = first_chunk; n != 0 && c <= last_chunk; c++) {
            if (ready_chunk[c] != NULL)
                continue;
            void *m = mmap(NULL, pages_per_chunk / 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (m == MAP_FAILED)
                return false;
            ready_chunk[c] = m;
        }
    }
    uintptr_t pages = 0, page = v >> ps, end = (v + n) >> ps;
    if (n != 0 && end == 0)
        end = (uintptr_t)1 << (READY_ADDR_BITS - ps); /* a range that ends at the top of a 32-bit space */
    while (page < end) {
        uintptr_t c = page / pages_per_chunk, in = page % pages_per_chunk;
        uintptr_t k = pages_per_chunk - in < end - page ? pages_per_chunk - in : end - page;
        if (ready_chunk[c] != NULL)
            pages += ready_bits(ready_chunk[c], in, k, op);
        page += k;
    }
    if (ready != NULL)
        *ready = pages << ps;
    return true;
}

/* ---- The backend: mmap ---------------------------------------------------------- */

static int hosted_reserve(void *ctx, uintptr_t hint, uintptr_t n, uintptr_t *out)
{
    (void)ctx;
    int flags = MAP_PRIVATE | MAP_ANONYMOUS;
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
    (void)v;
    if (n > budget_left(ctx))
        return SHEAP_BACKEND_ENOMEM; /* could not be backed: no metadata for it */
    return SHEAP_BACKEND_OK;
}

static int hosted_used(void *ctx, uintptr_t v, uintptr_t n, bool *zeroed)
{
    struct hosted_backing *hb = ctx;
    if (n > budget_left(hb))
        return SHEAP_BACKEND_ENOMEM;
    bool mapped = ready_map_covers(v, n);
    if (mapped && !ready_map_apply(v, n, READY_SET, NULL))
        return SHEAP_BACKEND_ENOMEM; /* no room for the Ready map itself */
    if (mprotect((void *)v, n, PROT_READ | PROT_WRITE) != 0) {
        if (mapped)
            ready_map_apply(v, n, READY_CLEAR, NULL);
        return SHEAP_BACKEND_ENOMEM; /* the kernel refused the commit */
    }
    hb->committed += n;
    *zeroed = true;
    return SHEAP_BACKEND_OK;
}

static void hosted_unused(void *ctx, uintptr_t v, uintptr_t n)
{
    struct hosted_backing *hb = ctx;
    madvise((void *)v, n, MADV_DONTNEED);
    mprotect((void *)v, n, PROT_NONE);
    if (ready_map_covers(v, n))
        ready_map_apply(v, n, READY_CLEAR, NULL);
    hb->committed -= n;
}

static void hosted_release(void *ctx, uintptr_t v, uintptr_t n)
{
    struct hosted_backing *hb = ctx;
    uintptr_t ready = 0;
    if (ready_map_covers(v, n)) {
        ready_map_apply(v, n, READY_COUNT, &ready);
        ready_map_apply(v, n, READY_CLEAR, NULL);
    } else {
        ready = ready_bytes_in(v, n);
    }
    hb->committed -= ready < hb->committed ? ready : hb->committed;
    munmap((void *)v, n);
}

static const struct sheap_backend_ops hosted_ops = {
    SHEAP_BACKEND_OPS(hosted),
};

const struct sheap_backend *sheap_port_default_backend(void)
{
    static struct sheap_backend backend;
    if (backend.ops == NULL) {
        backend.page_size = (uintptr_t)sysconf(_SC_PAGESIZE);
        backend.ctx = &default_backing;
        backend.ops = &hosted_ops;
    }
    return &backend;
}

/* A test-and-set spinlock: cheap when uncontended, which is the common case
 * for an allocator lock held for a few dozen instructions.  The core inlines
 * the same code from sheap_port_lock.h. */
volatile char sheap_port_lock_word;
/* Its address is the calling thread's id (sheap_port_context_id). */
_Thread_local char sheap_port_thread_tag;

#if SHEAP_SMP
/* The thread's CPU slot (sheap_port_lock.h): given at first use, round
 * robin over SHEAP_MAX_CPUS. */
_Thread_local unsigned sheap_port_cpu_slot;
static unsigned next_cpu_slot;

unsigned sheap_port_cpu_assign(void)
{
    unsigned id = __atomic_fetch_add(&next_cpu_slot, 1u, __ATOMIC_RELAXED) % SHEAP_MAX_CPUS;
    sheap_port_cpu_slot = id + 1;
    return id;
}

unsigned sheap_hosted_set_cpu(unsigned id)
{
    unsigned old = sheap_port_cpu_id();
    sheap_port_cpu_slot = id % SHEAP_MAX_CPUS + 1;
    return old;
}
#else
unsigned sheap_hosted_set_cpu(unsigned id)
{
    (void)id;
    return 0; /* one CPU */
}
#endif

void sheap_port_lock(void)
{
    sheap_port_lock_inline();
}

void sheap_port_unlock(void)
{
    sheap_port_unlock_inline();
}

/* Another thread owns growth: let it run.  Counted for the tests
 * (sheap_hosted_growth_waits). */
static unsigned long growth_waits;

bool sheap_port_growth_wait(void)
{
    __atomic_add_fetch(&growth_waits, 1, __ATOMIC_RELAXED);
    sched_yield();
    return true;
}

unsigned long sheap_hosted_growth_waits(void)
{
    return __atomic_load_n(&growth_waits, __ATOMIC_RELAXED);
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
