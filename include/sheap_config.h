/*
 * sheap_config.h - compile-time geometry of the heap, with defaults.
 *
 * A board overrides any of these in its board.h.  The build names the board
 * header with -DSHEAP_BOARD_HEADER="board.h" (see Makefile); this file
 * includes it first and then fills in whatever the board left unset.  Every
 * macro is a plain constant so that the core can size its tables with it.
 *
 * Geometry
 *   SHEAP_PAGE_SHIFT     log2 of the heap page: the unit of spans and of
 *                        backing.  Must be >= the port's physical page.
 *                        Default 12 (4 KB).
 *   SHEAP_ARENA_SHIFT    log2 of the arena, the unit of address-space growth
 *                        and of per-arena metadata.  Default 26 (64 MB) with
 *                        64-bit pointers, 22 (4 MB) in 32-bit mode.
 *   SHEAP_VA_BITS        bits of virtual address the arena index covers.
 *                        Default 48 on 64-bit, 32 in 32-bit mode.
 *   SHEAP_INDEX_L1_BITS  64-bit only: how many of the arena-frame bits the
 *                        first index level takes; the rest index the L2
 *                        tables made on demand.  Default: half of them.
 *   SHEAP_ARENA_HINTS    brace list of addresses where the heap tries to
 *                        grow, most preferred first (each grows upward).
 *   SHEAP_MAX_SMALL_SIZE largest size served from size classes; bigger
 *                        requests take whole page runs.  Default 32 KB,
 *                        the smallest value that keeps page rounding of large
 *                        objects under 12.5 % with 4 KB pages.
 *   SHEAP_META_CHUNK     address space reserved at a time for the metadata
 *                        allocator (64-bit mode).
 *   SHEAP_STASH_SPANS    empty spans a size class keeps for reuse beyond
 *                        the head of its partial list (default 2).
 *   SHEAP_RELEASE_BATCH  kept empty spans taken back before new pages are
 *                        backed for a run (default 8).
 *   SHEAP_RETAIN_BYTES   free pages that stay Ready (backed) for quick
 *                        reuse; beyond this a freed run is handed back to the
 *                        port at once.  (size_t)-1 keeps everything.
 *
 * 32-bit mode (SHEAP_32BIT_MODE, the default when pointers are 32 bits)
 *   SHEAP_REGION_BASE / SHEAP_REGION_SIZE   the part of the address space the
 *                        heap may occupy; metadata for every arena frame in it
 *                        is reserved up front.  Default: all 4 GB.
 *   SHEAP_INITIAL_RESERVE  first size tried for the initial arena
 *                        reservation; halved until one arena.
 *   SHEAP_INDEX_BASE / SHEAP_INDEX_SIZE   the addresses where any heap of
 *                        the board may have arenas (every heap's region):
 *                        the one-level arena index is a static table with
 *                        an entry (a pointer) per arena frame of this range
 *                        and nothing outside it.  Default: [0, 2^SHEAP_VA_BITS),
 *                        4 KB of RAM with 4 MB arenas and 32 bits; a board
 *                        that states its memories pays a few bytes.
 */
#ifndef SHEAP_CONFIG_H
#define SHEAP_CONFIG_H

#include <stdint.h>

#ifdef SHEAP_BOARD_HEADER
#include SHEAP_BOARD_HEADER
#endif

#ifndef SHEAP_32BIT_MODE
#if UINTPTR_MAX == 0xffffffffu
#define SHEAP_32BIT_MODE 1
#else
#define SHEAP_32BIT_MODE 0
#endif
#endif

#ifndef SHEAP_PAGE_SHIFT
#define SHEAP_PAGE_SHIFT 12
#endif

#ifndef SHEAP_ARENA_SHIFT
#if SHEAP_32BIT_MODE
#define SHEAP_ARENA_SHIFT 22
#else
#define SHEAP_ARENA_SHIFT 26
#endif
#endif

#ifndef SHEAP_VA_BITS
#if SHEAP_32BIT_MODE
#define SHEAP_VA_BITS 32
#else
#define SHEAP_VA_BITS 48
#endif
#endif

#ifndef SHEAP_INDEX_L1_BITS
#define SHEAP_INDEX_L1_BITS ((SHEAP_VA_BITS - SHEAP_ARENA_SHIFT) / 2)
#endif

#ifndef SHEAP_ARENA_HINTS
#if SHEAP_32BIT_MODE
/* 32-bit mode starts from the initial reservation instead (see arena.c). */
#define SHEAP_ARENA_HINTS {0}
#else
/* 0x00c0_0000_0000 and the like (the Go runtime's hints): recognisable in
 * a debugger and far from where the host's loader and mmap put things. */
#define SHEAP_ARENA_HINTS {0x00c000000000u, 0x01c000000000u, 0x02c000000000u, 0x03c000000000u}
#endif
#endif

#ifndef SHEAP_MAX_SMALL_SIZE
#define SHEAP_MAX_SMALL_SIZE (32u * 1024u)
#endif

#ifndef SHEAP_META_CHUNK
#define SHEAP_META_CHUNK ((uintptr_t)4 << 20)
#endif

#ifndef SHEAP_RETAIN_BYTES
#define SHEAP_RETAIN_BYTES ((uintptr_t)-1)
#endif

#ifndef SHEAP_REGION_BASE
#define SHEAP_REGION_BASE 0u
#endif
#ifndef SHEAP_REGION_SIZE
#define SHEAP_REGION_SIZE ((uint64_t)1 << 32)
#endif
#ifndef SHEAP_INDEX_BASE
#define SHEAP_INDEX_BASE 0u
#endif
#ifndef SHEAP_INDEX_SIZE
#define SHEAP_INDEX_SIZE ((uint64_t)1 << SHEAP_VA_BITS)
#endif
#ifndef SHEAP_INITIAL_RESERVE
#define SHEAP_INITIAL_RESERVE ((uint64_t)256 << 20)
#endif

/* Arena records made Ready as the arena's pages are used (see struct
 * sheap_arena): each record gets a reservation of its own and only the
 * pages of its span map that cover pages in use become Ready.  Default on
 * in 64-bit mode, where a 64 MB arena's record is 132 KB; off in 32-bit
 * mode, whose records (about 4 KB for a 4 MB arena) are reserved for the
 * whole region up front and made Ready per arena. */
#ifndef SHEAP_LAZY_ARENA_META
#define SHEAP_LAZY_ARENA_META (!SHEAP_32BIT_MODE)
#endif

/* Empty one-page spans each size class keeps for reuse (besides the head of
 * its partial list), so that small malloc and free rarely reach the page
 * heap.  Bigger spans are not stashed: they would cost more RAM than the
 * few hundred instructions they save.  0 returns every empty span at once
 * (except a kept head). */
#ifndef SHEAP_STASH_SPANS
#define SHEAP_STASH_SPANS 2
#endif

/* Kept empty spans (stashes, empty heads) the page heap takes back, at
 * most, before it backs new pages for a run: more keeps the footprint
 * lower, fewer keeps that allocation's worst case shorter (each is a run
 * free).  A failing allocation and sheap_trim take all of them back
 * regardless.  The batch trades the footprint of the large workloads
 * against the longest page-run malloc; the footprint and worst-case
 * figures of docs/BENCHMARKS.md are taken with the default, 8. */
#ifndef SHEAP_RELEASE_BATCH
#define SHEAP_RELEASE_BATCH 8
#endif

/* log2 of the free lists per power of two of run length in the page heap
 * (TLSF's second level): 3 gives steps of 12.5 %; 2 saves half of the
 * lists' static RAM (a word each) for 25 % steps. */
#ifndef SHEAP_SL_BITS
#define SHEAP_SL_BITS 3
#endif

/* Maximum number of growth hints kept at once; the oldest are dropped when a
 * fallback reservation adds two more and the list is full.  32-bit mode
 * grows from its initial reservation first and needs few. */
#ifndef SHEAP_MAX_HINTS
#if SHEAP_32BIT_MODE
#define SHEAP_MAX_HINTS 4
#else
#define SHEAP_MAX_HINTS 16
#endif
#endif

/* Size classes the storage of a heap (struct sheap) makes room for; the
 * core checks that the generated table has no more. */
#ifndef SHEAP_CLASSES_MAX
#define SHEAP_CLASSES_MAX 96
#endif

/* Capabilities and order of the default heap (sheap_malloc_caps). */
#ifndef SHEAP_DEFAULT_HEAP_CAPS
#define SHEAP_DEFAULT_HEAP_CAPS 0u
#endif
#ifndef SHEAP_DEFAULT_HEAP_ORDER
#define SHEAP_DEFAULT_HEAP_ORDER 0
#endif

/* ---- Several CPUs (docs/DESIGN.md "Concurrency") --------------------------
 *   SHEAP_SMP          1: per-CPU caches (one struct sheap_cpu per CPU in
 *                      every heap, each with its own lock), remote frees
 *                      by atomic per-span bitmaps, and a shared spinlock
 *                      for the page heap and growth.  The port then also
 *                      provides sheap_port_cpu_id, sheap_port_irq_save and
 *                      sheap_port_irq_restore (sheap_port.h).  Default 0:
 *                      one CPU, the code and instruction counts of a
 *                      build without this option.
 *   SHEAP_MAX_CPUS     CPUs (per-CPU caches) of an SMP build: ids
 *                      0 .. SHEAP_MAX_CPUS - 1.  Default 4 with SHEAP_SMP,
 *                      else 1. */
#ifndef SHEAP_SMP
#define SHEAP_SMP 0
#endif
#ifndef SHEAP_MAX_CPUS
#if SHEAP_SMP
#define SHEAP_MAX_CPUS 4
#else
#define SHEAP_MAX_CPUS 1
#endif
#endif
#if !SHEAP_SMP && SHEAP_MAX_CPUS != 1
#error "SHEAP_MAX_CPUS other than 1 needs SHEAP_SMP=1"
#endif
#if SHEAP_SMP && (SHEAP_MAX_CPUS < 1 || SHEAP_MAX_CPUS > 64)
#error "SHEAP_MAX_CPUS is 1..64"
#endif
/* Words of one per-CPU cache in an SMP heap record: a power of two (the
 * fast paths index with a shift) above two words per size class and the
 * cache's other fields. */
#define SHEAP_CPU_NEED_WORDS_ (2 * SHEAP_CLASSES_MAX + 24)
#define SHEAP_CPU_STRIDE_WORDS                                                                     \
    (SHEAP_CPU_NEED_WORDS_ <= 128 ? 128 : SHEAP_CPU_NEED_WORDS_ <= 256 ? 256 : SHEAP_CPU_NEED_WORDS_ <= 512 ? 512 : 1024)

/* Words of struct sheap (sheap.h): an upper bound on the core's heap record
 * (free lists per page-run size, per-class lists, hints, counters), so that
 * firmware can place heaps in static storage.  The core static-asserts it.
 * An SMP build has a per-class cache (and a lock, counters, remote-free
 * lists) per CPU. */
#ifndef SHEAP_HEAP_STORAGE_WORDS
#if SHEAP_SMP
#define SHEAP_HEAP_STORAGE_WORDS                                                                   \
    (64 + 2 * SHEAP_MAX_HINTS + (SHEAP_VA_BITS - SHEAP_PAGE_SHIFT + 2) * 9 +                     \
     SHEAP_MAX_CPUS * SHEAP_CPU_STRIDE_WORDS)
#else
#define SHEAP_HEAP_STORAGE_WORDS                                                                   \
    (64 + 2 * SHEAP_MAX_HINTS + (SHEAP_VA_BITS - SHEAP_PAGE_SHIFT + 2) * 9 + SHEAP_CLASSES_MAX * 9 / 4)
#endif
#endif

/* Derived constants. */
#define SHEAP_PAGE_SIZE ((uintptr_t)1 << SHEAP_PAGE_SHIFT)
#define SHEAP_ARENA_SIZE ((uintptr_t)1 << SHEAP_ARENA_SHIFT)
#define SHEAP_ARENA_PAGES ((uintptr_t)1 << (SHEAP_ARENA_SHIFT - SHEAP_PAGE_SHIFT))

/* ---- Observability and hardening (contract in sheap.h) -------------------
 * The defaults add nothing to a fast path: only a macro below set to ask
 * for a feature does.
 *   SHEAP_HOOKS       1: trace hooks (alloc, free, realloc) and the
 *                     out-of-memory hook (sheap_set_hooks).  Default 0.
 *   SHEAP_OWNER_TAGS  1: an owner tag per live block, kept in the span
 *                     record (off the heap): SHEAP_CLASS_MAX_OBJS bytes more
 *                     per span record.  Default 0.
 *   SHEAP_HARDENING   0..3, default 1 (see "Hardening levels" in sheap.h).
 *   SHEAP_QUARANTINE  level 2: freed small blocks held back from reuse
 *                     (one ring for all heaps; default 16, at most 255).
 *   SHEAP_POISON      level 2: the byte free blocks are filled with. */
#ifndef SHEAP_HOOKS
#define SHEAP_HOOKS 0
#endif
#ifndef SHEAP_OWNER_TAGS
#define SHEAP_OWNER_TAGS 0
#endif
#ifndef SHEAP_HARDENING
#define SHEAP_HARDENING 1
#endif
/*   SHEAP_FAULT_RECORD 1: keep the last misuse report for sheap_last_fault
 *                     (the block, its size class and owner: a record of
 *                     six words of static RAM).  0: sheap_last_fault always
 *                     answers false; the fault hook still gets every
 *                     message.  Default 1; a part that counts its RAM in
 *                     bytes may set 0 (the 256 KB flavour of mps2-an385). */
#ifndef SHEAP_FAULT_RECORD
#define SHEAP_FAULT_RECORD 1
#endif
#ifndef SHEAP_QUARANTINE
#define SHEAP_QUARANTINE 16
#endif
#ifndef SHEAP_POISON
#define SHEAP_POISON 0xa5u
#endif
/*   SHEAP_POISON_BYTES level 2: how much of a free block holds the poison
 *                     and is checked: its first 64 bytes by default, 0 for
 *                     all of it (see sheap.h). */
#ifndef SHEAP_POISON_BYTES
#define SHEAP_POISON_BYTES 64
#endif
/*   SHEAP_GUARD_SAMPLE level 3: one malloc in this many gets a guard page
 *                     (default 64; sheap_guard_next picks one). */
#ifndef SHEAP_GUARD_SAMPLE
#define SHEAP_GUARD_SAMPLE 64
#endif

/* What an SMP build does not support yet (docs/DESIGN.md "Concurrency"):
 * the quarantine and guard pages (levels 2 and 3) keep state the per-CPU
 * fast paths would have to share, and owner tags are written by the fast
 * paths into span records that a remote free reads. */
#if SHEAP_SMP && SHEAP_HARDENING >= 2
#error "SHEAP_SMP=1 supports SHEAP_HARDENING 0 and 1 only (levels 2 and 3 are single-CPU for now)"
#endif
#if SHEAP_SMP && SHEAP_OWNER_TAGS
#error "SHEAP_SMP=1 does not support SHEAP_OWNER_TAGS yet"
#endif

#endif /* SHEAP_CONFIG_H */
