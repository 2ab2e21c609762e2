/*
 * sheap.h - the public contract of sheap, a sparse-arena heap for firmware.
 *
 * Heaps
 *   A heap (struct sheap) lives in storage the caller provides and is
 *   created with a backend (sheap_backend.h: the memory it grows into) and
 *   capability bits.  The plain functions (sheap_malloc, sheap_calloc,
 *   sheap_aligned_alloc, sheap_posix_memalign, sheap_stats, sheap_check,
 *   sheap_walk, sheap_arena_walk, sheap_trim) work on the default heap,
 *   made on first use from the port's default backend; each has a form
 *   that names a heap (sheap_heap_malloc, ...).  sheap_free, sheap_realloc
 *   and sheap_usable_size take a block of any heap: the heap is found from
 *   the pointer through one arena index shared by all heaps, in O(1).
 *   sheap_malloc_caps and its forms pick a heap by capability.
 *
 * Common rules
 *   Locking   Every function takes the port's heap lock (sheap_port.h), which
 *             masks interrupts on the bare-metal ports, only for short list
 *             edits: no call masks interrupts for more than a bounded number
 *             of instructions (see "Interrupt latency" below).  That one lock
 *             protects every heap and the shared index (an SMP build,
 *             SHEAP_SMP=1, adds a lock per CPU for its small-block caches:
 *             sheap_config.h and docs/DESIGN.md "Concurrency").  Work
 *             that calls the backend (reserve, map, used, unused,
 *             release), clears memory or makes metadata Ready runs in a
 *             growth section with the lock dropped; one
 *             caller owns growth at a time.  None of the functions may be
 *             called from the fault hook with the lock held (the hook runs
 *             after the lock is dropped).
 *   Interrupt latency
 *             Longest stretch with interrupts masked, per call:
 *               malloc, calloc, aligned_alloc, realloc, free, usable_size,
 *               trim, stats: O(1) in the heap's size; make test checks
 *               every call of its workloads against mask_max in
 *               tests/bench/bounds.txt on every QEMU board (Cortex-M
 *               counted by a QEMU plugin).  A page run adds O(pages /
 *               word bits) bit operations, split into steps of at most 32
 *               words (docs/DESIGN.md gives the formula).
 *             Exempt (diagnostics and setup; masked for their whole run):
 *               sheap_check and sheap_heap_check (O(heap size)), the
 *               walkers (O(heap size) plus the callback's time),
 *               sheap_heap_create and sheap_default_heap_create (32-bit
 *               mode: the backend's reserve calls), sheap_heap_destroy (the
 *               backend's release calls, O(arenas)).
 *   Interrupt handlers
 *             A handler may call sheap_malloc, sheap_calloc,
 *             sheap_aligned_alloc, sheap_posix_memalign, sheap_realloc,
 *             sheap_free, sheap_usable_size, sheap_heap_of, sheap_stats and
 *             their forms that name a heap or capabilities.  In a handler
 *             they never grow a heap, back pages, release pages or wait for
 *             a growth section: an allocation gets memory that is already
 *             Ready (a partial size class, a kept span, a Ready free run),
 *             or NULL with errno SHEAP_ENOMEM when none fits; free and
 *             realloc that shrinks always work; sheap_trim returns 0.  The
 *             same holds for a call made from inside a growth section by
 *             its own context (a backend that calls back into sheap).  On Cortex-M
 *             the port knows handler mode by itself (IPSR); on AArch64 and
 *             RISC-V the handler brackets its heap calls with
 *             sheap_isr_enter() and sheap_isr_exit().  sheap_check, the
 *             walkers, create and destroy are not for handlers.
 *   Threads   A thread (host thread, RTOS task) whose call needs growth
 *             while another thread owns a growth section waits for it
 *             (sheap_port_growth_wait in sheap_port.h, heap lock dropped,
 *             interrupts as the caller has them) and then tries again, so
 *             an allocation returns NULL only when the heap cannot grow;
 *             sheap_trim, sheap_check, create and destroy wait the same
 *             way.  This needs a port that can wait and that tells threads
 *             apart (the hosted port; an RTOS integration supplies
 *             sheap_port_task_id and sheap_port_growth_wait).  Without
 *             them (bare metal, no RTOS: no other thread exists) nobody
 *             waits, and a caller during another's section gets Ready
 *             memory or NULL, as a handler does.
 *   Alignment Every block is aligned to 16 bytes when its size is at least
 *             16 (>= _Alignof(max_align_t) on every supported target), to 8
 *             otherwise, and to the page size when it is a page run.
 *   Zeroing   Only sheap_calloc zeroes.  Fresh memory that the backend reports
 *             as zero is not cleared a second time.
 *   Time      Small blocks (<= SHEAP_MAX_SMALL_SIZE): O(1), a few dozen
 *             instructions when the size class has a partial span.  Page
 *             runs: O(1) in the size of the heap and in the number of free
 *             runs, plus O(pages) to back and map the run's own pages.
 *             Growing a heap calls its backend (reserve, map) and is bounded
 *             by the backend's cost for one arena.
 *   Failure   Failing calls return NULL (or an error number) and set errno
 *             through the port to SHEAP_ENOMEM or SHEAP_EINVAL; the heap is
 *             unchanged by a failed call, except that an allocation that
 *             fails first gives the empty spans the size classes keep for
 *             reuse back to the free runs and, when it lacked physical
 *             memory, hands free Ready pages back to the backend (both as
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

#include "sheap_backend.h"
#include "sheap_config.h"
#include "sheap_console.h"

#ifdef __cplusplus
extern "C" {
#endif

/* errno values reported through sheap_port_set_errno and returned by
 * sheap_posix_memalign: the POSIX numbers shared by glibc and picolibc. */
#define SHEAP_ENOMEM 12
#define SHEAP_EINVAL 22
/* Returned by sheap_heap_create and sheap_default_heap_create: the storage
 * is already a live heap, or its memory already belongs to another heap. */
#define SHEAP_EBUSY 16

/*
 * Returns a block of at least n bytes, or NULL iff the heap cannot grow
 * (errno ENOMEM).  n == 0 returns a unique minimum-size block that must be
 * freed like any other.
 */
void *sheap_malloc(size_t n);

/* ---- Heaps ------------------------------------------------------------------ */

/*
 * A heap.  Opaque: its size is known at compile time (SHEAP_HEAP_STORAGE_WORDS
 * in sheap_config.h, checked by the core), so firmware can place one in any
 * storage it owns (`static struct sheap sram_heap;`).  All-zero storage is
 * "no heap": per-heap calls on it fail with EINVAL.  A live heap must stay
 * where it is (its arena records point at it) until it is destroyed.
 */
struct sheap {
    union {
        uintptr_t words[SHEAP_HEAP_STORAGE_WORDS];
        uint64_t align;
    } opaque_;
};

/* Capability bits of a heap.  A request for caps is served by a heap whose
 * caps include all of them; caps == 0 accepts any heap. */
#define SHEAP_CAP_DMA          (1u << 0) /* reachable by DMA masters */
#define SHEAP_CAP_FAST         (1u << 1) /* fast memory: TCM, on-chip SRAM */
#define SHEAP_CAP_EXTERNAL     (1u << 2) /* external RAM: PSRAM, DDR */
#define SHEAP_CAP_NONCACHEABLE (1u << 3) /* not cached: no cache maintenance */
#define SHEAP_CAP_USER(n)      (1u << (16 + (n))) /* n = 0..15: the firmware's own */

struct sheap_config {
    /* Where the heap's memory comes from; required.  Copied: the backend's
     * ctx (not this struct) must outlive the heap. */
    const struct sheap_backend *backend;
    uint32_t caps;          /* SHEAP_CAP_* bits */
    const char *name;       /* for reports; may be NULL */
    /* Place in the capability search: heaps with a lower order are tried
     * first; equal orders go in creation order. */
    int order;
    /* Growth hints: addresses where arenas are tried first, most preferred
     * first (each rounded up to an arena boundary, growing up).  NULL:
     * reserve anywhere. */
    const uintptr_t *hints;
    unsigned nhints;
    /* 32-bit mode only (SHEAP_32BIT_MODE), 0 for the default: the address
     * space the heap may occupy, whose arena metadata is reserved at
     * creation (SHEAP_REGION_SIZE), and the first size tried for the
     * initial reservation, halved until one arena fits
     * (SHEAP_INITIAL_RESERVE).  Both whole arenas. */
    uintptr_t region_size;
    uintptr_t initial_reserve;
};

/*
 * Creates a heap in *heap (zeroed or destroyed storage) and adds it to the
 * capability search.  Returns 0, or with nothing changed:
 *   SHEAP_EINVAL  no backend or ops, a backend page size that is 0, not a
 *                 power of two or does not divide SHEAP_PAGE_SIZE, more than
 *                 SHEAP_MAX_HINTS hints (or hints NULL with nhints != 0),
 *                 region_size / initial_reserve not whole arenas;
 *   SHEAP_EBUSY   *heap is already a live heap, or a growth section is running
 *                 (called from a handler or from a backend);
 *   SHEAP_ENOMEM  32-bit mode: the backend could not reserve the metadata.
 * Reserves address space only in 32-bit mode (the initial reservation).
 * O(hints), plus the backend's reserve calls.  Takes the heap lock.
 */
int sheap_heap_create(struct sheap *heap, const struct sheap_config *cfg);

/*
 * Gives every arena and all metadata of the heap back to its backend
 * (release) and leaves *heap zeroed.  Live blocks die with it: their
 * pointers become foreign (reported as misuse when freed).  The default
 * heap may be destroyed too; the next plain call makes a new one.
 * Returns 0, SHEAP_EINVAL when *heap is not a live heap, or SHEAP_EBUSY (nothing
 * done) when called while a growth section runs (from a handler or a backend).
 * O(arenas + metadata chunks).  Takes the heap lock.
 */
int sheap_heap_destroy(struct sheap *heap);

/* The default heap, created now from sheap_port_default_backend() if it is
 * not yet (NULL when that fails).  O(1) after the first call. */
struct sheap *sheap_default_heap(void);

/*
 * Creates the default heap with cfg instead of the port's default backend,
 * before its first use.  Same results as sheap_heap_create (SHEAP_EBUSY when
 * the default heap exists already).
 */
int sheap_default_heap_create(const struct sheap_config *cfg);

/* The heap whose arena holds the live block p, or NULL (p foreign, free or
 * NULL; not reported).  O(1). */
struct sheap *sheap_heap_of(const void *p);

/* Name and capabilities given at creation (NULL / 0 for no heap).  O(1),
 * no lock (they do not change while the heap lives). */
const char *sheap_heap_name(const struct sheap *heap);
uint32_t sheap_heap_caps(const struct sheap *heap);

/*
 * Per-heap forms of the allocation calls: same contract as the plain ones
 * (size, alignment, zeroing, errno), from *heap only, and EINVAL when
 * *heap is not a live heap.  Free them with sheap_free.  The small-block
 * fast path is the plain one's with the heap as a parameter.
 */
void *sheap_heap_malloc(struct sheap *heap, size_t n);
void *sheap_heap_calloc(struct sheap *heap, size_t count, size_t size);
void *sheap_heap_aligned_alloc(struct sheap *heap, size_t align, size_t n);
int sheap_heap_posix_memalign(struct sheap *heap, void **out, size_t align, size_t n);

/*
 * Allocation by capability: from the first heap, in order (see
 * sheap_config.order), whose caps include all of caps, falling back along
 * the order to the next such heap when one is out of memory.  NULL with
 * EINVAL when no heap has caps (or align is bad for the aligned form),
 * NULL with ENOMEM when every such heap is full.  The default heap takes
 * part (created first if need be).  Time: the plain call's, once per heap
 * tried.
 */
void *sheap_malloc_caps(uint32_t caps, size_t n);
void *sheap_calloc_caps(uint32_t caps, size_t count, size_t size);
void *sheap_aligned_alloc_caps(uint32_t caps, size_t align, size_t n);

/*
 * Frees a block returned by any allocation function, of any heap.  NULL is ignored.
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

/* Fills *out for the default heap.  O(1): the counters are kept as the heap
 * changes.  metadata_bytes counts the heap's own metadata plus the shared
 * arena index; misuse_count counts every report, whatever the heap. */
void sheap_stats(struct sheap_stats *out);
/* The same for *heap (all zero when it is not a live heap). */
void sheap_heap_stats(const struct sheap *heap, struct sheap_stats *out);
/* Sums over every live heap (the shared index counted once; peak_live_bytes
 * is the sum of the heaps' peaks).  O(heaps). */
void sheap_stats_total(struct sheap_stats *out);

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
    SHEAP_CHECK_BUSY,       /* a growth section is running (called from a
                               handler or a backend): nothing was checked */
};
int sheap_check(void);
/* The same for *heap (SHEAP_CHECK_INDEX when it is not a live heap); its
 * index entries must name it and no other heap's. */
int sheap_heap_check(const struct sheap *heap);
/* A one-line description of a sheap_check result. */
const char *sheap_check_message(int result);

/*
 * Heap walker: calls fn once per block, in arena order then address order,
 * with used = true for live blocks and false for free small slots and free
 * page runs.  Stops early and returns fn's value when fn returns non-zero;
 * returns 0 after a full walk.  The heap lock (one for all heaps) is held
 * during the walk, so fn must not call sheap: such a call into any heap
 * (from the walking thread) is reported to the fault hook, counted as
 * misuse and refused, never a deadlock: allocations return NULL with
 * EINVAL, free, trim and the statistics calls do nothing, the check calls
 * return SHEAP_CHECK_IN_WALK, a nested walk returns -1, heap creation and
 * destruction return SHEAP_EINVAL.  Other threads wait for the walk to end
 * as usual.
 */
typedef int (*sheap_walk_fn)(void *ptr, size_t size, bool used, void *ctx);
int sheap_walk(sheap_walk_fn fn, void *ctx);
int sheap_heap_walk(const struct sheap *heap, sheap_walk_fn fn, void *ctx);

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
    size_t metadata_bytes; /* Ready bytes of this arena's off-heap metadata record */
};
typedef int (*sheap_arena_fn)(const struct sheap_arena_info *info, void *ctx);
int sheap_arena_walk(sheap_arena_fn fn, void *ctx);
int sheap_heap_arena_walk(const struct sheap *heap, sheap_arena_fn fn, void *ctx);

/*
 * Returns every free page that is still Ready to the backend (Ready ->
 * Prepared), including empty small spans kept for reuse.  Returns the bytes
 * released.  O(free runs).
 */
size_t sheap_trim(void);
size_t sheap_heap_trim(struct sheap *heap);

/*
 * The fault hook receives misuse reports.  The default (NULL) calls the
 * port's sheap_port_fault, which reports and stops.  One hook for every
 * heap (a foreign pointer belongs to none).  A hook that returns
 * lets the program continue; the faulty call then does nothing.  Returns
 * the previous hook.
 */
typedef void (*sheap_fault_hook)(const char *msg, const void *ptr);
sheap_fault_hook sheap_set_fault_hook(sheap_fault_hook hook);

/*
 * Interrupt context on ports that cannot tell by themselves (AArch64,
 * RISC-V): between sheap_isr_enter() and sheap_isr_exit() every call is a
 * handler's call (see "Interrupt handlers" above).  They nest; each takes
 * the heap lock for a few instructions.
 */
void sheap_isr_enter(void);
void sheap_isr_exit(void);

/* ---- Observability -------------------------------------------------------------
 *
 * Heap report.  Figures beyond sheap_stats that take a walk over the heap.
 * "Heap bytes" are the bytes of the heap's arenas (the address space that
 * blocks can occupy, Ready or not); "free" means heap bytes not in live
 * blocks.  Where the backend has less physical memory than the arenas
 * span (a static board whose arena is bigger than its RAM), free_bytes and
 * min_free_bytes are upper bounds; largest_free_bytes is exact in address
 * space but an allocation of that size also needs the backend to back it.
 */
struct sheap_report {
    size_t heap_bytes;         /* bytes of all arenas */
    size_t live_bytes;         /* as sheap_stats */
    size_t live_blocks;
    size_t peak_live_bytes;    /* highest live_bytes since creation or the
                                  last sheap_heap_reset_peak */
    size_t free_bytes;         /* heap_bytes - live_bytes */
    size_t min_free_bytes;     /* lowest free_bytes over the same time */
    size_t free_run_bytes;     /* pages in free runs (Ready or Prepared) */
    size_t largest_free_bytes; /* largest free run: the largest block that
                                  fits without growing the heap */
    size_t slot_free_bytes;    /* free slots inside small spans */
    size_t quarantine_blocks;  /* hardening level 2: freed blocks in
                                  quarantine (not live, not reusable yet) */
    /* Fragmentation of the free runs, per mille: 1000 * (1 -
     * largest_free_bytes / free_run_bytes); 0 when free memory is one run
     * or there is none, near 1000 when it is scattered in small runs. */
    unsigned fragmentation;
    unsigned nclasses;         /* size classes (sheap_heap_class_report) */
};
/*
 * Fills *out for *heap (NULL: the default heap).  Returns 0, or SHEAP_EINVAL
 * with *out zeroed when heap is not a live heap (or the call comes from a
 * walker callback: refused and reported as misuse).  O(heap size) with the
 * heap lock held (a diagnostic, exempt from the latency bound like
 * sheap_check); not for handlers.
 */
int sheap_heap_report(const struct sheap *heap, struct sheap_report *out);

/* Bytes by size class. */
struct sheap_class_report {
    size_t block_size; /* the class's block size */
    size_t used_bytes; /* live blocks (quarantined ones are not live) */
    size_t free_bytes; /* free slots in spans of the class */
    size_t spans;      /* spans of the class, kept empty ones included */
};
/*
 * Fills out[0 .. n) for classes first .. first + n - 1 (clipped to the
 * number of classes) in one walk.  Returns how many entries it filled, or
 * -SHEAP_EINVAL as sheap_heap_report.  O(heap size), lock held.
 */
int sheap_heap_class_report(const struct sheap *heap, unsigned first, struct sheap_class_report *out,
                            unsigned n);

/* Starts a new measuring period for *heap (NULL: the default heap):
 * peak_live_bytes becomes live_bytes and min_free_bytes becomes free_bytes.
 * O(1).  Does nothing when heap is not a live heap. */
void sheap_heap_reset_peak(struct sheap *heap);

/*
 * Writes a human-readable report of *heap (NULL: the default heap) through
 * out (see sheap_console.h; it must not allocate): the sheap_report
 * figures, one line per size class in use, the owners of live blocks when
 * owner tags are on, and the sheap_check result.  The figures are gathered
 * with the lock held (as sheap_heap_report, in several walks) and written
 * with it dropped, so out may be slow.  Formats with a few lines of its
 * own (no printf).  Does nothing when out is NULL; says "no heap" when heap
 * is not a live heap.
 */
void sheap_dump(const struct sheap *heap, sheap_console_fn out);

/*
 * Owner tags (SHEAP_OWNER_TAGS = 1; without it the calls below still link:
 * sheap_set_owner keeps the value, every block's owner is 0 and the usage
 * calls return SHEAP_EINVAL).  Each live block carries the owner that was
 * current when it was allocated, kept in its span record (off the heap: no
 * byte inside or next to the block).  The firmware says who allocates,
 * typically from its RTOS's task-switch hook:
 *     sheap_set_owner(task_number);
 * One current owner for the whole program (not per thread: a hosted
 * program that wants per-thread owners sets it around its calls).  0 means
 * "no owner".  realloc keeps the block's owner when it stays in place and
 * gives a moved block the current one.
 */
typedef uint8_t sheap_owner_t;
#define SHEAP_OWNERS 256u
/* Sets the current owner and returns the previous one.  O(1), no lock: a
 * relaxed store, callable from a context switch. */
sheap_owner_t sheap_set_owner(sheap_owner_t owner);
sheap_owner_t sheap_get_owner(void);
/* The owner of live block p; 0 when p is not a live block (not reported)
 * or tags are off.  O(1). */
sheap_owner_t sheap_owner_of(const void *p);
struct sheap_owner_usage {
    size_t blocks; /* live blocks of the owner */
    size_t bytes;  /* their usable bytes */
};
/* Usage of owners first .. first + n - 1 (first + n <= SHEAP_OWNERS) in
 * *heap (NULL: the default heap), in one walk: out[i] for owner first + i.
 * Blocks in quarantine (level 2) are not counted.  Returns 0, or
 * SHEAP_EINVAL (not a live heap, bad range, tags off).  O(heap size). */
int sheap_heap_owner_usage(const struct sheap *heap, unsigned first, struct sheap_owner_usage *out, unsigned n);
/* Leak report: calls fn(ptr, usable size, true, ctx) for every live block
 * of owner in *heap (NULL: the default heap), in address order.  Same rules
 * as sheap_walk (lock held, fn must not call sheap).  Returns fn's
 * non-zero value, 0 after a full walk, -1 when refused (not a live heap,
 * tags off, called from a walker callback). */
int sheap_heap_owner_walk(const struct sheap *heap, sheap_owner_t owner, sheap_walk_fn fn, void *ctx);

/*
 * Hooks (SHEAP_HOOKS = 1; without it sheap_set_hooks returns SHEAP_EINVAL
 * and nothing is ever called).  One set for all heaps, called without the
 * heap lock held, after the call has done its work:
 *   on_alloc every successful allocation (malloc, calloc, aligned forms,
 *            by capability, per heap): the block, the size asked, the
 *            usable size; heap is the heap that served it.
 *   on_free  every free of a live block, once it is freed (the pointer
 *            names the block; its memory may already be reused): the block
 *            and the usable size it had.  Misuse reports do not call it.
 *   on_realloc every successful realloc with p != NULL and n != 0: old and
 *            new block (equal when it stayed in place) and the new size;
 *            neither alloc nor free is called for it.  realloc(NULL, n) is
 *            an alloc; realloc(p, 0) is a free.
 *   on_oom   an allocation that is about to fail with ENOMEM (after sheap's
 *            own retries): the heap (NULL for a capability request that no
 *            heap could serve), the size and alignment asked.  It may free
 *            memory (it may call sheap_free and sheap_trim) and returns
 *            non-zero to ask for one more try; 0 lets the call fail.
 *            Called at most once per call.
 * Any of them may be NULL.  The trace hooks must not allocate or free (no
 * recursion guard: they would trace themselves); none is called from a
 * walker callback's refused calls.  The cost when compiled in and no hook
 * is set: a load and a branch per call, and the slow halves' code; with
 * owner tags too, a few instructions more per small malloc and free (the
 * figures are in docs/BENCHMARKS.md, "Hardening levels and hooks").
 */
struct sheap_hooks {
    void (*on_alloc)(struct sheap *heap, void *p, size_t asked, size_t usable, void *ctx);
    void (*on_free)(struct sheap *heap, void *p, size_t usable, void *ctx);
    void (*on_realloc)(struct sheap *heap, void *old, void *p, size_t n, void *ctx);
    int (*on_oom)(struct sheap *heap, size_t n, size_t align, void *ctx);
    void *ctx;
};
/* Installs a copy of *hooks (NULL: none).  Returns 0, or SHEAP_EINVAL when
 * the build has SHEAP_HOOKS = 0. */
int sheap_set_hooks(const struct sheap_hooks *hooks);

/* ---- Hardening levels (SHEAP_HARDENING, chosen at build time) ---------------------
 *
 *   0  Only what the heap's own safety needs.  A pointer passed to free,
 *      realloc or usable_size is still validated against the span map and
 *      the allocation bitmap (that check is what keeps the off-heap
 *      metadata consistent, and costs a few instructions), but misuse is
 *      reported with one message, "sheap: invalid pointer (not a live
 *      block)", without the diagnosis of level 1 (smaller code).
 *   1  (default) As 0, and a misuse report names its probable cause:
 *      foreign pointer, interior pointer, double free, pointer to free
 *      memory (see "Misuse" above).
 *   2  As 1, for small blocks (<= SHEAP_MAX_SMALL_SIZE):
 *      - poison: every free slot holds SHEAP_POISON in its first
 *        SHEAP_POISON_BYTES bytes (64 by default; 0: all of it).  Fresh
 *        spans are filled whole when made (lock dropped); a freed block
 *        when it enters the quarantine (with the lock held when that is
 *        at most 256 bytes, else with it dropped);
 *      - verify on reuse: an allocation checks that its block still holds
 *        the poison before handing it out (after the lock is dropped); a
 *        changed byte is reported to the fault hook ("sheap: write after
 *        free ...", ptr = the block; or "sheap: overflow past the end of a
 *        block", ptr = the block before it, when the first byte changed
 *        and that block is live), and sheap_last_fault names the block,
 *        its size class and size, the offset of the first changed byte
 *        and, with owner tags, the owner that had it last.  The block is
 *        then handed out as usual.  sheap_heap_verify checks every free
 *        slot at once;
 *      - quarantine: a freed block waits in a ring of SHEAP_QUARANTINE
 *        blocks (all heaps) before its slot can be reused; freeing it again
 *        meanwhile is reported as a double free.  A quarantined block is
 *        freed for sheap_stats, the reports and sheap_walk (used = false),
 *        but its slot is not reused, so its span is not empty, until it
 *        leaves; sheap_trim, a failing allocation and heap destruction
 *        empty the ring (of that heap) first;
 *      - randomised slot choice: within the bitmap word malloc takes a slot
 *        from, the slot is the first free one after a pseudo-random bit
 *        position, so that the block after a given block is not
 *        predictable (a word covers 32 or 64 slots).
 *      Only small blocks (<= SHEAP_MAX_SMALL_SIZE) are poisoned and
 *      quarantined; large blocks are freed at once.  Costs: the fill and
 *      the check of the poison on every small malloc and free (figures in
 *      docs/BENCHMARKS.md, "Hardening levels and hooks"); a masked stretch
 *      grows by the fill of at most 256 bytes, and emptying the quarantine
 *      breaks the lock between blocks (make test checks the masked-stretch
 *      bound of tests/bench/bounds.txt at this level on qemu-virt-riscv32,
 *      flavour hard2).
 *   3  As 2, and one malloc in SHEAP_GUARD_SAMPLE (or the one chosen with
 *      sheap_guard_next) gets a guard page: the block is placed at the end
 *      of a page run of its own, 16-byte aligned, and the page after it is
 *      given back to the backend (Ready -> Prepared), so that a write past
 *      the block faults at the bad instruction where the backend can
 *      express that (the MMU boards unmap the page, the host makes it
 *      PROT_NONE, the static boards put a protection region of its own
 *      over it: a spare MPU region or PMP entry, through the backend's
 *      optional protect, sheap_backend.h, given back when the block is
 *      freed).  A block whose size is a multiple of 16 faults at its
 *      first byte past the end; otherwise the overflow first runs through
 *      up to 15 bytes of padding.  The guarded block counts as a large
 *      block (its run's bytes, guard included, in live_bytes; the walkers
 *      report the whole run at its base); realloc always moves it.  No
 *      guard when the malloc runs in a handler (it cannot call the
 *      backend), the run cannot be had, or the backend's protect has no
 *      region left (the static boards have a few, 4 by default: at most
 *      that many guarded blocks are live at once there; the port counts
 *      the refusals, sheap_static_info): the block is then an ordinary
 *      one.  Cost per guarded block: one page more, a growth section and
 *      the backend's unused (a TLB invalidation on the MMU boards; on the
 *      static boards one region's register writes at malloc and at free,
 *      with the lock held).
 *      Requires SHEAP_RETAIN_BYTES to keep everything (the default).
 */
/* Level 3: the n-th next malloc (n >= 1; 0: the sampling default) gets a
 * guard page.  Not declared below level 3 (no such build). */
#if SHEAP_HARDENING >= 3
void sheap_guard_next(unsigned n);
#endif
enum sheap_fault_kind {
    SHEAP_FAULT_NONE = 0,
    SHEAP_FAULT_WRITE_AFTER_FREE, /* level 2: a free block was written */
    SHEAP_FAULT_DOUBLE_FREE,      /* a small block freed while free or in
                                     quarantine (a large block's second
                                     free is reported as a pointer into
                                     free memory, not recorded here) */
    SHEAP_FAULT_OVERFLOW,         /* level 2: a free block was written at
                                     its first byte, the block before it
                                     being live: probably an overflow of
                                     that block (block = the live one) */
};
struct sheap_fault_info {
    int kind;              /* enum sheap_fault_kind */
    const void *block;     /* the block (or the pointer passed) */
    size_t size;           /* its size class's block size, 0 if none */
    unsigned size_class;   /* its size class, 0 if none */
    sheap_owner_t owner;   /* its last owner (owner tags on), else 0 */
    size_t offset;         /* write after free: the first changed byte;
                              overflow: the block's size (the first
                              byte past it) */
};
/* The last report of one of these kinds (level 1 records double frees,
 * level 2 all of them; level 0 none).  Returns false when there was none
 * since the start or the last call (which clears it), and always when the
 * build keeps no record (SHEAP_FAULT_RECORD 0, sheap_config.h: the fault
 * hook still gets every report). */
bool sheap_last_fault(struct sheap_fault_info *out);

/*
 * Level 2: checks the poison of every free and quarantined slot of *heap
 * (NULL: the default heap) now, instead of at reuse.  Damaged slots are
 * reported (the first 8 to the fault hook; sheap_last_fault names the last
 * one) and filled with the poison again, so that their reuse does not
 * report them twice.
 * Returns the number of damaged slots, 0 below level 2 or when heap is not
 * a live heap.  O(heap bytes) with the lock held (a diagnostic, like
 * sheap_check); reports go out after the lock is dropped.
 */
size_t sheap_heap_verify(const struct sheap *heap);

#ifdef __cplusplus
}
#endif

#endif /* SHEAP_H */
