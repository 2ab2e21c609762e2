/*
 * sheap.h - the public contract of sheap, a sparse-arena heap for firmware.
 *
 * Common rules
 *   Locking   Every function takes the port's heap lock (sheap_port.h) for
 *             its whole critical section and is safe to call from any thread
 *             or, with an interrupt-masking lock, from interrupt handlers.
 *             None of them may be called from the fault hook with the lock
 *             held (the hook runs after the lock is dropped).
 *   Alignment Every block is aligned to 16 bytes when its size is at least
 *             16 (>= _Alignof(max_align_t) on every supported target), to 8
 *             otherwise, and to the page size when it is a page run.
 *   Zeroing   Only sheap_calloc zeroes.  Fresh memory that the port reports
 *             as zero is not cleared a second time.
 *   Time      Small blocks (<= SHEAP_MAX_SMALL_SIZE): O(1), a few dozen
 *             instructions when the size class has a partial span.  Page
 *             runs: O(1) in the size of the heap and in the number of free
 *             runs, plus O(pages) to back and map the run's own pages.
 *             Growing the heap calls the port (reserve, map) and is bounded by
 *             the port's cost for one arena.
 *   Failure   Failing calls return NULL (or an error number) and set errno
 *             through the port to SHEAP_ENOMEM or SHEAP_EINVAL; the heap is
 *             unchanged by a failed call, except that an allocation that
 *             fails first gives the empty spans the size classes keep for
 *             reuse back to the free runs and, when it lacked physical
 *             memory, hands free Ready pages back to the port (both as
 *             sheap_trim would), then tries once more.
 *   Misuse    A pointer that sheap did not return, a pointer into the middle
 *             of a block, a pointer to free memory and a double free are
 *             detected from the span map and the allocation bitmaps.  They
 *             go to the fault hook with a message naming the probable
 *             cause; when the hook returns, the call does nothing.
 *   Metadata  No allocator data is ever stored inside or next to a user
 *             block: an overflow cannot corrupt the heap's own structures.
 */
#ifndef SHEAP_H
#define SHEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* errno values reported through sheap_port_set_errno and returned by
 * sheap_posix_memalign: the POSIX numbers shared by glibc and picolibc. */
#define SHEAP_ENOMEM 12
#define SHEAP_EINVAL 22

/*
 * Returns a block of at least n bytes, or NULL iff the heap cannot grow
 * (errno ENOMEM).  n == 0 returns a unique minimum-size block that must be
 * freed like any other.
 */
void *sheap_malloc(size_t n);

/*
 * Frees a block returned by any allocation function.  NULL is ignored.
 * Any other pointer that is not the start of a live block is reported to
 * the fault hook and ignored.
 */
void sheap_free(void *p);

/*
 * Returns a zeroed block of count * size bytes, or NULL with ENOMEM when the
 * product overflows or the heap cannot grow.  Never returns a short block.
 */
void *sheap_calloc(size_t count, size_t size);

/*
 * Resizes p to n bytes, keeping min(old, n) bytes of content.
 *   p == NULL: same as sheap_malloc(n).
 *   n == 0 and p != NULL: frees p and returns NULL (errno untouched).
 *   Stays in place when n still fits the block's size class, or when a page
 *   run can shrink, or grow into the free run that follows it.
 *   On failure returns NULL with ENOMEM and p is left intact.
 *   An invalid p is reported like in sheap_free and NULL is returned.
 */
void *sheap_realloc(void *p, size_t n);

/*
 * Returns a block of n bytes whose address is a multiple of align.
 * align must be a power of two no larger than the arena size
 * (SHEAP_ARENA_SIZE); otherwise NULL with EINVAL.  n need not be a multiple
 * of align (C23 rules).  NULL with ENOMEM when out of memory.
 */
void *sheap_aligned_alloc(size_t align, size_t n);

/*
 * POSIX form: align must be a power of two, a multiple of sizeof(void *)
 * and no larger than the arena size, else returns SHEAP_EINVAL.  Returns
 * SHEAP_ENOMEM when out of memory; *out is written only on success.
 */
int sheap_posix_memalign(void **out, size_t align, size_t n);

/* Bytes usable in the block p (>= what was asked).  0 for NULL; an invalid
 * pointer is reported to the fault hook and gives 0. */
size_t sheap_usable_size(const void *p);

/* Heap statistics.  All sizes in bytes. */
struct sheap_stats {
    size_t live_bytes;      /* usable bytes of all live blocks */
    size_t peak_live_bytes; /* highest live_bytes so far */
    size_t live_blocks;     /* live blocks */
    size_t ready_bytes;     /* heap pages backed by memory (Ready), free or not */
    size_t prepared_bytes;  /* heap pages in arenas that are not backed */
    size_t free_bytes;      /* heap pages in free runs (Ready or Prepared) */
    size_t metadata_bytes;  /* Ready bytes of off-heap metadata (index, arena
                               metadata, span records) */
    size_t reserved_bytes;  /* address space held for arenas and metadata */
    size_t arenas;          /* arenas in the index */
    size_t spans_free;      /* free page runs */
    size_t spans_small;     /* runs cut into small blocks of one size class */
    size_t spans_large;     /* runs holding one large block */
    size_t oom_count;       /* allocations that failed for lack of memory */
    size_t misuse_count;    /* misuse reports sent to the fault hook */
    size_t grow_count;      /* times the heap took new arenas */
};

/* Fills *out.  O(1): the counters are kept as the heap changes. */
void sheap_stats(struct sheap_stats *out);

/*
 * Verifies every invariant of the heap without changing it: index and arena
 * list, span map against spans, free runs coalesced and filed in the right
 * free list, free-list bitmaps, allocation bitmaps against object counts,
 * partial lists, page-state bitmaps, and that the statistics add up.
 * Returns 0 when the heap is consistent, otherwise one of the codes below;
 * O(heap size).
 */
enum sheap_check_result {
    SHEAP_CHECK_OK = 0,
    SHEAP_CHECK_INDEX,      /* index and arena list disagree */
    SHEAP_CHECK_SPAN_MAP,   /* a page does not map to the span covering it */
    SHEAP_CHECK_SPAN,       /* a span record is malformed */
    SHEAP_CHECK_COALESCE,   /* two free runs are adjacent */
    SHEAP_CHECK_FREE_LIST,  /* free lists or their bitmaps are wrong */
    SHEAP_CHECK_BITMAP,     /* an allocation bitmap disagrees with its count */
    SHEAP_CHECK_PARTIAL,    /* a class's partial list is wrong */
    SHEAP_CHECK_PAGE_STATE, /* in-use or backed page bits are wrong */
    SHEAP_CHECK_STATS,      /* statistics do not add up */
    SHEAP_CHECK_IN_WALK,    /* called from a walker callback: refused */
};
int sheap_check(void);
/* A one-line description of a sheap_check result. */
const char *sheap_check_message(int result);

/*
 * Heap walker: calls fn once per block, in arena order then address order,
 * with used = true for live blocks and false for free small slots and free
 * page runs.  Stops early and returns fn's value when fn returns non-zero;
 * returns 0 after a full walk.  The heap lock is held during the walk, so
 * fn must not call sheap: such a call (from the walking thread) is reported
 * to the fault hook, counted as misuse and refused, never a deadlock:
 * allocations return NULL with EINVAL, free, trim and sheap_stats do
 * nothing, sheap_check returns SHEAP_CHECK_IN_WALK, a nested walk returns
 * -1.  Other threads wait for the walk to end as usual.
 */
typedef int (*sheap_walk_fn)(void *ptr, size_t size, bool used, void *ctx);
int sheap_walk(sheap_walk_fn fn, void *ctx);

/*
 * Arena walker: calls fn once per arena, in creation order, with its
 * address range and how many of its pages are Ready and in use.  Same rules
 * as sheap_walk.  O(arenas * pages per arena / word size).
 */
struct sheap_arena_info {
    uintptr_t base;     /* arena-aligned start */
    size_t size;        /* SHEAP_ARENA_SIZE */
    size_t ready_bytes; /* backed pages (in use or free) */
    size_t inuse_bytes; /* pages in small or large spans */
    size_t metadata_bytes; /* this arena's off-heap metadata record */
};
typedef int (*sheap_arena_fn)(const struct sheap_arena_info *info, void *ctx);
int sheap_arena_walk(sheap_arena_fn fn, void *ctx);

/*
 * Returns every free page that is still Ready to the port (Ready ->
 * Prepared), including empty small spans kept for reuse.  Returns the bytes
 * released.  O(free runs).
 */
size_t sheap_trim(void);

/*
 * The fault hook receives misuse reports.  The default (NULL) calls the
 * port's sheap_port_fault, which reports and stops.  A hook that returns
 * lets the program continue; the faulty call then does nothing.  Returns
 * the previous hook.
 */
typedef void (*sheap_fault_hook)(const char *msg, const void *ptr);
sheap_fault_hook sheap_set_fault_hook(sheap_fault_hook hook);

#ifdef __cplusplus
}
#endif

#endif /* SHEAP_H */
