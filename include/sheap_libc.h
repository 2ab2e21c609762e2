/*
 * sheap_libc.h - the C library binding: what libsheap_libc.a (bindings/libc)
 * defines and how each function behaves.
 *
 * The binding gives the C library's allocation functions sheap's heap: a
 * firmware image that links it calls malloc, not sheap_malloc, and so does
 * the C library itself (strdup, fopen, asprintf, ...).  It is a thin layer
 * over the public API of sheap.h, kept out of libsheap.a so that the core
 * stays free of libc names and host programs keep their own malloc unless
 * they ask for this one.  The prototypes are the C library's own (stdlib.h,
 * malloc.h); this header only states the rules.  It declares nothing.
 *
 * Linking (build/<board>/sheap.mk does this on boards whose C library is
 * picolibc; see docs/INTEGRATION.md):
 *     -Wl,--undefined=malloc  -lsheap_libc -lsheap  [board library, libc]
 *   The binding is one object file.  Forcing malloc undefined makes the
 *   linker take that object from libsheap_libc.a before it searches libc.a,
 *   so every name below is already defined when libc.a's own objects
 *   (strdup, fopen, ...) ask for it, and no member of the C library's
 *   allocator is ever linked.  Without the flag, an image whose own code
 *   never calls malloc would get picolibc's malloc for its internal calls.
 *
 * Common rules: everything in sheap.h holds (locking, 16-byte alignment,
 * misuse reports to the fault hook, no metadata next to blocks).  errno is
 * set to ENOMEM or EINVAL on every failure that returns NULL, and left alone
 * on success.
 *
 *   malloc(n)             sheap_malloc.  malloc(0) returns a unique
 *                         minimum-size block (not NULL) that must be freed.
 *   free(p)               sheap_free.  NULL is ignored; a pointer that is
 *                         not a live block goes to the fault hook.
 *   calloc(c, n)          sheap_calloc: zeroed; NULL with ENOMEM when c * n
 *                         overflows.  calloc(0, n) is like malloc(0).
 *   realloc(p, n)         sheap_realloc.  realloc(NULL, n) is malloc(n).
 *                         realloc(p, 0) with p != NULL frees p and returns
 *                         NULL with errno untouched (picolibc's and glibc's
 *                         behaviour; C23 leaves it undefined): that NULL is
 *                         not a failure.  On failure p is left intact.
 *   reallocarray(p, c, n) realloc(p, c * n); NULL with ENOMEM and p intact
 *                         when c * n overflows.
 *   aligned_alloc(a, n)   sheap_aligned_alloc: a must be a power of two no
 *                         larger than the arena size (SHEAP_ARENA_SIZE), else
 *                         NULL with EINVAL (so a == 0 is EINVAL).  n need not
 *                         be a multiple of a (C17/C23).
 *   memalign(a, n)        the same as aligned_alloc(a, n).
 *   posix_memalign(o,a,n) sheap_posix_memalign: returns EINVAL when a is not
 *                         a power of two, not a multiple of sizeof(void *) or
 *                         larger than the arena size, ENOMEM when out of
 *                         memory, 0 on success.  errno is never changed and
 *                         *o is written only on success.
 *   valloc(n)             aligned_alloc(SHEAP_PAGE_SIZE, n).  The heap page
 *                         is at least the port's physical page.
 *   pvalloc(n)            valloc of n rounded up to whole heap pages (one
 *                         page for n == 0); ENOMEM when rounding overflows.
 *   malloc_usable_size(p) sheap_usable_size: bytes usable in p (>= the size
 *                         asked), 0 for NULL.
 *
 * picolibc only (it declares them; glibc keeps its own or has none):
 *   reallocf(p, n)        realloc, but frees p when growing fails.  Unlike
 *                         picolibc's generic reallocf it does not free p a
 *                         second time after realloc(p, 0) already did.
 *   cfree(p)              free(p).
 *   mallinfo()            figures from sheap_stats: arena = Ready heap pages
 *                         plus metadata, uordblks = live bytes, usmblks =
 *                         peak live bytes, fordblks = Ready heap pages
 *                         minus live bytes, ordblks = free page runs; the
 *                         rest 0.
 * Both C libraries:
 *   malloc_trim(pad)      sheap_trim(); pad is ignored.  Returns 1 when
 *                         memory went back to the port, else 0.
 *   malloc_stats()        prints a line of sheap_stats to stderr.
 *   mallopt(p, v)         no parameter is supported: returns 0.
 * Defining these too means that no call in an image can pull a member of
 * picolibc's allocator out of libc.a (it would clash with malloc here).
 */
#ifndef SHEAP_LIBC_H
#define SHEAP_LIBC_H
#endif /* SHEAP_LIBC_H */
