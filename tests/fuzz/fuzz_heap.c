/*
 * fuzz_heap.c - libFuzzer harness for sheap on the hosted port.
 *
 * Each input is a program: a stream of operations decoded byte by byte
 * (see decode below): malloc, calloc (with overflowing products), realloc,
 * aligned allocation (valid and invalid alignments), posix_memalign, frees of
 * live blocks, and misuse - double frees, interior and foreign pointers,
 * pointers to freed memory - plus backend failures armed at the Nth
 * reserve, map or used call (the default heap sits on the fault-injection
 * backend of tests/harness).  Sizes come from a table of extremes and boundaries or
 * from the input.
 *
 * A shadow model holds every live block with its size and a canary seed;
 * each block is filled with a pattern from its seed and checked on free and
 * realloc.  sheap_check() runs every CHECK_EVERY operations and at the end,
 * the live counters are compared with the shadow, and every block is freed
 * and the heap trimmed before the next input, so that nothing leaks between
 * inputs: Ready bytes must return to zero.
 *
 * Any inconsistency calls __builtin_trap(), which libFuzzer reports as a
 * crash with the input that caused it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fault_backend.h"
#include "sheap.h"
#include "sheap_internal.h"
#include "sheap_port.h"

#define SLOTS 64
#define CHECK_EVERY 64
#define MAX_FUZZ_BYTES ((size_t)2 << 20) /* biggest size that must succeed */

#define MUST(c)                                                                                    \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "fuzz_heap: %s failed at line %d\n", #c, __LINE__);                   \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)

struct block {
    unsigned char *p;
    size_t size;
    uint8_t seed;
};

static struct block live[SLOTS];
static void *graveyard[SLOTS]; /* pointers freed earlier: free them again */
static unsigned long misuse_reports;

static void count_misuse(const char *msg, const void *ptr)
{
    (void)msg;
    (void)ptr;
    misuse_reports++;
}

/* ---- Input decoding -------------------------------------------------------- */

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
    };
    uint8_t b = byte(in);
    if (b < 64)
        return special[b % (sizeof(special) / sizeof(special[0]))];
    if (b < 192)
        return byte(in) + ((size_t)(b & 7) << 8); /* 0..2 KB: the hot classes */
    return word(in) % MAX_FUZZ_BYTES;
}

static size_t pick_align(struct input *in)
{
    uint8_t b = byte(in);
    if (b < 16) {
        static const size_t bad[] = {0, 3, 24, 48, 100, 1000, (size_t)SHEAP_ARENA_SIZE * 2, SIZE_MAX};
        return bad[b % 8];
    }
    return (size_t)1 << (b % 27); /* up to 64 MB, the arena size */
}

/* ---- Shadow blocks ------------------------------------------------------------- */

static void fill(struct block *b)
{
    for (size_t i = 0; i < b->size; i += (b->size > 4096 ? 251 : 1))
        b->p[i] = (unsigned char)(b->seed + i);
    if (b->size)
        b->p[b->size - 1] = (unsigned char)(b->seed + b->size - 1);
}

static void verify(const struct block *b, size_t upto)
{
    size_t n = upto < b->size ? upto : b->size;
    for (size_t i = 0; i < n; i += (b->size > 4096 ? 251 : 1))
        MUST(b->p[i] == (unsigned char)(b->seed + i));
}

/* A failed allocation is acceptable only for sizes beyond what the fuzzer
 * promises to fit, or when a port failure was injected during the call. */
static unsigned long injected_before;

static bool failure_ok(size_t n)
{
    return n > MAX_FUZZ_BYTES || sheap_fault_inject_count() > injected_before;
}

/* Take a new block into the shadow.  Blocks beyond MAX_FUZZ_BYTES (they
 * may succeed: address space is plentiful) are freed untouched, so that the
 * fuzzer's memory stays bounded. */
static void adopt(struct block *b, void *p, size_t n, uint8_t seed)
{
    MUST(sheap_usable_size(p) >= n);
    if (n > MAX_FUZZ_BYTES) {
        sheap_free(p);
        b->p = NULL;
        return;
    }
    b->p = p;
    b->size = n;
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

/* ---- One input ------------------------------------------------------------------- */

static void run(struct input *in)
{
    unsigned ops = 0;
    while (in->i < in->n) {
        uint8_t op = byte(in);
        unsigned slot = byte(in) % SLOTS;
        injected_before = sheap_fault_inject_count();
        struct block *b = &live[slot];
        if (b->p && op % 16 < 8) {
            /* Operations on a live block. */
            if (op % 16 < 5) {
                release(b, slot);
            } else {
                size_t n = pick_size(in);
                void *q = sheap_realloc(b->p, n);
                if (n == 0) {
                    MUST(q == NULL);
                    graveyard[slot] = b->p;
                    b->p = NULL;
                } else if (q != NULL) {
                    b->p = q;
                    verify(b, n); /* the common prefix moved intact */
                    adopt(b, q, n, (uint8_t)op);
                } else {
                    MUST(failure_ok(n));
                    verify(b, b->size); /* the old block is intact */
                }
            }
        } else {
            switch (op % 16) {
            case 0: case 1: case 2: case 3: case 8: case 9: {
                if (b->p)
                    release(b, slot);
                size_t n = pick_size(in);
                void *p = sheap_malloc(n);
                if (p)
                    adopt(b, p, n, op);
                else
                    MUST(failure_ok(n));
                break;
            }
            case 4: case 10: {
                if (b->p)
                    release(b, slot);
                size_t count = pick_size(in), size = pick_size(in) % 4096;
                size_t n;
                bool overflow = __builtin_mul_overflow(count, size, &n);
                if (!overflow && n > ((size_t)256 << 20))
                    break; /* would succeed, but its span map alone costs the fuzzer's RSS */
                unsigned char *p = sheap_calloc(count, size);
                if (p) {
                    MUST(!overflow);
                    for (size_t i = 0; i < n && n <= MAX_FUZZ_BYTES; i += (n > 4096 ? 509 : 1))
                        MUST(p[i] == 0);
                    adopt(b, p, n, op);
                } else {
                    MUST(overflow || failure_ok(n));
                }
                break;
            }
            case 5: case 11: {
                if (b->p)
                    release(b, slot);
                size_t align = pick_align(in), n = pick_size(in);
                bool valid = align && !(align & (align - 1)) && align <= SHEAP_ARENA_SIZE;
                void *p = NULL;
                if (op & 0x10) {
                    int r = sheap_posix_memalign(&p, align, n);
                    MUST(r == 0 || p == NULL);
                    if (align % sizeof(void *) != 0)
                        valid = false;
                    MUST(valid || r == SHEAP_EINVAL);
                } else {
                    p = sheap_aligned_alloc(align, n);
                }
                MUST(valid || p == NULL);
                if (p) {
                    MUST(((uintptr_t)p & (align - 1)) == 0);
                    adopt(b, p, n, op);
                }
                break;
            }
            case 6: case 12: {
                /* Misuse: each must be reported and change nothing. */
                unsigned long before = misuse_reports;
                uint8_t kind = byte(in) % 4;
                void *bad;
                char on_stack;
                if (kind == 0 && graveyard[slot] != NULL) {
                    bad = graveyard[slot];
                    bool reused = false;
                    for (unsigned k = 0; k < SLOTS; k++)
                        reused |= live[k].p == bad;
                    if (reused)
                        break; /* handed out again: a legal free */
                } else if (kind == 1 && b->p != NULL && b->size > 1) {
                    bad = b->p + 1 + byte(in) % (b->size - 1);
                } else if (kind == 2) {
                    bad = &on_stack;
                } else {
                    bad = (void *)(uintptr_t)(word(in) | 1);
                }
                struct sheap_stats s0, s1;
                sheap_stats(&s0);
                sheap_free(bad);
                sheap_stats(&s1);
                MUST(misuse_reports == before + 1);
                MUST(s1.live_bytes == s0.live_bytes && s1.live_blocks == s0.live_blocks);
                break;
            }
            case 7: case 13: {
                /* Arm a port failure at the Nth call of reserve, map or used. */
                uint8_t v = byte(in);
                sheap_fault_inject_arm((enum sheap_port_op)(v % SHEAP_OP_COUNT), 1 + (v >> 2) % 8);
                break;
            }
            default:
                if (b->p)
                    release(b, slot);
                break;
            }
        }
        if (++ops % CHECK_EVERY == 0)
            MUST(sheap_check() == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool hooked;
    if (!hooked) {
        /* The default heap on the fault-injection backend (tests/harness). */
        static const uintptr_t hints[] = SHEAP_ARENA_HINTS;
        fault_backend_init(&harness_fault_backend, sheap_port_default_backend());
        struct sheap_config cfg = {.backend = &harness_fault_backend.backend,
                                   .hints = hints,
                                   .nhints = sizeof(hints) / sizeof(hints[0])};
        MUST(sheap_default_heap_create(&cfg) == 0);
        sheap_set_fault_hook(count_misuse);
        hooked = true;
    }
    struct input in = {data, size, 0};
    run(&in);
    for (unsigned op = 0; op < SHEAP_OP_COUNT; op++)
        sheap_fault_inject_arm((enum sheap_port_op)op, 0);
    MUST(sheap_check() == 0);

    /* The shadow and the heap agree on what is live. */
    struct sheap_stats st;
    sheap_stats(&st);
    size_t blocks = 0, bytes = 0;
    for (unsigned k = 0; k < SLOTS; k++) {
        if (live[k].p) {
            blocks++;
            bytes += sheap_usable_size(live[k].p);
        }
    }
    MUST(st.live_blocks == blocks && st.live_bytes == bytes);

    /* Nothing leaks into the next input. */
    for (unsigned k = 0; k < SLOTS; k++) {
        if (live[k].p)
            release(&live[k], k);
        graveyard[k] = NULL;
    }
    sheap_trim();
    sheap_stats(&st);
    MUST(st.live_blocks == 0 && st.live_bytes == 0 && st.ready_bytes == 0);
    MUST(sheap_check() == 0);
    return 0;
}
