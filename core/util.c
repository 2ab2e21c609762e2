/*
 * util.c - freestanding helpers of the core: bitmap ranges, memory fill and
 * copy (written out so that the core calls no libc), the fatal-error path,
 * and the weak defaults of the port's optional thread hooks.
 */
#include "sheap_internal.h"

/* The three range operations share one loop over the words the range
 * touches, each word's part as a mask; op is a constant in every caller,
 * so each compiles to a loop of its own with no test of op. */
enum range_op { RANGE_SET, RANGE_CLEAR, RANGE_COUNT };

static inline __attribute__((always_inline)) uintptr_t bits_range(uintptr_t *map, uintptr_t first, uintptr_t n,
                                                                   enum range_op op)
{
    uintptr_t count = 0;
    while (n > 0) {
        uintptr_t w = first / WORD_BITS, b = first % WORD_BITS;
        uintptr_t k = WORD_BITS - b < n ? WORD_BITS - b : n;
        uintptr_t mask = k == WORD_BITS ? ~(uintptr_t)0 : (((uintptr_t)1 << k) - 1) << b;
        if (op == RANGE_SET)
            map[w] |= mask;
        else if (op == RANGE_CLEAR)
            map[w] &= ~mask;
        else
            count += popcount_word(map[w] & mask);
        first += k;
        n -= k;
    }
    return count;
}

void bits_set_range(uintptr_t *map, uintptr_t first, uintptr_t n) { (void)bits_range(map, first, n, RANGE_SET); }

void bits_clear_range(uintptr_t *map, uintptr_t first, uintptr_t n) { (void)bits_range(map, first, n, RANGE_CLEAR); }

/* RANGE_COUNT only reads map. */
uintptr_t bits_count_range(const uintptr_t *map, uintptr_t first, uintptr_t n)
{
    return bits_range((uintptr_t *)map, first, n, RANGE_COUNT);
}

uintptr_t bits_next(const uintptr_t *map, uintptr_t from, uintptr_t end, bool value)
{
    while (from < end) {
        uintptr_t w = from / WORD_BITS, b = from % WORD_BITS;
        uintptr_t word = value ? map[w] : ~map[w];
        word &= ~(uintptr_t)0 << b;
        if (word != 0) {
            uintptr_t i = w * WORD_BITS + ctz_word(word);
            return i < end ? i : end;
        }
        from = (w + 1) * WORD_BITS;
    }
    return end;
}

uintptr_t bits_prev(const uintptr_t *map, uintptr_t before)
{
    while (before > 0) {
        uintptr_t last = before - 1;
        uintptr_t w = last / WORD_BITS, b = last % WORD_BITS;
        uintptr_t word = map[w];
        if (b + 1 < WORD_BITS)
            word &= ((uintptr_t)1 << (b + 1)) - 1;
        if (word != 0)
            return w * WORD_BITS + (WORD_BITS - 1u - (unsigned)__builtin_clzl((unsigned long)word));
        before = w * WORD_BITS;
    }
    return UINTPTR_MAX;
}

/* Word-at-a-time when aligned; the build passes -fno-tree-loop-distribute-patterns
 * so the compiler does not turn these loops back into memset/memcpy calls. */
void mem_zero(void *p, uintptr_t n)
{
    unsigned char *b = p;
    while (n > 0 && ((uintptr_t)b % sizeof(uintptr_t)) != 0) {
        *b++ = 0;
        n--;
    }
    uintptr_t *w = (uintptr_t *)(void *)b;
    /* Eight words a round: fresh frames are no longer cleared by the MMU
     * backend, so calloc and new metadata clear whole pages here. */
    for (; n >= 8 * sizeof(uintptr_t); n -= 8 * sizeof(uintptr_t), w += 8) {
        w[0] = 0;
        w[1] = 0;
        w[2] = 0;
        w[3] = 0;
        w[4] = 0;
        w[5] = 0;
        w[6] = 0;
        w[7] = 0;
    }
    for (; n >= sizeof(uintptr_t); n -= sizeof(uintptr_t))
        *w++ = 0;
    b = (unsigned char *)w;
    while (n-- > 0)
        *b++ = 0;
}

void mem_copy(void *dst, const void *src, uintptr_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (((uintptr_t)d % sizeof(uintptr_t)) == ((uintptr_t)s % sizeof(uintptr_t))) {
        while (n > 0 && ((uintptr_t)d % sizeof(uintptr_t)) != 0) {
            *d++ = *s++;
            n--;
        }
        uintptr_t *dw = (uintptr_t *)(void *)d;
        const uintptr_t *sw = (const uintptr_t *)(const void *)s;
        for (; n >= sizeof(uintptr_t); n -= sizeof(uintptr_t))
            *dw++ = *sw++;
        d = (unsigned char *)dw;
        s = (const unsigned char *)sw;
    }
    while (n-- > 0)
        *d++ = *s++;
}

_Noreturn void sheap_panic(const char *msg)
{
    sheap_port_fault(msg, NULL, true);
    __builtin_trap();
}

/* The port's optional thread hooks (sheap_port.h): weak, so that a port or
 * the firmware (an RTOS integration) supplies its own by defining them in
 * an object it links.  Without an RTOS no other thread exists: one context,
 * and nobody to wait for.  A port with defaults of its own (weak too, so
 * that the firmware still wins) defines SHEAP_PORT_HAS_THREAD_HOOKS and
 * these are left out: of two weak definitions the linker keeps whichever
 * it meets first. */
#ifndef SHEAP_PORT_HAS_THREAD_HOOKS
__attribute__((weak)) uintptr_t sheap_port_task_id(void)
{
    return 1;
}

__attribute__((weak)) bool sheap_port_growth_wait(void)
{
    return false;
}
#endif
