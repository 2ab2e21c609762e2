/*
 * size_main.c - the program the Cortex-M code-size figures are linked from
 * (tools/bench_size.sh): one malloc, realloc and free (and with -DCALLOC a
 * calloc) through the allocator
 * named by -DALLOC=sheap_ or -DALLOC= (picolibc's own), or none (-DNONE, the
 * baseline).  The size of an allocator is the size of its image less the
 * baseline's.
 */
#include <stddef.h>

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
void *CAT(ALLOC, malloc)(size_t n);
void *CAT(ALLOC, realloc)(void *p, size_t n);
void CAT(ALLOC, free)(void *p);
void *CAT(ALLOC, calloc)(size_t n, size_t m);

int main(void)
{
#ifdef NONE
    return 0;
#else
    void *p = CAT(ALLOC, malloc)(10);
    p = CAT(ALLOC, realloc)(p, 100);
#ifdef CALLOC /* calloc as well (the figure the code-size bounds apply to) */
    void *q = CAT(ALLOC, calloc)(3, 10);
    CAT(ALLOC, free)(q);
#endif
    CAT(ALLOC, free)(p);
    return p != NULL;
#endif
}
