/*
 * fuzz_heap.c - differential fuzzer for sheap on the hosted port: a
 * libFuzzer harness (FLAVOR=fuzz: clang, ASan, UBSan) and, built with
 * -DFUZZ_STANDALONE, a driver of its own for the builds libFuzzer does not
 * reach (64-bit gcc, i686 under qemu-i386): random programs from a seeded
 * PRNG for a time or a number of runs, or a replay of corpus files.
 *
 * Each input is a program: a stream of operations decoded byte by byte (see
 * run below): malloc, calloc (with overflowing products), realloc (in place,
 * moving, to huge sizes), aligned allocation (valid and invalid alignments),
 * posix_memalign, frees, trims, misuse (double frees, interior, stack and
 * odd pointers to free, realloc and usable_size, a call from a walker
 * callback) and port failures injected at the Nth next reserve, map or used
 * call (the default heap sits on the fault-injection backend of
 * tests/harness, which wraps the port's backend).  Sizes come from a table of extremes and boundaries, the hot small
 * classes, or a log-uniform draw up to MAX_FUZZ_BYTES.
 *
 * The differential model:
 *   - every live block with its size, its usable size and the seed of its
 *     contents; small blocks are filled and verified in full, bigger ones
 *     at a head, a tail and a stride of sample points in every page; a
 *     realloc must keep min(old, new) bytes; calloc must give zeroes;
 *   - usable sizes: malloc and calloc must give exactly the size class (or
 *     whole pages for large blocks); every block at least what was asked;
 *   - exact report counts: each misuse must be reported exactly once, every
 *     other call not at all, and failing allocations must set errno (ENOMEM,
 *     or EINVAL for bad alignments) and count exactly one oom;
 *   - at intervals and at the end of each input: sheap_check() == 0, the
 *     statistics (live blocks and bytes, misuse and oom counts) against the
 *     model, and a walk of the heap whose live blocks must be the model's;
 *   - after each input every block is freed, and every TRIM_EVERY inputs
 *     the heap is trimmed: then no Ready heap page may remain.
 * A failed allocation is accepted only for sizes the fuzzer does not promise
 * (beyond MAX_FUZZ_BYTES) or when a port failure was injected during it.
 *
 * Any disagreement calls __builtin_trap(): libFuzzer reports it as a crash
 * with the input; the standalone driver dies with the seed and run number.
 */
/* 64-bit file offsets and inode numbers for the i686 driver: without them
 * readdir fails with EOVERFLOW on file systems with large inode numbers or
 * directory cookies, and the corpus replay would read no file at all. */
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault_backend.h"
#include "sheap.h"
#include "sheap_internal.h"
#include "sheap_port.h"

/* ---- Backend-failure injection: every use goes through these three ----------
 * They drive the fault-injection test backend (tests/harness/fault_backend.h,
 * harness_fault_backend) that the default heap is created on below. */

/* Fail the nth next call of port operation op (0 .. INJECT_OPS - 1). */
static void inject_arm(unsigned op, unsigned long nth)
{
    sheap_fault_inject_arm((enum sheap_port_op)op, nth);
}

/* Disarm every operation. */
static void inject_disarm_all(void)
{
    for (unsigned op = 0; op < SHEAP_OP_COUNT; op++)
        sheap_fault_inject_arm((enum sheap_port_op)op, 0);
}

/* Failures injected so far. */
static unsigned long inject_count(void)
{
    return sheap_fault_inject_count();
}

#define INJECT_OPS SHEAP_OP_COUNT

/* ---- Configuration -------------------------------------------------------------- */

#define SLOTS 64
#define CHECK_EVERY 64
/* Every TRIM_EVERY inputs (and after the first) the heap is trimmed and must
 * hold no Ready page; in between the emptied heap keeps its Ready pages, as
 * a program's heap does, which saves the kernel's page work. */
#define TRIM_EVERY 64
#define MAX_FUZZ_BYTES ((size_t)2 << 20) /* biggest size that must succeed */
#define MAX_REQUEST_BYTES ((size_t)1 << (SHEAP_VA_BITS - 1))

#define MUST(c)                                                                                    \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_heap: %s failed at line %d\n", #c, __LINE__);                   \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)

/* ---- The model ------------------------------------------------------------------- */

struct block {
    unsigned char *p;
    size_t size;   /* bytes asked for (and filled) */
    size_t usable; /* sheap_usable_size when adopted */
    uint8_t seed;
};

static struct block live[SLOTS];
static void *graveyard[SLOTS]; /* pointers freed earlier: misuse when freed again */

static struct {
    unsigned long misuse, oom;             /* expected since the input began */
    unsigned long misuse_base, oom_base;   /* the heap's counters then */
} model;

static unsigned long hook_reports; /* reports the hook received */

/* Totals over the whole run, printed at exit. */
static unsigned long long total_ops, total_execs, total_injected_at_start;

static void count_misuse(const char *msg, const void *ptr)
{
    (void)msg;
    (void)ptr;
    hook_reports++;
}

/* ---- Input decoding -------------------------------------------------------------- */

struct input {
    const uint8_t *d;
    size_t n, i;
};

static uint8_t byte(struct input *in) { return in->i < in->n ? in->d[in->i++] : 0; }

static size_t word(struct input *in)
{
    size_t v = 0;
    for (int k = 0; k < 4; k++)
        v = (v << 8) | byte(in);
    return v;
}

static size_t pick_size(struct input *in)
{
    static const size_t special[] = {
        0, 1, 7, 8, 9, 15, 16, 17, 127, 128, 129, 1023, 1024, 1025, 4095, 4096, 4097,
        SHEAP_MAX_SMALL_SIZE - 1, SHEAP_MAX_SMALL_SIZE, SHEAP_MAX_SMALL_SIZE + 1,
        SHEAP_ARENA_SIZE / 4, SHEAP_ARENA_SIZE - 1, SHEAP_ARENA_SIZE, SHEAP_ARENA_SIZE + 1,
        SIZE_MAX, SIZE_MAX - 1, SIZE_MAX / 2, SIZE_MAX / 2 + 1, (size_t)1 << (8 * sizeof(size_t) - 1),
        MAX_REQUEST_BYTES + 1,
    };
    uint8_t b = byte(in);
    if (b < 64)
        return special[b % (sizeof(special) / sizeof(special[0]))];
    if (b < 192)
        return byte(in) + ((size_t)(b & 7) << 8); /* 0..2 KB: the hot classes */
    /* log-uniform up to 64 KB, or (1 in 4) up to MAX_FUZZ_BYTES: big blocks
     * cost page faults on every touch of fresh memory */
    return word(in) & (((size_t)1 << (b < 240 ? b % 17 : b % 22)) - 1);
}

static size_t pick_align(struct input *in)
{
    uint8_t b = byte(in);
    if (b < 16) {
        static const size_t bad[] = {0, 3, 24, 48, 100, 1000, (size_t)SHEAP_ARENA_SIZE * 2, SIZE_MAX};
        return bad[b % 8];
    }
    return (size_t)1 << (b % 27 < SHEAP_ARENA_SHIFT ? b % 27 : SHEAP_ARENA_SHIFT);
}

/* ---- Contents ---------------------------------------------------------------------- */

static inline unsigned char pattern(const struct block *b, size_t i)
{
    return (unsigned char)(b->seed + i + (i >> 8));
}

/* Visit the bytes of the model's sample of [0, n): all of them up to 4 KB,
 * otherwise the first and last 256 bytes and 16 bytes at the start of
 * every page (every page is touched, so a page lost by the heap shows). */
#define SAMPLE_FULL 4096
#define SAMPLE_EDGE 256
#define SAMPLE_PAGE 16

static void fill(struct block *b)
{
    size_t n = b->size;
    if (n <= SAMPLE_FULL) {
        for (size_t i = 0; i < n; i++)
            b->p[i] = pattern(b, i);
        return;
    }
    for (size_t i = 0; i < SAMPLE_EDGE; i++) {
        b->p[i] = pattern(b, i);
        b->p[n - 1 - i] = pattern(b, n - 1 - i);
    }
    for (size_t pg = 0; pg < n; pg += 4096)
        for (size_t i = pg; i < pg + SAMPLE_PAGE && i < n; i++)
            b->p[i] = pattern(b, i);
}

/* The sampled bytes below upto must still hold the pattern. */
static void verify(const struct block *b, size_t upto)
{
    size_t n = upto < b->size ? upto : b->size;
    if (b->size <= SAMPLE_FULL) {
        for (size_t i = 0; i < n; i++)
            MUST(b->p[i] == pattern(b, i));
        return;
    }
    for (size_t i = 0; i < SAMPLE_EDGE && i < n; i++)
        MUST(b->p[i] == pattern(b, i));
    for (size_t i = b->size - SAMPLE_EDGE; i < n; i++)
        MUST(b->p[i] == pattern(b, i));
    for (size_t pg = 0; pg < n; pg += 4096)
        for (size_t i = pg; i < pg + SAMPLE_PAGE && i < n; i++)
            MUST(b->p[i] == pattern(b, i));
}

/* ---- Expected results --------------------------------------------------------------- */

/* Usable size of a fresh malloc/calloc block of n bytes. */
static size_t expected_usable(size_t n)
{
    if (n <= SHEAP_CLASS_MAX_SIZE) {
        unsigned cls = n <= SHEAP_CLASS8_LIMIT ? sheap_size_to_class8[(n + 7) >> 3]
                                               : sheap_size_to_class128[(n - SHEAP_CLASS8_LIMIT + 127) >> 7];
        return sheap_class_size[cls];
    }
    return (n + SHEAP_PAGE_SIZE - 1) & ~(size_t)(SHEAP_PAGE_SIZE - 1);
}

static unsigned long injected_before;

static bool failure_ok(size_t n)
{
    return n > MAX_FUZZ_BYTES || inject_count() > injected_before;
}

/* An allocation returned NULL: it must be allowed, set errno and count one
 * oom (want_errno ENOMEM), or be an invalid argument (EINVAL, no count). */
static void failed(size_t n, int want_errno)
{
    MUST(errno == want_errno);
    if (want_errno == ENOMEM) {
        MUST(failure_ok(n));
        model.oom++;
    }
}

/* Take a new block into the model.  Blocks beyond MAX_FUZZ_BYTES (they may
 * succeed: the budget allows them) are freed untouched, so that the
 * fuzzer's memory stays bounded. */
static void adopt(struct block *b, void *p, size_t n, uint8_t seed)
{
    size_t u = sheap_usable_size(p);
    MUST(u >= n);
    if (n > MAX_FUZZ_BYTES) {
        sheap_free(p);
        b->p = NULL;
        return;
    }
    b->p = p;
    b->size = n;
    b->usable = u;
    b->seed = seed;
    fill(b);
}

static void release(struct block *b, unsigned slot)
{
    verify(b, b->size);
    sheap_free(b->p);
    graveyard[slot] = b->p;
    b->p = NULL;
}

/* ---- Model against the heap --------------------------------------------------------- */

struct walk_sum {
    size_t blocks, bytes;
    uintptr_t xor_addr;
};

static int walk_sum_fn(void *ptr, size_t size, bool used, void *ctx)
{
    struct walk_sum *w = ctx;
    if (used) {
        w->blocks++;
        w->bytes += size;
        w->xor_addr ^= (uintptr_t)ptr * 0x9e3779b1u;
    }
    return 0;
}

static void compare(void)
{
    MUST(sheap_check() == 0);
    struct walk_sum want = {0, 0, 0}, got = {0, 0, 0};
    for (unsigned k = 0; k < SLOTS; k++) {
        if (live[k].p) {
            want.blocks++;
            want.bytes += live[k].usable;
            want.xor_addr ^= (uintptr_t)live[k].p * 0x9e3779b1u;
        }
    }
    struct sheap_stats st;
    sheap_stats(&st);
    MUST(st.live_blocks == want.blocks && st.live_bytes == want.bytes);
    MUST(st.peak_live_bytes >= st.live_bytes);
    MUST(st.misuse_count == model.misuse_base + model.misuse);
    MUST(st.oom_count == model.oom_base + model.oom);
    MUST(hook_reports == model.misuse);
    MUST(sheap_walk(walk_sum_fn, &got) == 0);
    MUST(got.blocks == want.blocks && got.bytes == want.bytes && got.xor_addr == want.xor_addr);
}

/* A walker callback that calls the heap: refused and reported once. */
static int reentrant_walk_fn(void *ptr, size_t size, bool used, void *ctx)
{
    (void)ptr;
    (void)size;
    (void)used;
    errno = 0;
    *(void **)ctx = sheap_malloc(16);
    MUST(errno == EINVAL);
    return 1;
}

/* ---- One input ------------------------------------------------------------------------ */

/* A misuse call on bad (which is not the start of a live block): exactly
 * one report, nothing else changes. */
static void misuse(void *bad, uint8_t how)
{
    unsigned long before = hook_reports;
    struct sheap_stats s0, s1;
    sheap_stats(&s0);
    errno = 0;
    switch (how % 5) {
    case 0: sheap_free(bad); break;
    case 1: MUST(sheap_realloc(bad, 100) == NULL); break;
    case 2: MUST(sheap_realloc(bad, SIZE_MAX) == NULL); break; /* the pointer is checked first */
    case 3: MUST(sheap_realloc(bad, MAX_REQUEST_BYTES + 1) == NULL); break;
    default: MUST(sheap_usable_size(bad) == 0); break;
    }
    MUST(errno == 0);
    model.misuse++;
    MUST(hook_reports == before + 1);
    sheap_stats(&s1);
    MUST(s1.live_bytes == s0.live_bytes && s1.live_blocks == s0.live_blocks && s1.oom_count == s0.oom_count);
}

static bool is_live_start(const void *p)
{
    for (unsigned k = 0; k < SLOTS; k++)
        if (live[k].p == p)
            return true;
    return false;
}

/* run()'s operations, one function each; op and ops make the fill pattern
 * of a new block. */

/* A realloc or a free of the live block b. */
static void op_live(struct input *in, struct block *b, unsigned slot, uint8_t op, unsigned ops)
{
    if (op % 16 < 5) {
        release(b, slot);
    } else {
        size_t n = pick_size(in);
        void *old = b->p;
        void *q = sheap_realloc(b->p, n);
        if (n == 0) {
            MUST(q == NULL);
            graveyard[slot] = old;
            b->p = NULL;
        } else if (q != NULL) {
            b->p = q;
            verify(b, n); /* the common prefix moved intact */
            if (q != old)
                graveyard[slot] = old;
            adopt(b, q, n, (uint8_t)(op + ops));
        } else {
            failed(n, ENOMEM);
            verify(b, b->size); /* the old block is intact */
        }
    }
}

static void op_malloc(struct input *in, struct block *b, unsigned slot, uint8_t op, unsigned ops)
{
    if (b->p)
        release(b, slot);
    size_t n = pick_size(in);
    void *p = sheap_malloc(n);
    if (p) {
        MUST(sheap_usable_size(p) == expected_usable(n));
        adopt(b, p, n, (uint8_t)(op + ops));
    } else {
        failed(n, ENOMEM);
    }
}

static void op_calloc(struct input *in, struct block *b, unsigned slot, uint8_t op, unsigned ops)
{
    if (b->p)
        release(b, slot);
    size_t count = pick_size(in), size = pick_size(in) % 4096;
    size_t n;
    bool overflow = __builtin_mul_overflow(count, size, &n);
    if (!overflow && n > 2 * MAX_FUZZ_BYTES && n <= MAX_REQUEST_BYTES)
        return; /* would succeed, but zeroing a reused run that big costs the kernel a
                   page fault per page (most of the run's time) */
    unsigned char *p = sheap_calloc(count, size);
    if (p) {
        MUST(!overflow);
        MUST(sheap_usable_size(p) == expected_usable(n));
        for (size_t i = 0; i < n && n <= MAX_FUZZ_BYTES; i += (n > 4096 ? 509 : 1))
            MUST(p[i] == 0);
        adopt(b, p, n, (uint8_t)(op + ops));
    } else {
        MUST(errno == ENOMEM);
        MUST(overflow || failure_ok(n));
        model.oom++;
    }
}

/* aligned_alloc, or posix_memalign when bit 4 of op is set. */
static void op_aligned(struct input *in, struct block *b, unsigned slot, uint8_t op, unsigned ops)
{
    if (b->p)
        release(b, slot);
    size_t align = pick_align(in), n = pick_size(in);
    bool valid = align && !(align & (align - 1)) && align <= SHEAP_ARENA_SIZE;
    void *p = NULL;
    if (op & 0x10) {
        if (align % sizeof(void *) != 0)
            valid = false;
        int r = sheap_posix_memalign(&p, align, n);
        MUST(r == 0 || p == NULL);
        MUST(valid || r == EINVAL);
        MUST(r == 0 || errno == r); /* errno set as well */
        if (r == ENOMEM) {
            MUST(failure_ok(n));
            model.oom++;
        }
    } else {
        p = sheap_aligned_alloc(align, n);
        if (p == NULL)
            failed(n, valid ? ENOMEM : EINVAL);
    }
    MUST(valid || p == NULL);
    if (p) {
        MUST(((uintptr_t)p & (align - 1)) == 0);
        adopt(b, p, n, (uint8_t)(op + ops));
    }
}

static void op_misuse(struct input *in, struct block *b, unsigned slot)
{
    /* Misuse: each reported exactly once, changing nothing. */
    uint8_t kind = byte(in), how = byte(in);
    char on_stack[16];
    switch (kind % 5) {
    case 0:
        if (graveyard[slot] != NULL && !is_live_start(graveyard[slot]))
            misuse(graveyard[slot], how);
        break;
    case 1:
        if (b->p != NULL && b->size > 1)
            misuse(b->p + 1 + byte(in) % (b->size - 1), how);
        break;
    case 2:
        misuse(on_stack + (how & 7), how);
        break;
    case 3:
        misuse((void *)(uintptr_t)(word(in) | 1), how);
        break;
    default: {
        /* A call from a walker callback (refused); needs a
         * block to walk over. */
        if (b->p == NULL)
            break;
        void *got = &on_stack;
        MUST(sheap_walk(reentrant_walk_fn, &got) == 1);
        MUST(got == NULL);
        model.misuse++;
        MUST(hook_reports == model.misuse);
        break;
    }
    }
}

static void run(struct input *in)
{
    unsigned ops = 0;
    while (in->i < in->n) {
        uint8_t op = byte(in);
        unsigned slot = byte(in) % SLOTS;
        injected_before = inject_count();
        struct block *b = &live[slot];
        errno = 0;
        if (b->p && op % 16 < 8) {
            /* Operations on a live block. */
            op_live(in, b, slot, op, ops);
        } else {
            switch (op % 16) {
            case 0: case 1: case 2: case 3: case 8: case 9:
                op_malloc(in, b, slot, op, ops);
                break;
            case 4: case 10:
                op_calloc(in, b, slot, op, ops);
                break;
            case 5: case 11:
                op_aligned(in, b, slot, op, ops);
                break;
            case 6: case 12:
                op_misuse(in, b, slot);
                break;
            case 7: case 13: {
                /* Arm a port failure at the Nth next call of reserve, map or
                 * used, for one op code in sixteen (a failed used() makes the
                 * heap hand every free page back, which costs the kernel
                 * work: more often would slow the run more than it finds). */
                uint8_t v = byte(in);
                if ((op & 0xf0) == 0)
                    inject_arm(v % INJECT_OPS, 1 + (v >> 2) % 8);
                else if (b->p)
                    release(b, slot);
                break;
            }
            case 14:
                /* A trim, rarely: the pages it gives back fault again when used. */
                if (op == 0xfe && byte(in) < 64)
                    sheap_trim();
                else if (b->p)
                    release(b, slot);
                break;
            default:
                if (b->p)
                    release(b, slot);
                break;
            }
        }
        MUST(hook_reports == model.misuse);
        if (++ops % CHECK_EVERY == 0)
            compare();
    }
    total_ops += ops;
}

static void print_totals(void)
{
    fprintf(stderr, "fuzz_heap: %llu executions, %llu operations, %llu port failures injected\n",
            total_execs, total_ops, (unsigned long long)inject_count() - total_injected_at_start);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool started;
    if (!started) {
        /* The default heap on the fault-injection backend (tests/harness). */
        static const uintptr_t hints[] = SHEAP_ARENA_HINTS;
        fault_backend_init(&harness_fault_backend, sheap_port_default_backend());
        struct sheap_config cfg = {.backend = &harness_fault_backend.backend,
                                   .hints = hints,
                                   .nhints = sizeof(hints) / sizeof(hints[0])};
        MUST(sheap_default_heap_create(&cfg) == 0);
        sheap_set_fault_hook(count_misuse);
        total_injected_at_start = inject_count();
        atexit(print_totals);
        started = true;
    }
    struct sheap_stats st;
    sheap_stats(&st);
    model.misuse = model.oom = 0;
    model.misuse_base = st.misuse_count;
    model.oom_base = st.oom_count;
    hook_reports = 0;

    struct input in = {data, size, 0};
    run(&in);
    inject_disarm_all();
    compare();

    /* Nothing leaks into the next input. */
    for (unsigned k = 0; k < SLOTS; k++) {
        if (live[k].p)
            release(&live[k], k);
        graveyard[k] = NULL;
    }
    sheap_stats(&st);
    MUST(st.live_blocks == 0 && st.live_bytes == 0);
    if (total_execs % TRIM_EVERY == 0) {
        sheap_trim();
        sheap_stats(&st);
        MUST(st.ready_bytes == 0);
    }
    MUST(sheap_check() == 0);
    total_execs++;
    return 0;
}

#ifdef FUZZ_STANDALONE
/*
 * The standalone driver.
 *   fuzz_heap [-seconds N] [-runs N] [-seed S]   random programs
 *   fuzz_heap FILE|DIR...                        replay (a corpus)
 * Random programs are 1 to 4096 bytes, as libFuzzer's default max_len.
 */
#include <dirent.h>
#include <time.h>

static uint64_t rng_state;
static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545f4914f6cdd1dull;
}

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
    return 0;
}

static unsigned long replay(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        if (replay_file(path) != 0) {
            fprintf(stderr, "fuzz_heap: cannot read %s\n", path);
            exit(2);
        }
        return 1;
    }
    unsigned long n = 0;
    struct dirent *e;
    char full[4096];
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(full, sizeof(full), "%s/%s", path, e->d_name);
        if (replay_file(full) != 0) {
            fprintf(stderr, "fuzz_heap: cannot read %s\n", full);
            exit(2);
        }
        n++;
        errno = 0;
    }
    /* A replay that read nothing checks nothing: a directory that cannot be
     * listed, or an empty one, fails the run. */
    if (errno != 0 || n == 0) {
        fprintf(stderr, "fuzz_heap: %s: %s\n", path, errno != 0 ? strerror(errno) : "no inputs");
        exit(2);
    }
    closedir(d);
    return n;
}

int main(int argc, char **argv)
{
    double seconds = 0;
    unsigned long long runs = 0, seed = 1;
    unsigned long replayed = 0;
    bool replaying = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "-runs") == 0 && i + 1 < argc)
            runs = strtoull(argv[++i], NULL, 0);
        else if (strcmp(argv[i], "-seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 0);
        else {
            replaying = true;
            replayed += replay(argv[i]);
        }
    }
    if (replaying) {
        fprintf(stderr, "fuzz_heap: replayed %lu inputs\n", replayed);
        return 0;
    }
    if (seconds <= 0 && runs == 0)
        runs = 1000;
    rng_state = seed * 0x9e3779b97f4a7c15ull + 1;
    static uint8_t buf[4096];
    time_t start = time(NULL);
    for (unsigned long long r = 0; runs == 0 || r < runs; r++) {
        if (seconds > 0 && (r & 63) == 0 && difftime(time(NULL), start) >= seconds)
            break;
        size_t n = 1 + rng() % sizeof(buf);
        for (size_t i = 0; i < n; i += 8) {
            uint64_t v = rng();
            memcpy(buf + i, &v, n - i < 8 ? n - i : 8);
        }
        LLVMFuzzerTestOneInput(buf, n);
        if ((r & 0xffff) == 0 && r != 0)
            fprintf(stderr, "fuzz_heap: seed %llu run %llu, %llu operations\n", seed, r, total_ops);
    }
    return 0;
}
#endif
